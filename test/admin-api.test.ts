/** The admin operations over REST and tRPC: same contract, same errors. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TRPCClientError } from "@trpc/client";
import { decodeJwt, SignJWT } from "jose";
import { startTestServer, TEST_API_TOKEN, type TestServer } from "./helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ JWT_EXPIRES_IN: "2h" });
});
afterAll(() => server.close());

const post = (path: string, body: unknown, auth: boolean | string = true) =>
  server.api(path, { method: "POST", body: JSON.stringify(body), auth });

describe("admin auth", () => {
  test("no token: 401 in the error shape", async () => {
    const res = await post("/jwt/create", { userId: "u" }, false);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { success: boolean; error: { code: string } };
    expect(body.success).toBe(false);
    expect(body.error.code).toBe("UNAUTHORIZED");
  });

  test("wrong token: 401", async () => {
    expect((await post("/jwt/create", { userId: "u" }, "wrong-token-wrong-token")).status).toBe(401);
  });

  test("the bare token without Bearer is accepted (seed 003)", async () => {
    const res = await server.api("/jwt/create", {
      method: "POST",
      body: JSON.stringify({ userId: "u" }),
      auth: false,
      headers: { authorization: TEST_API_TOKEN },
    });
    expect(res.status).toBe(200);
  });

  test("tRPC without the token is UNAUTHORIZED", async () => {
    const error = await server
      .admin("nope-nope-nope-nope")
      .jwt.create.mutate({ userId: "u" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<never>).data).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
  });
});

describe("jwt.create", () => {
  test("REST: a token for the user with the configured lifetime", async () => {
    const res = await post("/jwt/create", { userId: "user123" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; expiresAt: string };
    const claims = decodeJwt(body.token);
    expect(claims.sub).toBe("user123");
    expect((claims.exp as number) - (claims.iat as number)).toBe(7200);
    expect(Date.parse(body.expiresAt)).toBe((claims.exp as number) * 1000);
  });

  test("tRPC: expiresIn and extra claims", async () => {
    const out = await server.admin().jwt.create.mutate({ userId: "u2", expiresIn: "30m", claims: { role: "agent" } });
    const claims = decodeJwt(out.token);
    expect(claims.role).toBe("agent");
    expect((claims.exp as number) - (claims.iat as number)).toBe(1800);
  });

  test("the token opens a socket", async () => {
    const { token } = await server.admin().jwt.create.mutate({ userId: "socket-user" });
    const socket = server.socket({ token });
    const connected = await new Promise<{ userId: string }>((resolve) => socket.once("connected", resolve));
    expect(connected.userId).toBe("socket-user");
  });

  test("bad input: 400 naming each field, on both transports", async () => {
    const res = await post("/jwt/create", { userId: "", expiresIn: "soon", claims: { sub: "x" } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: { issues: { path: string }[] } } };
    expect(body.error.code).toBe("BAD_REQUEST");
    expect(body.error.details.issues.map((i) => i.path).sort()).toEqual(["claims", "expiresIn", "userId"]);

    const error = (await server
      .admin()
      // biome-ignore lint/suspicious/noExplicitAny: wrong input on purpose
      .jwt.create.mutate({ userId: 7 } as any)
      .catch((e: unknown) => e)) as TRPCClientError<never>;
    expect(error.data).toMatchObject({
      httpStatus: 400,
      error: { code: "BAD_REQUEST", details: { issues: [{ path: "userId" }] } },
    });
  });

  test("a body that is not JSON, or not an object: 400", async () => {
    const broken = await server.api("/jwt/create", { method: "POST", body: '{"userId":' });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { code: string } }).error.code).toBe("BAD_REQUEST");
    const array = await post("/jwt/create", ["user"]);
    expect(array.status).toBe(400);
  });
});

describe("jwt.verify and jwt.decode (seed 000 shapes)", () => {
  test("a valid token", async () => {
    const { token } = await server.admin().jwt.create.mutate({ userId: "v1" });
    const res = await post("/jwt/verify", { token });
    const body = (await res.json()) as { valid: boolean; payload: { sub: string } };
    expect(body.valid).toBe(true);
    expect(body.payload.sub).toBe("v1");
  });

  test("an expired token is valid: false with the reason, payload null", async () => {
    // Beyond JWT_CLOCK_TOLERANCE_SECONDS (30 by default).
    const token = await server.token("old", {}, Math.floor(Date.now() / 1000) - 120);
    const out = await server.admin().jwt.verify.mutate({ token });
    expect(out).toEqual({ valid: false, payload: null, error: "token expired" });
  });

  test("a token signed with another secret", async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("x")
      .sign(new TextEncoder().encode("some-other-secret-some-other-secret-1234"));
    const out = await server.admin().jwt.verify.mutate({ token });
    expect(out).toEqual({ valid: false, payload: null, error: "invalid signature" });
  });

  test("decode reads claims without verifying", async () => {
    const token = await new SignJWT({ team: "blue" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("d1")
      .sign(new TextEncoder().encode("some-other-secret-some-other-secret-1234"));
    const res = await post("/jwt/decode", { token });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { payload: Record<string, unknown> }).payload).toMatchObject({
      sub: "d1",
      team: "blue",
    });
  });

  test("decode of something that is not a JWT: 400", async () => {
    const res = await post("/jwt/decode", { token: "hello" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("BAD_REQUEST");
  });

  test("tRPC batches several operations in one request", async () => {
    const client = server.admin();
    const [a, b] = await Promise.all([
      client.jwt.create.mutate({ userId: "batch-a" }),
      client.jwt.create.mutate({ userId: "batch-b" }),
    ]);
    expect(decodeJwt(a.token).sub).toBe("batch-a");
    expect(decodeJwt(b.token).sub).toBe("batch-b");
  });
});

test("admin requests are logged with a request id and without the API token", async () => {
  await post("/jwt/create", { userId: "logme" });
  const lines = server.logs().filter((l) => l.route === "/jwt/create");
  expect(lines.length).toBeGreaterThan(0);
  expect(typeof lines[0]?.requestId).toBe("string");
  expect(server.rawLogs()).not.toContain(TEST_API_TOKEN);
});
