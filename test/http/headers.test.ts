/**
 * What every HTTP answer carries, whatever it is (a success, a refusal by the request hook, an
 * operation's error, an unknown route): request id, security headers, CORS, rate-limit headers once
 * the budget was consulted. And who the API token is: only the token itself, bare or as a Bearer.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { startTestServer, TEST_API_TOKEN, TEST_JWT_SECRET, type TestServer } from "../helpers/server";

const ORIGIN = "https://app.example";
const EXPOSED = "x-request-id, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset";

const gates = { METRICS_PUBLIC: "false", HEALTH_PUBLIC: "false" };
let listed: TestServer;
let anyOrigin: TestServer;
let strict: TestServer;
beforeAll(async () => {
  [listed, anyOrigin, strict] = await Promise.all([
    startTestServer({ ALLOWED_ORIGINS: ORIGIN, ...gates }),
    startTestServer(),
    startTestServer({ ALLOWED_ORIGINS: ORIGIN, RATE_LIMIT_MAX: "4", RATE_LIMIT_BAN: "0", ...gates }),
  ]);
});
afterAll(() => Promise.all([listed.close(), anyOrigin.close(), strict.close()]));

const dispatch = (s: TestServer, init: { auth?: boolean | string; headers?: Record<string, string>; body?: unknown }) =>
  s.api("/api/socket/dispatch", {
    method: "POST",
    auth: init.auth ?? true,
    headers: init.headers ?? {},
    body: JSON.stringify(init.body ?? { channel: "nobody", event: "e", data: { n: 1 } }),
  });

function expectCommonHeaders(res: Response, origin: string | null) {
  expect(res.headers.get("x-request-id")).toBeString();
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  expect(res.headers.get("cross-origin-opener-policy")).toBe("same-origin");
  expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(res.headers.get("x-dns-prefetch-control")).toBe("off");
  expect(res.headers.get("x-permitted-cross-domain-policies")).toBe("none");
  expect(res.headers.get("access-control-expose-headers")).toBe(EXPOSED);
  expect(res.headers.get("access-control-allow-origin")).toBe(origin);
}

describe("every answer carries the request id, security and CORS headers", () => {
  test("a success, an operation's refusals (401, 400), an unknown route, a 405", async () => {
    const headers = { origin: ORIGIN };
    const answers = [
      await dispatch(listed, { headers }),
      await dispatch(listed, { headers, auth: "not-the-token" }),
      await dispatch(listed, { headers, body: { channel: "" } }),
      await listed.api("/no/such/route", { headers }),
      await listed.api("/api/socket/dispatch", { headers, method: "GET" }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 401, 400, 404, 405]);
    for (const res of answers) {
      expectCommonHeaders(res, ORIGIN);
      expect(res.headers.get("vary")).toBe("Origin");
      expect(res.headers.get("access-control-allow-credentials")).toBe("true");
      // The budget consulted: the API token's own, or the IP's for the wrong token.
      expect(res.headers.get("ratelimit-limit")).toBe(res.status === 401 ? "100" : "10000");
    }
  });

  test("refusals by the request hook (gated path, rate limit) carry CORS too, so a browser can read them", async () => {
    const headers = { origin: ORIGIN };
    const gated = await strict.api("/metrics", { auth: false, headers });
    expect(gated.status).toBe(401);
    expectCommonHeaders(gated, ORIGIN);
    expect(gated.headers.get("ratelimit-limit")).toBe("4");
    const statuses: number[] = [gated.status];
    let last: Response = gated;
    for (let i = 0; i < 4; i++) {
      last = await strict.api("/openapi.json", { auth: false, headers });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([401, 200, 200, 200, 429]);
    expectCommonHeaders(last, ORIGIN);
    expect(Number(last.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  test("an origin that is not listed gets no allow-origin; preflight and real answers drop nothing else", async () => {
    const foreign = await dispatch(listed, { headers: { origin: "https://evil.example" } });
    expect(foreign.status).toBe(200);
    expectCommonHeaders(foreign, null);
    expect(foreign.headers.get("vary")).toBe("Origin");
    const preflight = await fetch(`${listed.url}/api/socket/dispatch`, {
      method: "OPTIONS",
      headers: {
        origin: ORIGIN,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(preflight.headers.get("access-control-allow-methods")).toBe("POST");
    expect(preflight.headers.get("access-control-allow-headers")).toBe("authorization, content-type");
    expect(preflight.headers.get("access-control-max-age")).toBe("5");
    expect(preflight.headers.get("access-control-allow-credentials")).toBe("true");
    expect(preflight.headers.get("x-request-id")).toBeString();
  });

  test("ALLOWED_ORIGINS=*: the caller's origin, or * without one, and Vary: *", async () => {
    const withOrigin = await dispatch(anyOrigin, { headers: { origin: "https://any.example" } });
    expectCommonHeaders(withOrigin, "https://any.example");
    expect(withOrigin.headers.get("vary")).toBe("*");
    expect(withOrigin.headers.get("access-control-allow-credentials")).toBeNull();
    const without = await dispatch(anyOrigin, {});
    expectCommonHeaders(without, "*");
    expect(without.headers.get("ratelimit-remaining")).toBeString();
  });

  test("an answer whose headers differ from the usual ones (a user's budget, a caller's origin) carries its own", async () => {
    const token = await anyOrigin.token("someone");
    const res = await anyOrigin.api("/websocket/me/status", {
      auth: token,
      headers: { origin: "https://user.example", "x-request-id": "user-req-1" },
    });
    expect(res.status).toBe(200);
    expectCommonHeaders(res, "https://user.example");
    // End users spend the anonymous budget (100 by default), not the API token's.
    expect(res.headers.get("ratelimit-limit")).toBe("100");
    expect(res.headers.get("x-request-id")).toBe("user-req-1");
    expect(res.headers.get("content-type")).toBe("application/json;charset=utf-8");
    const admin = await dispatch(anyOrigin, {});
    expect(admin.headers.get("ratelimit-limit")).toBe("10000");
    expect(admin.headers.get("content-type")).toBe("application/json;charset=utf-8");
    expect(admin.headers.get("vary")).toBe("*");
  });

  test("the docs page relaxes only its CSP", async () => {
    const res = await anyOrigin.api("/docs", { auth: false });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).not.toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("x-request-id")).toBeString();
  });
});

describe("gated paths", () => {
  test("a trailing slash does not pass the gate (Elysia answers /metrics/ like /metrics)", async () => {
    for (const path of ["/metrics/", "/health/", "/metrics/?x=1"]) {
      const res = await listed.api(path, { auth: false });
      expect(res.status).toBe(401);
    }
    expect((await listed.api("/metrics/")).status).toBe(200);
  });
});

describe("the API token", () => {
  const status = (authorization: string) =>
    dispatch(anyOrigin, { auth: false, headers: { authorization } }).then((r) => r.status);

  test("only the token itself: bare, or after Bearer in any case and spacing", async () => {
    expect(await status(`Bearer ${TEST_API_TOKEN}`)).toBe(200);
    expect(await status(`bearer   ${TEST_API_TOKEN}  `)).toBe(200);
    expect(await status(TEST_API_TOKEN)).toBe(200);
    for (const wrong of [
      TEST_API_TOKEN.slice(0, -1), // a prefix
      `${TEST_API_TOKEN}x`, // longer
      `${TEST_API_TOKEN.slice(0, -1)}X`, // same length, last byte differs
      `X${TEST_API_TOKEN.slice(1)}`, // same length, first byte differs
      `${TEST_API_TOKEN.slice(0, -1)}é`, // same number of characters, more bytes
      "Bearer",
    ]) {
      expect(await status(`Bearer ${wrong}`)).toBe(401);
    }
  });

  test("an admin JWT is still verified (asynchronously) and admitted; a user JWT is forbidden", async () => {
    const key = new TextEncoder().encode(TEST_JWT_SECRET);
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("u1")
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(key);
    expect(await status(`Bearer ${await sign({ role: "admin" })}`)).toBe(200);
    expect(await status(`Bearer ${await sign({})}`)).toBe(403);
  });
});
