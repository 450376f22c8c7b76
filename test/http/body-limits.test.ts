/**
 * Request bodies over HTTP_MAX_BODY_BYTES, declared (Content-Length) or not (chunked): every refusal
 * is a 413 in the project's shape with a request id and an access-log line, and no more than the
 * limit is ever read.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, TEST_API_TOKEN, type TestServer } from "../helpers/server";
import { chunk, rawRequest } from "./raw-http";

interface ErrorReply {
  success: false;
  error: { code: string; message: string };
}
interface TrpcErrorReply {
  error: { data: { httpStatus: number; error: { code: string; message: string } } };
}

/** The access-log line of one request (written just after the answer leaves). */
async function logLine(server: TestServer, requestId: string | null | undefined) {
  for (let i = 0; i < 50; i++) {
    const line = server.logs().find((l) => l.msg === "request" && l.requestId === requestId);
    if (line) return line;
    await Bun.sleep(10);
  }
  return undefined;
}

/** A body of `total` bytes of a JSON string, sent without a Content-Length; `sent()` counts what was pulled. */
function streamedJson(total: number) {
  let sent = 0;
  const piece = new TextEncoder().encode("x".repeat(16 * 1024));
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode('{"userId":"u","claims":{"blob":"'));
    },
    pull(c) {
      if (sent >= total) {
        c.enqueue(new TextEncoder().encode('"}}'));
        c.close();
        return;
      }
      sent += piece.byteLength;
      c.enqueue(piece);
    },
  });
  return { body, sent: () => sent };
}

describe("default limit (1 MB)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  test("a Content-Length over the limit: 413 in the error shape, with a request id and a log line (not Bun's bare 413)", async () => {
    const body = JSON.stringify({ userId: "big", claims: { blob: "x".repeat(2_000_000) } });
    const res = await server.api("/jwt/create", { method: "POST", body });
    expect(res.status).toBe(413);
    const requestId = res.headers.get("x-request-id");
    expect(requestId).toBeString();
    const reply = (await res.json()) as ErrorReply;
    expect(reply).toMatchObject({ success: false, error: { code: "PAYLOAD_TOO_LARGE" } });
    expect(reply.error.message).toContain("1000000");
    expect(await logLine(server, requestId)).toMatchObject({ route: "(unmatched)", status_code: "413" });
  });

  test("the same over tRPC: tRPC's envelope carrying the error body", async () => {
    const res = await server.api("/trpc/jwt.create", {
      method: "POST",
      body: JSON.stringify({ userId: "x".repeat(2_000_000) }),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get("x-request-id")).toBeString();
    const reply = (await res.json()) as TrpcErrorReply;
    expect(reply.error.data).toMatchObject({ httpStatus: 413, error: { code: "PAYLOAD_TOO_LARGE" } });
  });
});

describe("HTTP_MAX_BODY_BYTES=2048", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ HTTP_MAX_BODY_BYTES: "2048" });
  });
  afterAll(() => server.close());

  test("a chunked body (no Content-Length) under the limit is read", async () => {
    const { body } = streamedJson(0);
    const res = await server.api("/jwt/create", { method: "POST", body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(200);
  });

  test("a chunked body over the limit: 413 in the error shape, with a request id and a log line", async () => {
    const { body } = streamedJson(8192);
    const res = await server.api("/jwt/create", { method: "POST", body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    const requestId = res.headers.get("x-request-id");
    expect(requestId).toBeString();
    const reply = (await res.json()) as ErrorReply;
    expect(reply).toEqual({
      success: false,
      error: { code: "PAYLOAD_TOO_LARGE", message: "Body is over the limit of 2048 bytes" },
    });
    expect(await logLine(server, requestId)).toMatchObject({ route: "/jwt/create", status_code: "413" });
  });

  test("an endless chunked body is cut at the limit: the client is answered long before it finishes", async () => {
    const upload = streamedJson(200 * 1024 * 1024);
    const res = await server.api("/jwt/create", { method: "POST", body: upload.body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect(upload.sent()).toBeLessThan(16 * 1024 * 1024);
  });

  test("a chunked body written by hand over TCP: 413 in the error shape", async () => {
    const head =
      "POST /jwt/create HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
      `Authorization: Bearer ${TEST_API_TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const res = await rawRequest(server.url, [
      head,
      chunk(`{"userId":"u","claims":{"a":"${"x".repeat(1500)}`),
      chunk(`${"y".repeat(1500)}"}}`),
      "0\r\n\r\n",
    ]);
    expect(res.status).toBe(413);
    expect(res.headers["x-request-id"]).toBeString();
    expect(JSON.parse(res.body)).toMatchObject({ success: false, error: { code: "PAYLOAD_TOO_LARGE" } });
  });

  test("a chunked tRPC mutation over the limit: 413 in tRPC's envelope", async () => {
    const { body } = streamedJson(8192);
    const res = await server.api("/trpc/jwt.create", { method: "POST", body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    const reply = (await res.json()) as TrpcErrorReply;
    expect(reply.error.data.error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  test("a chunked body under the limit over tRPC works", async () => {
    const { body } = streamedJson(0);
    const res = await server.api("/trpc/jwt.create", { method: "POST", body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { result: { data: { token: string } } }).result.data.token).toBeString();
  });
});
