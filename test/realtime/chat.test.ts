/**
 * Chat with history (seed 001), over the wire: message:send stores the message and acks the stored
 * row; everyone else in the room, the sender's other devices included, gets message:new; members
 * only; MAX_MESSAGE_CHARS; a repeated clientMessageId acks the first message and sends nothing;
 * message:history pages newest first by id; bad payloads change nothing in the database.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Ack, ChatMessage, Connected, MessageHistory } from "../../generated/events";
import type { SwitchboardSocket } from "../../src/client";
import { once, startTestServer, type TestServer } from "../helpers/server";

const SETTLE_MS = 150;
const MAX_CHARS = 40;

/** A connected socket of `userId`, in `rooms`, recording the message:new it hears. */
async function device(server: TestServer, userId: string, rooms: string[] = []) {
  const socket = server.socket({ token: await server.token(userId) });
  const connected = await once<Connected>(socket, "connected");
  for (const roomId of rooms) expect((await ask(socket, "room:join", roomId)).success).toBe(true);
  const heard: ChatMessage[] = [];
  socket.on("message:new", (m) => heard.push(m));
  return { socket, heard, socketId: connected.socketId };
}

async function ask<T>(socket: SwitchboardSocket, event: string, payload: unknown): Promise<Ack<T>> {
  // biome-ignore lint/suspicious/noExplicitAny: some payloads are wrong on purpose
  return (await (socket as any).timeout(5000).emitWithAck(event, payload)) as Ack<T>;
}
const send = (socket: SwitchboardSocket, payload: unknown) => ask<ChatMessage>(socket, "message:send", payload);
const history = (socket: SwitchboardSocket, payload: unknown) =>
  ask<MessageHistory>(socket, "message:history", payload);
const data = <T>(ack: Ack<T>): T => {
  if (!ack.success) throw new Error(`refused: ${ack.error.code} ${ack.error.message}`);
  return ack.data;
};
const codeOf = (ack: Ack<unknown>) => (ack.success ? "ok" : ack.error.code);

/** The stored messages (read beside the server, never written), oldest first. */
function stored(server: TestServer, where = "1 = 1", ...params: string[]) {
  return server.query<Record<string, string | null>>(
    `SELECT id, room_id AS "roomId", sender_id AS "senderId", content, type, client_message_id AS "clientMessageId",
     created_at AS "createdAt" FROM messages WHERE ${where} ORDER BY id`,
    ...params,
  );
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ SOCKET_RATE_LIMIT: "1000", MAX_MESSAGE_CHARS: String(MAX_CHARS) });
});
afterAll(() => server.close());

describe("message:send", () => {
  test("acks the stored message; both devices of the other user and the sender's other device get message:new", async () => {
    const annPhone = await device(server, "ann", ["c1"]);
    const annLaptop = await device(server, "ann", ["c1"]);
    const bobPhone = await device(server, "bob", ["c1"]);
    const bobLaptop = await device(server, "bob", ["c1"]);
    const outsider = await device(server, "cal", ["c-other"]);

    const arrivals = [annLaptop, bobPhone, bobLaptop].map((d) => once<ChatMessage>(d.socket, "message:new"));
    const ack = await send(annPhone.socket, { roomId: "c1", content: "hello" });
    const message = data(ack);
    expect(message).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      roomId: "c1",
      senderId: "ann",
      content: "hello",
      type: "text",
      createdAt: expect.any(String),
    });
    expect(Math.abs(Date.parse(message.createdAt) - Date.now())).toBeLessThan(5000);
    // The ack came after the commit: the row is there, the same as the ack.
    expect(await stored(server, "id = ?", message.id)).toEqual([{ ...message, clientMessageId: null }]);
    for (const got of await Promise.all(arrivals)) expect(got).toEqual(message);

    await Bun.sleep(SETTLE_MS);
    expect(annPhone.heard).toEqual([]); // not the sending socket
    for (const d of [annLaptop, bobPhone, bobLaptop]) expect(d.heard).toEqual([message]);
    expect(outsider.heard).toEqual([]);
  });

  test("the type and clientMessageId are stored and sent", async () => {
    const dee = await device(server, "dee", ["c2"]);
    const eli = await device(server, "eli", ["c2"]);
    const sent = data(
      await send(dee.socket, { roomId: "c2", content: "maintenance", type: "system", clientMessageId: "k1" }),
    );
    expect(sent).toMatchObject({ type: "system", clientMessageId: "k1", content: "maintenance" });
    await Bun.sleep(SETTLE_MS);
    expect(eli.heard).toEqual([sent]);
  });

  test("a socket not in the room cannot post (FORBIDDEN), even when another device of its user is in it", async () => {
    const fay = await device(server, "fay", ["c3"]);
    const fayElsewhere = await device(server, "fay");
    const gus = await device(server, "gus", ["c3"]);
    const before = (await stored(server)).length;
    for (const [socket, roomId] of [
      [fayElsewhere.socket, "c3"],
      [gus.socket, "c-never-joined"],
      [gus.socket, "user:gus"], // its own user room: every device of gus, not a chat room
      [gus.socket, "user:fay"],
      [gus.socket, gus.socketId],
      [gus.socket, fay.socketId],
    ] as const) {
      const ack = await send(socket, { roomId, content: "sneaky" });
      expect({ roomId, code: codeOf(ack) }).toEqual({ roomId, code: "FORBIDDEN" });
    }
    // After leaving, no more posting either.
    await ask(gus.socket, "room:leave", "c3");
    expect(codeOf(await send(gus.socket, { roomId: "c3", content: "gone" }))).toBe("FORBIDDEN");
    await Bun.sleep(SETTLE_MS);
    expect((await stored(server)).length).toBe(before);
    expect(fay.heard).toEqual([]);
    expect(fayElsewhere.heard).toEqual([]);
  });

  test(`content: at most MAX_MESSAGE_CHARS (${MAX_CHARS}); longer is BAD_REQUEST and stores nothing`, async () => {
    const hal = await device(server, "hal", ["c4"]);
    const ivy = await device(server, "ivy", ["c4"]);
    const before = (await stored(server)).length;
    const long = await send(hal.socket, { roomId: "c4", content: "x".repeat(MAX_CHARS + 1) });
    expect(long).toEqual({
      success: false,
      error: {
        code: "BAD_REQUEST",
        message: `Invalid input: content: Too big: expected at most ${MAX_CHARS} characters`,
        details: { issues: [{ path: "content", message: `Too big: expected at most ${MAX_CHARS} characters` }] },
      },
    });
    expect((await stored(server)).length).toBe(before);
    expect(codeOf(await send(hal.socket, { roomId: "c4", content: "x".repeat(MAX_CHARS) }))).toBe("ok");
    await Bun.sleep(SETTLE_MS);
    expect(ivy.heard.map((m) => m.content.length)).toEqual([MAX_CHARS]);
  });
});

describe("clientMessageId", () => {
  test("a repeat acks the first message again and sends nothing twice", async () => {
    const jo1 = await device(server, "jo", ["c5"]);
    const jo2 = await device(server, "jo", ["c5"]);
    const kim = await device(server, "kim", ["c5"]);
    const payload = { roomId: "c5", content: "once", clientMessageId: "m-1" };
    const first = data(await send(jo1.socket, payload));
    expect(first.clientMessageId).toBe("m-1");
    // From the same device, from another device of the sender, and without `type` vs with the default.
    expect(data(await send(jo1.socket, payload))).toEqual(first);
    expect(data(await send(jo2.socket, { ...payload, type: "text" }))).toEqual(first);
    await Bun.sleep(SETTLE_MS);
    expect(kim.heard).toEqual([first]);
    expect(jo2.heard).toEqual([first]);
    expect(jo1.heard).toEqual([]);
    expect(await stored(server, "sender_id = ? AND client_message_id = ?", "jo", "m-1")).toHaveLength(1);
  });

  test("concurrent repeats store one row and send it once (the unique index decides)", async () => {
    const lea1 = await device(server, "lea", ["c6"]);
    const lea2 = await device(server, "lea", ["c6"]);
    const mo = await device(server, "mo", ["c6"]);
    const payload = { roomId: "c6", content: "racing", clientMessageId: "race-1" };
    const acks = await Promise.all(Array.from({ length: 10 }, (_, i) => send((i % 2 ? lea1 : lea2).socket, payload)));
    const ids = new Set(acks.map((a) => data(a).id));
    expect(ids.size).toBe(1);
    await Bun.sleep(SETTLE_MS);
    expect(mo.heard.map((m) => m.id)).toEqual([...ids]);
    expect(await stored(server, "room_id = ?", "c6")).toHaveLength(1);
  });

  test("ids are per sender; reusing one for another message is CONFLICT; a retry after leaving still acks", async () => {
    const ned = await device(server, "ned", ["c7", "c7b"]);
    const ola = await device(server, "ola", ["c7"]);
    const mine = data(await send(ned.socket, { roomId: "c7", content: "a", clientMessageId: "same" }));
    const theirs = data(await send(ola.socket, { roomId: "c7", content: "a", clientMessageId: "same" }));
    expect(theirs.id).not.toBe(mine.id);

    for (const other of [
      { roomId: "c7", content: "b" },
      { roomId: "c7b", content: "a" },
      { roomId: "c7", content: "a", type: "notification" },
    ]) {
      const ack = await send(ned.socket, { ...other, clientMessageId: "same" });
      expect(ack).toEqual({
        success: false,
        error: {
          code: "CONFLICT",
          message: 'clientMessageId "same" was already used for another message',
          details: { messageId: mine.id },
        },
      });
    }
    await ask(ned.socket, "room:leave", "c7");
    expect(data(await send(ned.socket, { roomId: "c7", content: "a", clientMessageId: "same" }))).toEqual(mine);
    await Bun.sleep(SETTLE_MS);
    expect(ola.heard).toEqual([mine]);
    expect(await stored(server, "sender_id = ?", "ned")).toHaveLength(1);
  });
});

describe("message:history", () => {
  test("newest first, paged by the nextCursor; null on the last page; other rooms left out", async () => {
    const pia = await device(server, "pia", ["h1", "h-noise"]);
    const quin = await device(server, "quin", ["h1"]);
    const sent: ChatMessage[] = [];
    for (let i = 0; i < 5; i++) {
      sent.push(data(await send(i % 2 ? quin.socket : pia.socket, { roomId: "h1", content: `m${i}` })));
      await send(pia.socket, { roomId: "h-noise", content: `noise${i}` });
    }
    const newestFirst = [...sent].reverse();

    const page1 = data(await history(quin.socket, { roomId: "h1", limit: 2 }));
    expect(page1).toEqual({ messages: newestFirst.slice(0, 2), nextCursor: newestFirst[1]?.id ?? "" });
    const page2 = data(await history(quin.socket, { roomId: "h1", limit: 2, before: page1.nextCursor }));
    expect(page2).toEqual({ messages: newestFirst.slice(2, 4), nextCursor: newestFirst[3]?.id ?? "" });
    const page3 = data(await history(pia.socket, { roomId: "h1", limit: 2, before: page2.nextCursor }));
    expect(page3).toEqual({ messages: newestFirst.slice(4), nextCursor: null });
    // A page that ends exactly at the oldest message is the last one: no empty page after it.
    expect(data(await history(pia.socket, { roomId: "h1", limit: 5 }))).toEqual({
      messages: newestFirst,
      nextCursor: null,
    });
    // A cursor is any message id: the older messages of this room, however old the id.
    expect(data(await history(pia.socket, { roomId: "h1", before: sent[0]?.id })).messages).toEqual([]);
    expect(data(await history(pia.socket, { roomId: "h1", before: "ffffffff-ffff-7fff-bfff-ffffffffffff" }))).toEqual({
      messages: newestFirst,
      nextCursor: null,
    });
    await ask(pia.socket, "room:join", "h-empty");
    expect(data(await history(pia.socket, { roomId: "h-empty" }))).toEqual({ messages: [], nextCursor: null });
  });

  test("the default page is 50, the largest 100", async () => {
    const rex = await device(server, "rex", ["h2"]);
    for (let i = 0; i < 105; i++) await send(rex.socket, { roomId: "h2", content: `n${i}` });
    const first = data(await history(rex.socket, { roomId: "h2" }));
    expect(first.messages).toHaveLength(50);
    expect(first.messages[0]?.content).toBe("n104");
    const big = data(await history(rex.socket, { roomId: "h2", limit: 100 }));
    expect(big.messages.map((m) => m.content)).toEqual(Array.from({ length: 100 }, (_, i) => `n${104 - i}`));
    const rest = data(await history(rex.socket, { roomId: "h2", limit: 100, before: big.nextCursor }));
    expect(rest).toEqual({
      messages: [expect.objectContaining({ content: "n4" }), ...rest.messages.slice(1)],
      nextCursor: null,
    });
    expect(rest.messages.map((m) => m.content)).toEqual(["n4", "n3", "n2", "n1", "n0"]);
  });

  test("members only: FORBIDDEN for a socket not in the room (another device of a member included)", async () => {
    const sue = await device(server, "sue", ["h3"]);
    const sueElsewhere = await device(server, "sue");
    const tom = await device(server, "tom");
    await send(sue.socket, { roomId: "h3", content: "private" });
    for (const [socket, roomId] of [
      [sueElsewhere.socket, "h3"],
      [tom.socket, "h3"],
      [tom.socket, "user:tom"],
      [tom.socket, tom.socketId],
    ] as const) {
      expect({ roomId, code: codeOf(await history(socket, { roomId })) }).toEqual({ roomId, code: "FORBIDDEN" });
    }
  });
});

test("malformed payloads: BAD_REQUEST and nothing stored or sent", async () => {
  const uma = await device(server, "uma", ["b1"]);
  const vin = await device(server, "vin", ["b1"]);
  const before = await stored(server);
  const badSends: unknown[] = [
    undefined,
    {},
    "b1",
    null,
    { roomId: "b1" },
    { content: "no room" },
    { roomId: "b1", content: "" },
    { roomId: "b1", content: 5 },
    { roomId: "b 1", content: "x" },
    { roomId: "x".repeat(129), content: "x" },
    { roomId: "b1", content: "x", type: "shout" },
    { roomId: "b1", content: "x", clientMessageId: "" },
    { roomId: "b1", content: "x", clientMessageId: "k".repeat(129) },
    { roomId: "b1", content: "x", clientMessageId: 7 },
    { roomId: "b1", content: "x", extra: 1 },
    { roomId: "b1", content: "x".repeat(100_001) },
  ];
  for (const payload of badSends) {
    const ack = await send(uma.socket, payload);
    expect({ payload, code: codeOf(ack) }).toEqual({ payload, code: "BAD_REQUEST" });
  }
  const badHistory: unknown[] = [
    undefined,
    {},
    "b1",
    { roomId: "" },
    { roomId: "b1", limit: 0 },
    { roomId: "b1", limit: 101 },
    { roomId: "b1", limit: 2.5 },
    { roomId: "b1", limit: "10" },
    { roomId: "b1", before: "" },
    { roomId: "b1", before: "not-a-message-id" },
    { roomId: "b1", before: 12 },
    { roomId: "b1", extra: true },
  ];
  for (const payload of badHistory) {
    const ack = await history(uma.socket, payload);
    expect({ payload, code: codeOf(ack) }).toEqual({ payload, code: "BAD_REQUEST" });
  }
  await Bun.sleep(SETTLE_MS);
  expect(await stored(server)).toEqual(before);
  expect(vin.heard).toEqual([]);
});

test("a burst sent without waiting (one group commit): every ack after its row is stored, in order, a repeat inside the burst acked with the first", async () => {
  const wes = await device(server, "wes", ["burst"]);
  const xia = await device(server, "xia", ["burst"]);
  const sends = Array.from({ length: 60 }, (_, i) => send(wes.socket, { roomId: "burst", content: `m${i}` }));
  sends.push(send(wes.socket, { roomId: "burst", content: "keyed", clientMessageId: "burst-k" }));
  sends.push(send(wes.socket, { roomId: "burst", content: "keyed", clientMessageId: "burst-k" }));
  const acks = (await Promise.all(sends)).map(data);
  const rows = await stored(server, "room_id = ?", "burst");
  // Each acked message is a stored row: the ack came after its commit.
  expect(rows.map((r) => r.id)).toEqual(acks.slice(0, 61).map((m) => m.id));
  expect(rows.map((r) => r.content)).toEqual([...Array.from({ length: 60 }, (_, i) => `m${i}`), "keyed"]);
  expect(acks[61]).toEqual(acks[60]);
  await Bun.sleep(SETTLE_MS);
  expect(xia.heard.map((m) => m.content)).toEqual(rows.map((r) => r.content as string));
});
