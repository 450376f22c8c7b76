/**
 * A gateway node that dies without a graceful shutdown (SIGKILL), on Redis and one PostgreSQL database:
 * two surviving nodes (in this process) and, per test, a victim node (a process of its own).
 * - a user only on the victim goes offline for its friends within NODE_DEAD_AFTER_MS (and one beat):
 *   one `user:offline` on each friend device, whichever survivor sweeps; its status and lastSeen read
 *   offline through the admin API;
 * - a user back through a survivor before the sweep stays online: friends are told nothing;
 * - a user also connected through a survivor stays online: friends are told nothing;
 * - a frozen node (SIGSTOP) is taken for dead but still counted by the adapter: its users cannot be
 *   checked, so nobody is told, and they are checked again at each sweep until it is really gone;
 * - a live node taken for dead (its row deleted, as a sweep would after a long pause): its users are
 *   counted online, nobody is told, and it registers again with its users at its next heartbeat.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SQL } from "bun";
import { connect, type SwitchboardSocket } from "switchboard/client";
import type { Connected, UserOffline, UserOnline } from "../../generated/events";
import { type Cluster, startCluster } from "../helpers/cluster";
import { SKIP_PG } from "../helpers/postgres";
import { removeTempDirs } from "../helpers/process";
import { once } from "../helpers/server";
import { until } from "../helpers/sink";

/** Small, so a dead node is found quickly: a beat every 400 ms, dead after 1.2 s of silence. */
const DEAD_AFTER_MS = 1200;
/** When friends must have heard, at the latest: silent for DEAD_AFTER_MS, found by the next beat, then told. */
const TOLD_WITHIN_MS = DEAD_AFTER_MS + DEAD_AFTER_MS / 3 + 1500;

type Heard = ["user:online", UserOnline] | ["user:offline", UserOffline];

describe.skipIf(SKIP_PG)("a node killed with SIGKILL: its users' friends are told they left", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(2, { NODE_DEAD_AFTER_MS: String(DEAD_AFTER_MS) });
  }, 30_000);
  afterAll(async () => {
    await cluster?.close();
    removeTempDirs();
  });

  const node = (i: number) => cluster.node(i);
  const befriend = async (a: string, b: string) =>
    expect((await node(0).api(`/api/users/${a}/friends/${b}`, { method: "PUT" })).status).toBe(200);

  /** A device of `userId` on a survivor, with what it hears about friends. */
  async function device(i: number, userId: string) {
    const socket = node(i).socket({ token: await node(i).token(userId) });
    const heard: Heard[] = [];
    socket.on("user:online", (p: UserOnline) => heard.push(["user:online", p]));
    socket.on("user:offline", (p: UserOffline) => heard.push(["user:offline", p]));
    await once<Connected>(socket, "connected");
    return { socket, heard };
  }

  /** A third node, as a process of its own (so it can be killed), with its node id from its start-up line. */
  async function startVictim() {
    const victim = await cluster.startProcessNode();
    const line = victim
      .logsSoFar()
      .split("\n")
      .find((l) => l.includes('"event":"listening"')) as string;
    const nodeId = (JSON.parse(line) as { nodeId: string }).nodeId;
    expect(nodeId).toBeString();
    const sockets: SwitchboardSocket[] = [];
    return {
      nodeId,
      async socket(userId: string) {
        const s = connect(victim.url, {
          token: await node(0).token(userId),
          transports: ["websocket"],
          reconnection: false,
        });
        sockets.push(s);
        await once<Connected>(s, "connected");
        return s;
      },
      /** SIGKILL; resolves once its clients saw the connection drop. */
      async kill() {
        const dropped = Promise.all(sockets.map((s) => once<string>(s, "disconnect")));
        victim.proc.kill("SIGKILL");
        await victim.proc.exited;
        expect(await dropped).toEqual(sockets.map(() => "transport close"));
        return Date.now();
      },
      freeze: () => victim.proc.kill("SIGSTOP"),
      stop: () => victim.proc.kill("SIGKILL"),
    };
  }

  /** Until a survivor has swept the victim: its heartbeat row and every row of its users are gone. */
  const untilSwept = (nodeId: string) =>
    until(
      async () => {
        const rows = await node(0).query<{ n: number }>(
          "SELECT (SELECT CAST(count(*) AS integer) FROM gateway_nodes WHERE node_id = ?) + " +
            "(SELECT CAST(count(*) AS integer) FROM node_users WHERE node_id = ?) AS n",
          nodeId,
          nodeId,
        );
        return rows[0]?.n === 0;
      },
      TOLD_WITHIN_MS,
      "a survivor to sweep the dead node",
    );

  const status = async (userId: string) =>
    (await (await node(1).api(`/websocket/users/${userId}/status`)).json()) as {
      online: boolean;
      status: string;
      devices: number;
      lastSeen: string | null;
    };

  test("a user only on the dead node: one user:offline on each friend device, within NODE_DEAD_AFTER_MS; status offline, lastSeen stored", async () => {
    await befriend("nd-ann", "nd-bob");
    const bobOn0 = await device(0, "nd-bob");
    const bobOn1 = await device(1, "nd-bob");
    const victim = await startVictim();
    try {
      const connectedAt = Date.now();
      await victim.socket("nd-ann");
      for (const b of [bobOn0, bobOn1]) await until(() => b.heard.length === 1, 5000, "bob to hear ann come online");
      expect((await status("nd-ann")).online).toBe(true);

      const killedAt = await victim.kill();
      await until(
        () => bobOn0.heard.length === 2 && bobOn1.heard.length === 2,
        TOLD_WITHIN_MS,
        "bob to hear ann leave on both devices",
      );
      const toldAfterMs = Date.now() - killedAt;
      expect(toldAfterMs).toBeLessThan(TOLD_WITHIN_MS);
      await Bun.sleep(DEAD_AFTER_MS); // the other survivor swept too: nothing more comes
      for (const b of [bobOn0, bobOn1]) {
        expect(b.heard.map(([event, p]) => [event, p.userId])).toEqual([
          ["user:online", "nd-ann"],
          ["user:offline", "nd-ann"],
        ]);
      }
      const told = bobOn0.heard[1]?.[1] as UserOffline;
      expect(bobOn1.heard[1]?.[1]).toEqual(told);
      // lastSeen: the dead node's last heartbeat, between ann's connect (less a beat) and the kill.
      const lastSeen = Date.parse(told.lastSeen);
      expect(lastSeen).toBeGreaterThanOrEqual(connectedAt - DEAD_AFTER_MS);
      expect(lastSeen).toBeLessThanOrEqual(killedAt);

      expect(await status("nd-ann")).toEqual({
        userId: "nd-ann",
        online: false,
        status: "offline",
        devices: 0,
        lastSeen: told.lastSeen,
      } as never);
      const [row] = await node(0).query<{ announced: string | null; lastSeen: string }>(
        'SELECT announced, last_seen AS "lastSeen" FROM user_presence WHERE user_id = ?',
        "nd-ann",
      );
      expect(row).toEqual({ announced: null, lastSeen: told.lastSeen });
      await untilSwept(victim.nodeId);
    } finally {
      victim.stop();
    }
  }, 30_000);

  test("a user back through a survivor before the sweep stays online: friends are told nothing", async () => {
    await befriend("nd-cat", "nd-dan");
    const dan = await device(0, "nd-dan");
    const victim = await startVictim();
    try {
      await victim.socket("nd-cat");
      await until(() => dan.heard.length === 1, 5000, "dan to hear cat come online");
      await victim.kill();
      const back = await device(1, "nd-cat"); // long before NODE_DEAD_AFTER_MS
      await untilSwept(victim.nodeId);
      await Bun.sleep(300);
      expect(dan.heard).toEqual([["user:online", { userId: "nd-cat", status: "online" }]]);
      expect(await status("nd-cat")).toMatchObject({ online: true, status: "online", devices: 1 });
      // Its leaving later is told as usual, once.
      back.socket.close();
      await until(() => dan.heard.length === 2, 5000, "dan to hear cat leave");
      await Bun.sleep(300);
      expect(dan.heard.map(([event]) => event)).toEqual(["user:online", "user:offline"]);
    } finally {
      victim.stop();
    }
  }, 30_000);

  test("a user with devices on the dead node and on a survivor stays online: friends are told nothing", async () => {
    await befriend("nd-eve", "nd-fay");
    const fay = await device(1, "nd-fay");
    const victim = await startVictim();
    try {
      await victim.socket("nd-eve");
      await device(0, "nd-eve");
      await until(() => fay.heard.length === 1, 5000, "fay to hear eve come online");
      await victim.kill();
      await untilSwept(victim.nodeId);
      await Bun.sleep(300);
      expect(fay.heard).toEqual([["user:online", { userId: "nd-eve", status: "online" }]]);
      expect(await status("nd-eve")).toMatchObject({ online: true, status: "online", devices: 1 });
    } finally {
      victim.stop();
    }
  }, 30_000);

  test("a frozen node: taken for dead, but its users cannot be counted, so nobody is told until it is really gone", async () => {
    await befriend("nd-gus", "nd-hal");
    const hal = await device(0, "nd-hal");
    const victim = await startVictim();
    try {
      await victim.socket("nd-gus");
      await until(() => hal.heard.length === 1, 5000, "hal to hear gus come online");
      victim.freeze();
      // Its row is taken; counting gus's devices times out (CLUSTER_TIMEOUT_MS), so gus is put back.
      const checkFailed = () =>
        cluster.nodes.some((n) => n.logs().some((l) => l.event === "node_users_checked" && l.failed === 1));
      await until(checkFailed, TOLD_WITHIN_MS + 3000 + 1000, "a sweep to fail to count gus");
      const rows = await node(0).query("SELECT user_id FROM node_users WHERE node_id = ?", victim.nodeId);
      expect(rows).toEqual([{ user_id: "nd-gus" }]);
      expect(hal.heard).toHaveLength(1);

      await victim.kill(); // really gone now: the next sweep counts, and tells hal once
      await until(() => hal.heard.length === 2, TOLD_WITHIN_MS + 3000, "hal to hear gus leave");
      await Bun.sleep(DEAD_AFTER_MS);
      expect(hal.heard.map(([event, p]) => [event, p.userId])).toEqual([
        ["user:online", "nd-gus"],
        ["user:offline", "nd-gus"],
      ]);
      expect(await status("nd-gus")).toMatchObject({ online: false, status: "offline", devices: 0 });
      await untilSwept(victim.nodeId);
      // The sweeps that waited on the frozen node never held up the survivors' own heartbeats.
      expect(cluster.nodes.flatMap((n) => n.logs()).filter((l) => l.event === "node_reregistered")).toEqual([]);
    } finally {
      victim.stop();
    }
  }, 40_000);

  test("a live node taken for dead: its users stay online, nobody is told, and it registers again with them", async () => {
    await befriend("nd-ida", "nd-jon");
    const jon = await device(1, "nd-jon");
    await device(0, "nd-ida");
    await until(() => jon.heard.length === 1, 5000, "jon to hear ida come online");
    const listening = node(0)
      .logs()
      .find((l) => l.event === "listening") as { nodeId: string };
    const rowsOf = (nodeId: string) =>
      node(1).query<{ users: number; beats: number }>(
        "SELECT (SELECT CAST(count(*) AS integer) FROM node_users WHERE node_id = ? AND user_id = 'nd-ida') AS users, " +
          "(SELECT CAST(count(*) AS integer) FROM gateway_nodes WHERE node_id = ?) AS beats",
        nodeId,
        nodeId,
      );
    expect(await rowsOf(listening.nodeId)).toEqual([{ users: 1, beats: 1 }]);
    // What a survivor does to a node silent for NODE_DEAD_AFTER_MS (a long pause, a slow database).
    const sql = new SQL(cluster.db.url, { max: 1 });
    try {
      await sql`DELETE FROM gateway_nodes WHERE node_id = ${listening.nodeId}`;
    } finally {
      await sql.close();
    }
    await until(
      () =>
        node(0)
          .logs()
          .some((l) => l.event === "node_reregistered"),
      TOLD_WITHIN_MS,
      "node 0 to register again",
    );
    await until(async () => (await rowsOf(listening.nodeId))[0]?.users === 1, 3000, "ida's row to be written back");
    expect(await rowsOf(listening.nodeId)).toEqual([{ users: 1, beats: 1 }]);
    await Bun.sleep(300);
    expect(jon.heard).toEqual([["user:online", { userId: "nd-ida", status: "online" }]]);
    expect(await status("nd-ida")).toMatchObject({ online: true, devices: 1 });
  }, 30_000);
});
