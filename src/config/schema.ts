/**
 * The one home of configuration: every environment variable, its rule, its default and its doc.
 * `.env.example` and the README's config table are generated from this table (`bun run generate`).
 */
import { z } from "zod";
import { DurationString } from "../../contracts/shared/duration";

interface VarSpec<S extends z.ZodType> {
  schema: S;
  /** Default, in the form it would take in the environment. */
  default?: string;
  doc: string;
  /** Secret values are never logged nor printed. */
  secret?: boolean;
}

const v = <S extends z.ZodType>(spec: VarSpec<S>) => spec;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ error: "must be a number" })
    .int({ error: "must be a whole number" })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

const ratio = z.coerce
  .number({ error: "must be a number" })
  .gt(0, { error: "must be greater than 0" })
  .lte(1, { error: "must be at most 1" });

const bool = z.stringbool({ error: 'must be "true" or "false"' });

/** A Standard Webhooks signing secret: `whsec_` and the base64 of at least 24 bytes. */
export const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]{32,}={0,2}$/;

export const envVars = {
  PORT: v({ schema: int(0, 65535), default: "3000", doc: "HTTP, tRPC and Socket.IO port (0 picks a free one)" }),
  HOST: v({ schema: z.string().min(1), default: "0.0.0.0", doc: "Interface to listen on" }),
  NODE_ENV: v({
    schema: z.enum(["development", "production", "test"], { error: "must be development, production or test" }),
    default: "development",
    doc: "In production, API_TOKEN and JWT_SECRET are required",
  }),
  API_TOKEN: v({
    schema: z.string().min(16, { error: "must be at least 16 characters" }).optional(),
    doc: "Bearer token for the admin API. Development: generated once and kept in the data folder",
    secret: true,
  }),
  JWT_SECRET: v({
    schema: z.string().min(32, { error: "must be at least 32 characters (HS256 needs a 256-bit key)" }).optional(),
    doc: "HS256 secret for end-user JWTs. Development: generated once and kept in the data folder",
    secret: true,
  }),
  JWT_EXPIRES_IN: v({ schema: DurationString, default: "1h", doc: "Lifetime of tokens issued by the JWT tools" }),
  JWT_REQUIRE_EXP: v({
    schema: bool.optional(),
    doc: "Refuse tokens without an exp claim. Default: true when NODE_ENV=production, else false",
  }),
  JWKS_URL: v({
    schema: z.url({ error: "must be an http(s) URL" }).optional(),
    doc: "JWKS of an identity provider: RS256/ES256 end-user tokens are checked against it (cached, refreshed on an unknown kid)",
  }),
  JWT_ISSUER: v({ schema: z.string().min(1).optional(), doc: "When set, end-user tokens must carry this iss" }),
  JWT_AUDIENCE: v({ schema: z.string().min(1).optional(), doc: "When set, end-user tokens must carry this aud" }),
  JWT_CLOCK_TOLERANCE_SECONDS: v({
    schema: int(0, 300),
    default: "30",
    doc: "Clock skew allowed when checking exp, nbf and iat (an iat further in the future is refused)",
  }),
  DATABASE_PATH: v({
    schema: z.string().min(1),
    default: "./data/switchboard.db",
    doc: "SQLite file (created with its folder); unused when DATABASE_URL is set",
  }),
  DATABASE_URL: v({
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, { error: "must be a postgres:// or postgresql:// URL" })
      .optional(),
    doc: "PostgreSQL instead of SQLite (postgres://user:pass@host:5432/db): state shared by N nodes; migrated at start-up",
  }),
  ALLOWED_ORIGINS: v({
    schema: z.string().min(1),
    default: "*",
    doc: "CORS origins for HTTP and Socket.IO: * or a comma-separated list",
  }),
  PROMETHEUS_PREFIX: v({
    schema: z
      .string()
      .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, { error: "must be a Prometheus name ([a-zA-Z_][a-zA-Z0-9_]*)" }),
    default: "switchboard",
    doc: "Prefix of every metric name (an underscore is added)",
  }),
  LOG_LEVEL: v({
    schema: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
      error: "must be fatal, error, warn, info, debug, trace or silent",
    }),
    default: "info",
    doc: "pino log level",
  }),
  TRUST_PROXY: v({
    schema: bool,
    default: "false",
    doc: "Take the client IP from X-Forwarded-For (only behind a proxy you control)",
  }),
  TRUST_PROXY_HOPS: v({
    schema: int(1, 32),
    default: "1",
    doc: "With TRUST_PROXY: how many proxies you run; the client is that many addresses from the right of X-Forwarded-For",
  }),
  RATE_LIMIT_MAX: v({ schema: int(1), default: "100", doc: "HTTP requests per IP per window" }),
  RATE_LIMIT_WINDOW_MS: v({ schema: int(1000), default: "60000", doc: "HTTP rate-limit window" }),
  RATE_LIMIT_ADMIN_MAX: v({
    schema: int(1),
    default: "10000",
    doc: "HTTP requests per IP per window for callers with the admin token (a budget of their own)",
  }),
  RATE_LIMIT_BAN: v({
    schema: int(0),
    default: "10",
    doc: "Refused (429) requests in one window before the IP is banned (403) for the rest of it; 0 disables bans",
  }),
  HTTP_MAX_BODY_BYTES: v({
    schema: int(1024),
    default: "1000000",
    doc: "Largest HTTP request body accepted (413 PAYLOAD_TOO_LARGE above it)",
  }),
  TRPC_MAX_BATCH: v({
    schema: int(1, 1000),
    default: "50",
    doc: "Most calls in one tRPC batch (each call counts against the rate limit)",
  }),
  HEALTH_PUBLIC: v({ schema: bool, default: "true", doc: "/alive and /health without the admin token" }),
  METRICS_PUBLIC: v({ schema: bool, default: "true", doc: "/metrics without the admin token" }),
  DOCS_PUBLIC: v({
    schema: bool,
    default: "true",
    doc: "/docs, /openapi.json and /asyncapi* without the admin token",
  }),
  ALIVE_MAX_EVENT_LOOP_DELAY_MS: v({
    schema: int(1),
    default: "5000",
    doc: "/alive fails above this event-loop delay",
  }),
  ALIVE_MAX_HEAP_BYTES: v({ schema: int(1), default: String(1024 ** 3), doc: "/alive fails above this heap used" }),
  ALIVE_MAX_RSS_BYTES: v({ schema: int(1), default: String(2 * 1024 ** 3), doc: "/alive fails above this RSS" }),
  ALIVE_MAX_EVENT_LOOP_UTILIZATION: v({
    schema: ratio,
    default: "0.99",
    doc: "/alive fails above this event-loop utilisation (0-1)",
  }),
  SOCKET_PING_INTERVAL_MS: v({ schema: int(1000), default: "25000", doc: "Socket.IO heartbeat interval" }),
  SOCKET_PING_TIMEOUT_MS: v({ schema: int(1000), default: "20000", doc: "Socket.IO heartbeat timeout" }),
  SOCKET_MAX_PAYLOAD_BYTES: v({ schema: int(1024), default: "1000000", doc: "Largest Socket.IO message accepted" }),
  SOCKET_TRANSPORTS: v({
    schema: z.enum(["polling,websocket", "websocket", "polling"], {
      error: 'must be "polling,websocket", "websocket" or "polling"',
    }),
    default: "polling,websocket",
    doc: "Socket.IO transports accepted (websocket alone turns long-polling off)",
  }),
  SOCKET_AUTH_TIMEOUT_MS: v({
    schema: int(100, 120000),
    default: "10000",
    doc: "An engine connection with no authenticated Socket.IO connect by then is closed",
  }),
  SOCKET_MAX_BUFFERED_BYTES: v({
    schema: int(1024),
    default: "4000000",
    doc: "A socket whose unsent outgoing data passes this (a client that stopped reading) is disconnected",
  }),
  MAX_CONNECTIONS: v({
    schema: int(1),
    default: "10000",
    doc: "Open Socket.IO engine connections, in all (503 SERVICE_UNAVAILABLE above it)",
  }),
  MAX_CONNECTIONS_PER_IP: v({
    schema: int(1),
    default: "100",
    doc: "Open Socket.IO engine connections per client IP (429 RATE_LIMITED above it)",
  }),
  SOCKET_HANDSHAKES_PER_IP: v({
    schema: int(1),
    default: "120",
    doc: "New Socket.IO sessions one IP may open per RATE_LIMIT_WINDOW_MS (429 RATE_LIMITED above it)",
  }),
  MAX_SOCKETS_PER_USER: v({
    schema: int(1),
    default: "20",
    doc: "Connected sockets per user on one node; a connection over it is refused (connect_error RATE_LIMITED), the others stay",
  }),
  SOCKET_RATE_LIMIT: v({
    schema: int(1),
    default: "10",
    doc: "Events per second one socket may send (token bucket); over it an event gets RATE_LIMITED (/internal is exempt)",
  }),
  SOCKET_RATE_BURST: v({
    schema: int(1).optional(),
    doc: "Token bucket size: events a socket may send at once. Default: SOCKET_RATE_LIMIT",
  }),
  SOCKET_ABUSE_LIMIT: v({
    schema: int(1),
    default: "100",
    doc: "A socket refused more than this many times in a minute is disconnected",
  }),
  RECOVERY_WINDOW_MS: v({
    schema: int(0),
    default: "120000",
    doc: "Connection state recovery: after a disconnect this short, a client gets its rooms and missed events back (0: off)",
  }),
  MAX_MESSAGE_CHARS: v({
    schema: int(1, 100000),
    default: "10000",
    doc: "Longest chat or direct message, in characters",
  }),
  TYPING_TIMEOUT_MS: v({
    schema: int(100),
    default: "5000",
    doc: "The server sends typing:stop itself after this long without a new typing:start",
  }),
  PRESENCE_PUBLIC: v({
    schema: bool,
    default: "true",
    doc: "presence:online and presence:detailed answer every user (false: FORBIDDEN; friends-only presence stays)",
  }),
  SOCKET_ADAPTER: v({
    schema: z
      .enum(["bun", "memory", "redis-streams", "redis"], {
        error: "must be bun, memory, redis-streams or redis",
      })
      .optional(),
    doc: "Socket.IO adapter. One node: bun publishes each room broadcast once through Bun's WebSocket pub/sub, same frames on the wire (stock, with a log, if its start-up self-test fails); memory is socket.io's stock adapter. Several nodes (REDIS_URL): redis-streams (Redis streams; keeps connection state recovery across nodes) or redis (pub/sub; no recovery across nodes), each node delivering to its own sockets through Bun's pub/sub like bun. Default: redis-streams when REDIS_URL is set, else bun",
  }),
  REDIS_URL: v({
    schema: z
      .url({ error: "must be a redis:// or rediss:// URL" })
      .refine((u) => /^rediss?:\/\//.test(u), { error: "must be a redis:// or rediss:// URL" })
      .optional(),
    doc: "Redis for several gateway nodes: Socket.IO traffic between nodes (SOCKET_ADAPTER) and, with RATE_LIMIT_STORE=redis, shared HTTP rate limits",
    secret: true,
  }),
  REDIS_PREFIX: v({
    schema: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, { error: "must be 1-64 characters of A-Z a-z 0-9 : _ . -" }),
    default: "switchboard",
    doc: "Prefix of every Redis key, stream and channel of this deployment (nodes of one deployment share it)",
  }),
  REDIS_STREAM_MAX_LEN: v({
    schema: int(100),
    default: "10000",
    doc: "redis-streams: entries kept in the stream. It bounds connection state recovery across nodes: a client that was away for more broadcasts than this is not recovered",
  }),
  REDIS_DOWN_ALIVE_MS: v({
    schema: int(0),
    default: "30000",
    doc: "/alive fails once Redis has been unreachable this long (0: never)",
  }),
  CLUSTER_TIMEOUT_MS: v({
    schema: int(100, 600_000),
    default: "5000",
    doc: "How long a request to every node (listing sockets, counts, joins) waits for the others to answer; then SERVICE_UNAVAILABLE",
  }),
  NODE_DEAD_AFTER_MS: v({
    schema: int(300, 3_600_000),
    default: "20000",
    doc: "With DATABASE_URL: a node whose heartbeat (every third of this) has stopped this long is taken as crashed, and another node tells its users' friends they went offline. SQLite: the users a crash left online are resolved at the next start",
  }),
  RATE_LIMIT_STORE: v({
    schema: z.enum(["memory", "redis"], { error: "must be memory or redis" }),
    default: "memory",
    doc: "Where the HTTP rate limit counts: memory (per node) or redis (shared by every node; needs REDIS_URL). The per-socket limit is always per node",
  }),
  POSTBACKS_ENABLED: v({ schema: bool, default: "true", doc: "Run the postback (webhook) scheduler" }),
  POSTBACK_SIGNING_SECRET: v({
    schema: z
      .string()
      .regex(WEBHOOK_SECRET, { error: "must be whsec_ followed by base64 (at least 24 bytes)" })
      .optional(),
    doc: "Standard Webhooks signing secret (whsec_...). Development: generated once and kept in the data folder; production requires it when postbacks are enabled",
    secret: true,
  }),
  POSTBACK_CONCURRENCY: v({ schema: int(1, 1000), default: "10", doc: "Postback requests in flight at most" }),
  POSTBACK_TIMEOUT_MS: v({
    schema: int(100, 600000),
    default: "30000",
    doc: "Time limit of one postback attempt (a job may set a shorter timeoutMs)",
  }),
  POSTBACK_LEASE_MS: v({
    schema: int(1000, 3600000),
    default: "60000",
    doc: "With DATABASE_URL: how long a node owns a postback it claimed; a node killed mid-delivery leaves it to another after this (at least POSTBACK_TIMEOUT_MS + 5 s is used)",
  }),
  POSTBACK_MAX_RETRIES: v({
    schema: int(0, 100),
    default: "3",
    doc: "Retries after a failed first attempt (a job may set its own maxRetries)",
  }),
  POSTBACK_BACKOFF_MS: v({
    schema: int(1),
    default: "1000",
    doc: "Base of the exponential backoff between attempts (full jitter: about 1, 2, 4 s)",
  }),
  POSTBACK_ALLOW_PRIVATE: v({
    schema: bool.optional(),
    doc: "Allow postbacks to loopback, private, link-local, CGNAT and metadata addresses. Default: true when NODE_ENV=development, else false",
  }),
  POSTBACK_ALLOWED_HOSTS: v({
    schema: z.string(),
    default: "",
    doc: "Comma-separated host names exempt from the private-address check",
  }),
  POSTBACK_RETENTION: v({
    schema: DurationString,
    default: "1h",
    doc: "How long completed, failed and cancelled jobs (and idempotency keys) are kept",
  }),
  SHUTDOWN_TIMEOUT_MS: v({
    schema: int(0),
    default: "10000",
    doc: "How long shutdown waits for in-flight work before closing anyway",
  }),
} as const;

export type EnvVarName = keyof typeof envVars;

export const envSchema = z.object(
  Object.fromEntries(
    Object.entries(envVars).map(([name, spec]) => {
      const s = spec as VarSpec<z.ZodType>;
      return [name, s.default === undefined ? s.schema : s.schema.prefault(s.default as never)];
    }),
  ) as { [K in EnvVarName]: (typeof envVars)[K]["schema"] },
);

export type Env = z.output<typeof envSchema>;
