/**
 * Three gateway nodes on the real Redis (SOCKET_ADAPTER=redis-streams, one key prefix per run) and one
 * PostgreSQL database of this machine, clients spread over them: room broadcasts, joins, typing,
 * dispatch counts, connection lists and disconnects answer for the whole cluster; a client recovers its
 * session on another node; a frozen node fails cluster-wide requests clearly and a killed one drops out;
 * /health counts the nodes. What is stored (history, receipts, friends, presence) is in
 * test/postgres/cluster-state.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "switchboard/client";
import type { Ack, ChatMessage, Connected, RoomJoined } from "../../generated/events";
import { type Cluster, startCluster } from "../helpers/cluster";
import { removeTempDirs } from "../helpers/process";
import { untilNodesSee } from "../helpers/redis";
import { once, TEST_API_TOKEN, type TestServer } from "../helpers/server";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster(3, { SOCKET_RATE_LIMIT: "1000" });
}, 30_000);
afterAll(() => cluster?.close());

interface Health {
  status: string;
  cluster: { adapter: string; nodes: number | null; redis: { reachable: boolean } | null };
}
/** A socket listened to for a run-time event name (the typed client only knows declared ones). */
interface SocketLike {
  once(event: string, fn: (arg: { n: number }) => void): unknown;
}
const health = async (n: TestServer) => (await (await n.api("/health")).json()) as Health;

const node = (i: number) => cluster.node(i);
async function user(i: number, userId: string) {
  const socket = node(i).socket({ token: await node(i).token(userId) });
  await once<Connected>(socket, "connected");
  return socket;
}
const join = async (socket: ReturnType<TestServer["socket"]>, roomId: string) =>
  (await socket.emitWithAck("room:join", { roomId })) as Ack<RoomJoined>;

test("/health on every node: the redis-streams adapter, Redis reachable, 3 nodes", async () => {
  for (const n of cluster.nodes) {
    const h = await health(n);
    expect(h.status).toBe("ok");
    expect(h.cluster).toEqual({ adapter: "redis-streams", nodes: 3, redis: { reachable: true } });
  }
});

describe("rooms across nodes", () => {
  test("a join lists members on other nodes; message:new, typing and a leave reach members on every node", async () => {
    const ann = await user(0, "ann");
    const ben = await user(1, "ben");
    const cid = await user(2, "cid");
    expect(await join(ann, "x-room")).toMatchObject({ success: true, data: { members: ["ann"] } });
    expect(await join(ben, "x-room")).toMatchObject({ success: true, data: { members: ["ann", "ben"] } });
    expect(await join(cid, "x-room")).toMatchObject({ success: true, data: { members: ["ann", "ben", "cid"] } });

    const heard = { ben: [] as string[], cid: [] as string[] };
    ben.on("message:new", (m: ChatMessage) => heard.ben.push(m.content));
    cid.on("message:new", (m: ChatMessage) => heard.cid.push(m.content));
    const typing = once<{ userId: string }>(cid, "typing:start");
    for (const content of ["one", "two", "three"]) {
      expect(((await ann.emitWithAck("message:send", { roomId: "x-room", content })) as Ack<unknown>).success).toBe(
        true,
      );
    }
    await ben.emitWithAck("typing:start", { roomId: "x-room" });
    expect((await typing).userId).toBe("ben");
    await Bun.sleep(300);
    expect(heard).toEqual({ ben: ["one", "two", "three"], cid: ["one", "two", "three"] });

    // Leaving on one node is heard on the others.
    const leftA = once<{ userId: string }>(ann, "room:user-left");
    const leftC = once<{ userId: string }>(cid, "room:user-left");
    expect(((await ben.emitWithAck("room:leave", { roomId: "x-room" })) as Ack<unknown>).success).toBe(true);
    expect([(await leftA).userId, (await leftC).userId]).toEqual(["ben", "ben"]);

    // Only members post: dan (node 2) never joined.
    const dan = await user(2, "dan");
    const refused = (await dan.emitWithAck("message:send", { roomId: "x-room", content: "hi" })) as Ack<unknown>;
    expect(refused).toMatchObject({ success: false, error: { code: "FORBIDDEN" } });
  });
});

describe("the admin API answers for the whole cluster", () => {
  test("dispatch to a channel counts and reaches trusted connections on every node; channel stats count them all", async () => {
    const services = [0, 1, 2].map((i) =>
      connect(node(i).url, { token: TEST_API_TOKEN, query: { channel: "x-channel" }, transports: ["websocket"] }),
    );
    await Promise.all(services.map((s) => once(s, "connected")));
    const got = services.map(
      (s) =>
        new Promise<number>((resolve) =>
          (s as unknown as SocketLike).once("x-event", (d: { n: number }) => resolve(d.n)),
        ),
    );
    const res = await node(0).api("/api/socket/dispatch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ channel: "x-channel", event: "x-event", data: { n: 7 } }),
    });
    expect(await res.json()).toMatchObject({ success: true, dispatchedCount: 3 });
    expect(await Promise.all(got)).toEqual([7, 7, 7]);
    const stats = await (await node(1).api("/api/socket/sockets/channel/x-channel/stats")).json();
    expect(stats).toEqual({ channel: "x-channel", userCount: 3, socketCount: 3 });
    for (const s of services) s.close();
  });

  test("connected users and socket stats list every node's sockets; disconnect reaches a socket on another node", async () => {
    const eve = await user(1, "eve");
    const eve2 = await user(2, "eve");
    const stats = (await (await node(0).api("/api/socket/sockets/stats?limit=100")).json()) as {
      connections: { userId: string; socketId: string }[];
    };
    expect(
      stats.connections
        .filter((c) => c.userId === "eve")
        .map((c) => c.socketId)
        .sort(),
    ).toEqual([eve.id as string, eve2.id as string].sort());
    const gone = [once<string>(eve, "disconnect"), once<string>(eve2, "disconnect")];
    const res = await node(0).api("/websocket/users/eve/disconnect", { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(await Promise.all(gone)).toEqual(["io server disconnect", "io server disconnect"]);
  });
});

test("connection state recovery on another node: same socket id, rooms back, missed message:new replayed once", async () => {
  const fay = node(0).socket({ token: await node(0).token("fay") });
  await once<Connected>(fay, "connected");
  expect((await join(fay, "r-room")).success).toBe(true);
  const gus = await user(1, "gus");
  expect((await join(gus, "r-room")).success).toBe(true);
  await gus.emitWithAck("message:send", { roomId: "r-room", content: "before" });
  await Bun.sleep(200);
  const client = fay as unknown as { _pid: string; _lastOffset: string };
  const { id } = fay;
  const session = { pid: client._pid, offset: client._lastOffset };
  fay.io.engine.close(); // the transport drops; node 0 keeps the session in Redis
  fay.io.reconnection(false);
  await Bun.sleep(300);
  await gus.emitWithAck("message:send", { roomId: "r-room", content: "while away" });

  // Back through another node (as a load balancer would send it), with the session the client kept.
  const back = node(2).socket({ token: await node(2).token("fay"), autoConnect: false });
  Object.assign(back as unknown as { _pid: string; _lastOffset: string }, {
    _pid: session.pid,
    _lastOffset: session.offset,
  });
  back.connect();
  const heard: string[] = [];
  back.on("message:new", (m: ChatMessage) => heard.push(m.content));
  const connected = await once<Connected>(back, "connected");
  expect(back.recovered).toBe(true);
  expect(back.id).toBe(id as string);
  expect(connected.rooms).toEqual(["r-room"]);
  await Bun.sleep(300);
  expect(heard).toEqual(["while away"]);
  await gus.emitWithAck("message:send", { roomId: "r-room", content: "after" });
  await Bun.sleep(300);
  expect(heard).toEqual(["while away", "after"]);
});

test("a node that does not answer fails a cluster-wide request clearly; a node killed with SIGKILL drops out at once and its clients reconnect elsewhere", async () => {
  const victim = await cluster.startProcessNode();
  const stats = async () => {
    const res = await node(0).api("/api/socket/sockets/stats?limit=100");
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const halSockets = (body: Record<string, unknown>) =>
    (body.connections as { userId: string; socketId: string }[])
      .filter((c) => c.userId === "hal")
      .map((c) => c.socketId);
  try {
    const token = await node(0).token("hal");
    const hal = connect(victim.url, { token, transports: ["websocket"], reconnection: false });
    await once<Connected>(hal, "connected");
    await untilNodesSee([node(0)], 4);

    // Frozen (SIGSTOP): still subscribed in Redis, so counted, but silent: CLUSTER_TIMEOUT_MS, then a clear 503.
    victim.proc.kill("SIGSTOP");
    const frozen = await stats();
    expect(frozen.status).toBe(503);
    expect(frozen.body.error).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    expect(String((frozen.body.error as { message: string }).message)).toContain("did not answer within 3000 ms");
    // So does a dispatch, whose count asks every node for a number.
    const dispatched = await node(0).api("/api/socket/dispatch", {
      method: "POST",
      body: JSON.stringify({ userId: "hal", event: "x-event", data: {} }),
    });
    expect(dispatched.status).toBe(503);
    expect(((await dispatched.json()) as { error: { code: string } }).error.code).toBe("SERVICE_UNAVAILABLE");
    victim.proc.kill("SIGCONT");
    const thawed = await stats();
    expect(thawed.status).toBe(200);
    expect(halSockets(thawed.body)).toEqual([hal.id as string]);

    // Killed: its Redis connection closes, so the others stop waiting for it at once.
    const dropped = once<string>(hal, "disconnect");
    victim.proc.kill("SIGKILL");
    await victim.proc.exited;
    expect(await dropped).toBe("transport close");
    const after = await stats();
    expect(after.status).toBe(200);
    expect(halSockets(after.body)).toEqual([]);
    expect((await health(node(0))).cluster.nodes).toBe(3);

    const again = node(1).socket({ token });
    await once<Connected>(again, "connected");
    expect(halSockets((await stats()).body)).toEqual([again.id as string]);
  } finally {
    victim.proc.kill("SIGCONT");
    victim.proc.kill("SIGKILL");
    removeTempDirs();
  }
}, 40_000);
