/**
 * The postback queue over the wire (seed 003): a real server delivering to a local HTTP sink that
 * records what arrives, answers as each path says, and counts requests in flight.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { io, type Socket } from "socket.io-client";
import { Webhook } from "standardwebhooks";
import { startTestServer, type TestServer } from "../helpers/server";
import { type Sink, startSink, until } from "../helpers/sink";

const SECRET = `whsec_${Buffer.from("switchboard-postback-test-secret-0123").toString("base64")}`;
const CONCURRENCY = 3;

type Json = Record<string, unknown>;
interface Job {
  id: string;
  status: string;
  retries: number;
  lastError: string | null;
  lastResponseStatus: number | null;
  nextAttemptAt: string | null;
  attempts: { at: string; durationMs: number; responseStatus?: number; error?: string }[];
}

let server: TestServer;
let sink: Sink;
let release: () => void = () => {};
const held = new Promise<void>((resolve) => {
  release = resolve;
});
let openLatch: () => void = () => {};
const latch = new Promise<void>((resolve) => {
  openLatch = resolve;
});
let openGate: () => void = () => {};
const gate = new Promise<void>((resolve) => {
  openGate = resolve;
});

beforeAll(async () => {
  sink = startSink({
    "/hold": async () => {
      await held;
      return new Response("ok");
    },
    "/status/500": () => new Response("no", { status: 500 }),
    "/status/410": () => new Response("gone", { status: 410 }),
    "/redirect": () => new Response(null, { status: 302, headers: { location: "/ok" } }),
    "/retry-after": (_r, n) =>
      n === 1 ? new Response("slow down", { status: 429, headers: { "retry-after": "1" } }) : new Response("ok"),
    "/flaky": (_r, n) => (n < 3 ? new Response("no", { status: 503 }) : new Response("ok")),
    "/slow": async () => {
      await Bun.sleep(1500);
      return new Response("late");
    },
    "/endless": () =>
      new Response(
        new ReadableStream({
          pull(controller) {
            controller.enqueue(new Uint8Array(64 * 1024));
          },
        }),
      ),
    "/busy": async () => {
      await Bun.sleep(40);
      return new Response("ok");
    },
    "/latch": async () => {
      await latch;
      return new Response("ok");
    },
    "/gate": async () => {
      await gate;
      return new Response("ok");
    },
  });
  server = await startTestServer({
    POSTBACK_SIGNING_SECRET: SECRET,
    POSTBACK_ALLOW_PRIVATE: "true",
    POSTBACK_BACKOFF_MS: "20",
    POSTBACK_MAX_RETRIES: "2",
    POSTBACK_TIMEOUT_MS: "5000",
    POSTBACK_CONCURRENCY: String(CONCURRENCY),
  });
});
afterAll(async () => {
  release();
  openLatch();
  openGate();
  await server.close();
  sink.stop();
});

async function enqueue(body: Json, headers: Record<string, string> = {}) {
  const res = await server.api("/api/queue/postback", { method: "POST", body: JSON.stringify(body), headers });
  return { status: res.status, body: (await res.json()) as Json };
}
const queue = async (body: Json) => {
  const r = await enqueue(body);
  expect(r.status).toBe(200);
  return r.body.queueId as string;
};
const job = async (id: string) => (await (await server.api(`/api/queue/postback/${id}`)).json()) as Job;
const settled = (id: string, status: string, ms = 5000) =>
  until(
    async () => {
      const j = await job(id);
      return j.status === status ? j : undefined;
    },
    ms,
    `job ${id} to be ${status}`,
  );

describe("enqueue", () => {
  test("answers seed 003's shape once stored, before the target has answered", async () => {
    const { status, body } = await enqueue({ postbackUrl: `${sink.url}/hold`, payload: { event: "test" } });
    expect(status).toBe(200);
    expect(body).toEqual({ success: true, message: "Postback queued successfully", queueId: expect.any(String) });
    const id = body.queueId as string;
    // The sink holds the request: the job is in flight, not finished, and we already have the answer.
    await until(() => sink.to("/hold").length === 1, 2000, "the held request");
    expect((await job(id)).status).toBe("processing");
    release();
    const done = await settled(id, "completed");
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]?.responseStatus).toBe(200);
    expect(done.nextAttemptAt).toBeNull();
  });

  test("a job due now while a slot is free is stored already claimed: processing from its answer on", async () => {
    // Unless a claim is under way (one may be, right after the previous test's job finished): then the
    // job waits for that claim like any other. So up to 3 jobs, a moment apart; the latch holds each
    // delivered one in flight (a slot of 3), and the first one not caught by a claim shows the hand-off.
    const ids: string[] = [];
    let first: Job | undefined;
    while (ids.length < 3 && first?.status !== "processing") {
      await Bun.sleep(50);
      const id = await queue({ postbackUrl: `${sink.url}/latch`, payload: { handedOff: ids.length } });
      ids.push(id);
      first = await job(id); // no scheduler turn in between: the answer came after the row was committed
    }
    expect(first?.status).toBe("processing");
    expect(first?.nextAttemptAt).toBeNull();
    await until(() => sink.to("/latch").length === ids.length, 2000, "the requests");
    openLatch();
    for (const id of ids) expect((await settled(id, "completed")).attempts).toHaveLength(1);
    expect(sink.to("/latch")).toHaveLength(ids.length);
  });

  test("POST: JSON body, the caller's headers, signed; reserved headers cannot be overridden", async () => {
    const payload = { event: "user.created", userId: "123", data: { name: "John Doe" } };
    const id = await queue({
      postbackUrl: `${sink.url}/post?fixed=1`,
      payload,
      headers: {
        "X-Custom-Header": "value",
        Host: "evil.example",
        "Content-Type": "text/plain",
        "webhook-id": "forged",
        "webhook-signature": "v1,forged",
      },
    });
    await settled(id, "completed");
    const [req] = sink.to("/post");
    expect(req?.method).toBe("POST");
    expect(req?.query.get("fixed")).toBe("1");
    expect(JSON.parse(req?.body ?? "")).toEqual(payload);
    expect(req?.headers.get("x-custom-header")).toBe("value");
    expect(req?.headers.get("content-type")).toBe("application/json");
    expect(req?.headers.get("host")).toBe(`127.0.0.1:${sink.port}`);
    expect(req?.headers.get("webhook-id")).toBe(id);
    // Standard Webhooks' own verifier accepts it.
    const headers = Object.fromEntries(req?.headers ?? []);
    expect(new Webhook(SECRET).verify(req?.body ?? "", headers)).toEqual(payload);
    expect(() => new Webhook(SECRET).verify(`${req?.body} `, headers)).toThrow();
  });

  test("GET: no body, the payload's top-level fields as query parameters; PUT and PATCH carry the body", async () => {
    const id = await queue({
      postbackUrl: `${sink.url}/get?keep=yes`,
      method: "GET",
      payload: { a: 1, b: "x y", c: { d: true }, e: null },
    });
    await settled(id, "completed");
    const [req] = sink.to("/get");
    expect(req?.method).toBe("GET");
    expect(req?.body).toBe("");
    expect(Object.fromEntries(req?.query ?? [])).toEqual({ keep: "yes", a: "1", b: "x y", c: '{"d":true}', e: "" });
    expect(() => new Webhook(SECRET).verify("", Object.fromEntries(req?.headers ?? []))).not.toThrow();

    for (const method of ["PUT", "PATCH"]) {
      const other = await queue({ postbackUrl: `${sink.url}/${method}`, method, payload: { m: method } });
      await settled(other, "completed");
      const [r] = sink.to(`/${method}`);
      expect(r?.method).toBe(method);
      expect(JSON.parse(r?.body ?? "")).toEqual({ m: method });
    }
  });

  test("bad input is refused and nothing is queued", async () => {
    const before = sink.requests.length;
    for (const body of [
      { payload: {} },
      { postbackUrl: "ftp://example.com/x", payload: {} },
      { postbackUrl: `${sink.url}/x`, payload: {}, method: "DELETE" },
      { postbackUrl: `${sink.url}/x`, payload: {}, headers: { "Bad Header": "x" } },
      { postbackUrl: `${sink.url}/x`, payload: {}, headers: { "X-A": "a\r\nInjected: 1" } },
      { postbackUrl: `${sink.url}/x`, payload: {}, runAt: "tomorrow" },
      { postbackUrl: "http://user:pass@127.0.0.1/x", payload: {} },
    ]) {
      const r = await enqueue(body);
      expect(r.status).toBe(400);
      expect((r.body.error as Json).code).toBe("BAD_REQUEST");
    }
    await Bun.sleep(50);
    expect(sink.requests.length).toBe(before);
  });
});

describe("delivery", () => {
  test("a non-2xx answer is retried with backoff, then the job fails with the last error", async () => {
    const id = await queue({ postbackUrl: `${sink.url}/status/500`, payload: { n: 1 } });
    const failed = await settled(id, "failed");
    expect(failed.retries).toBe(2);
    expect(failed.attempts.map((a) => a.responseStatus)).toEqual([500, 500, 500]);
    expect(failed.lastError).toBe("HTTP 500");
    expect(failed.lastResponseStatus).toBe(500);
    // The same webhook-id on every retry; a new signature (timestamp) each time is allowed.
    expect(new Set(sink.to("/status/500").map((r) => r.headers.get("webhook-id")))).toEqual(new Set([id]));
  });

  test("a job that succeeds on a retry is completed; maxRetries per job", async () => {
    const id = await queue({ postbackUrl: `${sink.url}/flaky`, payload: {}, maxRetries: 5 });
    const done = await settled(id, "completed");
    expect(done.retries).toBe(2);
    expect(done.attempts.map((a) => a.responseStatus)).toEqual([503, 503, 200]);

    const none = await queue({ postbackUrl: `${sink.url}/status/500`, payload: { once: true }, maxRetries: 0 });
    expect((await settled(none, "failed")).attempts).toHaveLength(1);
  });

  test("410 fails the job at once", async () => {
    const id = await queue({ postbackUrl: `${sink.url}/status/410`, payload: {} });
    const failed = await settled(id, "failed");
    expect(failed.attempts).toHaveLength(1);
    expect(failed.lastResponseStatus).toBe(410);
    await Bun.sleep(100);
    expect(sink.to("/status/410")).toHaveLength(1);
  });

  test("redirects are not followed: a 3xx is a failed attempt", async () => {
    const before = sink.to("/ok").length;
    const id = await queue({ postbackUrl: `${sink.url}/redirect`, payload: {}, maxRetries: 0 });
    const failed = await settled(id, "failed");
    expect(failed.lastResponseStatus).toBe(302);
    expect(failed.lastError).toContain("redirects are not followed");
    expect(sink.to("/ok").length).toBe(before);
  });

  test("429 honours Retry-After (1 s, against a 20 ms backoff)", async () => {
    const id = await queue({ postbackUrl: `${sink.url}/retry-after`, payload: {} });
    await settled(id, "completed", 4000);
    const [first, second] = sink.to("/retry-after");
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  test("an endless response body is cut off after 1 MiB: the 200 completes the job long before the timeout", async () => {
    const started = performance.now();
    const id = await queue({ postbackUrl: `${sink.url}/endless`, payload: {}, timeoutMs: 4000 });
    const done = await settled(id, "completed", 3000);
    expect(done.lastResponseStatus).toBe(200);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  test("a timeout is a failed attempt", async () => {
    const id = await queue({ postbackUrl: `${sink.url}/slow`, payload: {}, timeoutMs: 200, maxRetries: 1 });
    const failed = await settled(id, "failed", 3000);
    expect(failed.attempts).toHaveLength(2);
    expect(failed.lastError).toBe("Timed out after 200 ms");
    expect(failed.lastResponseStatus).toBeNull();
    expect(failed.attempts[0]?.durationMs).toBeGreaterThanOrEqual(190);
  });

  test(`never more than POSTBACK_CONCURRENCY (${CONCURRENCY}) requests in flight`, async () => {
    const ids = await Promise.all(
      Array.from({ length: 15 }, (_, i) => queue({ postbackUrl: `${sink.url}/busy`, payload: { i } })),
    );
    for (const id of ids) await settled(id, "completed");
    expect(sink.to("/busy")).toHaveLength(15);
    expect(sink.maxInFlight("/busy")).toBe(CONCURRENCY);
  });

  test("jobs claimed ahead of a free slot are bounded: at most POSTBACK_CONCURRENCY more, the rest stay pending", async () => {
    const ids = await Promise.all(
      Array.from({ length: 12 }, (_, i) => queue({ postbackUrl: `${sink.url}/gate`, payload: { i } })),
    );
    await until(() => sink.to("/gate").length === CONCURRENCY, 2000, "every slot busy");
    await Bun.sleep(200); // time for any further claim
    const statuses = await Promise.all(ids.map(async (id) => (await job(id)).status));
    const processing = statuses.filter((s) => s === "processing").length;
    expect(processing).toBeGreaterThanOrEqual(CONCURRENCY);
    expect(processing).toBeLessThanOrEqual(2 * CONCURRENCY);
    expect(statuses.filter((s) => s === "pending")).toHaveLength(12 - processing);
    expect(sink.to("/gate")).toHaveLength(CONCURRENCY);
    openGate();
    for (const id of ids) await settled(id, "completed");
    expect(sink.to("/gate")).toHaveLength(12);
    expect(sink.maxInFlight("/gate")).toBe(CONCURRENCY);
  });
});

describe("idempotency, runAt, cancel and retry", () => {
  test("the same key returns the first queueId and queues nothing; another body is a 409", async () => {
    const body = { postbackUrl: `${sink.url}/idem`, payload: { order: 1 } };
    const first = await enqueue(body, { "Idempotency-Key": "order-1" });
    const again = await enqueue(body, { "Idempotency-Key": "order-1" });
    const asField = await enqueue({ ...body, idempotencyKey: "order-1" });
    expect(again.body.queueId).toBe(first.body.queueId);
    expect(asField.body.queueId).toBe(first.body.queueId);
    const other = await enqueue({ ...body, payload: { order: 2 } }, { "Idempotency-Key": "order-1" });
    expect(other.status).toBe(409);
    expect((other.body.error as Json).code).toBe("CONFLICT");
    const bad = await enqueue(body, { "Idempotency-Key": "has space" });
    expect(bad.status).toBe(400);
    await settled(first.body.queueId as string, "completed");
    await Bun.sleep(50);
    expect(sink.to("/idem")).toHaveLength(1);
    // Still the same after delivery (within retention).
    expect((await enqueue(body, { "Idempotency-Key": "order-1" })).body.queueId).toBe(first.body.queueId);
  });

  test("runAt delays the first attempt", async () => {
    const runAt = new Date(Date.now() + 700).toISOString();
    const t0 = performance.now();
    const id = await queue({ postbackUrl: `${sink.url}/later`, payload: {}, runAt });
    const pending = await job(id);
    expect(pending.status).toBe("pending");
    expect(pending.nextAttemptAt).toBe(runAt);
    await settled(id, "completed", 3000);
    expect((sink.to("/later")[0]?.at ?? 0) - t0).toBeGreaterThanOrEqual(600);
  });

  test("cancel a pending job (409 once it is not pending); retry a cancelled or failed one", async () => {
    const runAt = new Date(Date.now() + 60_000).toISOString();
    const id = await queue({ postbackUrl: `${sink.url}/cancelled`, payload: {}, runAt });
    const cancel = await server.api(`/api/queue/postback/${id}`, { method: "DELETE" });
    expect(cancel.status).toBe(200);
    expect(((await cancel.json()) as Job).status).toBe("cancelled");
    expect((await server.api(`/api/queue/postback/${id}`, { method: "DELETE" })).status).toBe(409);

    const retry = await server.api(`/api/queue/postback/${id}/retry`, { method: "POST" });
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as Job).status).toBe("pending");
    await settled(id, "completed");
    expect(sink.to("/cancelled")).toHaveLength(1);
    expect((await server.api(`/api/queue/postback/${id}/retry`, { method: "POST" })).status).toBe(409);
    expect((await server.api(`/api/queue/postback/${id}`, { method: "DELETE" })).status).toBe(409);

    const failed = await queue({ postbackUrl: `${sink.url}/status/410`, payload: { again: true } });
    await settled(failed, "failed");
    expect((await server.api(`/api/queue/postback/${failed}/retry`, { method: "POST" })).status).toBe(200);
    const twice = await settled(failed, "failed");
    expect(twice.attempts).toHaveLength(2);

    const missing = "01936d3e-7c2a-7000-8000-00000000ffff";
    expect((await server.api(`/api/queue/postback/${missing}`)).status).toBe(404);
    expect((await server.api(`/api/queue/postback/${missing}`, { method: "DELETE" })).status).toBe(404);
  });
});

describe("reading the queue", () => {
  test("list: newest first, by status, a page at a time; stats; tRPC; metrics", async () => {
    const all = (await (await server.api("/api/queue/postback?limit=200")).json()) as { items: Job[] };
    const ids = all.items.map((j) => j.id);
    expect(ids).toEqual([...ids].sort().reverse());

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/api/queue/postback?status=completed&limit=4${cursor ? `&cursor=${cursor}` : ""}`;
      const page = (await (await server.api(q)).json()) as { items: Job[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(4);
      for (const j of page.items) expect(j.status).toBe("completed");
      seen.push(...page.items.map((j) => j.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.items.filter((j) => j.status === "completed").map((j) => j.id));

    const stats = (await (await server.api("/api/queue/stats")).json()) as {
      counts: Record<string, number>;
      total: number;
    };
    expect(stats.counts.completed).toBe(seen.length);
    expect(stats.total).toBe(all.items.length);

    const admin = server.admin();
    const viaTrpc = await admin.postbacks.enqueue.mutate({ postbackUrl: `${sink.url}/trpc`, payload: { via: "trpc" } });
    await settled(viaTrpc.queueId, "completed");
    expect((await admin.postbacks.get.query({ id: viaTrpc.queueId })).status).toBe("completed");

    const metrics = await (await server.api("/metrics")).text();
    expect(metrics).toMatch(/postback_attempts_total\{outcome="success"\} \d+/);
    expect(metrics).toMatch(/postback_jobs\{status="completed"\} \d+/);
    expect(metrics).toContain("postback_delivery_duration_seconds_bucket");
    expect(metrics).toContain("postback_queue_wait_seconds_bucket");
  });

  test("one log line per attempt, with the queueId, never the payload or the secret", () => {
    const lines = server.logs().filter((l) => l.event === "postback_attempt");
    expect(lines.length).toBeGreaterThan(10);
    for (const l of lines) expect(typeof l.queueId).toBe("string");
    const raw = server.rawLogs();
    expect(raw).not.toContain("John Doe");
    expect(raw).not.toContain(SECRET.slice(6));
  });
});

describe("dynamic events", () => {
  test("an accepted dynamic event of a subscriber with a postbackUrl is forwarded", async () => {
    const reg = await server.api("/subscribers", {
      method: "POST",
      body: JSON.stringify({ eventListener: "orderPlaced", postbackUrl: `${sink.url}/events` }),
    });
    expect(reg.status).toBe(200);
    const socket: Socket = io(server.url, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      auth: { token: await server.token("ann") },
    });
    try {
      await until(() => socket.connected, 3000, "the socket");
      const ack = (await socket.timeout(3000).emitWithAck("orderPlaced", { data: { total: 42 } })) as Json;
      expect(ack.success).toBe(true);
      const req = await until(() => sink.to("/events")[0], 3000, "the forwarded event");
      const body = JSON.parse(req.body) as Json;
      expect(body).toEqual({
        event: "orderPlaced",
        userId: "ann",
        roomId: null,
        data: { total: 42 },
        timestamp: expect.any(String),
      });
      expect(new Webhook(SECRET).verify(req.body, Object.fromEntries(req.headers))).toEqual(body);
    } finally {
      socket.close();
    }
  });
});
