/**
 * Redis going away under a node (a TCP proxy in front of the real Redis, closed and reopened): /health
 * says so at once, /alive fails once it has been gone longer than REDIS_DOWN_ALIVE_MS, and both
 * recover when Redis is back; the node still shuts down while Redis is gone.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Socket, TCPSocketListener } from "bun";
import { removeTempDirs, startProcess, tempDir } from "../helpers/process";
import { REDIS_URL } from "../helpers/redis";
import { TEST_API_TOKEN, TEST_JWT_SECRET } from "../helpers/server";

const target = new URL(REDIS_URL);

interface Link {
  peer?: Socket<undefined>;
  /** What the client sent before the connection to Redis was up. */
  pending: Uint8Array[];
}

/** A byte-for-byte proxy to Redis that can be cut (every connection closed, nothing accepted) and reopened. */
function redisProxy(port = 0) {
  const open = new Set<Socket<Link>>();
  const listener: TCPSocketListener<Link> = Bun.listen<Link>({
    hostname: "127.0.0.1",
    port,
    socket: {
      open(client) {
        open.add(client);
        client.data = { pending: [] };
        void Bun.connect<undefined>({
          hostname: target.hostname,
          port: Number(target.port || 6379),
          socket: {
            data(_s, chunk) {
              client.write(chunk);
            },
            close() {
              client.end();
            },
          },
        }).then((peer) => {
          client.data.peer = peer;
          for (const chunk of client.data.pending.splice(0)) peer.write(chunk);
        });
      },
      data(client, chunk) {
        if (client.data.peer) client.data.peer.write(chunk);
        else client.data.pending.push(new Uint8Array(chunk));
      },
      close(client) {
        open.delete(client);
        client.data.peer?.end();
      },
    },
  });
  return {
    port: listener.port,
    cut() {
      listener.stop(true);
      for (const c of open) c.end();
    },
  };
}

// The gateway runs as its own process, as in production: the test reads its log (one line per outage, no
// unobserved rejection) and shows that it survives the outage and still stops cleanly.
let node: Awaited<ReturnType<typeof startProcess>> | undefined;
afterAll(() => {
  node?.proc.kill("SIGKILL");
  removeTempDirs();
});

test("Redis unreachable: /health 503 at once, /alive 503 after REDIS_DOWN_ALIVE_MS; both back when Redis is", async () => {
  let proxy = redisProxy();
  const port = proxy.port;
  const dir = tempDir();
  node = await startProcess(dir, {
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    DATABASE_PATH: join(dir, "node.db"),
    API_TOKEN: TEST_API_TOKEN,
    JWT_SECRET: TEST_JWT_SECRET,
    REDIS_URL: `redis://127.0.0.1:${port}`,
    REDIS_PREFIX: `switchboard-test-${crypto.randomUUID()}`,
    REDIS_DOWN_ALIVE_MS: "800",
    RATE_LIMIT_STORE: "redis", // every request below is counted in Redis: an outage must not hold them
  });
  const url = node.url;
  const probe = async (path: string) => {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TEST_API_TOKEN}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  expect((await probe("/alive")).status).toBe(200);
  expect((await probe("/health")).body.cluster).toMatchObject({ redis: { reachable: true } });

  proxy.cut();
  await Bun.sleep(200);
  const health = await probe("/health");
  expect(health.status).toBe(503);
  expect(health.body.cluster).toMatchObject({ redis: { reachable: false } });
  expect((await probe("/alive")).body).toMatchObject({ status: "ok" }); // not yet: a blip is not a reason to restart
  await Bun.sleep(900);
  const alive = await probe("/alive");
  expect(alive.status).toBe(503);
  expect(String((alive.body.reasons as string[])[0])).toMatch(/^redis unreachable for \d+ s$/);
  const counted = await fetch(`${url}/api/queue/stats`, { headers: { authorization: `Bearer ${TEST_API_TOKEN}` } });
  expect(counted.status).toBe(200); // the shared rate limit lets requests through while Redis is gone
  expect(counted.headers.get("ratelimit-limit")).not.toBeNull();

  proxy = redisProxy(port);
  const deadline = Date.now() + 10_000;
  while ((await probe("/health")).status !== 200) {
    if (Date.now() > deadline) throw new Error("the client did not reconnect");
    await Bun.sleep(100);
  }
  expect((await probe("/alive")).status).toBe(200);

  // It still shuts down cleanly while Redis is gone (commands waiting for Redis are dropped, not awaited forever).
  proxy.cut();
  node.proc.kill("SIGTERM");
  expect(await node.proc.exited).toBe(0);
  const log = await node.stdout();
  expect(log).toContain('"event":"stopped"');
  expect(log.match(/"event":"rate_limit_store_down"/g)?.length).toBe(1); // once per outage, not per request
  expect(log).not.toContain("unhandled_rejection"); // the outage left no promise unobserved
}, 30_000);
