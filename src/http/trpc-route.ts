import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { AnyElysia } from "elysia";
import { AppError } from "../domain/errors";
import { hasBodyMethod, readBody } from "./body";
import type { RequestContextFn } from "./request-context";
import type { AdminRouter } from "./trpc";

export const TRPC_ENDPOINT = "/trpc";

export const isTrpcPath = (path: string) => path.startsWith(`${TRPC_ENDPOINT}/`);

/**
 * Calls in one tRPC request: a batch (`?batch=1`) names each procedure in the path, separated by
 * commas, which tRPC reads after URL-decoding (so `%2C` separates too).
 */
export function trpcCalls(url: URL): number {
  if (url.searchParams.get("batch") !== "1") return 1;
  const raw = url.pathname.slice(TRPC_ENDPOINT.length + 1);
  let path = raw;
  try {
    path = decodeURIComponent(raw);
  } catch {}
  let calls = 1;
  for (let i = path.indexOf(","); i !== -1; i = path.indexOf(",", i + 1)) calls++;
  return calls;
}

/**
 * tRPC at /trpc. The body is read here, capped and JSON only (like REST), and handed to tRPC
 * whole; a batch over TRPC_MAX_BATCH is refused before anything is read or run.
 */
export const trpcRoute = (router: AdminRouter, requestContext: RequestContextFn) => (app: AnyElysia) => {
  const { maxBodyBytes, trpcMaxBatch } = requestContext.limits;
  return app.all(
    `${TRPC_ENDPOINT}/*`,
    async ({ request }) => {
      const calls = trpcCalls(new URL(request.url));
      if (calls > trpcMaxBatch) {
        throw new AppError("BAD_REQUEST", `A batch may hold at most ${trpcMaxBatch} calls (this one has ${calls})`);
      }
      const req = hasBodyMethod(request)
        ? new Request(request.url, {
            method: request.method,
            headers: request.headers,
            body: await readBody(request, maxBodyBytes),
            signal: request.signal,
          })
        : request;
      return fetchRequestHandler({
        endpoint: TRPC_ENDPOINT,
        req,
        router,
        maxBatchSize: trpcMaxBatch,
        createContext: () => requestContext(request),
      });
    },
    { parse: "none", detail: { hide: true } },
  );
};
