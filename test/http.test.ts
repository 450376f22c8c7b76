/** Probes, metrics, published contracts and HTTP protections, over the wire. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import openapiDocument from "../generated/openapi.json";
import { startTestServer, type TestServer } from "./helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ PROMETHEUS_PREFIX: "sbtest", ALLOWED_ORIGINS: "https://app.example" });
});
afterAll(() => server.close());

describe("probes", () => {
  test("GET /alive: ok with a timestamp (seed 000)", async () => {
    const res = await server.api("/alive", { auth: false });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; timestamp: string };
    expect(body.status).toBe("ok");
    expect(Math.abs(Date.parse(body.timestamp) - Date.now())).toBeLessThan(5000);
  });

  test("GET /health: status, uptime, version, database", async () => {
    const res = await server.api("/health", { auth: false });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: "ok", version: "0.1.0", database: { reachable: true } });
    expect(typeof body.uptimeSeconds).toBe("number");
    expect(typeof body.instanceId).toBe("string");
  });

  test("GET /metrics: Prometheus text with the configured prefix", async () => {
    await server.api("/health", { auth: false });
    const res = await server.api("/metrics", { auth: false });
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toMatch(/sbtest_http_requests_total\{method="GET",route="\/health",status_code="200"\} \d+/);
    expect(text).toContain("# TYPE sbtest_http_request_duration_seconds histogram");
    expect(text).toContain("sbtest_socket_connections");
    expect(text).toContain("sbtest_socket_events_total");
    expect(text).toContain("sbtest_process_resident_memory_bytes");
  });

  test("errors are counted with their real status", async () => {
    await server.api("/no/such/route", { auth: false });
    await server.api("/jwt/create", { method: "POST", body: "{}", auth: false });
    const text = await (await server.api("/metrics", { auth: false })).text();
    expect(text).toMatch(/sbtest_http_requests_total\{method="GET",route="\(unmatched\)",status_code="404"\} \d+/);
    expect(text).toMatch(/sbtest_http_requests_total\{method="POST",route="\/jwt\/create",status_code="401"\} \d+/);
  });
});

describe("published contracts", () => {
  test("/openapi.json is the generated document", async () => {
    const res = await server.api("/openapi.json", { auth: false });
    expect(res.status).toBe(200);
    const served = (await res.json()) as typeof openapiDocument;
    expect(served.openapi).toStartWith("3.1");
    expect(served.paths).toEqual(openapiDocument.paths);
    expect(served.components).toEqual(openapiDocument.components);
    expect(Object.keys(served.paths)).toContain("/jwt/create");
  });

  test("/docs serves the UI pointing at /openapi.json", async () => {
    const res = await server.api("/docs", { auth: false });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("openapi.json");
  });

  test("/asyncapi.yaml and /asyncapi.json carry the event contract", async () => {
    const yaml = await (await server.api("/asyncapi.yaml", { auth: false })).text();
    expect(yaml).toContain("asyncapi: 3.0.0");
    const json = (await (await server.api("/asyncapi.json", { auth: false })).json()) as {
      asyncapi: string;
      channels: Record<string, unknown>;
    };
    expect(json.asyncapi).toBe("3.0.0");
    expect(Object.keys(json.channels)).toEqual(expect.arrayContaining(["connected", "ping", "pong"]));
  });
});

describe("HTTP protections", () => {
  test("unknown routes: 404 in the error shape", async () => {
    const res = await server.api("/nope", { auth: false });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ success: false, error: { code: "NOT_FOUND", message: "No route GET /nope" } });
  });

  test("security headers and a request id on every answer; a sane incoming id is kept", async () => {
    const res = await server.api("/health", { auth: false, headers: { "x-request-id": "trace-42" } });
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("x-request-id")).toBe("trace-42");
    const other = await server.api("/health", { auth: false, headers: { "x-request-id": "bad id with spaces" } });
    expect(other.headers.get("x-request-id")).not.toContain("bad id");
  });

  test("CORS allows the configured origin and no other", async () => {
    const preflight = await fetch(`${server.url}/jwt/create`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const foreign = await fetch(`${server.url}/health`, { headers: { origin: "https://evil.example" } });
    expect(foreign.headers.get("access-control-allow-origin")).not.toBe("https://evil.example");
  });
});

describe("rate limit and gated probes", () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({
      RATE_LIMIT_MAX: "5",
      RATE_LIMIT_BAN: "2",
      HEALTH_PUBLIC: "false",
      METRICS_PUBLIC: "false",
      DOCS_PUBLIC: "false",
    });
  });
  afterAll(() => limited.close());

  test("gated probes and docs need the API token", async () => {
    for (const path of ["/health", "/metrics", "/openapi.json"]) {
      expect((await limited.api(path, { auth: false })).status).toBe(401);
    }
    expect((await limited.api("/health")).status).toBe(200);
  });

  test("Socket.IO traffic is not counted against the HTTP limit (the next test finds the budget untouched)", async () => {
    const socket = limited.socket({ token: await limited.token("still-ok"), transports: ["polling"] });
    const connected = await new Promise<{ userId: string }>((resolve) => socket.once("connected", resolve));
    expect(connected.userId).toBe("still-ok");
  });

  test("over the limit: 429 with Retry-After, then 403 once banned (seed 000)", async () => {
    // 3 anonymous requests were spent above (refusals count too): 2 are left.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await limited.api("/health", { auth: false })).status);
    expect(statuses).toEqual([401, 401, 429, 429, 403, 403]);
    const res = await limited.api("/health", { auth: false });
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("FORBIDDEN");
  });

  test("callers with the API token have a budget of their own: the IP's ban does not reach them", async () => {
    const res = await limited.api("/health");
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit-limit")).toBe("10000");
  });
});

describe("limits", () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startTestServer({ ALIVE_MAX_HEAP_BYTES: "1024", HTTP_MAX_BODY_BYTES: "2048" });
  });
  afterAll(() => strict.close());

  test("/alive answers 503 with the reason when a limit is passed", async () => {
    const res = await strict.api("/alive", { auth: false });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; reasons: string[] };
    expect(body.status).toBe("unhealthy");
    expect(body.reasons).toHaveLength(1);
    expect(body.reasons[0]).toStartWith("heap used");
  });

  test("a body over HTTP_MAX_BODY_BYTES: 413 PAYLOAD_TOO_LARGE, nothing runs", async () => {
    const res = await strict.api("/jwt/create", {
      method: "POST",
      body: JSON.stringify({ userId: "big", claims: { blob: "x".repeat(4096) } }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
  });
});

describe("client address", () => {
  const hit = (s: TestServer, forwardedFor: string) =>
    s.api("/health", { auth: false, headers: { "x-forwarded-for": forwardedFor } }).then((r) => r.status);

  test("TRUST_PROXY=true: the client is the rightmost X-Forwarded-For entry; what the client wrote left of it is ignored", async () => {
    const proxied = await startTestServer({ TRUST_PROXY: "true", RATE_LIMIT_MAX: "1", RATE_LIMIT_BAN: "0" });
    try {
      // Our one proxy appends the address it received from: the last entry.
      expect(await hit(proxied, "203.0.113.1")).toBe(200);
      // The same client forging a first hop is still the same client.
      expect(await hit(proxied, "198.51.100.7, 203.0.113.1")).toBe(429);
      expect(await hit(proxied, "198.51.100.8, 203.0.113.1")).toBe(429);
      // Another client (the forged entry that was its own "first hop" does not matter).
      expect(await hit(proxied, "203.0.113.1, 203.0.113.2")).toBe(200);
    } finally {
      await proxied.close();
    }
  });

  test("TRUST_PROXY_HOPS=2: the client is the second entry from the right", async () => {
    const proxied = await startTestServer({
      TRUST_PROXY: "true",
      TRUST_PROXY_HOPS: "2",
      RATE_LIMIT_MAX: "1",
      RATE_LIMIT_BAN: "0",
    });
    try {
      expect(await hit(proxied, "198.51.100.7, 203.0.113.5, 10.0.0.1")).toBe(200);
      // Same client through another edge proxy, with another forged prefix.
      expect(await hit(proxied, "198.51.100.9, 203.0.113.5, 10.0.0.2")).toBe(429);
      expect(await hit(proxied, "203.0.113.6, 10.0.0.1")).toBe(200);
    } finally {
      await proxied.close();
    }
  });

  test("TRUST_PROXY=false (default): X-Forwarded-For is ignored, so it cannot dodge the limit", async () => {
    const direct = await startTestServer({ RATE_LIMIT_MAX: "1", RATE_LIMIT_BAN: "0" });
    try {
      expect(await hit(direct, "203.0.113.1")).toBe(200);
      expect(await hit(direct, "203.0.113.2")).toBe(429);
    } finally {
      await direct.close();
    }
  });
});
