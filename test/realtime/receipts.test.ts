/**
 * Delivery and read receipts (seed 001), over the wire: a room member other than the sender confirms
 * a message; stored once per (message, user); read implies delivered; every device of the sender
 * (in the room or not) hears each state once; repeats send nothing; refusals and bad payloads change
 * nothing in the database.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Ack, ChatMessage, Receipt } from "../../generated/events";
import type { SwitchboardSocket } from "../../src/client";
import { once, startTestServer, type TestServer } from "../helpers/server";

const SETTLE_MS = 150;

type Heard = [event: "message:delivered" | "message:read", payload: Receipt];

/** A connected socket of `userId`, in `rooms`, recording the receipts it hears. */
async function device(server: TestServer, userId: string, rooms: string[] = []) {
  const socket = server.socket({ token: await server.token(userId) });
  await once(socket, "connected");
  for (const roomId of rooms) expect((await ask(socket, "room:join", roomId)).success).toBe(true);
  const heard: Heard[] = [];
  socket.on("message:delivered", (p) => heard.push(["message:delivered", p]));
  socket.on("message:read", (p) => heard.push(["message:read", p]));
  return { socket, heard };
}

async function ask<T>(socket: SwitchboardSocket, event: string, payload: unknown): Promise<Ack<T>> {
  // biome-ignore lint/suspicious/noExplicitAny: some payloads are wrong on purpose
  return (await (socket as any).timeout(5000).emitWithAck(event, payload)) as Ack<T>;
}
const data = <T>(ack: Ack<T>): T => {
  if (!ack.success) throw new Error(`refused: ${ack.error.code} ${ack.error.message}`);
  return ack.data;
};
const codeOf = (ack: Ack<unknown>) => (ack.success ? "ok" : ack.error.code);
const confirm = (socket: SwitchboardSocket, kind: "delivered" | "read", payload: unknown) =>
  ask<Receipt>(socket, `message:${kind}`, payload);
const post = async (socket: SwitchboardSocket, roomId: string, content = "hi") =>
  data(await ask<ChatMessage>(socket, "message:send", { roomId, content }));

/** Every stored receipt (read beside the server, never written). */
function stored(server: TestServer) {
  return server.query<{ messageId: string; userId: string; deliveredAt: string; readAt: string | null }>(
    `SELECT message_id AS "messageId", user_id AS "userId", delivered_at AS "deliveredAt", read_at AS "readAt"
     FROM receipts ORDER BY message_id, user_id`,
  );
}
const storedFor = async (server: TestServer, messageId: string) =>
  (await stored(server)).filter((r) => r.messageId === messageId);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ SOCKET_RATE_LIMIT: "1000" });
});
afterAll(() => server.close());

test("delivered: every device of the sender hears it once, the one outside the room too; a repeat sends nothing", async () => {
  const annPhone = await device(server, "ann", ["r1"]);
  const annLaptop = await device(server, "ann"); // in no room: still one of the sender's devices
  const bobPhone = await device(server, "bob", ["r1"]);
  const bobLaptop = await device(server, "bob", ["r1"]);
  const cat = await device(server, "cat", ["r1"]);
  const message = await post(annPhone.socket, "r1");

  const heard = [
    once<Receipt>(annPhone.socket, "message:delivered"),
    once<Receipt>(annLaptop.socket, "message:delivered"),
  ];
  const receipt = data(await confirm(bobPhone.socket, "delivered", { messageId: message.id }));
  expect(receipt).toEqual({ messageId: message.id, roomId: "r1", userId: "bob", at: expect.any(String) });
  expect(Math.abs(Date.parse(receipt.at) - Date.now())).toBeLessThan(5000);
  for (const got of await Promise.all(heard)) expect(got).toEqual(receipt);
  expect(await storedFor(server, message.id)).toEqual([
    { messageId: message.id, userId: "bob", deliveredAt: receipt.at, readAt: null },
  ]);

  // Again, from the same or the other device: the stored receipt, nothing sent.
  expect(data(await confirm(bobPhone.socket, "delivered", { messageId: message.id }))).toEqual(receipt);
  expect(data(await confirm(bobLaptop.socket, "delivered", { messageId: message.id }))).toEqual(receipt);
  await Bun.sleep(SETTLE_MS);
  for (const d of [annPhone, annLaptop]) expect(d.heard).toEqual([["message:delivered", receipt]]);
  // Receipts go to the sender only: not the reader's devices, not the other members.
  for (const d of [bobPhone, bobLaptop, cat]) expect(d.heard).toEqual([]);
  expect(await storedFor(server, message.id)).toHaveLength(1);

  // Another member's receipt is its own row and its own event.
  const catReceipt = data(await confirm(cat.socket, "delivered", { messageId: message.id }));
  expect(catReceipt.userId).toBe("cat");
  await Bun.sleep(SETTLE_MS);
  expect(annLaptop.heard).toEqual([
    ["message:delivered", receipt],
    ["message:delivered", catReceipt],
  ]);
  expect((await storedFor(server, message.id)).map((r) => r.userId)).toEqual(["bob", "cat"]);
});

test("read after delivered: the sender hears read once; the receipt keeps both times", async () => {
  const dee = await device(server, "dee", ["r2"]);
  const eli = await device(server, "eli", ["r2"]);
  const message = await post(dee.socket, "r2");
  const delivered = data(await confirm(eli.socket, "delivered", { messageId: message.id }));
  await Bun.sleep(5);
  const read = data(await confirm(eli.socket, "read", { messageId: message.id }));
  expect(read).toEqual({ messageId: message.id, roomId: "r2", userId: "eli", at: expect.any(String) });
  expect(read.at > delivered.at).toBe(true);
  // Repeats answer the stored times; delivered after read too.
  expect(data(await confirm(eli.socket, "read", { messageId: message.id }))).toEqual(read);
  expect(data(await confirm(eli.socket, "delivered", { messageId: message.id }))).toEqual(delivered);
  await Bun.sleep(SETTLE_MS);
  expect(dee.heard).toEqual([
    ["message:delivered", delivered],
    ["message:read", read],
  ]);
  expect(await storedFor(server, message.id)).toEqual([
    { messageId: message.id, userId: "eli", deliveredAt: delivered.at, readAt: read.at },
  ]);
});

test("read implies delivered: a first read stores both and the sender hears delivered, then read", async () => {
  const fay1 = await device(server, "fay", ["r3"]);
  const fay2 = await device(server, "fay");
  const gus = await device(server, "gus", ["r3"]);
  const message = await post(fay1.socket, "r3");
  const read = data(await confirm(gus.socket, "read", { messageId: message.id }));
  await Bun.sleep(SETTLE_MS);
  for (const fay of [fay1, fay2]) {
    expect(fay.heard).toEqual([
      ["message:delivered", read],
      ["message:read", read],
    ]);
  }
  expect(await storedFor(server, message.id)).toEqual([
    { messageId: message.id, userId: "gus", deliveredAt: read.at, readAt: read.at },
  ]);
  expect(data(await confirm(gus.socket, "delivered", { messageId: message.id }))).toEqual(read);
  await Bun.sleep(SETTLE_MS);
  expect(fay1.heard).toHaveLength(2);
});

test("concurrent confirmations from several devices store one receipt and tell the sender once per state", async () => {
  const hal = await device(server, "hal", ["r4"]);
  const ivys = await Promise.all([1, 2, 3].map(() => device(server, "ivy", ["r4"])));
  const message = await post(hal.socket, "r4");
  const acks = await Promise.all(
    ivys.flatMap((ivy) => [
      confirm(ivy.socket, "delivered", { messageId: message.id }),
      confirm(ivy.socket, "read", { messageId: message.id }),
    ]),
  );
  expect(acks.every((a) => a.success)).toBe(true);
  await Bun.sleep(SETTLE_MS);
  expect(hal.heard.map(([event]) => event).sort()).toEqual(["message:delivered", "message:read"]);
  expect(await storedFor(server, message.id)).toHaveLength(1);
});

test("refusals change nothing: the sender (FORBIDDEN), a socket not in the room (FORBIDDEN), an unknown message (NOT_FOUND)", async () => {
  const jo1 = await device(server, "jo", ["r5"]);
  const jo2 = await device(server, "jo", ["r5"]);
  const kim = await device(server, "kim", ["r5"]);
  const kimElsewhere = await device(server, "kim");
  const lou = await device(server, "lou", ["r-other"]);
  const message = await post(jo1.socket, "r5");
  const before = await stored(server);
  for (const kind of ["delivered", "read"] as const) {
    for (const [socket, messageId, code] of [
      [jo1.socket, message.id, "FORBIDDEN"], // its own message
      [jo2.socket, message.id, "FORBIDDEN"], // its own message, from another device
      [kimElsewhere.socket, message.id, "FORBIDDEN"], // kim is in the room, but not this socket
      [lou.socket, message.id, "FORBIDDEN"],
      [kim.socket, "01900000-0000-7000-8000-000000000000", "NOT_FOUND"],
      [kim.socket, "no-such-message", "NOT_FOUND"],
      [kim.socket, message.id.toUpperCase(), "NOT_FOUND"],
    ] as const) {
      const ack = await confirm(socket, kind, { messageId });
      expect({ kind, messageId, code: codeOf(ack) }).toEqual({ kind, messageId, code });
    }
  }
  // Once out of the room, kim cannot confirm either.
  await ask(kim.socket, "room:leave", "r5");
  expect(codeOf(await confirm(kim.socket, "read", { messageId: message.id }))).toBe("FORBIDDEN");
  await Bun.sleep(SETTLE_MS);
  expect(await stored(server)).toEqual(before);
  for (const d of [jo1, jo2]) expect(d.heard).toEqual([]);
});

test("malformed payloads: BAD_REQUEST and nothing stored or sent", async () => {
  const mo = await device(server, "mo", ["r6"]);
  const ned = await device(server, "ned", ["r6"]);
  const message = await post(mo.socket, "r6");
  const before = await stored(server);
  const bad: unknown[] = [
    undefined,
    {},
    null,
    message.id, // bare id: the contract wants { messageId }
    [message.id],
    { messageId: "" },
    { messageId: 1 },
    { messageId: "m".repeat(129) },
    { messageId: message.id, extra: true },
    { id: message.id },
  ];
  for (const kind of ["delivered", "read"] as const) {
    for (const payload of bad) {
      const ack = await confirm(ned.socket, kind, payload);
      expect({ kind, payload, code: codeOf(ack) }).toEqual({ kind, payload, code: "BAD_REQUEST" });
    }
  }
  await Bun.sleep(SETTLE_MS);
  expect(await stored(server)).toEqual(before);
  expect(mo.heard).toEqual([]);
});
