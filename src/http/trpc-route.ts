import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { AnyElysia } from "elysia";
import type { RequestContextFn } from "./request-context";
import type { AdminRouter } from "./trpc";

/** tRPC at /trpc; the body is left untouched for tRPC's own parser. */
export const trpcRoute = (router: AdminRouter, requestContext: RequestContextFn) => (app: AnyElysia) =>
  app.all(
    "/trpc/*",
    ({ request }) =>
      fetchRequestHandler({
        endpoint: "/trpc",
        req: request,
        router,
        createContext: () => requestContext(request),
      }),
    { parse: "none", detail: { hide: true } },
  );
