/**
 * Two nodes on the real Redis of this machine: the `redis` (pub/sub) adapter carries room broadcasts
 * and cluster-wide counts too; RATE_LIMIT_STORE=redis makes the HTTP budget one for every node; the
 * per-node store keeps one per node.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Ack, ChatMessage, Connected, RoomJoined } from "../../generated/events";
import { dropRedisKeys, REDIS_URL, redisPrefix, requireRedis, untilNodesSee } from "../helpers/redis";
import { once, startTestServer, type TestServer } from "../helpers/server";

const prefix = redisPrefix();
const started: TestServer[] = [];
const start = async (env: Record<string, string>) => {
  const s = await startTestServer({ REDIS_URL, REDIS_PREFIX: prefix, ...env });
  started.push(s);
  return s;
};
beforeAll(requireRedis);
afterAll(async () => {
  await Promise.all(started.map((s) => s.close()));
  await dropRedisKeys(prefix);
});

test("SOCKET_ADAPTER=redis (pub/sub): a room broadcast and a join's member list span both nodes", async () => {
  const [a, b] = [await start({ SOCKET_ADAPTER: "redis" }), await start({ SOCKET_ADAPTER: "redis" })] as [
    TestServer,
    TestServer,
  ];
  await untilNodesSee([a, b]);
  const ann = a.socket({ token: await a.token("ann") });
  const ben = b.socket({ token: await b.token("ben") });
  await Promise.all([once<Connected>(ann, "connected"), once<Connected>(ben, "connected")]);
  await ann.emitWithAck("room:join", { roomId: "p-room" });
  const joined = (await ben.emitWithAck("room:join", { roomId: "p-room" })) as Ack<RoomJoined>;
  expect(joined).toMatchObject({ success: true, data: { members: ["ann", "ben"] } });
  const heard = once<ChatMessage>(ben, "message:new");
  await ann.emitWithAck("message:send", { roomId: "p-room", content: "over pub/sub" });
  expect((await heard).content).toBe("over pub/sub");
  const health = (await (await b.api("/health")).json()) as { cluster: unknown };
  expect(health.cluster).toEqual({ adapter: "redis", nodes: 2, redis: { reachable: true } });
});

test("RATE_LIMIT_STORE=redis: one budget for every node; memory: one per node", async () => {
  const limits = { RATE_LIMIT_MAX: "4", RATE_LIMIT_BAN: "0", SOCKET_ADAPTER: "bun" };
  const shared = [
    await start({ ...limits, RATE_LIMIT_STORE: "redis" }),
    await start({ ...limits, RATE_LIMIT_STORE: "redis" }),
  ];
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await (shared[i % 2] as TestServer).api("/health", { auth: false });
    statuses.push(res.status);
    if (res.status === 429) {
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code).toBe("RATE_LIMITED");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
  }
  expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);

  const apart = [
    await start({ ...limits, RATE_LIMIT_STORE: "memory" }),
    await start({ ...limits, RATE_LIMIT_STORE: "memory" }),
  ];
  const each: number[] = [];
  for (let i = 0; i < 8; i++) each.push((await (apart[i % 2] as TestServer).api("/health", { auth: false })).status);
  expect(each).toEqual([200, 200, 200, 200, 200, 200, 200, 200]);
});
