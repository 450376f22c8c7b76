/**
 * The Elysia app: every HTTP concern of the one port. Cross-cutting hooks (request id, rate limit,
 * security headers, access control for probes and docs, error shape, metrics, access log) live
 * here; routes come from the operations table (REST, tRPC) and from small route modules.
 */
import { cors } from "@elysiajs/cors";
import { Elysia } from "elysia";
import type { ErrorCode } from "../../contracts/errors";
import { systemPaths } from "../../contracts/system";
import type { Config } from "../config";
import { AppError } from "../domain/errors";
import type { Logger } from "../observability/logger";
import type { Metrics } from "../observability/metrics";
import { ipOfRequest, SOCKET_PATH } from "../realtime/server";
import { docPages, docPaths } from "./docs";
import { errorResponse } from "./errors";
import { createRateLimiter } from "./rate-limit";
import type { RequestContextFn } from "./request-context";
import { clientIp, securityHeaders } from "./security";

export interface HttpDeps {
  config: Config;
  metrics: Metrics;
  log: Logger;
  isAdmin: (authorization: string | null) => boolean;
}

interface RequestMeta {
  id: string;
  ip: string;
  start: number;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Which public-by-default paths each `*_PUBLIC` switch governs. */
function gatedPaths(config: Config): Set<string> {
  const gated = new Set<string>();
  if (!config.publicEndpoints.health) for (const p of [systemPaths.alive, systemPaths.health]) gated.add(p);
  if (!config.publicEndpoints.metrics) gated.add(systemPaths.metrics);
  if (!config.publicEndpoints.docs) for (const p of Object.values(docPaths)) gated.add(p);
  return gated;
}

export function createHttpApp(deps: HttpDeps) {
  const { config, metrics, log, isAdmin } = deps;
  const limiter = createRateLimiter(config.rateLimit);
  const gated = gatedPaths(config);
  const meta = new WeakMap<Request, RequestMeta>();

  const requestContext: RequestContextFn = (request) => {
    const m = meta.get(request);
    const requestId = m?.id ?? Bun.randomUUIDv7();
    return {
      requestId,
      ip: m?.ip ?? "unknown",
      admin: isAdmin(request.headers.get("authorization")),
      log: log.child({ requestId }),
    };
  };

  const app = new Elysia({ name: "switchboard" })
    .use(
      cors({
        origin: config.allowedOrigins === "*" ? true : config.allowedOrigins,
        credentials: config.allowedOrigins !== "*",
        exposeHeaders: ["x-request-id", "retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"],
      }),
    )
    .onRequest(({ request, server, set }) => {
      const path = new URL(request.url).pathname;
      const ip = clientIp(request, server, config.trustProxy);
      const incoming = request.headers.get("x-request-id");
      const id = incoming && REQUEST_ID.test(incoming) ? incoming : Bun.randomUUIDv7();
      meta.set(request, { id, ip, start: performance.now() });
      set.headers["x-request-id"] = id;

      // Socket.IO polls are not HTTP API calls: they are left out of the HTTP rate limit.
      if (path === SOCKET_PATH) {
        ipOfRequest.set(request, ip);
        return;
      }
      for (const [k, v] of Object.entries(securityHeaders)) {
        if (!(k === "content-security-policy" && docPages.has(path))) set.headers[k] = v;
      }
      if (request.method === "OPTIONS") return;

      const verdict = limiter.hit(ip);
      if (!verdict.allowed) {
        const retryAfter = String(Math.ceil(verdict.retryAfterMs / 1000));
        set.headers["retry-after"] = retryAfter;
        return verdict.banned
          ? errorResponse(set, new AppError("FORBIDDEN", `Too many requests: banned for ${retryAfter} s`))
          : errorResponse(set, new AppError("RATE_LIMITED", `Too many requests: retry in ${retryAfter} s`));
      }
      set.headers["ratelimit-limit"] = String(config.rateLimit.max);
      set.headers["ratelimit-remaining"] = String(verdict.remaining);
      set.headers["ratelimit-reset"] = String(Math.ceil(verdict.resetMs / 1000));

      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > config.httpMaxBodyBytes) {
        return errorResponse(
          set,
          new AppError("PAYLOAD_TOO_LARGE", `Body of ${length} bytes is over the limit of ${config.httpMaxBodyBytes}`),
        );
      }

      if (gated.has(path) && !isAdmin(request.headers.get("authorization"))) {
        return errorResponse(set, new AppError("UNAUTHORIZED", "Missing or invalid API token"));
      }
    })
    .onError(({ code, error, request, set }) => {
      if (error instanceof AppError) return errorResponse(set, error);
      const known: Partial<Record<string | number, [ErrorCode, string]>> = {
        NOT_FOUND: ["NOT_FOUND", `No route ${request.method} ${new URL(request.url).pathname}`],
        PARSE: ["BAD_REQUEST", "Body is not valid JSON"],
        VALIDATION: ["BAD_REQUEST", "Invalid input"],
      };
      const mapped = known[code];
      if (mapped) return errorResponse(set, new AppError(mapped[0], mapped[1]));
      log.error({ err: error, requestId: meta.get(request)?.id }, "unhandled error");
      return errorResponse(set, new AppError("INTERNAL", "Internal error"));
    })
    .onAfterResponse(({ request, route, set, responseValue }) => {
      const m = meta.get(request);
      const status =
        responseValue instanceof Response ? responseValue.status : typeof set.status === "number" ? set.status : 200;
      const label = { method: request.method, route: route || "(unmatched)", status_code: String(status) };
      const seconds = m ? (performance.now() - m.start) / 1000 : 0;
      metrics.httpRequests.inc(label);
      metrics.httpDuration.observe(label, seconds);
      const line = { requestId: m?.id, ip: m?.ip, ...label, durationMs: Math.round(seconds * 1e4) / 10 };
      if (route === SOCKET_PATH) log.debug(line, "request");
      else log.info(line, "request");
    });

  return { app, requestContext };
}
