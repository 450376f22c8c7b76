/**
 * Postbacks across nodes on one PostgreSQL database (each node a real OS process):
 * - two nodes deliver N jobs queued through both, each job exactly once, never twice at the same
 *   time; the second node starts while the first is delivering, and takes none of its jobs in flight;
 * - a node killed with SIGKILL mid-delivery leaves its `processing` jobs to the other node, which takes
 *   them over only after their lease expired: every job completes, none is in flight twice at once;
 * - a node's claimed jobs waiting in its ready queue while the database stalls are handed back rather
 *   than started on a lease too short for their timeout.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { createPgDatabase, type PgDatabase, requirePostgres, SKIP_PG } from "../helpers/postgres";
import { ROOT, startProcess } from "../helpers/process";
import { type SinkRequest, startSink, until } from "../helpers/sink";

const TOKEN = "cluster-test-api-token-0123456789";

const baseEnv = (url: string, extra: Record<string, string> = {}) => ({
  NODE_ENV: "test",
  DATABASE_URL: url,
  API_TOKEN: TOKEN,
  JWT_SECRET: "cluster-test-jwt-secret-0123456789abcdef0123",
  POSTBACK_SIGNING_SECRET: `whsec_${Buffer.from("cluster-test-signing-secret-0123456789").toString("base64")}`,
  POSTBACK_ALLOW_PRIVATE: "true",
  POSTBACK_CONCURRENCY: "10",
  POSTBACK_BACKOFF_MS: "20",
  LOG_LEVEL: "info",
  ...extra,
});

const call = (url: string, path: string, init: RequestInit = {}) =>
  fetch(`${url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
  });

async function enqueue(nodeUrl: string, target: string, from: number, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = from; start < from + count; start += 20) {
    const answers = await Promise.all(
      Array.from({ length: Math.min(20, from + count - start) }, (_, i) =>
        call(nodeUrl, "/api/queue/postback", {
          method: "POST",
          body: JSON.stringify({ postbackUrl: target, payload: { n: start + i } }),
        }).then(async (r) => {
          expect(r.status).toBe(200);
          return ((await r.json()) as { queueId: string }).queueId;
        }),
      ),
    );
    ids.push(...answers);
  }
  return ids;
}

/** A receiver that notes, per webhook-id, every arrival and whether another delivery of it was still open. */
function startReceiver(delayMs: number) {
  const open = new Map<string, number>();
  const overlaps: string[] = [];
  const sink = startSink({
    "/hook": async (req: SinkRequest) => {
      const id = req.headers.get("webhook-id") as string;
      if ((open.get(id) ?? 0) > 0) overlaps.push(id);
      open.set(id, (open.get(id) ?? 0) + 1);
      try {
        await Bun.sleep(delayMs);
        return new Response("ok");
      } finally {
        open.set(id, (open.get(id) ?? 1) - 1);
      }
    },
  });
  const byId = () => {
    const m = new Map<string, number[]>();
    for (const r of sink.to("/hook")) {
      const id = r.headers.get("webhook-id") as string;
      m.set(id, [...(m.get(id) ?? []), r.at]);
    }
    return m;
  };
  return { sink, overlaps, byId };
}

const stats = async (url: string) =>
  (await (await call(url, "/api/queue/stats")).json()) as { counts: Record<string, number> };

const attemptLines = (logs: string) => logs.split("\n").filter((l) => l.includes('"event":"postback_attempt"')).length;

describe.skipIf(SKIP_PG)("postbacks on N nodes sharing PostgreSQL", () => {
  const databases: PgDatabase[] = [];
  beforeAll(() => requirePostgres());
  afterAll(async () => {
    await Promise.all(databases.map((d) => d.drop()));
  });

  test("two nodes: N jobs queued through both are delivered once each, never concurrently twice", async () => {
    const JOBS = 200;
    const db = await createPgDatabase();
    databases.push(db);
    const { sink, overlaps, byId } = startReceiver(20);
    const a = await startProcess(ROOT, baseEnv(db.url));
    let b: Awaited<ReturnType<typeof startProcess>> | undefined;
    try {
      const ids = await enqueue(a.url, `${sink.url}/hook`, 0, JOBS / 2);
      // B starts while A delivers: start-up takes none of A's jobs in flight.
      await until(() => sink.to("/hook").length >= 10, 5000, "A to deliver");
      b = await startProcess(ROOT, baseEnv(db.url));
      ids.push(...(await enqueue(b.url, `${sink.url}/hook`, JOBS / 2, JOBS / 2)));
      expect(new Set(ids).size).toBe(JOBS);

      const done = await until(
        async () => {
          const s = await stats(a.url);
          return s.counts.completed === JOBS ? s : undefined;
        },
        20000,
        "every job to complete",
      );
      expect(done.counts).toEqual({ pending: 0, processing: 0, completed: JOBS, failed: 0, cancelled: 0 });
      await Bun.sleep(300); // nothing more arrives
      const received = byId();
      expect([...received.keys()].sort()).toEqual([...ids].sort());
      expect([...received.values()].filter((times) => times.length > 1)).toEqual([]);
      expect(sink.to("/hook")).toHaveLength(JOBS);
      expect(overlaps).toEqual([]);
      // Both nodes delivered, and between them one attempt per job (their log lines may still be on the way).
      const started = b;
      await until(
        () => attemptLines(a.logsSoFar()) + attemptLines(started.logsSoFar()) >= JOBS,
        5000,
        "every attempt's log line",
      );
      const [logsA, logsB] = [a.logsSoFar(), b.logsSoFar()];
      expect(attemptLines(logsA)).toBeGreaterThan(0);
      expect(attemptLines(logsB)).toBeGreaterThan(0);
      expect(attemptLines(logsA) + attemptLines(logsB)).toBe(JOBS);
      expect(logsB).not.toContain('"event":"postback_requeued"');
    } finally {
      a.proc.kill("SIGTERM");
      b?.proc.kill("SIGTERM");
      await Promise.all([a.proc.exited, b?.proc.exited]);
      sink.stop();
    }
  }, 40000);

  test("SIGKILL mid-delivery: the other node takes the killed node's jobs over once their lease expired", async () => {
    const JOBS = 60;
    const LEASE_MS = 6000; // POSTBACK_TIMEOUT_MS + 5 s, the least the lease can be
    const db = await createPgDatabase();
    databases.push(db);
    const { sink, overlaps, byId } = startReceiver(400);
    const env = baseEnv(db.url, { POSTBACK_TIMEOUT_MS: "1000", POSTBACK_LEASE_MS: "1000" });
    const a = await startProcess(ROOT, env);
    let b: Awaited<ReturnType<typeof startProcess>> | undefined;
    try {
      const ids = await enqueue(a.url, `${sink.url}/hook`, 0, JOBS);
      // A has 10 attempts open (400 ms each) when it dies.
      await until(() => sink.to("/hook").length >= 15, 5000, "A to deliver");
      a.proc.kill("SIGKILL");
      await a.proc.exited;
      const killedAt = performance.now();
      b = await startProcess(ROOT, env);
      const inFlightAtKill = (await stats(b.url)).counts.processing as number;
      expect(inFlightAtKill).toBeGreaterThan(0); // A's, still leased: B's start-up leaves them alone
      expect(b.logsSoFar()).not.toContain('"event":"postback_requeued"');
      const started = b;

      const done = await until(
        async () => {
          const s = await stats(started.url);
          return s.counts.completed === JOBS ? s : undefined;
        },
        25000,
        "every job to complete",
      );
      expect(done.counts).toEqual({ pending: 0, processing: 0, completed: JOBS, failed: 0, cancelled: 0 });
      const received = byId();
      expect([...received.keys()].sort()).toEqual([...ids].sort()); // none lost
      expect(overlaps).toEqual([]); // none in flight twice at once
      // A job delivered twice is one A was delivering when it died, taken over after its lease.
      const twice = [...received.entries()].filter(([, times]) => times.length > 1);
      expect(twice.length).toBeGreaterThan(0);
      expect(twice.length).toBeLessThanOrEqual(10);
      for (const [, times] of twice) {
        expect(times).toHaveLength(2);
        // Not before the lease (A claimed it a little before its first arrival): a requeue at B's start
        // would have sent it again within about a second of the kill.
        expect((times[1] as number) - (times[0] as number)).toBeGreaterThan(LEASE_MS - 3000);
        expect(times[1] as number).toBeGreaterThan(killedAt);
      }
      console.log(
        `cluster takeover: ${JOBS} jobs, ${inFlightAtKill} processing at the kill, ${twice.length} delivered again after the lease`,
      );
    } finally {
      if (a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill("SIGKILL");
      b?.proc.kill("SIGTERM");
      await Promise.all([a.proc.exited, b?.proc.exited]);
      sink.stop();
    }
  }, 45000);

  test("claimed jobs that waited too long for a slot (the database stalled) are handed back, not started on a short lease", async () => {
    const JOBS = 6;
    const db = await createPgDatabase();
    databases.push(db);
    const pg = new SQL(db.url);
    // The first arrival locks the jobs table for 4.5 s (within the 6 s lease of the first claim): the two
    // attempts in flight cannot record their outcome, so the two jobs claimed beside them wait in memory.
    let stall: Promise<unknown> | undefined;
    const locked = Promise.withResolvers<void>();
    const sink = startSink({
      "/hook": async () => {
        stall ??= pg.begin(async (tx) => {
          await tx`lock table postbacks in exclusive mode`;
          locked.resolve();
          await Bun.sleep(4500);
        });
        await locked.promise;
        return new Response("ok");
      },
    });
    // Concurrency 2: a claim takes 4 (2 started, 2 ready); lease 6 s (POSTBACK_TIMEOUT_MS + 5 s, the least).
    const node = await startProcess(
      ROOT,
      baseEnv(db.url, { POSTBACK_CONCURRENCY: "2", POSTBACK_TIMEOUT_MS: "1000", POSTBACK_LEASE_MS: "1000" }),
    );
    try {
      const runAt = new Date(Date.now() + 1000).toISOString(); // all due at once: one claim of 4
      const ids = await Promise.all(
        Array.from({ length: JOBS }, (_, n) =>
          call(node.url, "/api/queue/postback", {
            method: "POST",
            body: JSON.stringify({ postbackUrl: `${sink.url}/hook`, payload: { n }, runAt }),
          }).then(async (r) => ((await r.json()) as { queueId: string }).queueId),
        ),
      );
      const done = await until(
        async () => {
          const s = await stats(node.url);
          return s.counts.completed === JOBS ? s : undefined;
        },
        20000,
        "every job to complete",
      );
      expect(done.counts).toEqual({ pending: 0, processing: 0, completed: JOBS, failed: 0, cancelled: 0 });
      await stall;
      // Each job sent once: the two handed back were never sent on their old claim.
      const sent = sink.to("/hook").map((r) => r.headers.get("webhook-id"));
      expect(sent.sort()).toEqual([...ids].sort());
      const handedBack = node
        .logsSoFar()
        .split("\n")
        .filter((l) => l.includes('"event":"postback_handed_back"'))
        .flatMap((l) => (JSON.parse(l) as { queueIds: string[] }).queueIds);
      expect(handedBack).toHaveLength(2);
    } finally {
      node.proc.kill("SIGTERM");
      await node.proc.exited;
      await pg.close();
      sink.stop();
    }
  }, 30000);
});
