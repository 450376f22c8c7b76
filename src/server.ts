/** Wires config -> database -> services -> transports on one port, and tears them down in order. */
import type { Config } from "./config";
import { openDatabase } from "./db/client";
import { createHttpApp } from "./http/app";
import { docsRoutes } from "./http/docs";
import { operationImpls } from "./http/operations";
import { probeRoutes } from "./http/probes";
import { restRoutes } from "./http/rest";
import { createAdminCheck } from "./http/security";
import { createAdminRouter } from "./http/trpc";
import { trpcRoute } from "./http/trpc-route";
import { createDrain } from "./lifecycle";
import { createLivenessProbe } from "./observability/liveness";
import { createLogger, type Logger } from "./observability/logger";
import { createMetrics } from "./observability/metrics";
import { createRealtime, SOCKET_PATH } from "./realtime/server";
import { createServices } from "./services";

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:3000 */
  url: string;
  port: number;
  config: Config;
  /** Graceful: stop accepting, disconnect sockets, let in-flight work finish (bounded), close the db. */
  stop(): Promise<void>;
}

export async function startServer(config: Config, opts: { logger?: Logger } = {}): Promise<RunningServer> {
  const startedAt = performance.now();
  const log = opts.logger ?? createLogger(config.logLevel);
  const database = openDatabase(config.databasePath);
  const services = createServices(config, database);
  const metrics = createMetrics(config.prometheusPrefix);
  const liveness = createLivenessProbe(config.alive);
  const drain = createDrain();
  const realtime = createRealtime({ config, services, metrics, log, drain });
  const isAdmin = createAdminCheck(config.apiToken);
  const impls = operationImpls(services);

  const { app, requestContext } = createHttpApp({ config, metrics, log, isAdmin });
  app
    .use(probeRoutes({ liveness, database, services, realtime, metrics, startedAt }))
    .use(docsRoutes())
    .use(restRoutes(impls, requestContext))
    .use(trpcRoute(createAdminRouter(impls), requestContext))
    .all(SOCKET_PATH, ({ request, server }) => realtime.engine.handleRequest(request, server as never), {
      parse: "none",
      detail: { hide: true },
    })
    // reusePort: false, or a stale process could silently share the port.
    .listen({
      port: config.port,
      hostname: config.host,
      reusePort: false,
      ...realtime.engine.handler(),
      // Backstop for bodies without a Content-Length (the HTTP hook answers the others in our shape);
      // Socket.IO polling bodies may be as large as its own limit.
      maxRequestBodySize: Math.max(config.httpMaxBodyBytes, config.socket.maxPayloadBytes),
    });

  const server = app.server;
  if (!server) throw new Error("HTTP server did not start");
  const port = server.port as number;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  log.info({ event: "listening", port, host: config.host, instanceId: services.instance.id }, "switchboard started");

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      log.info({ event: "shutdown" }, "shutting down");
      const closed = server.stop(false); // no new connections; in-flight requests go on
      await realtime.close();
      const drained = await drain.wait(config.shutdownTimeoutMs);
      const finished = await Promise.race([
        closed.then(() => true),
        Bun.sleep(config.shutdownTimeoutMs).then(() => false),
      ]);
      if (!finished || !drained) {
        log.warn({ event: "shutdown_forced", pending: drain.size }, "in-flight work did not finish in time");
        await server.stop(true);
      }
      liveness.stop();
      database.close();
      log.info({ event: "stopped" }, "switchboard stopped");
      log.flush?.();
    })();
    return stopping;
  };

  return { url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`, port, config, stop };
}
