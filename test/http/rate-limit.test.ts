/**
 * What the HTTP rate limit counts: OPTIONS requests, every call of a tRPC batch; callers with the
 * API token on a budget of their own (RATE_LIMIT_ADMIN_MAX); batches over TRPC_MAX_BATCH refused.
 */
import { describe, expect, test } from "bun:test";
import { TRPCClientError } from "@trpc/client";
import { startTestServer, TEST_API_TOKEN, type TestServer } from "../helpers/server";

interface TrpcErrorReply {
  error: { data: { httpStatus: number; error: { code: string; message: string } } };
}

async function withServer(env: Record<string, string>, run: (server: TestServer) => Promise<void>) {
  const server = await startTestServer(env);
  try {
    await run(server);
  } finally {
    await server.close();
  }
}

/** A GET batch of `n` sockets.stats queries, as httpBatchLink sends it. */
const statsBatch = (server: TestServer, n: number, auth: boolean | string = true) => {
  const names = Array.from({ length: n }, () => "sockets.stats").join(",");
  const input = Object.fromEntries(Array.from({ length: n }, (_, i) => [i, { limit: 1 }]));
  return server.api(`/trpc/${names}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`, { auth });
};

describe("OPTIONS", () => {
  test("preflights are counted, and answered with a request id", async () => {
    await withServer({ RATE_LIMIT_MAX: "3", RATE_LIMIT_BAN: "0" }, async (server) => {
      const preflight = () =>
        fetch(`${server.url}/jwt/create`, {
          method: "OPTIONS",
          headers: { origin: "https://app.example", "access-control-request-method": "POST" },
        });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await preflight();
        expect(res.headers.get("x-request-id")).toBeString();
        statuses.push(res.status);
      }
      expect(statuses).toEqual([204, 204, 204, 429, 429]);
      // And the budget they spent is the one other requests use.
      expect((await server.api("/health", { auth: false })).status).toBe(429);
    });
  });
});

describe("tRPC batches", () => {
  test("every call of a batch counts; a batch that does not fit is refused whole", async () => {
    await withServer({ RATE_LIMIT_ADMIN_MAX: "5", RATE_LIMIT_BAN: "0" }, async (server) => {
      const first = await statsBatch(server, 4);
      expect(first.status).toBe(200);
      expect(first.headers.get("ratelimit-remaining")).toBe("1");
      const tooMany = await statsBatch(server, 2);
      expect(tooMany.status).toBe(429);
      const reply = (await tooMany.json()) as TrpcErrorReply;
      expect(reply.error.data).toMatchObject({ httpStatus: 429, error: { code: "RATE_LIMITED" } });
      // The refused batch spent nothing: one call still fits.
      expect((await statsBatch(server, 1)).status).toBe(200);
      expect((await statsBatch(server, 1)).status).toBe(429);
    });
  });

  test("the tRPC client sees a refusal as a TRPCClientError with the error body", async () => {
    await withServer({ RATE_LIMIT_ADMIN_MAX: "2", RATE_LIMIT_BAN: "0" }, async (server) => {
      const client = server.admin();
      const calls = [1, 2, 3].map(() => client.sockets.stats.query({ limit: 1 }).catch((e: unknown) => e));
      for (const error of await Promise.all(calls)) {
        expect(error).toBeInstanceOf(TRPCClientError);
        expect((error as TRPCClientError<never>).data).toMatchObject({ error: { code: "RATE_LIMITED" } });
      }
    });
  });

  test("a batch over TRPC_MAX_BATCH: 400 BAD_REQUEST before anything runs; it counts once", async () => {
    await withServer({ TRPC_MAX_BATCH: "3", RATE_LIMIT_ADMIN_MAX: "5", RATE_LIMIT_BAN: "0" }, async (server) => {
      const res = await statsBatch(server, 4);
      expect(res.status).toBe(400);
      const reply = (await res.json()) as TrpcErrorReply | unknown[];
      // One error for the request, not one result per call: no call was dispatched.
      expect(Array.isArray(reply)).toBe(false);
      expect((reply as TrpcErrorReply).error.data.error).toEqual({
        code: "BAD_REQUEST",
        message: "A batch may hold at most 3 calls (this one has 4)",
      });
      expect(res.headers.get("ratelimit-remaining")).toBe("4");
      expect((await statsBatch(server, 3)).status).toBe(200);
    });
  });

  test("1,400 calls in one request (the default TRPC_MAX_BATCH is 50): refused, and counted once", async () => {
    await withServer({}, async (server) => {
      // Short names (a long URL is refused by Bun: 431); an encoded comma separates calls too.
      const names = Array.from({ length: 1400 }, () => "j").join("%2C");
      const res = await server.api(`/trpc/${names}?batch=1`, { method: "POST", body: "{}" });
      expect(res.status).toBe(400);
      expect(res.headers.get("ratelimit-remaining")).toBe("9999");
    });
  });
});

describe("callers with the API token", () => {
  test("have their own budget: browsers behind the same IP do not throttle them", async () => {
    await withServer({ RATE_LIMIT_MAX: "2", RATE_LIMIT_ADMIN_MAX: "4", RATE_LIMIT_BAN: "0" }, async (server) => {
      const anonymous: number[] = [];
      for (let i = 0; i < 3; i++) anonymous.push((await server.api("/health", { auth: false })).status);
      expect(anonymous).toEqual([200, 200, 429]);

      const admin = await server.api("/health");
      expect(admin.status).toBe(200);
      expect(admin.headers.get("ratelimit-limit")).toBe("4");
      expect(admin.headers.get("ratelimit-remaining")).toBe("3");
      // A wrong token is anonymous.
      expect((await server.api("/health", { auth: "wrong-token-wrong-token" })).status).toBe(429);

      const more: number[] = [];
      for (let i = 0; i < 4; i++) more.push((await server.api("/health")).status);
      expect(more).toEqual([200, 200, 200, 429]);
    });
  });

  test("a refusal has an access-log line", async () => {
    await withServer({ RATE_LIMIT_MAX: "1", RATE_LIMIT_BAN: "0" }, async (server) => {
      await server.api("/health", { auth: false });
      const res = await server.api("/health", { auth: false });
      expect(res.status).toBe(429);
      const requestId = res.headers.get("x-request-id");
      await Bun.sleep(20);
      expect(server.logs().find((l) => l.msg === "request" && l.requestId === requestId)).toMatchObject({
        status_code: "429",
      });
      expect(server.rawLogs()).not.toContain(TEST_API_TOKEN);
    });
  });
});
