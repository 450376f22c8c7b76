/** A local HTTP sink for postbacks: records every request and answers as each path says. */

export interface SinkRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: string;
  at: number;
}

export type SinkHandler = (req: SinkRequest, nth: number) => Response | Promise<Response>;

export function startSink(routes: Record<string, SinkHandler> = {}) {
  const requests: SinkRequest[] = [];
  const perPath = new Map<string, number>();
  /** Requests being answered, and the most at once, by path (a request the client gave up on still counts until answered). */
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const url = new URL(request.url);
      const req: SinkRequest = {
        method: request.method,
        path: url.pathname,
        query: url.searchParams,
        headers: request.headers,
        body: await request.text(),
        at: performance.now(),
      };
      requests.push(req);
      const nth = (perPath.get(url.pathname) ?? 0) + 1;
      perPath.set(url.pathname, nth);
      const now = (inFlight.get(url.pathname) ?? 0) + 1;
      inFlight.set(url.pathname, now);
      maxInFlight.set(url.pathname, Math.max(maxInFlight.get(url.pathname) ?? 0, now));
      try {
        const handler = routes[url.pathname] ?? (() => new Response("ok"));
        return await handler(req, nth);
      } finally {
        inFlight.set(url.pathname, (inFlight.get(url.pathname) ?? 1) - 1);
      }
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port as number,
    requests,
    to: (path: string) => requests.filter((r) => r.path === path),
    maxInFlight: (path: string) => maxInFlight.get(path) ?? 0,
    stop: () => server.stop(true),
  };
}

export type Sink = ReturnType<typeof startSink>;

/** Polls `check` until it returns something truthy, or throws after `ms`. */
export async function until<T>(check: () => T | Promise<T>, ms = 5000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}
