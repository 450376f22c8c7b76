/**
 * Tokens from an identity provider: RS256 / ES256 checked against a JWKS (JWKS_URL), served here by a
 * local HTTP server on port 0 with generated key pairs. HS256 stays checked with JWT_SECRET only.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from "jose";
import type { Connected } from "switchboard/client";
import { createTokenService } from "../../src/domain/tokens";
import { once, startTestServer, TEST_JWT_SECRET, type TestServer } from "../helpers/server";

interface Pair {
  kid: string;
  alg: "RS256" | "ES256";
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

async function pair(kid: string, alg: Pair["alg"]): Promise<Pair> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

/** A JWKS endpoint whose key set the test changes; counts its fetches. */
function jwksServer(keys: JWK[]) {
  const state = { keys, fetches: 0 };
  const http = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch() {
      state.fetches++;
      return Response.json({ keys: state.keys });
    },
  });
  return { state, url: `http://127.0.0.1:${http.port}/.well-known/jwks.json`, stop: () => http.stop(true) };
}

const sign = (p: Pair, sub: string, claims: JWTPayload = {}, header: Record<string, unknown> = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: p.alg, kid: p.kid, ...header })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(p.privateKey);

const hs256 = (key: Uint8Array, sub: string, claims: JWTPayload = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(key);

let rsa: Pair;
let ec: Pair;
let stranger: Pair;
let idp: ReturnType<typeof jwksServer>;
let server: TestServer;
beforeAll(async () => {
  [rsa, ec, stranger] = await Promise.all([pair("rsa-1", "RS256"), pair("ec-1", "ES256"), pair("rsa-x", "RS256")]);
  idp = jwksServer([rsa.jwk, ec.jwk]);
  server = await startTestServer({ JWKS_URL: idp.url });
});
afterAll(async () => {
  await server.close();
  idp.stop();
});

async function accepted(token: string) {
  const socket = server.socket({ token });
  return once<Connected>(socket, "connected");
}

function refused(token: string, s = server) {
  const socket = s.socket({ token });
  return new Promise<{ code: string; message: string }>((resolve, reject) => {
    socket.once("connected", () => reject(new Error("connected")));
    socket.once("connect_error", (err) => resolve((err as Error & { data: { code: string; message: string } }).data));
  });
}

describe("with JWKS_URL", () => {
  test("an RS256 token from the JWKS connects", async () => {
    expect((await accepted(await sign(rsa, "idp-user"))).userId).toBe("idp-user");
  });

  test("an ES256 token from the JWKS connects", async () => {
    expect((await accepted(await sign(ec, "ec-user"))).userId).toBe("ec-user");
  });

  test("an HS256 token signed with the JWKS public key does not", async () => {
    // The public key's bytes in every usual form: the JWK as served, its PEM, its modulus.
    const publicKeys = [JSON.stringify(rsa.jwk), await exportSPKI(rsa.publicKey), rsa.jwk.n as string].map((k) =>
      new TextEncoder().encode(k),
    );
    for (const key of publicKeys) {
      expect(await refused(await hs256(key, "forger"))).toEqual({ code: "UNAUTHORIZED", message: "invalid signature" });
    }
    // Nor with the kid of a JWKS key in its header.
    const withKid = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", kid: rsa.kid })
      .setSubject("forger")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(JSON.stringify(rsa.jwk)));
    expect((await refused(withKid)).code).toBe("UNAUTHORIZED");
  });

  test("HS256 with JWT_SECRET still connects", async () => {
    expect((await accepted(await server.token("local-user"))).userId).toBe("local-user");
  });

  test("a key the JWKS does not hold, a forged signature, alg none and other algorithms are refused", async () => {
    expect(await refused(await sign(stranger, "x"))).toEqual({
      code: "UNAUTHORIZED",
      message: "no key of the JWKS matches the token",
    });
    // A stranger's signature under a JWKS kid.
    expect(await refused(await sign({ ...stranger, kid: rsa.kid }, "x"))).toEqual({
      code: "UNAUTHORIZED",
      message: "invalid signature",
    });
    expect(await refused(new UnsecuredJWT({ sub: "x" }).encode())).toEqual({
      code: "UNAUTHORIZED",
      message: "algorithm not allowed (only HS256, RS256, ES256 are accepted)",
    });
    const ps256 = await generateKeyPair("PS256");
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "PS256", kid: rsa.kid })
      .setSubject("x")
      .sign(ps256.privateKey);
    expect((await refused(token)).message).toStartWith("algorithm not allowed");
  });

  test("the key set is fetched once and cached", async () => {
    const before = idp.state.fetches;
    for (let i = 0; i < 3; i++) await accepted(await sign(rsa, `cached-${i}`));
    expect(idp.state.fetches).toBe(before);
  });
});

test("without JWKS_URL an RS256 token is refused: the HMAC secret never checks an asymmetric algorithm", async () => {
  const plain = await startTestServer();
  try {
    expect(await refused(await sign(rsa, "idp-user"), plain)).toEqual({
      code: "UNAUTHORIZED",
      message: "algorithm not allowed (only HS256 is accepted)",
    });
    // RS256 in the header over an HMAC of the secret: still the algorithm's refusal, never a secret check.
    const [header, payload] = (await sign(rsa, "x")).split(".");
    const hmac = new Bun.CryptoHasher("sha256", TEST_JWT_SECRET).update(`${header}.${payload}`).digest("base64url");
    expect((await refused(`${header}.${payload}.${hmac}`, plain)).message).toStartWith("algorithm not allowed");
  } finally {
    await plain.close();
  }
});

test("JWT_ISSUER and JWT_AUDIENCE: checked on every token; the service's own tokens carry them", async () => {
  const strict = await startTestServer({
    JWKS_URL: idp.url,
    JWT_ISSUER: "https://idp.test/",
    JWT_AUDIENCE: "switchboard",
  });
  try {
    const good = { iss: "https://idp.test/", aud: "switchboard" };
    expect((await once<Connected>(strict.socket({ token: await sign(rsa, "ok", good) }), "connected")).userId).toBe(
      "ok",
    );
    expect(await refused(await sign(rsa, "x", { ...good, iss: "https://evil.test/" }), strict)).toEqual({
      code: "UNAUTHORIZED",
      message: "unexpected iss",
    });
    expect(await refused(await sign(rsa, "x", { ...good, aud: "other" }), strict)).toEqual({
      code: "UNAUTHORIZED",
      message: "unexpected aud",
    });
    expect((await refused(await sign(rsa, "x", {}), strict)).code).toBe("UNAUTHORIZED");
    expect((await refused(await strict.token("no-iss"), strict)).message).toBe("unexpected iss");
    // jwt.create signs with iss and aud, so its tokens pass.
    const { token } = await strict.admin().jwt.create.mutate({ userId: "minted" });
    expect((await once<Connected>(strict.socket({ token }), "connected")).userId).toBe("minted");
  } finally {
    await strict.close();
  }
});

describe("the key set (domain)", () => {
  test("an unknown kid fetches the key set again (a rotated key is accepted at once)", async () => {
    const rotated = await pair("rsa-2", "RS256");
    const local = jwksServer([rsa.jwk]);
    try {
      const tokens = createTokenService({
        secret: TEST_JWT_SECRET,
        defaultExpiresInSeconds: 3600,
        jwks: { url: local.url, cooldownMs: 0 },
      });
      expect(await tokens.verify(await sign(rsa, "a"))).toMatchObject({ valid: true, userId: "a" });
      expect(local.state.fetches).toBe(1);
      local.state.keys = [rsa.jwk, rotated.jwk];
      expect(await tokens.verify(await sign(rotated, "b"))).toMatchObject({ valid: true, userId: "b" });
      expect(local.state.fetches).toBe(2);
      // Known kids are served from the cache.
      await tokens.verify(await sign(rsa, "c"));
      await tokens.verify(await sign(rotated, "d"));
      expect(local.state.fetches).toBe(2);
    } finally {
      local.stop();
    }
  });

  test("within the cooldown an unknown kid does not fetch again", async () => {
    const local = jwksServer([rsa.jwk]);
    try {
      const tokens = createTokenService({
        secret: TEST_JWT_SECRET,
        defaultExpiresInSeconds: 3600,
        jwks: { url: local.url, cooldownMs: 60_000 },
      });
      await tokens.verify(await sign(rsa, "a"));
      for (let i = 0; i < 5; i++) {
        expect(await tokens.verify(await sign(stranger, "x"))).toMatchObject({ valid: false, reason: "UNKNOWN_KEY" });
      }
      expect(local.state.fetches).toBe(1);
    } finally {
      local.stop();
    }
  });

  test("an unreachable JWKS refuses asymmetric tokens (KEYS_UNAVAILABLE) and leaves HS256 alone", async () => {
    const gone = jwksServer([]);
    gone.stop();
    const tokens = createTokenService({
      secret: TEST_JWT_SECRET,
      defaultExpiresInSeconds: 3600,
      jwks: { url: gone.url, timeoutMs: 1000 },
    });
    expect(await tokens.verify(await sign(rsa, "a"))).toEqual({
      valid: false,
      reason: "KEYS_UNAVAILABLE",
      message: "the JWKS could not be fetched",
    });
    const local = await hs256(new TextEncoder().encode(TEST_JWT_SECRET), "local");
    expect(await tokens.verify(local)).toMatchObject({ valid: true, userId: "local" });
  });
});
