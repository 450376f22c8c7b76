/**
 * A server as an OS process: config from the environment, JSON logs, graceful shutdown on
 * SIGINT/SIGTERM (a second signal exits at once), clean exit on an uncaught exception.
 * `src/main.ts` runs it; tests run it with other handler tables (test/fixtures/).
 */
import { ConfigError, loadConfig } from "./config";
import { createLogger } from "./observability/logger";
import { type RunningServer, type ServerOptions, startServer } from "./server";

export async function runProcess(options: Omit<ServerOptions, "logger"> = {}): Promise<RunningServer> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }

  const logger = createLogger(config.logLevel);
  const server = await startServer(config, { ...options, logger });

  // A stray rejection is logged; an uncaught exception leaves state unknown, so shut down cleanly and exit 1.
  process.on("unhandledRejection", (reason) =>
    logger.error({ err: reason, event: "unhandled_rejection" }, "unhandled rejection"),
  );
  process.on("uncaughtException", async (err) => {
    logger.fatal({ err, event: "uncaught_exception" }, "uncaught exception: shutting down");
    await server.stop();
    process.exit(1);
  });

  if (config.generatedSecrets) {
    // A development convenience, printed once to the terminal (never into the JSON logs).
    const { path, names } = config.generatedSecrets;
    const lines = [
      "",
      `Development secrets (${names.join(", ")}) were generated and are kept in ${path}.`,
      `  API_TOKEN=${config.apiToken}`,
      `    curl -H "Authorization: Bearer ${config.apiToken}" -X POST ${server.url}/jwt/create -H 'content-type: application/json' -d '{"userId":"user123"}'`,
      `  JWT_SECRET=${config.jwtSecret}`,
      "    bun run token user123   # prints an end-user JWT for socket.io-client's auth.token",
      "Set both variables (NODE_ENV=production requires them) to choose your own.",
      "",
    ];
    console.error(lines.join("\n"));
  }

  let signals = 0;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, async () => {
      if (++signals > 1) process.exit(1); // a second signal: stop waiting
      await server.stop();
      process.exit(0);
    });
  }
  return server;
}
