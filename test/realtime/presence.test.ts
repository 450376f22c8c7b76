/**
 * Presence with friends-only privacy (seed 002), over the wire: user:online / user:offline reach
 * every device of each friend and nobody else; online means at least one device; `offline` is
 * invisible; lastSeen is stored; the public lists obey PRESENCE_PUBLIC; bad payloads change nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type {
  Ack,
  DetailedPresence,
  FriendsPresence,
  OnlineUsers,
  UserOffline,
  UserOnline,
  UserStatusAck,
} from "../../generated/events";
import type { SwitchboardSocket } from "../../src/client";
import { once, startTestServer, type TestServer } from "../helpers/server";
import { until } from "../helpers/sink";

/** Long enough for a presence change that is coming to have arrived. */
const SETTLE_MS = 150;

type Heard = ["user:online", UserOnline] | ["user:offline", UserOffline];

async function connectAs(server: TestServer, userId: string) {
  const socket = server.socket({ token: await server.token(userId) });
  const connected = await once<{ connectedAt: string }>(socket, "connected");
  const heard: Heard[] = [];
  socket.on("user:online", (p) => heard.push(["user:online", p]));
  socket.on("user:offline", (p) => heard.push(["user:offline", p]));
  return { socket, heard, connectedAt: connected.connectedAt };
}

const befriend = (server: TestServer, userId: string, friendId: string) =>
  server.admin().friends.add.mutate({ userId, friendId });

async function ask<T>(socket: SwitchboardSocket, event: string, payload: unknown = {}): Promise<Ack<T>> {
  // biome-ignore lint/suspicious/noExplicitAny: some payloads are wrong on purpose
  return (await (socket as any).timeout(5000).emitWithAck(event, payload)) as Ack<T>;
}
const data = <T>(ack: Ack<T>): T => {
  if (!ack.success) throw new Error(`refused: ${ack.error.code} ${ack.error.message}`);
  return ack.data;
};

/** What the database holds for a user (read beside the server, never written). */
async function storedPresence(server: TestServer, userId: string) {
  const [row] = await server.query<{ status: string; lastSeen: string | null }>(
    'SELECT status, last_seen AS "lastSeen" FROM user_presence WHERE user_id = ?',
    userId,
  );
  return row ?? null;
}

describe("friends only", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ SOCKET_RATE_LIMIT: "1000" });
  });
  afterAll(() => server.close());

  test("user:online and user:offline reach every device of each friend, and nobody else", async () => {
    await befriend(server, "ann", "bob");
    await befriend(server, "ann", "cat");
    const bob1 = await connectAs(server, "bob");
    const bob2 = await connectAs(server, "bob");
    const cat = await connectAs(server, "cat");
    const stranger = await connectAs(server, "stranger");
    // cat and bob are not friends of each other: ann's friends hear only about ann.
    await Bun.sleep(SETTLE_MS);
    for (const s of [bob1, bob2, cat, stranger]) s.heard.length = 0;

    const online = [once<UserOnline>(bob1.socket, "user:online"), once<UserOnline>(bob2.socket, "user:online")];
    const ann = await connectAs(server, "ann");
    for (const got of await Promise.all(online)) expect(got).toEqual({ userId: "ann", status: "online" });
    await Bun.sleep(SETTLE_MS);
    expect(cat.heard).toEqual([["user:online", { userId: "ann", status: "online" }]]);
    expect(stranger.heard).toEqual([]);
    expect(ann.heard).toEqual([]); // not told about herself
    expect(data(await ask<FriendsPresence>(bob1.socket, "presence:friends"))).toEqual([
      { userId: "ann", status: "online", devices: 1, lastSeen: null },
    ]);
    expect(data(await ask<FriendsPresence>(stranger.socket, "presence:friends"))).toEqual([]);

    const offline = once<UserOffline>(bob2.socket, "user:offline");
    ann.socket.close();
    const gone = await offline;
    expect(gone.userId).toBe("ann");
    expect(Math.abs(Date.parse(gone.lastSeen) - Date.now())).toBeLessThan(2000);
    await Bun.sleep(SETTLE_MS);
    for (const s of [bob1, bob2, cat]) expect(s.heard.at(-1)).toEqual(["user:offline", gone]);
    expect(stranger.heard).toEqual([]);
    expect(data(await ask<FriendsPresence>(bob1.socket, "presence:friends"))).toEqual([]);
  });

  test("multi-device: online with the first device, offline only after the last; lastSeen is stored", async () => {
    await befriend(server, "dora", "ed");
    const ed = await connectAs(server, "ed");
    await Bun.sleep(SETTLE_MS);

    const dora1 = await connectAs(server, "dora");
    await Bun.sleep(SETTLE_MS);
    const dora2 = await connectAs(server, "dora");
    await Bun.sleep(SETTLE_MS);
    expect(ed.heard).toEqual([["user:online", { userId: "dora", status: "online" }]]);
    expect(data(await ask<FriendsPresence>(ed.socket, "presence:friends"))).toEqual([
      { userId: "dora", status: "online", devices: 2, lastSeen: null },
    ]);

    dora1.socket.close();
    await Bun.sleep(SETTLE_MS);
    expect(ed.heard).toHaveLength(1); // still online on the other device
    expect(data(await ask<FriendsPresence>(ed.socket, "presence:friends"))).toMatchObject([
      { userId: "dora", devices: 1 },
    ]);
    expect(await storedPresence(server, "dora")).toBeNull(); // nothing stored yet: a user without a row is online

    dora2.socket.close();
    await until(() => ed.heard.length >= 2, 3000, "user:offline"); // a database round trip or two away
    await Bun.sleep(SETTLE_MS);
    expect(ed.heard).toHaveLength(2);
    const [event, payload] = ed.heard[1] as Heard;
    expect(event).toBe("user:offline");
    const { lastSeen } = payload as UserOffline;
    expect(await storedPresence(server, "dora")).toEqual({ status: "online", lastSeen });

    // Back again: friends are told, and see when she was last seen.
    await connectAs(server, "dora");
    await until(() => ed.heard.length >= 3, 3000, "user:online");
    expect(ed.heard[2]).toEqual(["user:online", { userId: "dora", status: "online" }]);
    expect(data(await ask<FriendsPresence>(ed.socket, "presence:friends"))).toEqual([
      { userId: "dora", status: "online", devices: 1, lastSeen },
    ]);
  });

  test("two devices connecting together make one user:online; leaving together one user:offline", async () => {
    await befriend(server, "twin", "watcher");
    const watcher = await connectAs(server, "watcher");
    const token = await server.token("twin");
    const sockets = [server.socket({ token }), server.socket({ token }), server.socket({ token })];
    await Promise.all(sockets.map((s) => once(s, "connected")));
    await Bun.sleep(SETTLE_MS);
    expect(watcher.heard).toEqual([["user:online", { userId: "twin", status: "online" }]]);
    for (const s of sockets) s.close();
    await Bun.sleep(SETTLE_MS);
    expect(watcher.heard.map(([event]) => event)).toEqual(["user:online", "user:offline"]);
  });

  test("a visible status change reaches friends; repeating it sends nothing", async () => {
    await befriend(server, "hal", "ivy");
    const ivy = await connectAs(server, "ivy");
    const hal = await connectAs(server, "hal");
    await Bun.sleep(SETTLE_MS);
    ivy.heard.length = 0;
    // Hal may have heard ivy come online (when ivy's connect was told after hal's socket was up).
    hal.heard.length = 0;

    expect(data(await ask<UserStatusAck>(hal.socket, "user:status", "away"))).toEqual({ status: "away" });
    expect(data(await ask<UserStatusAck>(hal.socket, "user:status", { status: "busy" }))).toEqual({ status: "busy" });
    expect(data(await ask<UserStatusAck>(hal.socket, "user:status", { status: "busy" }))).toEqual({ status: "busy" });
    await Bun.sleep(SETTLE_MS);
    expect(ivy.heard).toEqual([
      ["user:online", { userId: "hal", status: "away" }],
      ["user:online", { userId: "hal", status: "busy" }],
    ]);
    expect(hal.heard).toEqual([]);
    expect(data(await ask<FriendsPresence>(ivy.socket, "presence:friends"))).toMatchObject([
      { userId: "hal", status: "busy" },
    ]);
    expect((await storedPresence(server, "hal"))?.status).toBe("busy");
  });

  test("offline is invisible: friends see the user go offline while it stays connected", async () => {
    await befriend(server, "fay", "gus");
    const gus = await connectAs(server, "gus");
    const fay = await connectAs(server, "fay");
    const fay2 = await connectAs(server, "fay");
    await Bun.sleep(SETTLE_MS);
    gus.heard.length = 0;

    expect(data(await ask<UserStatusAck>(fay.socket, "user:status", "offline"))).toEqual({ status: "offline" });
    await Bun.sleep(SETTLE_MS);
    expect(gus.heard).toHaveLength(1);
    const [event, payload] = gus.heard[0] as Heard;
    expect(event).toBe("user:offline");
    const { lastSeen } = payload as UserOffline;
    expect(payload).toEqual({ userId: "fay", lastSeen });
    expect(fay.socket.connected && fay2.socket.connected).toBe(true);
    expect(data(await ask<FriendsPresence>(gus.socket, "presence:friends"))).toEqual([]);
    expect(data(await ask<OnlineUsers>(gus.socket, "presence:online"))).not.toContain("fay");
    expect(data(await ask<DetailedPresence>(gus.socket, "presence:detailed")).map((p) => p.userId)).not.toContain(
      "fay",
    );
    // An invisible user still sees its friends.
    expect(data(await ask<FriendsPresence>(fay.socket, "presence:friends"))).toMatchObject([{ userId: "gus" }]);

    // Invisibility outlives the connection: leaving and coming back tells friends nothing.
    fay.socket.close();
    fay2.socket.close();
    await Bun.sleep(SETTLE_MS);
    const back = await connectAs(server, "fay");
    await Bun.sleep(SETTLE_MS);
    expect(gus.heard).toHaveLength(1);
    // The end of an invisible session is not recorded: lastSeen is when friends last saw her.
    expect(await storedPresence(server, "fay")).toEqual({ status: "offline", lastSeen });

    // Visible again: friends are told, with the chosen status.
    await ask(back.socket, "user:status", "away");
    await Bun.sleep(SETTLE_MS);
    expect(gus.heard[1]).toEqual(["user:online", { userId: "fay", status: "away" }]);
    expect(data(await ask<FriendsPresence>(gus.socket, "presence:friends"))).toEqual([
      { userId: "fay", status: "away", devices: 1, lastSeen },
    ]);
  });

  test("a friendship added by the admin API shows in presence:friends at once; a removed one is gone", async () => {
    const kai = await connectAs(server, "kai");
    const lou = await connectAs(server, "lou");
    expect(data(await ask<FriendsPresence>(kai.socket, "presence:friends"))).toEqual([]);
    await befriend(server, "lou", "kai");
    expect(data(await ask<FriendsPresence>(kai.socket, "presence:friends"))).toMatchObject([{ userId: "lou" }]);
    expect(data(await ask<FriendsPresence>(lou.socket, "presence:friends"))).toMatchObject([{ userId: "kai" }]);
    await server.admin().friends.remove.mutate({ userId: "kai", friendId: "lou" });
    expect(data(await ask<FriendsPresence>(kai.socket, "presence:friends"))).toEqual([]);
    // No longer friends: lou leaving tells kai nothing.
    kai.heard.length = 0;
    lou.socket.close();
    await Bun.sleep(SETTLE_MS);
    expect(kai.heard).toEqual([]);
  });

  test("malformed payloads: BAD_REQUEST, and nothing changes", async () => {
    await befriend(server, "max", "ned");
    const ned = await connectAs(server, "ned");
    const max = await connectAs(server, "max");
    await Bun.sleep(SETTLE_MS);
    ned.heard.length = 0;
    const bad: [string, unknown][] = [
      ["user:status", "sleeping"],
      ["user:status", { status: "gone" }],
      ["user:status", { status: "away", extra: true }],
      ["user:status", { state: "away" }],
      ["user:status", 42],
      ["user:status", ["away"]],
      ["user:status", null],
      ["presence:friends", { all: true }],
      ["presence:online", "everyone"],
      ["presence:detailed", [1]],
    ];
    for (const [event, payload] of bad) {
      const ack = await ask(max.socket, event, payload);
      expect({ event, payload, code: ack.success ? "ok" : ack.error.code }).toEqual({
        event,
        payload,
        code: "BAD_REQUEST",
      });
    }
    await Bun.sleep(SETTLE_MS);
    expect(ned.heard).toEqual([]);
    expect(await storedPresence(server, "max")).toBeNull(); // no status was stored
  });
});

describe("the public lists", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ SOCKET_RATE_LIMIT: "1000" });
  });
  afterAll(() => server.close());

  test("presence:online and presence:detailed list every online, visible user", async () => {
    const amy1 = await connectAs(server, "amy");
    await Bun.sleep(5);
    await connectAs(server, "amy");
    const ben = await connectAs(server, "ben");
    const hidden = await connectAs(server, "hidden");
    await ask(hidden.socket, "user:status", "offline");
    await ask(ben.socket, "user:status", "busy");
    // A user seen before: lastSeen comes along.
    const gone = await connectAs(server, "cora");
    gone.socket.close();
    await Bun.sleep(SETTLE_MS);
    const cora = await connectAs(server, "cora");
    const coraLastSeen = (await storedPresence(server, "cora"))?.lastSeen;
    expect(coraLastSeen).toBeString();

    expect(data(await ask<OnlineUsers>(ben.socket, "presence:online"))).toEqual(["amy", "ben", "cora"]);
    expect(data(await ask<DetailedPresence>(hidden.socket, "presence:detailed"))).toEqual([
      { userId: "amy", status: "online", devices: 2, connectedAt: amy1.connectedAt, lastSeen: null },
      { userId: "ben", status: "busy", devices: 1, connectedAt: ben.connectedAt, lastSeen: null },
      { userId: "cora", status: "online", devices: 1, connectedAt: cora.connectedAt, lastSeen: coraLastSeen ?? null },
    ]);
  });
});

describe("PRESENCE_PUBLIC=false", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ PRESENCE_PUBLIC: "false" });
  });
  afterAll(() => server.close());

  test("presence:online and presence:detailed are FORBIDDEN; friends-only presence stays", async () => {
    await befriend(server, "pia", "quin");
    const pia = await connectAs(server, "pia");
    const quin = await connectAs(server, "quin");
    for (const event of ["presence:online", "presence:detailed"]) {
      const ack = await ask(pia.socket, event);
      expect(ack.success).toBe(false);
      expect(!ack.success && ack.error.code).toBe("FORBIDDEN");
    }
    expect(data(await ask<FriendsPresence>(pia.socket, "presence:friends"))).toEqual([
      { userId: "quin", status: "online", devices: 1, lastSeen: null },
    ]);
    const offline = once<UserOffline>(pia.socket, "user:offline");
    quin.socket.close();
    expect((await offline).userId).toBe("quin");
  });
});
