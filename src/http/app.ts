/**
 * The Elysia app: every HTTP concern of the one port. Cross-cutting hooks (request id, rate limit,
 * security headers, access control for probes and docs, error shape, metrics, access log) live
 * here; routes come from the operations table (REST, tRPC) and from small route modules.
 */
import { cors } from "@elysiajs/cors";
import { Elysia } from "elysia";
import { socketHealth } from "../../contracts/admin/sockets";
import type { ErrorCode } from "../../contracts/errors";
import { systemPaths } from "../../contracts/system";
import { createRedisRateLimiter } from "../cluster/rate-limit";
import type { RedisLink } from "../cluster/redis";
import type { Config } from "../config";
import type { Caller, CallerAuth } from "../domain/callers";
import { AppError, clip } from "../domain/errors";
import { declaredTooLarge } from "../domain/limits/body";
import { createRateLimiter, type RateLimitOptions } from "../domain/limits/rate-limit";
import type { Logger } from "../observability/logger";
import type { Metrics } from "../observability/metrics";
import { docPages, docPaths } from "./docs";
import { errorResponse } from "./errors";
import { createAllowedMethods } from "./methods";
import type { RequestContextFn } from "./request-context";
import { clientIp, securityHeaders } from "./security";
import { isTrpcPath, trpcCalls } from "./trpc-route";

export interface HttpDeps {
  config: Config;
  metrics: Metrics;
  log: Logger;
  /** Who a request's Authorization header speaks for. */
  callers: CallerAuth;
  /** Where Socket.IO is served: left out of the HTTP rate limit and body checks (it has its own). */
  socketPath: string;
  /** RATE_LIMIT_STORE=redis: the budgets are counted in this Redis, shared by every node. */
  redis?: RedisLink | undefined;
}

interface RequestMeta {
  id: string;
  ip: string;
  caller: Caller;
  start: number;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Which public-by-default paths each `*_PUBLIC` switch governs. */
function gatedPaths(config: Config): Set<string> {
  const gated = new Set<string>();
  if (!config.publicEndpoints.health) {
    for (const p of [systemPaths.alive, systemPaths.health, socketHealth.path]) gated.add(p);
  }
  if (!config.publicEndpoints.metrics) gated.add(systemPaths.metrics);
  if (!config.publicEndpoints.docs) for (const p of Object.values(docPaths)) gated.add(p);
  return gated;
}

const pathOf = (request: Request) => new URL(request.url).pathname;

/** Errors on the tRPC endpoint take tRPC's envelope, elsewhere `{ success: false, error }`. */
const shapeOf = (path: string) => (isTrpcPath(path) ? "trpc" : "rest");

export function createHttpApp(deps: HttpDeps) {
  const { config, metrics, log, callers, socketPath } = deps;
  const { max, adminMax, windowMs, ban } = config.rateLimit;
  // Callers with the API token (backends) get a budget of their own, so browsers behind the same
  // IP cannot throttle them; a wrong token counts as anonymous.
  const shared = config.rateLimit.store === "redis" ? deps.redis : undefined;
  const limiter = (name: string, opts: RateLimitOptions) =>
    shared ? createRedisRateLimiter(opts, shared, name, log) : createRateLimiter(opts);
  const anonymous = limiter("anonymous", { max, windowMs, ban });
  const admins = limiter("admin", { max: adminMax, windowMs, ban });
  const gated = gatedPaths(config);
  const meta = new WeakMap<Request, RequestMeta>();
  const security = Object.entries(securityHeaders);
  /**
   * One bound metric series per (method, route, status): prom-client hashes the labels on every call
   * otherwise. Bounded like the series themselves: routes are the app's, and Bun hands us standard methods only.
   */
  const series = new Map<string, { inc(): void; observe(seconds: number): void }>();
  const seriesOf = (label: { method: string; route: string; status_code: string }) => {
    const key = `${label.method} ${label.route} ${label.status_code}`;
    let found = series.get(key);
    if (!found) {
      const counter = metrics.httpRequests.labels(label);
      const histogram = metrics.httpDuration.labels(label);
      found = { inc: () => counter.inc(), observe: (seconds) => histogram.observe(seconds) };
      series.set(key, found);
    }
    return found;
  };

  const requestContext: RequestContextFn = Object.assign(
    (request: Request) => {
      const m = meta.get(request);
      const requestId = m?.id ?? Bun.randomUUIDv7();
      let child: Logger | undefined;
      return {
        requestId,
        ip: m?.ip ?? "unknown",
        caller: m?.caller ?? { kind: "anonymous" },
        // Made when something logs: most requests never do, and a child logger per request showed in profiles.
        get log() {
          child ??= log.child({ requestId });
          return child;
        },
        idempotencyKey: request.headers.get("idempotency-key") ?? undefined,
      };
    },
    { limits: { maxBodyBytes: config.httpMaxBodyBytes, trpcMaxBatch: config.trpcMaxBatch } },
  );

  const app = new Elysia({ name: "switchboard" })
    // Before CORS: its preflight answer ends the request, and an OPTIONS request is counted too.
    // Refusals are thrown, not returned: a response returned here skips onAfterResponse (no
    // access-log line, no metrics), while onError's answer goes through it.
    .onRequest(async ({ request, server, set }) => {
      const url = new URL(request.url);
      const path = url.pathname;
      const ip = clientIp(request, server, config.trustProxyHops);
      const incoming = request.headers.get("x-request-id");
      const id = incoming && REQUEST_ID.test(incoming) ? incoming : Bun.randomUUIDv7();
      // Identified once per request (an admin JWT is verified here), for the budget, gating and operations.
      const caller = await callers.identify(request.headers.get("authorization"));
      const admin = caller.kind === "admin";
      meta.set(request, { id, ip, caller, start: performance.now() });
      set.headers["x-request-id"] = id;

      // Socket.IO is not an HTTP API call: it has its own limits (handshakes per IP, payload size).
      if (path === socketPath) return;
      for (const [k, v] of security) {
        if (!(k === "content-security-policy" && docPages.has(path))) set.headers[k] = v;
      }
      // Each call of a tRPC batch counts; an oversized batch is refused by the route, and counts once.
      const calls = isTrpcPath(path) ? trpcCalls(url) : 1;
      const verdict = await (admin ? admins : anonymous).hit(ip, calls > config.trpcMaxBatch ? 1 : calls);
      if (!verdict.allowed) {
        const retryAfter = String(Math.ceil(verdict.retryAfterMs / 1000));
        set.headers["retry-after"] = retryAfter;
        throw verdict.banned
          ? new AppError("FORBIDDEN", `Too many requests: banned for ${retryAfter} s`)
          : new AppError("RATE_LIMITED", `Too many requests: retry in ${retryAfter} s`);
      }
      set.headers["ratelimit-limit"] = String(admin ? adminMax : max);
      set.headers["ratelimit-remaining"] = String(verdict.remaining);
      set.headers["ratelimit-reset"] = String(Math.ceil(verdict.resetMs / 1000));

      // A declared length over the limit is refused before routing; chunked bodies are cut while
      // read (body.ts).
      const tooLarge = declaredTooLarge(request, config.httpMaxBodyBytes);
      if (tooLarge) throw tooLarge;

      if (gated.has(path) && !admin) {
        throw caller.kind === "user"
          ? new AppError("FORBIDDEN", "Needs an admin: the API token or a JWT with role admin")
          : new AppError("UNAUTHORIZED", "Missing or invalid API token");
      }
    })
    .use(
      cors({
        origin: config.allowedOrigins === "*" ? true : config.allowedOrigins,
        credentials: config.allowedOrigins !== "*",
        exposeHeaders: ["x-request-id", "retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"],
      }),
    )
    .onError(({ code, error, request, set }) => {
      const path = pathOf(request);
      const shape = shapeOf(path);
      if (error instanceof AppError) return errorResponse(set, error, shape);
      if (code === "NOT_FOUND") {
        const allowed = allowedMethods(path);
        if (allowed.length > 0) {
          set.headers.allow = allowed.join(", ");
          const message = `Method ${request.method} is not allowed on ${clip(path)} (allowed: ${allowed.join(", ")})`;
          return errorResponse(set, new AppError("METHOD_NOT_ALLOWED", message), shape);
        }
      }
      const known: Partial<Record<string | number, [ErrorCode, string]>> = {
        NOT_FOUND: ["NOT_FOUND", `No route ${request.method} ${clip(path)}`],
        PARSE: ["BAD_REQUEST", "Body is not valid JSON"],
        VALIDATION: ["BAD_REQUEST", "Invalid input"],
      };
      const mapped = known[code];
      if (mapped) return errorResponse(set, new AppError(mapped[0], mapped[1]), shape);
      log.error({ err: error, requestId: meta.get(request)?.id }, "unhandled error");
      return errorResponse(set, new AppError("INTERNAL", "Internal error"), shape);
    })
    .onAfterResponse(({ request, route, set, responseValue }) => {
      const m = meta.get(request);
      const status =
        responseValue instanceof Response ? responseValue.status : typeof set.status === "number" ? set.status : 200;
      const label = { method: request.method, route: route || "(unmatched)", status_code: String(status) };
      const seconds = m ? (performance.now() - m.start) / 1000 : 0;
      const series = seriesOf(label);
      series.inc();
      series.observe(seconds);
      const level = route === socketPath ? "debug" : "info";
      if (!log.isLevelEnabled(level)) return;
      log[level]({ requestId: m?.id, ip: m?.ip, ...label, durationMs: Math.round(seconds * 1e4) / 10 }, "request");
    });

  const allowedMethods = createAllowedMethods(() => app.routes);

  return {
    app,
    requestContext,
    /** The anonymous budget's ban: a banned IP opens no Socket.IO sessions either. */
    isBanned: (ip: string) => anonymous.isBanned(ip),
  };
}
