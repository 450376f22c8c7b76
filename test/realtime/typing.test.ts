/**
 * Typing indicators (seed 001), over the wire: members only; the room's other sockets hear
 * typing:start / typing:stop; the server stops a typist itself after TYPING_TIMEOUT_MS and on
 * disconnect; a stop is never sent twice; bad payloads send nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Ack, TypingEvent, TypingPayload } from "../../generated/events";
import type { SwitchboardSocket } from "../../src/client";
import { once, startTestServer, type TestServer } from "../helpers/server";

const TIMEOUT_MS = 300;
/** Long enough for an event that is coming to have arrived. */
const SETTLE_MS = 100;

type Heard = [event: "typing:start" | "typing:stop", payload: TypingEvent, at: number];

/** A connected socket of `userId`, in `rooms`, recording the typing events it hears. */
async function member(server: TestServer, userId: string, rooms: string[] = []) {
  const socket = server.socket({ token: await server.token(userId) });
  const connected = await once<{ socketId: string }>(socket, "connected");
  for (const roomId of rooms) {
    const ack = (await socket.timeout(5000).emitWithAck("room:join", { roomId })) as Ack<unknown>;
    expect(ack.success).toBe(true);
  }
  const heard: Heard[] = [];
  socket.on("typing:start", (p) => heard.push(["typing:start", p, Date.now()]));
  socket.on("typing:stop", (p) => heard.push(["typing:stop", p, Date.now()]));
  return { socket, heard, socketId: connected.socketId };
}

async function type(socket: SwitchboardSocket, event: "typing:start" | "typing:stop", payload: unknown) {
  // biome-ignore lint/suspicious/noExplicitAny: some payloads are wrong on purpose
  return (await (socket as any).timeout(5000).emitWithAck(event, payload)) as Ack<TypingPayload>;
}

const events = (heard: Heard[]) => heard.map(([event, payload]) => [event, payload]);

describe(`TYPING_TIMEOUT_MS=${TIMEOUT_MS}`, () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TYPING_TIMEOUT_MS: String(TIMEOUT_MS), SOCKET_RATE_LIMIT: "1000" });
  });
  afterAll(() => server.close());

  test("the room's other sockets hear start and stop, the typist's other device too; nobody else", async () => {
    const ann = await member(server, "ann", ["r1"]);
    const annTablet = await member(server, "ann", ["r1"]);
    const bob = await member(server, "bob", ["r1", "r2"]);
    const outsider = await member(server, "carl");
    const elsewhere = await member(server, "dave", ["r2"]);

    const heard = once<TypingEvent>(bob.socket, "typing:start");
    expect(await type(ann.socket, "typing:start", { roomId: "r1" })).toEqual({ success: true, data: { roomId: "r1" } });
    expect(await heard).toEqual({ userId: "ann", roomId: "r1" });
    // Typing on: a repeated start is not sent again.
    expect((await type(ann.socket, "typing:start", { roomId: "r1" })).success).toBe(true);
    await Bun.sleep(SETTLE_MS);
    expect(events(annTablet.heard)).toEqual([["typing:start", { userId: "ann", roomId: "r1" }]]);
    expect(events(bob.heard)).toEqual([["typing:start", { userId: "ann", roomId: "r1" }]]);

    expect(await type(ann.socket, "typing:stop", { roomId: "r1" })).toEqual({ success: true, data: { roomId: "r1" } });
    // Stopping twice, and the timeout passing, send nothing more.
    expect((await type(ann.socket, "typing:stop", { roomId: "r1" })).success).toBe(true);
    await Bun.sleep(TIMEOUT_MS + SETTLE_MS);
    for (const s of [annTablet, bob]) {
      expect(events(s.heard)).toEqual([
        ["typing:start", { userId: "ann", roomId: "r1" }],
        ["typing:stop", { userId: "ann", roomId: "r1" }],
      ]);
    }
    expect(ann.heard).toEqual([]);
    expect(outsider.heard).toEqual([]);
    expect(elsewhere.heard).toEqual([]);
  });

  test("without a new start, the server sends typing:stop itself after TYPING_TIMEOUT_MS, once", async () => {
    const eve = await member(server, "eve", ["r3"]);
    const fred = await member(server, "fred", ["r3"]);
    const started = Date.now();
    await type(eve.socket, "typing:start", { roomId: "r3" });
    const stop = await once<TypingEvent>(fred.socket, "typing:stop", 5000);
    const elapsed = Date.now() - started;
    expect(stop).toEqual({ userId: "eve", roomId: "r3" });
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 1000);
    await Bun.sleep(TIMEOUT_MS + SETTLE_MS);
    expect(events(fred.heard).map(([e]) => e)).toEqual(["typing:start", "typing:stop"]);
    expect(eve.heard).toEqual([]); // the typist is not told about itself
  });

  test("a new start moves the deadline", async () => {
    const gil = await member(server, "gil", ["r4"]);
    const hana = await member(server, "hana", ["r4"]);
    const started = Date.now();
    await type(gil.socket, "typing:start", { roomId: "r4" });
    await Bun.sleep(TIMEOUT_MS * 0.6);
    await type(gil.socket, "typing:start", { roomId: "r4" });
    await Bun.sleep(TIMEOUT_MS * 0.6);
    await type(gil.socket, "typing:start", { roomId: "r4" });
    expect(events(hana.heard).map(([e]) => e)).toEqual(["typing:start"]); // still typing at 1.2 x the timeout
    const stop = await once<TypingEvent>(hana.socket, "typing:stop", 5000);
    expect(stop).toEqual({ userId: "gil", roomId: "r4" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS * 2.2 - 20);
  });

  test("members only: FORBIDDEN outside the room, in one's own user room or socket room; nobody hears", async () => {
    const ivan = await member(server, "ivan", ["r5"]);
    const jo = await member(server, "jo", ["r5"]);
    const outsider = await member(server, "kim");
    for (const roomId of ["r5", "r-none", "user:kim", outsider.socketId.replace(/[^A-Za-z0-9:_.-]/g, "")]) {
      for (const event of ["typing:start", "typing:stop"] as const) {
        const ack = await type(outsider.socket, event, { roomId });
        expect(ack.success).toBe(false);
        expect(!ack.success && ack.error.code).toBe("FORBIDDEN");
      }
    }
    await Bun.sleep(TIMEOUT_MS + SETTLE_MS);
    expect(ivan.heard).toEqual([]);
    expect(jo.heard).toEqual([]);
  });

  test("malformed payloads: BAD_REQUEST, nothing sent, no typing started", async () => {
    const lea = await member(server, "lea", ["r6"]);
    const mo = await member(server, "mo", ["r6"]);
    const bad: unknown[] = [
      {},
      "r6",
      null,
      42,
      { roomId: "" },
      { roomId: 6 },
      { roomId: "has space" },
      { roomId: "x".repeat(129) },
      { roomId: "r6", extra: true },
      ["r6"],
    ];
    for (const event of ["typing:start", "typing:stop"] as const) {
      for (const payload of bad) {
        const ack = await type(lea.socket, event, payload);
        expect({ event, payload, code: ack.success ? "ok" : ack.error.code }).toEqual({
          event,
          payload,
          code: "BAD_REQUEST",
        });
      }
    }
    await Bun.sleep(TIMEOUT_MS + SETTLE_MS); // a start that slipped through would time out into a stop
    expect(mo.heard).toEqual([]);
  });
});

describe("on disconnect", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TYPING_TIMEOUT_MS: "10000", SOCKET_RATE_LIMIT: "1000" });
  });
  afterAll(() => server.close());

  test("a typist that disconnects is stopped at once, well before the timeout", async () => {
    const nia = await member(server, "nia", ["d1"]);
    const oto = await member(server, "oto", ["d1"]);
    const started = once(oto.socket, "typing:start");
    await type(nia.socket, "typing:start", { roomId: "d1" });
    await started;
    const closed = Date.now();
    nia.socket.close();
    expect(await once<TypingEvent>(oto.socket, "typing:stop", 2000)).toEqual({ userId: "nia", roomId: "d1" });
    expect(Date.now() - closed).toBeLessThan(2000);
  });

  test("a user typing on two devices stops when the last of them leaves, or when either says stop", async () => {
    const pam1 = await member(server, "pam", ["d2"]);
    const pam2 = await member(server, "pam", ["d2"]);
    const pam3 = await member(server, "pam", ["d2"]);
    const quy = await member(server, "quy", ["d2"]);
    await type(pam1.socket, "typing:start", { roomId: "d2" });
    await type(pam2.socket, "typing:start", { roomId: "d2" });
    pam1.socket.close();
    await Bun.sleep(SETTLE_MS);
    expect(events(quy.heard)).toEqual([["typing:start", { userId: "pam", roomId: "d2" }]]); // pam2 still types
    pam2.socket.close();
    await Bun.sleep(SETTLE_MS);
    expect(events(quy.heard)).toEqual([
      ["typing:start", { userId: "pam", roomId: "d2" }],
      ["typing:stop", { userId: "pam", roomId: "d2" }],
    ]);
    // pam3 did not type, so it heard about its user like any other member.
    expect(events(pam3.heard)).toEqual(events(quy.heard));

    // Started on one device, stopped on another: one stop, and none again when the starter leaves.
    const pam4 = await member(server, "pam", ["d2"]);
    quy.heard.length = 0;
    await type(pam4.socket, "typing:start", { roomId: "d2" });
    await type(pam3.socket, "typing:stop", { roomId: "d2" });
    pam4.socket.close();
    await Bun.sleep(SETTLE_MS);
    expect(events(quy.heard)).toEqual([
      ["typing:start", { userId: "pam", roomId: "d2" }],
      ["typing:stop", { userId: "pam", roomId: "d2" }],
    ]);
  });
});
