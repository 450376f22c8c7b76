/**
 * Bodies must be JSON (415 UNSUPPORTED_MEDIA_TYPE otherwise, on REST and tRPC alike), and error
 * messages never echo more than a short prefix of what the client sent.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { z } from "zod";
import { clip, fieldIssues, invalidInput } from "../../src/domain/errors";
import { startTestServer, TEST_API_TOKEN, type TestServer } from "../helpers/server";

interface ErrorReply {
  success: false;
  error: { code: string; message: string; details?: { issues: { path: string; message: string }[] } };
}
interface TrpcErrorReply {
  error: { message: string; data: { httpStatus: number; path?: string; error: { code: string; message: string } } };
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const body = JSON.stringify({ userId: "u" });
const send = (path: string, headers: Record<string, string>, payload: RequestInit["body"] = body) =>
  server.api(path, { method: "POST", body: payload, headers });

describe("415 UNSUPPORTED_MEDIA_TYPE", () => {
  test("REST: a declared non-JSON type is refused, in the error shape", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const res = await send("/jwt/create", { "content-type": type });
      expect(res.status).toBe(415);
      expect(res.headers.get("x-request-id")).toBeString();
      const reply = (await res.json()) as ErrorReply;
      expect(reply).toMatchObject({ success: false, error: { code: "UNSUPPORTED_MEDIA_TYPE" } });
      expect(reply.error.message).toContain("application/json");
    }
  });

  test("REST: a body without any Content-Type is refused too", async () => {
    // fetch, not server.api (which adds application/json); a Blob without a type sends no Content-Type.
    const res = await fetch(`${server.url}/jwt/create`, {
      method: "POST",
      body: new Blob([body]),
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    });
    expect(res.headers.get("content-type")).toContain("json");
    expect(res.status).toBe(415);
    expect(((await res.json()) as ErrorReply).error.message).toContain("no Content-Type");
  });

  test("REST: application/json with parameters, in any case, is JSON", async () => {
    expect((await send("/jwt/create", { "content-type": "Application/JSON; charset=utf-8" })).status).toBe(200);
  });

  test("REST: JSON that is not UTF-8 or not JSON is 400", async () => {
    const bad = await send("/jwt/create", { "content-type": "application/json" }, new Uint8Array([0x7b, 0xff, 0x7d]));
    expect(bad.status).toBe(400);
    const broken = await send("/jwt/create", { "content-type": "application/json" }, '{"userId":');
    expect(((await broken.json()) as ErrorReply).error).toEqual({
      code: "BAD_REQUEST",
      message: "Body is not valid JSON",
    });
  });

  test("tRPC: a mutation with a non-JSON body is refused with tRPC's envelope (form data included)", async () => {
    for (const type of ["text/plain", "multipart/form-data; boundary=x", "application/octet-stream"]) {
      const res = await send("/trpc/jwt.create", { "content-type": type });
      expect(res.status).toBe(415);
      const reply = (await res.json()) as TrpcErrorReply;
      expect(reply.error.data).toMatchObject({ httpStatus: 415, error: { code: "UNSUPPORTED_MEDIA_TYPE" } });
    }
  });

  test("nothing ran: a refused create issued no token", async () => {
    const res = await send("/jwt/create", { "content-type": "text/plain" });
    expect(JSON.stringify(await res.json())).not.toContain("token");
  });
});

describe("error messages quote at most a short prefix of the input", () => {
  const long = "k".repeat(5000);

  test("an unknown route's path is clipped", async () => {
    const res = await server.api(`/${long}`);
    expect(res.status).toBe(404);
    const { error } = (await res.json()) as ErrorReply;
    expect(error.message.length).toBeLessThan(100);
    expect(error.message).toEndWith("…");
  });

  test("tRPC: an unknown procedure's path is clipped in the message and in data.path", async () => {
    const res = await server.api(`/trpc/${long}`, { method: "POST", body: "{}" });
    expect(res.status).toBe(404);
    const reply = (await res.json()) as TrpcErrorReply;
    expect(reply.error.message.length).toBeLessThanOrEqual(129);
    expect(reply.error.data.error.message.length).toBeLessThanOrEqual(129);
    expect((reply.error.data.path ?? "").length).toBeLessThanOrEqual(65);
  });

  test("tRPC: a JSON parse error does not quote the whole body", async () => {
    const res = await server.api("/trpc/jwt.create", { method: "POST", body: `{"userId": ${long}}` });
    expect(res.status).toBe(400);
    const reply = (await res.json()) as TrpcErrorReply;
    expect(reply.error.data.error.code).toBe("BAD_REQUEST");
    expect(JSON.stringify(reply).length).toBeLessThan(1000);
  });

  test("a bad value under a long key is reported with the key clipped", async () => {
    const res = await server.api("/jwt/create", {
      method: "POST",
      body: JSON.stringify({
        userId: "u",
        claims: { [long]: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]] },
      }),
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json()).length).toBeLessThan(1000);
  });
});

describe("fieldIssues / invalidInput (the shape every transport reports)", () => {
  const issuesOf = (schema: z.ZodType, value: unknown) => {
    const parsed = schema.safeParse(value);
    if (parsed.success) throw new Error("expected a failure");
    return fieldIssues(parsed.error.issues);
  };

  test("unknown keys are clipped and at most five are quoted", () => {
    const keys = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`${"u".repeat(300)}${i}`, 1]));
    const [issue] = issuesOf(z.strictObject({ a: z.string().optional() }), keys);
    expect(issue?.message).toStartWith(`Unrecognized keys: "${"u".repeat(64)}…"`);
    expect(issue?.message).toEndWith("and 3 more");
    expect(issue?.message.length).toBeLessThan(400);
  });

  test("record keys in issue paths are clipped", () => {
    const [issue] = issuesOf(z.object({ tags: z.record(z.string(), z.number()) }), {
      tags: { ["t".repeat(1000)]: "x" },
    });
    expect(issue?.path).toBe(`tags.${"t".repeat(64)}…`);
  });

  test("at most 20 issues are listed; the rest are counted", () => {
    const values = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, "not a number"]));
    const error = invalidInput(issuesOf(z.record(z.string(), z.number()), values));
    const details = error.details as { issues: unknown[]; omittedIssues: number };
    expect(details.issues).toHaveLength(20);
    expect(details.omittedIssues).toBe(480);
    expect(error.message).toEndWith("; and 480 more");
  });

  test("clip keeps short text and never splits a surrogate pair", () => {
    expect(clip("short")).toBe("short");
    expect(clip(`${"a".repeat(63)}😀`, 64)).toBe(`${"a".repeat(63)}…`);
  });
});
