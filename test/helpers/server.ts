/**
 * Starts the real server on port 0 with a temporary SQLite file (or, in a file that called
 * `usePostgres()`, a PostgreSQL database of its own); tests talk to it over the wire.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { SQL } from "bun";
import { SignJWT } from "jose";
import { type AdminClient, connect, createAdminClient, type SwitchboardSocket } from "switchboard/client";
import { loadConfig } from "../../src/config";
import { createLogger } from "../../src/observability/logger";
import { type RunningServer, type ServerOptions, startServer } from "../../src/server";
import { createPgDatabase, type PgDatabase, testDatabase } from "./postgres";

export const TEST_API_TOKEN = "test-api-token-0123456789abcdef";
export const TEST_JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789";

export interface TestServer extends RunningServer {
  dir: string;
  /** Every JSON log line written so far. */
  logs(): Record<string, unknown>[];
  rawLogs(): string;
  /** A valid end-user JWT signed with the test secret. */
  token(userId: string, claims?: Record<string, unknown>, expiresIn?: string | number): Promise<string>;
  /** A connected (or refused) socket.io-client; closed by `close()`. */
  socket(opts: Parameters<typeof connect>[1]): SwitchboardSocket;
  admin(apiToken?: string): AdminClient;
  /** fetch against the server with the admin token unless `auth: false`. */
  api(path: string, init?: RequestInit & { auth?: boolean | string }): Promise<Response>;
  /**
   * Reads the server's database beside it (never writes): SQLite read-only, or its PostgreSQL
   * database. `?` placeholders on both.
   */
  query<T = Record<string, unknown>>(text: string, ...params: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** Runs `text` on the database `config` names, read-only; `?` placeholders. */
export async function readDatabase<T>(
  config: { databaseUrl: string | undefined; databasePath: string },
  text: string,
  params: unknown[],
): Promise<T[]> {
  if (config.databaseUrl === undefined) {
    const db = new Database(config.databasePath, { readonly: true });
    try {
      return db.query(text).all(...(params as string[])) as T[];
    } finally {
      db.close();
    }
  }
  let n = 0;
  const sql = new SQL(config.databaseUrl, { max: 1 });
  try {
    // A bigint (count(*)) comes back as a string: cast it in the query (CAST(count(*) AS integer)).
    return [
      ...((await sql.unsafe(
        text.replace(/\?/g, () => `$${++n}`),
        params,
      )) as T[]),
    ];
  } finally {
    await sql.close();
  }
}

export async function startTestServer(
  env: Record<string, string> = {},
  options: Omit<ServerOptions, "logger"> = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-test-"));
  // A PostgreSQL database of its own, unless the test shares one (DATABASE_URL given).
  const pg: PgDatabase | undefined =
    testDatabase.dialect === "postgres" && env.DATABASE_URL === undefined ? await createPgDatabase() : undefined;
  const config = loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_PATH: join(dir, "switchboard.db"),
    API_TOKEN: TEST_API_TOKEN,
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: "info",
    SHUTDOWN_TIMEOUT_MS: "2000",
    ...(pg ? { DATABASE_URL: pg.url } : {}),
    ...env,
  });
  let raw = "";
  const sink = new Writable({
    write(chunk, _enc, done) {
      raw += chunk.toString();
      done();
    },
  });
  let server: RunningServer;
  try {
    server = await startServer(config, { ...options, logger: createLogger(config.logLevel, sink) });
  } catch (error) {
    await pg?.drop();
    throw error;
  }
  const sockets: SwitchboardSocket[] = [];
  const key = new TextEncoder().encode(config.jwtSecret);

  return {
    ...server,
    dir,
    rawLogs: () => raw,
    logs: () =>
      raw
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async token(userId, claims = {}, expiresIn = "1h") {
      return new SignJWT({ ...claims })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(userId)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(key);
    },
    socket(opts) {
      const s = connect(server.url, { transports: ["websocket"], reconnection: false, ...opts });
      sockets.push(s);
      return s;
    },
    query: (text, ...params) => readDatabase(config, text, params),
    admin: (apiToken = TEST_API_TOKEN) => createAdminClient({ url: server.url, apiToken }),
    api(path, init = {}) {
      const { auth = true, headers, ...rest } = init;
      const h = new Headers(headers);
      if (auth) h.set("authorization", `Bearer ${typeof auth === "string" ? auth : TEST_API_TOKEN}`);
      if (rest.body && !h.has("content-type")) h.set("content-type", "application/json");
      return fetch(`${server.url}${path}`, { ...rest, headers: h });
    },
    async close() {
      for (const s of sockets) s.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
      await pg?.drop();
    },
  };
}

/**
 * A database for servers started one after another (a restart): an SQLite file, or a PostgreSQL
 * database in a file that called `usePostgres()`. Pass `env` to `startTestServer`; `remove()` at the end.
 */
export async function sharedDatabase(): Promise<{ env: Record<string, string>; remove(): Promise<void> }> {
  if (testDatabase.dialect === "postgres") {
    const pg = await createPgDatabase();
    return { env: { DATABASE_URL: pg.url }, remove: () => pg.drop() };
  }
  const dir = mkdtempSync(join(tmpdir(), "switchboard-shared-"));
  return {
    env: { DATABASE_PATH: join(dir, "switchboard.db") },
    remove: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Resolves with the first payload of `event`, or rejects after `ms`. */
export function once<T = unknown>(
  socket: { once(event: string, fn: (arg: T) => void): unknown },
  event: string,
  ms = 5000,
) {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${event}"`)), ms);
    socket.once(event, (arg: T) => {
      clearTimeout(timer);
      resolve(arg);
    });
  });
}
