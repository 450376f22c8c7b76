/** Graceful shutdown waits (bounded) for postback attempts in flight and records them before the database closes. */
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { startTestServer } from "../helpers/server";
import { startSink, until } from "../helpers/sink";

test("stop() lets an attempt in flight finish and records it; nothing new is claimed", async () => {
  const sink = startSink({
    "/slow": async () => {
      await Bun.sleep(300);
      return new Response("ok");
    },
  });
  const server = await startTestServer({ POSTBACK_ALLOW_PRIVATE: "true", POSTBACK_CONCURRENCY: "1" });
  try {
    const enqueue = (n: number) =>
      server
        .api("/api/queue/postback", {
          method: "POST",
          body: JSON.stringify({ postbackUrl: `${sink.url}/slow`, payload: { n } }),
        })
        .then((r) => r.json() as Promise<{ queueId: string }>);
    const first = await enqueue(1);
    const second = await enqueue(2);
    await until(() => sink.to("/slow").length === 1, 2000, "the first attempt");
    await server.stop();
    const db = new Database(join(server.dir, "switchboard.db"), { readonly: true });
    const status = (id: string) =>
      (db.query("SELECT status FROM postbacks WHERE id = ?").get(id) as { status: string }).status;
    expect(status(first.queueId)).toBe("completed");
    expect(status(second.queueId)).toBe("pending");
    db.close();
    expect(sink.to("/slow")).toHaveLength(1);
  } finally {
    sink.stop();
    rmSync(server.dir, { recursive: true, force: true });
  }
});
