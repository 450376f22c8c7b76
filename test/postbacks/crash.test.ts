/**
 * At least once across a crash: the server process is killed with SIGKILL while 200 jobs are being
 * delivered, restarted on the same database, and every job reaches `completed`. The sink counts the
 * duplicates (jobs whose attempt was in flight, or done but not yet recorded, when it died).
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT, removeTempDirs, startProcess, tempDir } from "../helpers/process";
import { startSink, until } from "../helpers/sink";

afterAll(removeTempDirs);

const TOKEN = "crash-test-api-token-0123456789";
const JOBS = 200;

test(`SIGKILL during delivery of ${JOBS} jobs: after a restart on the same database every job completes`, async () => {
  const sink = startSink({
    "/hook": async () => {
      await Bun.sleep(25);
      return new Response("ok");
    },
  });
  const dir = tempDir();
  const env = {
    NODE_ENV: "test",
    DATABASE_PATH: join(dir, "switchboard.db"),
    API_TOKEN: TOKEN,
    JWT_SECRET: "crash-test-jwt-secret-0123456789abcdef0123",
    POSTBACK_SIGNING_SECRET: `whsec_${Buffer.from("crash-test-signing-secret-0123456789").toString("base64")}`,
    POSTBACK_ALLOW_PRIVATE: "true",
    POSTBACK_CONCURRENCY: "10",
    POSTBACK_BACKOFF_MS: "20",
  };
  const call = (url: string, path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    });
  try {
    const first = await startProcess(ROOT, env);
    const ids: string[] = [];
    for (let batch = 0; batch < JOBS / 20; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          call(first.url, "/api/queue/postback", {
            method: "POST",
            body: JSON.stringify({ postbackUrl: `${sink.url}/hook`, payload: { n: batch * 20 + i } }),
          }).then((r) => r.json() as Promise<{ queueId: string }>),
        ),
      );
      ids.push(...answers.map((a) => a.queueId));
    }
    expect(new Set(ids).size).toBe(JOBS);
    // Mid-delivery: some delivered, most not.
    await until(() => sink.to("/hook").length >= 40, 5000, "deliveries to start");
    first.proc.kill("SIGKILL");
    await first.proc.exited;
    const beforeCrash = new Set(sink.to("/hook").map((r) => r.headers.get("webhook-id"))).size;
    expect(beforeCrash).toBeLessThan(JOBS);

    const second = await startProcess(ROOT, env);
    try {
      const stats = await until(
        async () => {
          const s = (await (await call(second.url, "/api/queue/stats")).json()) as {
            counts: Record<string, number>;
          };
          return s.counts.completed === JOBS ? s : undefined;
        },
        15000,
        "every job to complete",
      );
      // The jobs the crash left `processing` were requeued at start-up (logged before "listening").
      expect(second.logsSoFar()).toContain('"event":"postback_requeued"');
      expect(stats.counts).toEqual({ pending: 0, processing: 0, completed: JOBS, failed: 0, cancelled: 0 });
      const received = sink.to("/hook");
      const unique = new Set(received.map((r) => r.headers.get("webhook-id")));
      expect([...unique].sort()).toEqual([...ids].sort());
      const duplicates = received.length - unique.size;
      // At most the attempts that could be in flight (or finished, unrecorded) at the kill.
      expect(duplicates).toBeLessThanOrEqual(20);
      console.log(
        `crash test: ${JOBS} jobs, ${beforeCrash} delivered before SIGKILL, ${received.length} requests received, ` +
          `${duplicates} duplicate(s) (same webhook-id)`,
      );
    } finally {
      second.proc.kill("SIGTERM");
      await second.proc.exited;
    }
  } finally {
    sink.stop();
  }
}, 30000);
