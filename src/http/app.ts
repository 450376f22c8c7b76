/**
 * The Elysia app: every HTTP concern of the one port. Cross-cutting hooks (request id, rate limit,
 * security headers, access control for probes and docs, error shape, metrics, access log) live
 * here; routes come from the operations table (REST, tRPC) and from small route modules.
 */
import { type Context, Elysia } from "elysia";
import { socketHealth } from "../../contracts/admin/sockets";
import type { ErrorCode } from "../../contracts/errors";
import { systemPaths } from "../../contracts/system";
import { createRedisRateLimiter } from "../cluster/rate-limit";
import type { RedisLink } from "../cluster/redis";
import type { Config } from "../config";
import type { Caller, CallerAuth } from "../domain/callers";
import { AppError, clip } from "../domain/errors";
import { declaredTooLarge } from "../domain/limits/body";
import { createRateLimiter, type RateLimitOptions, type RateLimitVerdict } from "../domain/limits/rate-limit";
import type { Logger } from "../observability/logger";
import type { Metrics } from "../observability/metrics";
import { createJsonAnswer } from "./answer";
import { createCors } from "./cors";
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

/**
 * The path of a request URL (`http://host:port/path?query`), read from the string: no URL object
 * per request. Bun hands the URL normalised (dot segments resolved), like `new URL()` would.
 */
export function pathOfUrl(url: string): string {
  const slash = url.indexOf("/", url.indexOf("//") + 2);
  if (slash === -1) return "/";
  const query = url.indexOf("?", slash);
  return query === -1 ? url.slice(slash) : url.slice(slash, query);
}

const pathOf = (request: Request) => pathOfUrl(request.url);

/** Elysia answers `/x` and `/x/` alike, so checks by path (gating, the docs' CSP) ignore a trailing slash. */
const routePath = (path: string) => (path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path);

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
  const security = { ...securityHeaders };
  /** The docs' HTML pages run their renderer's scripts: every security header but the deny-all CSP. */
  const docsSecurity = Object.fromEntries(
    Object.entries(securityHeaders).filter(([k]) => k !== "content-security-policy"),
  ) as Record<string, string>;
  const anonymousLimit = String(max);
  const adminLimit = String(adminMax);
  const corsRules = createCors({
    origins: config.allowedOrigins,
    exposeHeaders: ["x-request-id", "retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"],
  });
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
        // Read when asked (postbacks only), not on every request.
        get idempotencyKey() {
          return request.headers.get("idempotency-key") ?? undefined;
        },
      };
    },
    {
      limits: { maxBodyBytes: config.httpMaxBodyBytes, trpcMaxBatch: config.trpcMaxBatch },
      // What API answers usually carry unchanged: the app's headers, the security headers, CORS
      // for a caller without an Origin and the API token's budget.
      json: createJsonAnswer({
        usual: {
          ...corsRules.staticHeaders,
          ...security,
          ...corsRules.withoutOrigin,
          "ratelimit-limit": String(adminMax),
        },
      }),
    },
  );

  /** One request past identification: its budget, limits, gating and CORS. */
  type SetOf = Context["set"];
  type Admit = { request: Request; set: SetOf; path: string; ip: string; caller: Caller };

  // The request hook is synchronous unless something must be awaited (a JWT to verify, a budget
  // kept in Redis): an async hook costs a promise and a turn per request, and the admin API's
  // common case (the API token, budgets in memory) awaits nothing.
  const admit = (a: Admit): Response | undefined | Promise<Response | undefined> => {
    const admin = a.caller.kind === "admin";
    // Each call of a tRPC batch counts; an oversized batch is refused by the route, and counts once.
    const calls = isTrpcPath(a.path) ? trpcCalls(new URL(a.request.url)) : 1;
    const verdict = (admin ? admins : anonymous).hit(a.ip, calls > config.trpcMaxBatch ? 1 : calls);
    return verdict instanceof Promise ? verdict.then((v) => spend(a, admin, v)) : spend(a, admin, verdict);
  };

  const spend = (a: Admit, admin: boolean, verdict: RateLimitVerdict): Response | undefined => {
    const { set, request, caller } = a;
    const headers = set.headers as Record<string, string>;
    if (!verdict.allowed) {
      const retryAfter = String(Math.ceil(verdict.retryAfterMs / 1000));
      headers["retry-after"] = retryAfter;
      throw verdict.banned
        ? new AppError("FORBIDDEN", `Too many requests: banned for ${retryAfter} s`)
        : new AppError("RATE_LIMITED", `Too many requests: retry in ${retryAfter} s`);
    }
    headers["ratelimit-limit"] = admin ? adminLimit : anonymousLimit;
    headers["ratelimit-remaining"] = String(verdict.remaining);
    headers["ratelimit-reset"] = String(Math.ceil(verdict.resetMs / 1000));

    // A declared length over the limit is refused before routing; chunked bodies are cut while
    // read (body.ts).
    const tooLarge = declaredTooLarge(request, config.httpMaxBodyBytes);
    if (tooLarge) throw tooLarge;

    if (!admin && gated.has(routePath(a.path))) {
      throw caller.kind === "user"
        ? new AppError("FORBIDDEN", "Needs an admin: the API token or a JWT with role admin")
        : new AppError("UNAUTHORIZED", "Missing or invalid API token");
    }
    return request.method === "OPTIONS" ? corsRules.preflight(headers, request) : undefined;
  };

  const app = new Elysia({ name: "switchboard" })
    // Headers every answer carries whatever its path (the rest are set per request below).
    .headers(corsRules.staticHeaders)
    // Before routing: a preflight is answered here, and an OPTIONS request is counted too.
    // Refusals are thrown, not returned: a response returned here skips onAfterResponse (no
    // access-log line, no metrics), while onError's answer goes through it.
    .onRequest(({ request, server, set }) => {
      const path = pathOf(request);
      const ip = clientIp(request, server, config.trustProxyHops);
      const incoming = request.headers.get("x-request-id");
      const id = incoming && REQUEST_ID.test(incoming) ? incoming : Bun.randomUUIDv7();
      const headers = set.headers as Record<string, string>;
      headers["x-request-id"] = id;
      // First, so that refusals below carry them too: a browser reads no answer without them.
      corsRules.origin(headers, request);
      // Socket.IO is not an HTTP API call: it has its own limits (handshakes per IP, payload size).
      // Its requests are still identified (the route reads the IP and the request id from here).
      const socket = path === socketPath;
      if (!socket) Object.assign(headers, docPages.has(routePath(path)) ? docsSecurity : security);
      const start = performance.now();
      // Identified once per request (an admin JWT is verified here), for the budget, gating and operations.
      const identified = callers.identify(request.headers.get("authorization"));
      const go = (caller: Caller) => {
        meta.set(request, { id, ip, caller, start });
        if (!socket) return admit({ request, set, path, ip, caller });
        return request.method === "OPTIONS" ? corsRules.preflight(headers, request) : undefined;
      };
      return identified instanceof Promise ? identified.then(go) : go(identified);
    })
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
      const method = request.method;
      const matched = route || "(unmatched)";
      const seconds = m ? (performance.now() - m.start) / 1000 : 0;
      metrics.httpSeries(method, matched, status).record(seconds);
      const level = route === socketPath ? "debug" : "info";
      if (!log.isLevelEnabled(level)) return;
      const label = { method, route: matched, status_code: String(status) };
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
