/** Wires config -> database -> services -> transports on one port, and tears them down in order. */

import type { Config } from "./config";
import { openDatabase } from "./db/client";
import { createCallerAuth } from "./domain/callers";
import { createHttpApp } from "./http/app";
import { BUN_MAX_REQUEST_BODY_SIZE } from "./http/body";
import { docsRoutes } from "./http/docs";
import { errorResponse } from "./http/errors";
import { operationImpls } from "./http/operations";
import { probeRoutes } from "./http/probes";
import { restRoutes } from "./http/rest";
import { createAdminRouter } from "./http/trpc";
import { trpcRoute } from "./http/trpc-route";
import { createDrain } from "./lifecycle";
import { createLivenessProbe } from "./observability/liveness";
import { createLogger, type Logger } from "./observability/logger";
import { createMetrics } from "./observability/metrics";
import { loadClusterAdapters } from "./realtime/adapter";
import { type NamespaceHandlers, namespaceHandlers } from "./realtime/handlers";
import { createRealtime, SOCKET_PATH } from "./realtime/server";
import { createServices } from "./services";

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:3000 */
  url: string;
  port: number;
  config: Config;
  /** Graceful: stop accepting, let in-flight work finish and ack (bounded), disconnect sockets, close the db. */
  stop(): Promise<void>;
}

export interface ServerOptions {
  logger?: Logger;
  /** The Socket.IO handler tables per namespace; tests swap in slow or missing handlers. */
  handlers?: NamespaceHandlers;
}

export async function startServer(config: Config, opts: ServerOptions = {}): Promise<RunningServer> {
  const startedAt = performance.now();
  const log = opts.logger ?? createLogger(config.logLevel);
  const database = await openDatabase(
    config.databaseUrl === undefined ? { path: config.databasePath } : { url: config.databaseUrl },
  );
  const metrics = createMetrics(config.prometheusPrefix);
  const liveness = createLivenessProbe(config.alive, log);
  const drain = createDrain();
  // The realtime layer first: its delivery port is what services use to reach clients.
  // The HTTP limiter's ban applies to Socket.IO sessions too; the app is built after the services.
  let isBanned = (_ip: string) => false;
  // Several nodes: Redis first (the adapter and the shared rate limit need it); start-up fails clearly without it.
  // Loaded only then: the Redis client and the cluster adapters cost a single node memory and start-up time.
  const redis = config.redis.url
    ? await (await import("./cluster/redis")).connectRedis(config.redis.url, config.redis.prefix, log)
    : undefined;
  const cluster = redis ? { redis, adapters: await loadClusterAdapters() } : undefined;
  const realtime = createRealtime({ config, metrics, log, isBanned: (ip) => isBanned(ip), cluster });
  const services = await createServices(config, database, realtime.delivery, {
    log,
    postbackObserver: {
      attempt(outcome, seconds) {
        metrics.postbackAttempts.inc({ outcome });
        metrics.postbackLatency.observe({ outcome }, seconds);
      },
      queueWait: (seconds) => metrics.postbackQueueWait.observe(seconds),
    },
  });
  let databaseOpen = true;
  metrics.setPostbackCounts(async () => (databaseOpen ? (await services.postbacks.stats()).counts : undefined));
  // This node's row; on SQLite, what a crash of the previous run left is resolved first (nobody is connected yet).
  await services.nodes.start();
  // Who a credential speaks for: one answer for the admin API and the Socket.IO handshake.
  const callers = createCallerAuth(config.apiToken, services.tokens);
  realtime.start({ services, callers, drain, handlers: opts.handlers ?? namespaceHandlers });
  const impls = operationImpls(services);

  const http = createHttpApp({ config, metrics, log, callers, socketPath: SOCKET_PATH, redis });
  const { app, requestContext } = http;
  isBanned = http.isBanned;
  app
    .use(
      probeRoutes({
        liveness,
        database,
        services,
        connectedSockets: realtime.connectedSockets,
        metrics,
        startedAt,
        cluster: {
          adapter: config.socket.adapter,
          nodes: realtime.serverCount,
          redis,
          redisDownAliveMs: config.redis.downAliveMs,
        },
      }),
    )
    .use(docsRoutes({ subscribers: services.subscribers }))
    .use(restRoutes(impls, requestContext))
    .use(trpcRoute(createAdminRouter(impls), requestContext))
    .all(
      SOCKET_PATH,
      async ({ request, server, set }) => {
        const answer = await realtime.handle(request, server, requestContext(request).ip);
        return answer instanceof Response ? answer : errorResponse(set, answer);
      },
      { parse: "none", detail: { hide: true } },
    )
    // reusePort: false, or a stale process could silently share the port.
    .listen({
      port: config.port,
      hostname: config.host,
      reusePort: false,
      ...realtime.serveOptions,
      // Bodies are capped by their readers (http/body.ts, and the Socket.IO route for polling), which
      // answer in the error shape; Bun's own limit would answer a bare 413 first.
      maxRequestBodySize: BUN_MAX_REQUEST_BODY_SIZE,
    });

  const server = app.server;
  if (!server) throw new Error("HTTP server did not start");
  const port = server.port as number;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  // The postback scheduler runs once everything it may need is up (it needs only the database).
  if (config.postbacks.enabled) await services.postbacks.start();
  log.info(
    { event: "listening", port, host: config.host, instanceId: services.instance.id, nodeId: services.nodes.id },
    "switchboard started",
  );

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      log.info({ event: "shutdown" }, "shutting down");
      // 1. Accept nothing new: no connections, no Socket.IO sessions, no new events.
      const closed = server.stop(false);
      realtime.stopAccepting();
      // 2. Work in flight finishes and its acks go out on the still-open sockets (bounded).
      const deadline = Date.now() + config.shutdownTimeoutMs;
      // The postback scheduler claims nothing more; attempts in flight finish and are recorded
      // (bounded) while the database is open. Those cut off stay `processing`, requeued at start-up.
      const [drained, postbacksDone] = await Promise.all([
        drain.wait(config.shutdownTimeoutMs),
        services.postbacks.stop(config.shutdownTimeoutMs),
      ]);
      if (!postbacksDone) log.warn({ event: "postbacks_cut_off" }, "postback attempts still in flight were abandoned");
      // 3. Then clients are disconnected, and the HTTP requests still open get the rest of the time.
      // What the disconnects set off (presence, room:user-left) finishes before the database and Redis close.
      await realtime.close();
      await drain.wait(Math.max(0, deadline - Date.now()));
      const finished = await Promise.race([
        closed.then(() => true),
        Bun.sleep(Math.max(0, deadline - Date.now())).then(() => false),
      ]);
      if (!finished || !drained) {
        log.warn({ event: "shutdown_forced", pending: drain.size }, "in-flight work did not finish in time");
        await server.stop(true);
      }
      // 4. This node's last rows (and its heartbeat's end), then the database and Redis.
      await services.nodes.stop();
      liveness.stop();
      databaseOpen = false;
      services.subscribers.close();
      await database.close();
      await redis?.close();
      log.info({ event: "stopped" }, "switchboard stopped");
      log.flush?.();
    })();
    return stopping;
  };

  return { url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`, port, config, stop };
}
