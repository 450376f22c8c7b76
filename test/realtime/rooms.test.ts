/**
 * Rooms (seed 000), over the wire: room:join answers the room's users; the others hear about users,
 * not devices (room:user-joined when a user's first socket enters, room:user-left when its last one is
 * gone, by a leave or a disconnect); reserved rooms (`user:*`, socket ids) can never be joined; a
 * token's `rooms` claim limits the rooms; repeats are harmless; bad payloads change nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Ack, Connected, RoomJoined, RoomLeft, RoomUserEvent } from "../../generated/events";
import type { SwitchboardSocket } from "../../src/client";
import { once, startTestServer, type TestServer } from "../helpers/server";

/** Long enough for an event that is coming to have arrived. */
const SETTLE_MS = 150;

type Heard = [event: "room:user-joined" | "room:user-left", payload: RoomUserEvent];

/** A connected socket of `userId`, recording the room events it hears. */
async function device(server: TestServer, userId: string, opts: { claims?: Record<string, unknown> } = {}) {
  const socket = server.socket({ token: await server.token(userId, opts.claims) });
  const connected = await once<Connected>(socket, "connected");
  const heard: Heard[] = [];
  socket.on("room:user-joined", (p) => heard.push(["room:user-joined", p]));
  socket.on("room:user-left", (p) => heard.push(["room:user-left", p]));
  return { socket, heard, socketId: connected.socketId };
}

async function ask<T>(socket: SwitchboardSocket, event: string, payload: unknown): Promise<Ack<T>> {
  // biome-ignore lint/suspicious/noExplicitAny: some payloads are wrong on purpose
  return (await (socket as any).timeout(5000).emitWithAck(event, payload)) as Ack<T>;
}
const join = (socket: SwitchboardSocket, payload: unknown) => ask<RoomJoined>(socket, "room:join", payload);
const leave = (socket: SwitchboardSocket, payload: unknown) => ask<RoomLeft>(socket, "room:leave", payload);
const codeOf = (ack: Ack<unknown>) => (ack.success ? "ok" : ack.error.code);
/** True when the socket is in the room: members may read its history, others are FORBIDDEN. */
const isIn = async (socket: SwitchboardSocket, roomId: string) =>
  (await ask(socket, "message:history", { roomId, limit: 1 })).success;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ SOCKET_RATE_LIMIT: "1000" });
});
afterAll(() => server.close());

describe("room:join", () => {
  test("acks the room's users; the others hear room:user-joined, the joiner does not; other rooms hear nothing", async () => {
    const ann = await device(server, "ann");
    const bob = await device(server, "bob");
    const elsewhere = await device(server, "eli");
    expect(await join(elsewhere.socket, "j-other")).toEqual({
      success: true,
      data: { roomId: "j-other", members: ["eli"] },
    });

    // The bare id (seed 000) and { roomId } are the same request.
    expect(await join(ann.socket, "j1")).toEqual({ success: true, data: { roomId: "j1", members: ["ann"] } });
    const heard = once<RoomUserEvent>(ann.socket, "room:user-joined");
    expect(await join(bob.socket, { roomId: "j1" })).toEqual({
      success: true,
      data: { roomId: "j1", members: ["ann", "bob"] },
    });
    expect(await heard).toEqual({ userId: "bob", roomId: "j1" });
    await Bun.sleep(SETTLE_MS);
    expect(ann.heard).toEqual([["room:user-joined", { userId: "bob", roomId: "j1" }]]);
    expect(bob.heard).toEqual([]);
    expect(elsewhere.heard).toEqual([]);
  });

  test("a user's second device joins silently: members list the user once; both devices hear the next user", async () => {
    const cat1 = await device(server, "cat");
    const cat2 = await device(server, "cat");
    const dan = await device(server, "dan");
    await join(dan.socket, "j2");
    await join(cat1.socket, "j2");
    expect(await join(cat2.socket, "j2")).toEqual({ success: true, data: { roomId: "j2", members: ["cat", "dan"] } });
    await Bun.sleep(SETTLE_MS);
    // dan heard cat once, not once per device; cat's first device was not told about its own second one.
    expect(dan.heard).toEqual([["room:user-joined", { userId: "cat", roomId: "j2" }]]);
    expect(cat1.heard).toEqual([]);

    const eve = await device(server, "eve");
    await join(eve.socket, "j2");
    await Bun.sleep(SETTLE_MS);
    for (const cat of [cat1, cat2]) expect(cat.heard).toEqual([["room:user-joined", { userId: "eve", roomId: "j2" }]]);
  });

  test("joining twice is harmless: the same answer, nothing announced again", async () => {
    const fay = await device(server, "fay");
    const gus = await device(server, "gus");
    await join(gus.socket, "j3");
    const first = await join(fay.socket, "j3");
    const again = await join(fay.socket, { roomId: "j3" });
    expect(again).toEqual(first);
    expect(again).toEqual({ success: true, data: { roomId: "j3", members: ["fay", "gus"] } });
    await Bun.sleep(SETTLE_MS);
    expect(gus.heard).toEqual([["room:user-joined", { userId: "fay", roomId: "j3" }]]);
  });

  test("user rooms and socket ids can never be joined (FORBIDDEN), whatever the claim; nobody is told", async () => {
    const hal = await device(server, "hal");
    const ivy = await device(server, "ivy");
    const open = await device(server, "joe", { claims: { rooms: ["*", "user:*"] } });
    for (const s of [hal, ivy]) await join(s.socket, "j4");
    for (const roomId of ["user:hal", "user:joe", "user:", hal.socketId, ivy.socketId, open.socketId]) {
      const ack = await join(open.socket, roomId);
      expect({ roomId, code: codeOf(ack) }).toEqual({ roomId, code: "FORBIDDEN" });
    }
    await Bun.sleep(SETTLE_MS);
    expect(hal.heard).toEqual([["room:user-joined", { userId: "ivy", roomId: "j4" }]]);
    expect(ivy.heard).toEqual([]);
    // The refused rooms were not joined: hal's socket room still holds hal alone.
    expect(await isIn(open.socket, hal.socketId)).toBe(false);
  });

  test("a socket id squatted while its socket was away is taken back when the socket recovers", async () => {
    const victim = server.socket({ token: await server.token("vic"), reconnection: true, reconnectionDelay: 400 });
    const { socketId } = await once<Connected>(victim, "connected");
    const squatter = await device(server, "sam");
    const back = once<Connected>(victim, "connected", 5000);
    victim.io.engine.close();
    await Bun.sleep(100);
    // While the socket is away no connection holds its id: the join passes.
    expect(codeOf(await join(squatter.socket, socketId))).toBe("ok");
    expect(await isIn(squatter.socket, socketId)).toBe(true);
    await back;
    expect(victim.recovered).toBe(true);
    expect(victim.id).toBe(socketId);
    await Bun.sleep(SETTLE_MS);
    expect(await isIn(squatter.socket, socketId)).toBe(false);
    expect(codeOf(await join(squatter.socket, socketId))).toBe("FORBIDDEN");
  });

  test("a rooms claim limits the rooms to its ids and prefix patterns; without it every room is open", async () => {
    const limited = await device(server, "kay", { claims: { rooms: ["lobby", "team-42:*"] } });
    for (const roomId of ["lobby", "team-42:dev", "team-42:ops.night"]) {
      expect({ roomId, code: codeOf(await join(limited.socket, roomId)) }).toEqual({ roomId, code: "ok" });
    }
    for (const roomId of ["lobby2", "Lobby", "team-43:dev", "team-42", "team", "other"]) {
      const ack = await join(limited.socket, roomId);
      expect({ roomId, code: codeOf(ack) }).toEqual({ roomId, code: "FORBIDDEN" });
      expect(ack.success ? "" : ack.error.message).toContain("rooms claim");
      expect(await isIn(limited.socket, roomId)).toBe(false);
    }
    const unlimited = await device(server, "lou");
    expect(codeOf(await join(unlimited.socket, "other"))).toBe("ok");
  });

  test("a malformed rooms claim allows no room (fails closed)", async () => {
    for (const rooms of ["lobby", { lobby: true }, null, 42]) {
      const odd = await device(server, "max", { claims: { rooms } });
      expect({ rooms, code: codeOf(await join(odd.socket, "lobby")) }).toEqual({ rooms, code: "FORBIDDEN" });
      odd.socket.close();
    }
    const empty = await device(server, "max", { claims: { rooms: [] } });
    expect(codeOf(await join(empty.socket, "lobby"))).toBe("FORBIDDEN");
  });
});

describe("room:leave", () => {
  test("the others hear room:user-left once the user's last socket left; leaving again is harmless", async () => {
    const ned1 = await device(server, "ned");
    const ned2 = await device(server, "ned");
    const ola = await device(server, "ola");
    for (const s of [ola, ned1, ned2]) await join(s.socket, "l1");

    expect(await leave(ned1.socket, "l1")).toEqual({ success: true, data: { roomId: "l1" } });
    await Bun.sleep(SETTLE_MS);
    expect(ola.heard).toEqual([["room:user-joined", { userId: "ned", roomId: "l1" }]]); // ned2 is still there
    expect(await isIn(ned1.socket, "l1")).toBe(false);
    expect(await isIn(ned2.socket, "l1")).toBe(true);

    const left = once<RoomUserEvent>(ola.socket, "room:user-left");
    expect(await leave(ned2.socket, { roomId: "l1" })).toEqual({ success: true, data: { roomId: "l1" } });
    expect(await left).toEqual({ userId: "ned", roomId: "l1" });

    // Not in the room any more (and never in "l-never"): harmless, nothing sent.
    expect(await leave(ned2.socket, "l1")).toEqual({ success: true, data: { roomId: "l1" } });
    expect(await leave(ned2.socket, "l-never")).toEqual({ success: true, data: { roomId: "l-never" } });
    await Bun.sleep(SETTLE_MS);
    expect(ola.heard).toEqual([
      ["room:user-joined", { userId: "ned", roomId: "l1" }],
      ["room:user-left", { userId: "ned", roomId: "l1" }],
    ]);
    expect(ned1.heard).toEqual([]);
    expect(ned2.heard).toEqual([]);
    expect(await join(ola.socket, "l1")).toEqual({
      success: true,
      data: { roomId: "l1", members: ["ola"] },
    });
  });

  test("the reserved rooms cannot be left (FORBIDDEN): the socket stays reachable as its user", async () => {
    const pia1 = await device(server, "pia");
    const pia2 = await device(server, "pia");
    for (const roomId of ["user:pia", pia1.socketId, "user:other"]) {
      expect({ roomId, code: codeOf(await leave(pia1.socket, roomId)) }).toEqual({ roomId, code: "FORBIDDEN" });
    }
    // Still in its user room: a direct message to pia reaches both devices.
    const sender = await device(server, "quin");
    const got = [once(pia1.socket, "message:direct"), once(pia2.socket, "message:direct")];
    expect(codeOf(await ask(sender.socket, "message:direct", { recipientIds: ["pia"], message: "hi" }))).toBe("ok");
    await Promise.all(got);
  });
});

describe("disconnect", () => {
  test("the others hear room:user-left in each room once the user's last socket there disconnected", async () => {
    const rob1 = await device(server, "rob");
    const rob2 = await device(server, "rob");
    const sue = await device(server, "sue");
    const tom = await device(server, "tom");
    await join(sue.socket, "d1");
    await join(tom.socket, "d2");
    await join(rob1.socket, "d1");
    await join(rob1.socket, "d2");
    await join(rob2.socket, "d1");
    sue.heard.length = 0;
    tom.heard.length = 0;

    // rob1 goes: rob is still in d1 (rob2), but gone from d2.
    const leftD2 = once<RoomUserEvent>(tom.socket, "room:user-left");
    rob1.socket.close();
    expect(await leftD2).toEqual({ userId: "rob", roomId: "d2" });
    await Bun.sleep(SETTLE_MS);
    expect(sue.heard).toEqual([]);

    const leftD1 = once<RoomUserEvent>(sue.socket, "room:user-left");
    rob2.socket.close();
    expect(await leftD1).toEqual({ userId: "rob", roomId: "d1" });
    await Bun.sleep(SETTLE_MS);
    expect(sue.heard).toEqual([["room:user-left", { userId: "rob", roomId: "d1" }]]);
    expect(tom.heard).toEqual([["room:user-left", { userId: "rob", roomId: "d2" }]]);
    expect(await join(sue.socket, "d1")).toEqual({ success: true, data: { roomId: "d1", members: ["sue"] } });
  });

  test("a recovered socket is back in its rooms, and the others hear its user join again", async () => {
    const uma = server.socket({ token: await server.token("uma"), reconnection: true, reconnectionDelay: 300 });
    await once(uma, "connected");
    const vin = await device(server, "vin");
    await join(vin.socket, "d3");
    // vin hears uma on its own connection: that may come a moment after uma's ack.
    const heardUma = once(vin.socket, "room:user-joined");
    await join(uma, "d3");
    await heardUma;
    vin.heard.length = 0;
    const back = once<Connected>(uma, "connected", 5000);
    uma.io.engine.close();
    const connected = await back;
    expect(uma.recovered).toBe(true);
    expect(connected.rooms).toEqual(["d3"]);
    await Bun.sleep(SETTLE_MS);
    expect(vin.heard).toEqual([
      ["room:user-left", { userId: "uma", roomId: "d3" }],
      ["room:user-joined", { userId: "uma", roomId: "d3" }],
    ]);
    expect(await join(vin.socket, "d3")).toEqual({ success: true, data: { roomId: "d3", members: ["uma", "vin"] } });
  });
});

test("malformed payloads: BAD_REQUEST, no room joined or left, nobody told", async () => {
  const wes = await device(server, "wes");
  const xia = await device(server, "xia");
  await join(xia.socket, "m1");
  const heardWes = once(xia.socket, "room:user-joined"); // on xia's connection: maybe just after wes's ack
  await join(wes.socket, "m1");
  await heardWes;
  xia.heard.length = 0;
  const bad: unknown[] = [
    undefined,
    {},
    null,
    42,
    "",
    "has space",
    "m1/x",
    "é",
    "x".repeat(129),
    { roomId: "" },
    { roomId: 1 },
    { roomId: "m2", extra: true },
    { room: "m2" },
    ["m2"],
  ];
  for (const event of ["room:join", "room:leave"]) {
    for (const payload of bad) {
      const ack = await ask(wes.socket, event, payload);
      expect({ event, payload, code: codeOf(ack) }).toEqual({ event, payload, code: "BAD_REQUEST" });
    }
  }
  await Bun.sleep(SETTLE_MS);
  expect(xia.heard).toEqual([]);
  expect(wes.heard).toEqual([]);
  expect(await isIn(wes.socket, "m1")).toBe(true);
  expect(await join(xia.socket, "m1")).toEqual({ success: true, data: { roomId: "m1", members: ["wes", "xia"] } });
});
