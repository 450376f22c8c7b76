/** Socket.IO on @socket.io/bun-engine: handshake auth, handler binding, connection bookkeeping. */
import { Server as Engine } from "@socket.io/bun-engine";
import { Server } from "socket.io";
import type { Config } from "../config";
import type { Drain } from "../lifecycle";
import type { Logger } from "../observability/logger";
import type { Metrics } from "../observability/metrics";
import type { Services } from "../services";
import { applyAdapter } from "./adapter";
import { authenticate } from "./auth";
import { bindHandlers } from "./bind";
import { handlerTables } from "./handlers";
import { type AppServer, type AppSocket, userRoom } from "./types";

/** Where Socket.IO is served (engine, HTTP route and HTTP hooks agree through this). */
export const SOCKET_PATH = "/socket.io/";

export interface Realtime {
  io: AppServer;
  engine: Engine;
  connectedSockets(): number;
  /** Disconnects every client and stops accepting new ones. */
  close(): Promise<void>;
}

export function createRealtime(deps: {
  config: Config;
  services: Services;
  metrics: Metrics;
  log: Logger;
  drain: Drain;
}): Realtime {
  const { config, services, metrics, log, drain } = deps;
  const origins = config.allowedOrigins;
  const engine = new Engine({
    path: SOCKET_PATH,
    pingInterval: config.socket.pingIntervalMs,
    pingTimeout: config.socket.pingTimeoutMs,
    maxHttpBufferSize: config.socket.maxPayloadBytes,
    cors: { origin: origins === "*" ? "*" : origins, credentials: origins !== "*" },
  });
  const io: AppServer = new Server();
  io.bind(engine);
  applyAdapter(io, config.socket.adapter);

  // bun-engine has no handshake.address: the HTTP route records the peer per request
  // (see http/app.ts) and the engine's connection event carries that request.
  const ipByConn = new WeakMap<object, string>();
  engine.on("connection", (conn, request: Request) => {
    ipByConn.set(conn, ipOfRequest.get(request) ?? "unknown");
  });
  const clientIp = (socket: AppSocket) => ipByConn.get(socket.conn) ?? "unknown";

  const main = io.of("/");
  main.use(authenticate(services.tokens, clientIp, log));
  main.on("connection", (socket) => {
    const { user, ip, connectedAt } = socket.data;
    const connLog = log.child({ socketId: socket.id, userId: user.id });
    metrics.socketConnections.inc({ namespace: "/" });
    connLog.info({ event: "connection_open", ip, transport: socket.conn.transport.name }, "socket connected");
    socket.join(userRoom(user.id));
    bindHandlers(socket, handlerTables, { io, services, metrics, log, drain });
    socket.emit("connected", { userId: user.id, socketId: socket.id, connectedAt });
    socket.on("disconnect", (reason) => {
      metrics.socketConnections.dec({ namespace: "/" });
      connLog.info(
        { event: "connection_close", reason, durationMs: Date.now() - Date.parse(connectedAt) },
        "socket disconnected",
      );
    });
  });

  return {
    io,
    engine,
    connectedSockets: () => main.sockets.size,
    async close() {
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
      engine.close();
    },
  };
}

/** Filled by the HTTP route for /socket.io/ before the engine sees the request. */
export const ipOfRequest = new WeakMap<Request, string>();
