/** A known path called with the wrong method: 405 METHOD_NOT_ALLOWED (with Allow), on REST and tRPC. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server";

interface ErrorReply {
  success: false;
  error: { code: string; message: string };
}
interface TrpcErrorReply {
  error: { data: { httpStatus: number; error: { code: string; message: string } } };
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe("REST", () => {
  test("GET on a POST operation: 405 with Allow, in the error shape", async () => {
    const res = await server.api("/jwt/create");
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(res.headers.get("x-request-id")).toBeString();
    const reply = (await res.json()) as ErrorReply;
    expect(reply).toMatchObject({ success: false, error: { code: "METHOD_NOT_ALLOWED" } });
    expect(reply.error.message).toContain("GET");
  });

  test("DELETE on a GET operation: Allow names GET and HEAD", async () => {
    const res = await server.api("/api/socket/sockets/stats", { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });

  test("a trailing slash is the same path", async () => {
    expect((await server.api("/jwt/verify/")).status).toBe(405);
  });

  test("probes too: POST /health is 405", async () => {
    const res = await server.api("/health", { method: "POST", body: "{}" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });

  test("an unknown path is still 404", async () => {
    const res = await server.api("/jwt/nope", { method: "POST", body: "{}" });
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorReply).error.code).toBe("NOT_FOUND");
  });

  test("counted in the metrics with their status", async () => {
    await server.api("/jwt/create");
    const text = await (await server.api("/metrics", { auth: false })).text();
    expect(text).toMatch(/http_requests_total\{method="GET",route="\(unmatched\)",status_code="405"\} \d+/);
  });
});

describe("tRPC", () => {
  test("GET on a mutation: 405, data.error.code METHOD_NOT_ALLOWED (not INTERNAL)", async () => {
    const res = await server.api(`/trpc/jwt.create?input=${encodeURIComponent(JSON.stringify({ userId: "u" }))}`);
    expect(res.status).toBe(405);
    const reply = (await res.json()) as TrpcErrorReply;
    expect(reply.error.data).toMatchObject({ httpStatus: 405, error: { code: "METHOD_NOT_ALLOWED" } });
  });

  test("POST on a query: 405 METHOD_NOT_ALLOWED", async () => {
    const res = await server.api("/trpc/sockets.stats", { method: "POST", body: "{}" });
    expect(res.status).toBe(405);
    const reply = (await res.json()) as TrpcErrorReply;
    expect(reply.error.data.error.code).toBe("METHOD_NOT_ALLOWED");
  });
});
