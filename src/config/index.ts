import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseDuration } from "../../contracts/shared/duration";
import { type Env, envSchema, WEBHOOK_SECRET } from "./schema";

export { envVars } from "./schema";

export interface Config {
  port: number;
  host: string;
  env: Env["NODE_ENV"];
  apiToken: string;
  jwtSecret: string;
  jwtExpiresInSeconds: number;
  /** Tokens without `exp` are refused. */
  jwtRequireExp: boolean;
  jwtClockToleranceSeconds: number;
  /** RS256/ES256 tokens are checked against this JWKS; unset: HS256 with jwtSecret only. */
  jwksUrl: string | undefined;
  jwtIssuer: string | undefined;
  jwtAudience: string | undefined;
  databasePath: string;
  /** PostgreSQL (postgres://…) instead of the SQLite file: state shared by several nodes. */
  databaseUrl: string | undefined;
  allowedOrigins: "*" | string[];
  prometheusPrefix: string;
  logLevel: Env["LOG_LEVEL"];
  /** Proxies in front of us that append to X-Forwarded-For; 0 = do not trust the header. */
  trustProxyHops: number;
  rateLimit: { max: number; adminMax: number; windowMs: number; ban: number; store: Env["RATE_LIMIT_STORE"] };
  httpMaxBodyBytes: number;
  trpcMaxBatch: number;
  publicEndpoints: { health: boolean; metrics: boolean; docs: boolean };
  alive: { maxEventLoopDelayMs: number; maxHeapBytes: number; maxRssBytes: number; maxEventLoopUtilization: number };
  socket: {
    pingIntervalMs: number;
    pingTimeoutMs: number;
    maxPayloadBytes: number;
    transports: ("polling" | "websocket")[];
    authTimeoutMs: number;
    maxBufferedBytes: number;
    maxConnections: number;
    maxConnectionsPerIp: number;
    handshakesPerIp: number;
    maxSocketsPerUser: number;
    /** Token bucket per socket: refill per second, and size. */
    rateLimit: number;
    rateBurst: number;
    abuseLimit: number;
    recoveryWindowMs: number;
    adapter: NonNullable<Env["SOCKET_ADAPTER"]>;
  };
  /** Several nodes: Redis carries Socket.IO traffic between them (and shared rate limits). */
  redis: { url: string | undefined; prefix: string; streamMaxLen: number; downAliveMs: number };
  /** How long a request to every node waits for answers. */
  clusterTimeoutMs: number;
  /** PostgreSQL: a node whose heartbeat stopped this long is taken as crashed (its users go offline). */
  nodeDeadAfterMs: number;
  chat: { maxMessageChars: number; typingTimeoutMs: number; presencePublic: boolean };
  postbacks: {
    enabled: boolean;
    /** `whsec_…` (Standard Webhooks); set whenever postbacks are enabled. */
    signingSecret: string | undefined;
    concurrency: number;
    timeoutMs: number;
    maxRetries: number;
    backoffMs: number;
    /** Targets on loopback, private, link-local, CGNAT or metadata addresses are allowed. */
    allowPrivate: boolean;
    /** Hosts exempt from the private-address check (lower case). */
    allowedHosts: string[];
    retentionMs: number;
    /** PostgreSQL: how long the claimer owns a `processing` job; past it another node takes it over. */
    leaseMs: number;
  };
  shutdownTimeoutMs: number;
  /** Which secrets were generated for development (so start-up can say how to use them). */
  generatedSecrets: { path: string; names: SecretName[] } | null;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment; throws ConfigError naming each bad variable and its rule. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "environment");
      const got = source[name];
      return `  ${name}: ${issue.message}${got === undefined ? "" : ` (got ${JSON.stringify(got)})`}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const env = parsed.data;
  const needRedis = [
    env.SOCKET_ADAPTER?.startsWith("redis") ? `SOCKET_ADAPTER=${env.SOCKET_ADAPTER}` : undefined,
    env.RATE_LIMIT_STORE === "redis" ? "RATE_LIMIT_STORE=redis" : undefined,
  ].filter(Boolean);
  if (needRedis.length > 0 && !env.REDIS_URL) {
    throw new ConfigError(`Invalid configuration:\n  REDIS_URL: is required with ${needRedis.join(" and ")}`);
  }
  const databasePath = env.DATABASE_PATH === ":memory:" ? ":memory:" : resolve(env.DATABASE_PATH);
  const secrets = resolveSecrets(env, databasePath);

  return {
    port: env.PORT,
    host: env.HOST,
    env: env.NODE_ENV,
    apiToken: secrets.values.API_TOKEN as string,
    jwtSecret: secrets.values.JWT_SECRET as string,
    jwtExpiresInSeconds: parseDuration(env.JWT_EXPIRES_IN) as number,
    jwtRequireExp: env.JWT_REQUIRE_EXP ?? env.NODE_ENV === "production",
    jwtClockToleranceSeconds: env.JWT_CLOCK_TOLERANCE_SECONDS,
    jwksUrl: env.JWKS_URL,
    jwtIssuer: env.JWT_ISSUER,
    jwtAudience: env.JWT_AUDIENCE,
    databasePath,
    databaseUrl: env.DATABASE_URL,
    allowedOrigins:
      env.ALLOWED_ORIGINS.trim() === "*"
        ? "*"
        : env.ALLOWED_ORIGINS.split(",")
            .map((o) => o.trim())
            .filter(Boolean),
    prometheusPrefix: env.PROMETHEUS_PREFIX,
    logLevel: env.LOG_LEVEL,
    trustProxyHops: env.TRUST_PROXY ? env.TRUST_PROXY_HOPS : 0,
    rateLimit: {
      max: env.RATE_LIMIT_MAX,
      adminMax: env.RATE_LIMIT_ADMIN_MAX,
      windowMs: env.RATE_LIMIT_WINDOW_MS,
      ban: env.RATE_LIMIT_BAN,
      store: env.RATE_LIMIT_STORE,
    },
    httpMaxBodyBytes: env.HTTP_MAX_BODY_BYTES,
    trpcMaxBatch: env.TRPC_MAX_BATCH,
    publicEndpoints: { health: env.HEALTH_PUBLIC, metrics: env.METRICS_PUBLIC, docs: env.DOCS_PUBLIC },
    alive: {
      maxEventLoopDelayMs: env.ALIVE_MAX_EVENT_LOOP_DELAY_MS,
      maxHeapBytes: env.ALIVE_MAX_HEAP_BYTES,
      maxRssBytes: env.ALIVE_MAX_RSS_BYTES,
      maxEventLoopUtilization: env.ALIVE_MAX_EVENT_LOOP_UTILIZATION,
    },
    socket: {
      pingIntervalMs: env.SOCKET_PING_INTERVAL_MS,
      pingTimeoutMs: env.SOCKET_PING_TIMEOUT_MS,
      maxPayloadBytes: env.SOCKET_MAX_PAYLOAD_BYTES,
      transports: env.SOCKET_TRANSPORTS.split(",") as ("polling" | "websocket")[],
      authTimeoutMs: env.SOCKET_AUTH_TIMEOUT_MS,
      maxBufferedBytes: env.SOCKET_MAX_BUFFERED_BYTES,
      maxConnections: env.MAX_CONNECTIONS,
      maxConnectionsPerIp: env.MAX_CONNECTIONS_PER_IP,
      handshakesPerIp: env.SOCKET_HANDSHAKES_PER_IP,
      maxSocketsPerUser: env.MAX_SOCKETS_PER_USER,
      rateLimit: env.SOCKET_RATE_LIMIT,
      rateBurst: env.SOCKET_RATE_BURST ?? env.SOCKET_RATE_LIMIT,
      abuseLimit: env.SOCKET_ABUSE_LIMIT,
      recoveryWindowMs: env.RECOVERY_WINDOW_MS,
      adapter: env.SOCKET_ADAPTER ?? (env.REDIS_URL ? "redis-streams" : "bun"),
    },
    redis: {
      url: env.REDIS_URL,
      prefix: env.REDIS_PREFIX,
      streamMaxLen: env.REDIS_STREAM_MAX_LEN,
      downAliveMs: env.REDIS_DOWN_ALIVE_MS,
    },
    clusterTimeoutMs: env.CLUSTER_TIMEOUT_MS,
    nodeDeadAfterMs: env.NODE_DEAD_AFTER_MS,
    chat: {
      maxMessageChars: env.MAX_MESSAGE_CHARS,
      typingTimeoutMs: env.TYPING_TIMEOUT_MS,
      presencePublic: env.PRESENCE_PUBLIC,
    },
    postbacks: {
      enabled: env.POSTBACKS_ENABLED,
      signingSecret: secrets.values.POSTBACK_SIGNING_SECRET,
      concurrency: env.POSTBACK_CONCURRENCY,
      timeoutMs: env.POSTBACK_TIMEOUT_MS,
      maxRetries: env.POSTBACK_MAX_RETRIES,
      backoffMs: env.POSTBACK_BACKOFF_MS,
      allowPrivate: env.POSTBACK_ALLOW_PRIVATE ?? env.NODE_ENV === "development",
      allowedHosts: env.POSTBACK_ALLOWED_HOSTS.split(",")
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
      retentionMs: (parseDuration(env.POSTBACK_RETENTION) as number) * 1000,
      // An attempt ends (times out) and is recorded well before its lease does.
      leaseMs: Math.max(env.POSTBACK_LEASE_MS, env.POSTBACK_TIMEOUT_MS + 5000),
    },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    generatedSecrets: secrets.generated,
  };
}

type SecretName = "API_TOKEN" | "JWT_SECRET" | "POSTBACK_SIGNING_SECRET";

/** Each secret: whether this configuration needs it, how to make one, and what a stored one must look like. */
const SECRETS: Record<SecretName, { needed(env: Env): boolean; make(): string; valid(v: string): boolean }> = {
  API_TOKEN: { needed: () => true, make: () => randomSecret(), valid: (v) => v.length >= 16 },
  JWT_SECRET: { needed: () => true, make: () => randomSecret(), valid: (v) => v.length >= 32 },
  POSTBACK_SIGNING_SECRET: {
    needed: (env) => env.POSTBACKS_ENABLED,
    make: () => `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`,
    valid: (v) => WEBHOOK_SECRET.test(v),
  },
};

/**
 * Production requires every secret its configuration needs. Elsewhere a missing one is generated
 * once and kept (mode 0600) beside the database, so tokens and signatures stay valid across restarts.
 */
function resolveSecrets(env: Env, databasePath: string) {
  const given: Partial<Record<SecretName, string>> = {
    API_TOKEN: env.API_TOKEN,
    JWT_SECRET: env.JWT_SECRET,
    POSTBACK_SIGNING_SECRET: env.POSTBACK_SIGNING_SECRET,
  };
  const missing = (Object.keys(SECRETS) as SecretName[]).filter((n) => SECRETS[n].needed(env) && !given[n]);
  if (missing.length === 0) return { values: given, generated: null };
  if (env.NODE_ENV === "production") {
    throw new ConfigError(
      `Invalid configuration:\n${missing.map((n) => `  ${n}: is required when NODE_ENV=production`).join("\n")}`,
    );
  }
  const dataDir = databasePath === ":memory:" ? resolve("data") : dirname(databasePath);
  const path = join(dataDir, "dev-secrets.json");
  const stored = readStoredSecrets(path);
  const next: Partial<Record<SecretName, string>> = { ...stored };
  for (const name of missing) next[name] ??= SECRETS[name].make();
  if (missing.some((n) => stored[n] !== next[n])) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
  }
  for (const name of missing) given[name] = next[name];
  return { values: given, generated: { path, names: missing } };
}

function readStoredSecrets(path: string): Partial<Record<SecretName, string>> {
  if (!existsSync(path)) return {};
  try {
    const data = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    const out: Partial<Record<SecretName, string>> = {};
    for (const name of Object.keys(SECRETS) as SecretName[]) {
      const value = data[name];
      if (typeof value === "string" && SECRETS[name].valid(value)) out[name] = value;
    }
    return out;
  } catch {
    throw new ConfigError(`Invalid configuration:\n  ${path}: is not valid JSON; delete it to generate new secrets`);
  }
}

function randomSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}
