/**
 * Socket.IO on @socket.io/bun-engine: admission (origin, transports, caps, unauthenticated limits),
 * handshake auth, handler binding per namespace, token expiry, connection bookkeeping.
 *
 * Built in two steps so the delivery port exists before the services that use it:
 * `createRealtime()` (engine, io, adapter, delivery), then `start(services)` (handlers).
 */
import { Server as Engine } from "@socket.io/bun-engine";
import { Server } from "socket.io";
import { namespaces } from "../../generated/events";
import { within } from "../cluster/within";
import type { Config } from "../config";
import type { CallerAuth } from "../domain/callers";
import type { ConnectionListener } from "../domain/connections/events";
import { userRoom } from "../domain/delivery";
import type { AppError } from "../domain/errors";
import { readCapped } from "../domain/limits/body";
import type { Drain } from "../lifecycle";
import type { Logger } from "../observability/logger";
import type { Metrics } from "../observability/metrics";
import type { Services } from "../services";
import { type AdapterDeps, isSingleNode, socketAdapter } from "./adapter";
import { createAdmission } from "./admission";
import { authenticate, INTERNAL_NAMESPACE } from "./auth";
import { createBinder, type HandlerTable, type NamespaceContract } from "./bind";
import { createDelivery } from "./delivery";
import type { NamespaceHandlers } from "./handlers";
import { startSession } from "./session";
import type { AppServer, AppSocket } from "./types";

/** Where Socket.IO is served (engine, HTTP route and HTTP hooks agree through this). */
export const SOCKET_PATH = "/socket.io/";

/** The rooms a socket is in, its own id room and its user room aside. */
const ownRooms = (socket: AppSocket) =>
  [...socket.rooms].filter((r) => r !== socket.id && r !== userRoom(socket.data.user.id)).sort();

/** Each namespace's generated validators and ack styles, as asyncapi.yaml declares them. */
const contracts: Record<string, NamespaceContract> = namespaces;

export interface RealtimeDeps {
  config: Config;
  metrics: Metrics;
  log: Logger;
  /** The HTTP limiter's ban, so a banned IP opens no Socket.IO sessions either. */
  isBanned?: (ip: string) => boolean;
  /** Several nodes (REDIS_URL): the Redis connection and the loaded cluster adapters. */
  cluster?: AdapterDeps["cluster"];
}

export function createRealtime({ config, metrics, log, isBanned, cluster }: RealtimeDeps) {
  const origins = config.allowedOrigins;
  const engine = new Engine({
    path: SOCKET_PATH,
    pingInterval: config.socket.pingIntervalMs,
    pingTimeout: config.socket.pingTimeoutMs,
    maxHttpBufferSize: config.socket.maxPayloadBytes,
    cors: { origin: origins === "*" ? "*" : origins, credentials: origins !== "*" },
  });
  // A short disconnect keeps the socket's id, rooms and the room broadcasts it missed. Middlewares
  // still run: a reconnect needs a valid token.
  const recovery = config.socket.recoveryWindowMs > 0;
  // connectTimeout: an engine connection that joins no namespace in time is closed by socket.io too.
  const io: AppServer = new Server({
    connectTimeout: config.socket.authTimeoutMs,
    adapter: socketAdapter(config.socket.adapter, {
      engine,
      recovery,
      log,
      cluster,
      streamMaxLen: config.redis.streamMaxLen,
      timeoutMs: config.clusterTimeoutMs,
    }),
    ...(recovery
      ? {
          connectionStateRecovery: { maxDisconnectionDuration: config.socket.recoveryWindowMs, skipMiddlewares: false },
        }
      : {}),
  });
  const admission = createAdmission({ config, log, isBanned });

  // bun-engine has no handshake.address: `handle` records the IP per request, and the engine's
  // connection event carries that request. Registered before io.bind so admission's data guard
  // runs before socket.io's decoder sees a message.
  const ipOfRequest = new WeakMap<Request, string>();
  engine.on("connection", (conn, request: Request) => {
    admission.connected(conn as never, ipOfRequest.get(request) ?? "unknown");
  });
  io.bind(engine);
  const delivery = createDelivery(io, {
    singleNode: isSingleNode(config.socket.adapter),
    timeoutMs: config.clusterTimeoutMs,
  });
  let stopping = false;

  const handler = engine.handler();
  return {
    io,
    delivery,
    /** Bun.serve options for the engine, with backpressure bounded: a WebSocket that stops reading is closed. */
    serveOptions: {
      ...handler,
      websocket: {
        ...handler.websocket,
        backpressureLimit: config.socket.maxBufferedBytes,
        closeOnBackpressureLimit: true,
      },
    },

    /** The HTTP route for SOCKET_PATH: a refusal as an AppError, else the engine's answer. */
    handle(request: Request, server: unknown, ip: string): Promise<Response | AppError> {
      ipOfRequest.set(request, ip);
      return admission.admit(request, ip, async () => {
        // Bun does not cap bodies (see http/body.ts) and the engine reads a polling POST whole before
        // checking its size: read it here, cut at SOCKET_MAX_PAYLOAD_BYTES.
        if (request.method !== "POST") return engine.handleRequest(request, server as never);
        const body = await readCapped(request, config.socket.maxPayloadBytes);
        const capped = new Request(request.url, {
          method: "POST",
          headers: request.headers,
          body,
          signal: request.signal,
        });
        return engine.handleRequest(capped, server as never);
      });
    },

    /** Binds authentication and the handler tables; call once, after the services exist. */
    start({
      services,
      callers,
      drain,
      handlers,
    }: {
      services: Services;
      callers: CallerAuth;
      drain: Drain;
      handlers: NamespaceHandlers;
    }) {
      for (const [path, tables] of Object.entries(handlers) as [string, Record<string, HandlerTable>][]) {
        const nsp = io.of(path);
        const bind = createBinder(tables, {
          services,
          metrics,
          log,
          drain,
          declared: Object.keys(contracts[path]?.clientEventSchemas ?? {}),
          contract: contracts[path],
          stopping: () => stopping,
          dynamicEvents: path === "/",
          // Backend services on /internal are not rate limited.
          rateLimit:
            path === INTERNAL_NAMESPACE
              ? undefined
              : {
                  ratePerSecond: config.socket.rateLimit,
                  burst: config.socket.rateBurst,
                  abuseLimit: config.socket.abuseLimit,
                },
        });
        nsp.use(
          authenticate({
            tokens: services.tokens,
            maxSocketsPerUser: config.socket.maxSocketsPerUser,
            clientIp: (socket) => admission.ipOf(socket.conn),
            log,
            callers,
          }),
        );
        nsp.on("connection", (socket) => {
          admission.authenticated(socket.conn);
          const { user, ip, connectedAt } = socket.data;
          // Plain fields rather than a child logger: a child per connection costs more than the two lines.
          const ids = { socketId: socket.id, userId: user.id };
          metrics.socketConnections.inc({ namespace: path });
          log.info({ ...ids, event: "connection_open", ip, transport: socket.conn.transport.name }, "socket connected");
          socket.join(userRoom(user.id));
          const session = startSession(socket, {
            tokens: services.tokens,
            clockToleranceSeconds: config.jwtClockToleranceSeconds,
            log,
          });
          bind(socket, session);
          const ref = { socketId: socket.id, userId: user.id, connectedAt };
          socket.emit("connected", { ...ref, rooms: ownRooms(socket) });
          const listeners = path === "/" ? services.connectionListeners : [];
          const notify = (call: (l: ConnectionListener) => void | Promise<void>) =>
            drain.track(
              // Listeners follow end users: the main namespace's sockets (an /internal one is a service).
              Promise.allSettled(listeners.map(async (l) => call(l))).then((results) => {
                for (const r of results)
                  if (r.status === "rejected") log.error({ ...ids, err: r.reason }, "connection listener failed");
              }),
            );
          void notify((l) => l.connected?.({ ...ref, recovered: socket.recovered }));
          let rooms: string[] = [];
          socket.on("disconnecting", () => {
            rooms = ownRooms(socket);
          });
          socket.on("disconnect", (reason) => {
            session.end();
            metrics.socketConnections.dec({ namespace: path });
            log.info(
              { ...ids, event: "connection_close", reason, durationMs: Date.now() - Date.parse(connectedAt) },
              "socket disconnected",
            );
            void notify((l) => l.disconnected?.({ ...ref, rooms, reason }));
          });
        });
      }
    },

    connectedSockets: () => io.of("/").sockets.size,

    /** Gateway nodes the adapter sees, this one included; null when they do not answer in time. */
    serverCount: (): Promise<number | null> =>
      within(io.of("/").adapter.serverCount(), config.clusterTimeoutMs).catch(() => null),

    /** Shutdown, first step: no new sessions, and new events are refused; events in flight go on. */
    stopAccepting() {
      stopping = true;
      admission.close();
    },

    /** Shutdown, last step: disconnects every client. */
    async close() {
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      engine.close();
    },
  };
}

export type Realtime = ReturnType<typeof createRealtime>;
