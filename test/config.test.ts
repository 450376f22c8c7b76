import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../src/config";

const dir = mkdtempSync(join(tmpdir(), "switchboard-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const base = { API_TOKEN: "a".repeat(16), JWT_SECRET: "s".repeat(32), DATABASE_PATH: join(dir, "x.db") };

const failure = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
};

describe("config", () => {
  test("defaults of the issue", () => {
    const c = loadConfig(base);
    expect(c.port).toBe(3000);
    expect(c.host).toBe("0.0.0.0");
    expect(c.env).toBe("development");
    expect(c.jwtExpiresInSeconds).toBe(3600);
    expect(c.allowedOrigins).toBe("*");
    expect(c.prometheusPrefix).toBe("switchboard");
    expect(c.logLevel).toBe("info");
    expect(c.rateLimit).toEqual({ max: 100, adminMax: 10000, windowMs: 60000, ban: 10, store: "memory" });
    expect(c.socket.adapter).toBe("bun");
    expect(c.redis.url).toBeUndefined();
    expect(c.socket).toMatchObject({
      transports: ["polling", "websocket"],
      authTimeoutMs: 10000,
      maxConnections: 10000,
      maxConnectionsPerIp: 100,
      maxSocketsPerUser: 20,
    });
    expect(c.jwtRequireExp).toBe(false);
    expect(c.trustProxyHops).toBe(0);
    expect(c.alive).toEqual({
      maxEventLoopDelayMs: 5000,
      maxHeapBytes: 1024 ** 3,
      maxRssBytes: 2 * 1024 ** 3,
      maxEventLoopUtilization: 0.99,
    });
    expect(loadConfig({ ...base, DATABASE_PATH: undefined } as never).databasePath).toEndWith("data/switchboard.db");
  });

  test("DATABASE_URL: PostgreSQL instead of the SQLite file; the postback lease outlasts an attempt", () => {
    expect(loadConfig(base).databaseUrl).toBeUndefined();
    const url = "postgres://app:secret@db.internal:5432/switchboard";
    expect(loadConfig({ ...base, DATABASE_URL: url }).databaseUrl).toBe(url);
    expect(loadConfig({ ...base, DATABASE_URL: "postgresql://db/x" }).databaseUrl).toBe("postgresql://db/x");
    expect(failure({ ...base, DATABASE_URL: "mysql://db/x" })).toContain("DATABASE_URL: must be a postgres://");
    expect(loadConfig(base).postbacks.leaseMs).toBe(60000);
    expect(loadConfig({ ...base, POSTBACK_LEASE_MS: "90000" }).postbacks.leaseMs).toBe(90000);
    // Never shorter than an attempt can take, plus 5 s to record it.
    expect(loadConfig({ ...base, POSTBACK_TIMEOUT_MS: "1000", POSTBACK_LEASE_MS: "1000" }).postbacks.leaseMs).toBe(
      6000,
    );
    expect(failure({ ...base, POSTBACK_LEASE_MS: "10" })).toContain("POSTBACK_LEASE_MS");
  });

  test("NODE_DEAD_AFTER_MS: when a silent node is taken as crashed (20 s by default, 300 ms at least)", () => {
    expect(loadConfig(base).nodeDeadAfterMs).toBe(20000);
    expect(loadConfig({ ...base, NODE_DEAD_AFTER_MS: "1500" }).nodeDeadAfterMs).toBe(1500);
    expect(failure({ ...base, NODE_DEAD_AFTER_MS: "100" })).toContain("NODE_DEAD_AFTER_MS: must be at least 300");
    expect(failure({ ...base, NODE_DEAD_AFTER_MS: "soon" })).toContain("NODE_DEAD_AFTER_MS: must be a number");
  });

  test("production requires exp by default; TRUST_PROXY_HOPS counts only behind TRUST_PROXY", () => {
    const PROD = { ...base, NODE_ENV: "production", API_TOKEN: "a".repeat(20), JWT_SECRET: "b".repeat(40) };
    expect(failure(PROD)).toContain("POSTBACK_SIGNING_SECRET: is required when NODE_ENV=production");
    expect(loadConfig({ ...PROD, POSTBACKS_ENABLED: "false" }).postbacks.signingSecret).toBeUndefined();
    const prod = loadConfig({ ...PROD, POSTBACK_SIGNING_SECRET: `whsec_${"A".repeat(43)}=` });
    expect(prod.jwtRequireExp).toBe(true);
    expect(loadConfig({ ...PROD, POSTBACKS_ENABLED: "false", JWT_REQUIRE_EXP: "false" }).jwtRequireExp).toBe(false);
    expect(prod.postbacks.allowPrivate).toBe(false);
    expect(loadConfig({ ...base, TRUST_PROXY: "true", TRUST_PROXY_HOPS: "2" }).trustProxyHops).toBe(2);
    expect(loadConfig({ ...base, TRUST_PROXY_HOPS: "2" }).trustProxyHops).toBe(0);
    expect(failure({ ...base, SOCKET_TRANSPORTS: "carrier-pigeon" })).toContain("SOCKET_TRANSPORTS: must be");
  });

  test("a bad value names the variable, the rule and what it got", () => {
    const message = failure({ ...base, PORT: "eighty", LOG_LEVEL: "loud" });
    expect(message).toContain("PORT: must be a number");
    expect(message).toContain('(got "eighty")');
    expect(message).toContain("LOG_LEVEL: must be fatal, error, warn, info, debug, trace or silent");
    expect(failure({ ...base, PORT: "70000" })).toContain("PORT: must be at most 65535");
    expect(failure({ ...base, JWT_EXPIRES_IN: "forever" })).toContain("JWT_EXPIRES_IN: must be a duration");
    expect(failure({ ...base, JWT_SECRET: "short" })).toContain("JWT_SECRET: must be at least 32 characters");
    expect(failure({ ...base, TRUST_PROXY: "maybe" })).toContain('TRUST_PROXY: must be "true" or "false"');
  });

  test("ALLOWED_ORIGINS takes a comma-separated list", () => {
    expect(loadConfig({ ...base, ALLOWED_ORIGINS: "https://a.example, https://b.example" }).allowedOrigins).toEqual([
      "https://a.example",
      "https://b.example",
    ]);
  });

  test("production refuses to start without API_TOKEN and JWT_SECRET", () => {
    const message = failure({ NODE_ENV: "production", DATABASE_PATH: join(dir, "p.db") });
    expect(message).toContain("API_TOKEN: is required when NODE_ENV=production");
    expect(message).toContain("JWT_SECRET: is required when NODE_ENV=production");
  });

  test("development generates missing secrets once and keeps them beside the database (0600)", () => {
    const dbPath = join(dir, "dev", "sb.db");
    const first = loadConfig({ DATABASE_PATH: dbPath });
    expect(first.generatedSecrets?.names).toEqual(["API_TOKEN", "JWT_SECRET", "POSTBACK_SIGNING_SECRET"]);
    expect(first.postbacks.signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(first.apiToken.length).toBeGreaterThanOrEqual(16);
    expect(first.jwtSecret.length).toBeGreaterThanOrEqual(32);
    const file = join(dir, "dev", "dev-secrets.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({
      API_TOKEN: first.apiToken,
      JWT_SECRET: first.jwtSecret,
      POSTBACK_SIGNING_SECRET: first.postbacks.signingSecret,
    });
    const second = loadConfig({ DATABASE_PATH: dbPath });
    expect(second.apiToken).toBe(first.apiToken);
    expect(second.jwtSecret).toBe(first.jwtSecret);
    expect(second.postbacks.signingSecret).toBe(first.postbacks.signingSecret as string);
    // A configured value wins and is never written to the file.
    const third = loadConfig({ DATABASE_PATH: dbPath, API_TOKEN: "b".repeat(20) });
    expect(third.apiToken).toBe("b".repeat(20));
    expect(third.jwtSecret).toBe(first.jwtSecret);
  });

  test("several nodes: REDIS_URL makes redis-streams the default adapter; a Redis choice without REDIS_URL is refused", () => {
    const cluster = loadConfig({ ...base, REDIS_URL: "redis://127.0.0.1:6379" });
    expect(cluster.socket.adapter).toBe("redis-streams");
    expect(cluster.redis).toEqual({
      url: "redis://127.0.0.1:6379",
      prefix: "switchboard",
      streamMaxLen: 10000,
      downAliveMs: 30000,
    });
    expect(cluster.clusterTimeoutMs).toBe(5000);
    expect(loadConfig({ ...base, REDIS_URL: "redis://r:6379", SOCKET_ADAPTER: "redis" }).socket.adapter).toBe("redis");
    expect(loadConfig({ ...base, REDIS_URL: "redis://r:6379", SOCKET_ADAPTER: "bun" }).socket.adapter).toBe("bun");
    expect(() => loadConfig({ ...base, SOCKET_ADAPTER: "redis-streams" })).toThrow(
      "REDIS_URL: is required with SOCKET_ADAPTER=redis-streams",
    );
    expect(() => loadConfig({ ...base, RATE_LIMIT_STORE: "redis" })).toThrow(
      "REDIS_URL: is required with RATE_LIMIT_STORE=redis",
    );
    expect(() => loadConfig({ ...base, REDIS_URL: "http://r:6379" })).toThrow(
      "REDIS_URL: must be a redis:// or rediss:// URL",
    );
    expect(() => loadConfig({ ...base, SOCKET_ADAPTER: "kafka" })).toThrow(
      "SOCKET_ADAPTER: must be bun, memory, redis-streams or redis",
    );
  });
});
