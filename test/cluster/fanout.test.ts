/**
 * The native fan-out composed with the cluster adapters: two nodes on the real Redis of this
 * machine, each built with the project's adapter module (test/helpers/adapter-harness.ts). A
 * broadcast from either node reaches websocket members on both through Bun's pub/sub and polling
 * ones the stock way, once each, in order, with the recovery offsets of the streams adapter.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { connectRedis, type RedisLink } from "../../src/cluster/redis";
import { createLogger } from "../../src/observability/logger";
import { type ClusterAdapters, loadClusterAdapters } from "../../src/realtime/adapter";
import { fanoutUnsupported } from "../../src/realtime/fanout/self-test";
import { type Harness, harness, type Member, range, settle, until } from "../helpers/adapter-harness";
import { dropRedisKeys, REDIS_URL, redisPrefix, requireRedis } from "../helpers/redis";

type ClusterKind = "redis-streams" | "redis";
const prefix = redisPrefix();
let adapters: ClusterAdapters;
const links: RedisLink[] = [];
let open: Harness[] = [];

beforeAll(async () => {
  await requireRedis();
  adapters = await loadClusterAdapters();
});
afterEach(async () => {
  await Promise.all(open.map((h) => h.close()));
  open = [];
});
afterAll(async () => {
  await Promise.all(links.map((l) => l.close()));
  await dropRedisKeys(prefix);
});

/** Two nodes of one cluster (a Redis key prefix of their own per test). */
async function twoNodes(kind: ClusterKind): Promise<[Harness, Harness]> {
  const cluster = `${prefix}:${crypto.randomUUID()}`;
  const node = async () => {
    const redis = await connectRedis(REDIS_URL, cluster, createLogger("silent"));
    links.push(redis);
    const h = await harness(kind, { cluster: { redis, adapters } });
    open.push(h);
    return h;
  };
  const nodes: [Harness, Harness] = [await node(), await node()];
  // Both adapters listen before anything is broadcast (their subscriptions are asynchronous).
  await Bun.sleep(200);
  return nodes;
}

/** A websocket, a polling and an upgraded member on a node. */
const trio = async (h: Harness) => [await h.member("websocket"), await h.member("polling"), await h.member("upgraded")];

test("the native fan-out is verified for both cluster adapters", () => {
  expect(fanoutUnsupported("redis-streams")).toBeUndefined();
  expect(fanoutUnsupported("redis")).toBeUndefined();
  expect(fanoutUnsupported("redis-streams", { "@socket.io/redis-streams-adapter": "0.3.2" })).toContain(
    "is installed; the native fan-out is verified with",
  );
});

describe.each(["redis-streams", "redis"] as const)("%s adapter with the native fan-out", (kind) => {
  test("to(room) from either node: every member on both nodes gets each broadcast once, in order", async () => {
    const [a, b] = await twoNodes(kind);
    const [onA, onB] = [await trio(a), await trio(b)];
    const outsiders = [await a.member("websocket"), await b.member("websocket")];
    for (const m of [...onA, ...onB]) m.server.join("r");
    // websocket + upgraded + outsider native on each node, polling stock
    expect([a.stats(), b.stats()]).toEqual([
      { native: 3, stock: 1 },
      { native: 3, stock: 1 },
    ]);
    const members = [...onA, ...onB];
    const perSocketWrites = members.map(countEngineWrites);
    for (let i = 0; i < 20; i++) a.io.to("r").emit("m", i);
    await until(() => members.every((m) => m.got().length >= 20), "the broadcasts from a");
    for (let i = 20; i < 40; i++) b.io.to("r").emit("m", i);
    await until(() => members.every((m) => m.got().length >= 40), "the broadcasts from b");
    await settle();
    for (const m of members) expect(m.got()).toEqual(range(0, 40));
    for (const o of outsiders) expect(o.got()).toEqual([]);
    // websocket and upgraded members got them through Bun's pub/sub, polling ones per socket
    expect(perSocketWrites.map((count) => count())).toEqual([0, 40, 0, 0, 40, 0]);
  });

  test("socket.broadcast, except and io.emit span the nodes and skip whom they should", async () => {
    const [a, b] = await twoNodes(kind);
    const [sender, aPeer, aPolling] = [
      await a.member("websocket"),
      await a.member("websocket"),
      await a.member("polling"),
    ];
    const [bPeer, bPolling, bMuted] = [
      await b.member("websocket"),
      await b.member("polling"),
      await b.member("websocket"),
    ];
    const all = [sender, aPeer, aPolling, bPeer, bPolling, bMuted];
    for (const m of all) m.server.join("r");
    bMuted.server.join("muted");
    sender.server.to("r").emit("m", 1); // everyone in r but the sender, on both nodes
    a.io.to("r").except("muted").emit("m", 2);
    b.io.emit("m", 3); // the whole namespace, both nodes
    await until(() => bPeer.got().length >= 3 && sender.got().length >= 2, "the broadcasts");
    await settle();
    // who gets what (broadcasts from two nodes have no order between them)
    const got = (m: Member) => m.got().toSorted();
    expect(got(sender)).toEqual([2, 3]);
    for (const m of [aPeer, aPolling, bPeer, bPolling]) expect(got(m)).toEqual([1, 2, 3]);
    expect(got(bMuted)).toEqual([1, 3]);
  });

  test("binary attachments from the other node arrive intact on websocket and polling members", async () => {
    const [a, b] = await twoNodes(kind);
    const members = [await b.member("websocket"), await b.member("polling"), await a.member("websocket")];
    const got: unknown[][] = members.map(() => []);
    members.forEach((m, i) => {
      m.server.join("r");
      m.client.on("bin", (x: Uint8Array, y: { nested: Uint8Array; n: number }) =>
        got[i]?.push([[...new Uint8Array(x)], [...new Uint8Array(y.nested)], y.n]),
      );
    });
    a.io.to("r").emit("bin", Buffer.from([1, 2, 3]), { nested: new Uint8Array([4, 5]), n: 1 });
    await until(() => got.every((g) => g.length === 1), "the binary broadcast");
    for (const g of got) expect(g).toEqual([[[1, 2, 3], [4, 5], 1]]);
  });

  test("a join asked by the other node subscribes the member's native socket", async () => {
    const [a, b] = await twoNodes(kind);
    const far = await b.member("websocket");
    await a.io.in(far.server.id).socketsJoin("late");
    await until(() => far.server.rooms.has("late"), "the remote join");
    a.io.to("late").emit("m", "hello");
    await until(() => far.got().length === 1, "the broadcast to the joined room");
    expect(far.got()).toEqual(["hello"]);
    expect(b.stats()).toEqual({ native: 1, stock: 0 });
  });

  test("nothing left behind after disconnects on either node", async () => {
    const [a, b] = await twoNodes(kind);
    const members = [...(await trio(a)), ...(await trio(b))];
    for (const m of members) m.server.join("r");
    a.io.to("r").emit("m", 1);
    await until(() => members.every((m) => m.got().length === 1), "the broadcast");
    for (const m of members) m.client.disconnect();
    await until(() => a.io.of("/").sockets.size + b.io.of("/").sockets.size === 0, "every disconnect");
    for (const h of [a, b]) {
      const adapter = h.io.of("/").adapter;
      expect([adapter.rooms.size, adapter.sids.size]).toEqual([0, 0]);
      expect(h.stats()).toEqual({ native: 0, stock: 0 });
    }
  });
});

test("redis-streams: after a forced disconnect, broadcasts missed from both nodes are replayed once, in order", async () => {
  const [a, b] = await twoNodes("redis-streams");
  const other = await b.member("websocket");
  const away = (await a.member("websocket", "/", { reconnection: true, reconnectionDelay: 300 })) as Member;
  for (const m of [other, away]) m.server.join("r");
  const idBefore = away.client.id;
  for (let i = 0; i < 10; i++) b.io.to("r").emit("m", i);
  await until(() => away.got().length === 10, "the first broadcasts");
  const gone = new Promise((resolve) => away.client.once("disconnect", resolve));
  away.client.io.engine.close();
  await gone;
  await until(() => !a.io.of("/").sockets.has(idBefore as string), "the disconnect");
  // Alternating nodes, one at a time: two nodes' broadcasts have no order between them otherwise.
  for (let i = 10; i < 20; i++) {
    (i % 2 ? a : b).io.to("r").emit("m", i);
    await until(() => other.got().length === i + 1, `broadcast ${i} while away`);
  }
  await until(() => away.client.connected, "the reconnect");
  expect(away.client.recovered).toBe(true);
  expect(away.client.id).toBe(idBefore as string);
  for (let i = 20; i < 25; i++) b.io.to("r").emit("m", i);
  await until(() => away.got().length >= 25, "the replay and what follows");
  await settle();
  expect(away.got()).toEqual(range(0, 25));
  expect(a.stats()).toEqual({ native: 1, stock: 0 });
});

/** How many times socket.io writes to this member's engine connection from now on (the stock per-socket path). */
function countEngineWrites(member: Member): () => number {
  const client = (member.server as unknown as { client: { writeToEngine(...args: unknown[]): void } }).client;
  const write = client.writeToEngine.bind(client);
  let count = 0;
  client.writeToEngine = (...args) => {
    count++;
    write(...args);
  };
  return () => count;
}
