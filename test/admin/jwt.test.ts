/**
 * /jwt/decode and /jwt/verify with whatever claims a token may carry (never a 500), and the token
 * checks: clock tolerance on exp / nbf / iat, an iat in the future, a required exp.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { once, startTestServer, TEST_JWT_SECRET, type TestServer } from "../helpers/server";

const b64 = (text: string) => Buffer.from(text).toString("base64url");

/** A token over exactly these payload bytes (JSON.stringify cannot write 1e400), HS256-signed. */
function rawToken(payloadJson: string, secret = TEST_JWT_SECRET): string {
  const signingInput = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(payloadJson)}`;
  return `${signingInput}.${createHmac("sha256", secret).update(signingInput).digest("base64url")}`;
}

const now = () => Math.floor(Date.now() / 1000);
const claims = (extra: Record<string, unknown>) => JSON.stringify({ sub: "u1", ...extra });

interface VerifyReply {
  valid: boolean;
  payload: Record<string, unknown> | null;
  error?: string;
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ JWT_CLOCK_TOLERANCE_SECONDS: "30" });
});
afterAll(() => server.close());

const post = (path: string, token: string) => server.api(path, { method: "POST", body: JSON.stringify({ token }) });
const verify = async (token: string) => {
  const res = await post("/jwt/verify", token);
  expect(res.status).toBe(200);
  return (await res.json()) as VerifyReply;
};

describe("unusual claims: 200 or 400, never 500", () => {
  const unusual: [string, string][] = [
    ["sub is a number", '{"sub":123,"userId":"u1"}'],
    ["iat has a fraction", `{"sub":"u1","iat":${now()}.5}`],
    ["exp has a fraction", `{"sub":"u1","exp":${now() + 600}.25}`],
    ["userId is an object", '{"sub":"u1","userId":{"a":[1,2]}}'],
    ["a huge number", '{"sub":"u1","big":1e400,"small":-1e400,"n":123456789012345678901234567890}'],
    ["a deep array", `{"sub":"u1","deep":${"[".repeat(2900)}${"]".repeat(2900)}}`],
    ["a deep object", `{"sub":"u1","deep":${'{"a":'.repeat(950)}1${"}".repeat(950)}}`],
    ["unicode keys and values", '{"sub":"ü","😀":"\\u0000","":null}'],
  ];

  for (const [name, payload] of unusual) {
    test(`${name}: decode shows the claims as they are, verify answers 200`, async () => {
      const token = rawToken(payload);
      expect(token.length).toBeLessThanOrEqual(8192);
      const decoded = await post("/jwt/decode", token);
      expect(decoded.status).toBe(200);
      const { payload: got } = (await decoded.json()) as { payload: unknown };
      expect(JSON.stringify(got)).toBe(JSON.stringify(JSON.parse(payload)));
      await verify(token);
    });
  }

  test("sub: 123 with a userId claim verifies as that user; iat 1.5 verifies", async () => {
    const bySub = await verify(rawToken('{"sub":123,"userId":"u1"}'));
    expect(bySub).toMatchObject({ valid: true, payload: { sub: 123, userId: "u1" } });
    expect(await verify(rawToken(claims({ iat: 1.5 })))).toMatchObject({ valid: true, payload: { iat: 1.5 } });
  });

  test("a time claim that is not a finite moment (exp: 1e400) is invalid, not a 500", async () => {
    expect(await verify(rawToken('{"sub":"u1","exp":1e400}'))).toEqual({
      valid: false,
      payload: null,
      error: "invalid claim: exp",
    });
    expect((await verify(rawToken(claims({ iat: "yesterday" })))).error).toBe("invalid claim: iat");
  });

  test("payloads that are not objects: 400 on decode, valid: false on verify", async () => {
    for (const payload of ["[1,2]", '"text"', "42", "null", "true", "{", ""]) {
      const token = rawToken(payload);
      const decoded = await post("/jwt/decode", token);
      expect(decoded.status).toBe(400);
      expect(((await decoded.json()) as { error: { code: string } }).error.code).toBe("BAD_REQUEST");
      expect(await verify(token)).toEqual({ valid: false, payload: null, error: "malformed token" });
    }
  });

  test("property: any JSON object of claims decodes to itself and verifies without a 500", async () => {
    const claimsArb = fc
      .dictionary(
        fc.string().filter((k) => k !== "__proto__"),
        fc.jsonValue({ maxDepth: 6 }),
        { maxKeys: 8 },
      )
      .map((o) => JSON.stringify(o))
      .filter((json) => rawToken(json).length <= 8192);
    await fc.assert(
      fc.asyncProperty(claimsArb, async (json) => {
        const token = rawToken(json);
        const decoded = await post("/jwt/decode", token);
        expect(decoded.status).toBe(200);
        const { payload } = (await decoded.json()) as { payload: unknown };
        expect(JSON.stringify(payload)).toBe(JSON.stringify(JSON.parse(json)));
        const verified = await post("/jwt/verify", token);
        expect(verified.status).toBe(200);
        const reply = (await verified.json()) as VerifyReply;
        if (reply.valid) expect(JSON.stringify(reply.payload)).toBe(JSON.stringify(JSON.parse(json)));
      }),
      { numRuns: 150 },
    );
  });

  test("jwt.create refuses claims nested too deep (400 naming claims), even 10,000 levels", async () => {
    for (const depth of [40, 10_000]) {
      const body = `{"userId":"u","claims":{"deep":${"[".repeat(depth)}${"]".repeat(depth)}}}`;
      const res = await server.api("/jwt/create", { method: "POST", body });
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: { details: { issues: { path: string }[] } } };
      expect(error.details.issues.map((i) => i.path)).toEqual(["claims"]);
    }
  });
});

describe("clock tolerance (JWT_CLOCK_TOLERANCE_SECONDS=30)", () => {
  test("exp: 10 s ago is accepted, 2 minutes ago is expired", async () => {
    expect((await verify(rawToken(claims({ exp: now() - 10 })))).valid).toBe(true);
    expect((await verify(rawToken(claims({ exp: now() - 120 })))).error).toBe("token expired");
  });

  test("nbf: 10 s ahead is accepted, 2 minutes ahead is not yet valid", async () => {
    expect((await verify(rawToken(claims({ nbf: now() + 10 })))).valid).toBe(true);
    expect((await verify(rawToken(claims({ nbf: now() + 120 })))).error).toBe("token not yet valid");
  });

  test("iat: 10 s ahead is accepted, 2 minutes ahead is refused", async () => {
    expect((await verify(rawToken(claims({ iat: now() + 10, exp: now() + 600 })))).valid).toBe(true);
    expect(await verify(rawToken(claims({ iat: now() + 120, exp: now() + 600 })))).toEqual({
      valid: false,
      payload: null,
      error: "token issued in the future",
    });
  });

  test("a token issued in the future is refused at the Socket.IO handshake too", async () => {
    const socket = server.socket({ token: rawToken(claims({ iat: now() + 3600 })) });
    const error = await once<Error & { data?: unknown }>(socket, "connect_error");
    expect(error.data).toEqual({ code: "UNAUTHORIZED", message: "token issued in the future" });
  });
});

describe("JWT_REQUIRE_EXP", () => {
  test("false (the default outside production): a token without exp is valid", async () => {
    expect((await verify(rawToken(claims({})))).valid).toBe(true);
  });

  test("true: a token without exp is refused, over the JWT tools and at the handshake", async () => {
    const strict = await startTestServer({ JWT_REQUIRE_EXP: "true" });
    try {
      const token = rawToken(claims({}));
      const res = await strict.api("/jwt/verify", { method: "POST", body: JSON.stringify({ token }) });
      expect(await res.json()).toEqual({ valid: false, payload: null, error: "token has no exp claim" });
      const socket = strict.socket({ token });
      const error = await once<Error & { data?: unknown }>(socket, "connect_error");
      expect(error.data).toEqual({ code: "UNAUTHORIZED", message: "token has no exp claim" });
      // Its own tokens carry exp.
      const { token: issued } = await strict.admin().jwt.create.mutate({ userId: "u" });
      expect((await strict.admin().jwt.verify.mutate({ token: issued })).valid).toBe(true);
    } finally {
      await strict.close();
    }
  });
});
