/**
 * message:direct over the wire (seed 002): every device of an online recipient gets it now, an offline
 * recipient has it stored and gets it on its next connect, in order, exactly once, then removed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Ack, DirectMessage, DirectResult, SwitchboardSocket } from "switchboard/client";
import { once, startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ MAX_MESSAGE_CHARS: "50", SOCKET_RATE_LIMIT: "1000" });
});
afterAll(async () => {
  await server.close();
});

const queued = async (recipient?: string) =>
  (recipient === undefined
    ? await server.query<{ n: number }>("SELECT CAST(count(*) AS integer) AS n FROM direct_queue")
    : await server.query<{ n: number }>(
        "SELECT CAST(count(*) AS integer) AS n FROM direct_queue WHERE recipient_id = ?",
        recipient,
      ))[0]?.n;

async function connect(userId: string) {
  const socket = server.socket({ token: await server.token(userId) });
  await once(socket, "connected");
  return socket;
}

/** Every message:direct a socket gets from now on. */
function collect(socket: SwitchboardSocket): DirectMessage[] {
  const got: DirectMessage[] = [];
  socket.on("message:direct", (m) => got.push(m));
  return got;
}

const send = (socket: SwitchboardSocket, payload: unknown) =>
  // biome-ignore lint/suspicious/noExplicitAny: malformed payloads on purpose
  (socket as any).timeout(5000).emitWithAck("message:direct", payload) as Promise<Ack<DirectResult>>;

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe("online recipients", () => {
  test("every device of every recipient gets it; the ack says who", async () => {
    const sender = await connect("alice");
    const [b1, b2, c1] = [await connect("bob"), await connect("bob"), await connect("carl")];
    const [gotB1, gotB2, gotC1, gotSender] = [collect(b1), collect(b2), collect(c1), collect(sender)];
    const ack = await send(sender, { recipientIds: ["bob", "carl"], message: "Hello!", metadata: { type: "chat" } });
    expect(ack.success).toBe(true);
    if (!ack.success) return;
    expect(ack.data).toEqual({
      status: "sent",
      recipients: { total: 2, sent: ["bob", "carl"], failed: [], queued: [] },
      timestamp: expect.stringMatching(ISO),
    });
    await Bun.sleep(100);
    for (const got of [gotB1, gotB2, gotC1]) {
      expect(got).toEqual([
        {
          id: expect.any(String),
          senderId: "alice",
          message: "Hello!",
          metadata: { type: "chat" },
          timestamp: ack.data.timestamp,
        },
      ]);
    }
    expect(gotB1[0]?.id).toBe(gotC1[0]?.id as string);
    expect(gotSender).toEqual([]);
    expect(await queued()).toBe(0);
  });

  test("metadata is null when none was sent; a repeated recipient counts once", async () => {
    const sender = await connect("dan");
    const r = await connect("erin");
    const got = collect(r);
    const ack = await send(sender, { recipientIds: ["erin", "erin"], message: "once" });
    expect(ack).toMatchObject({ success: true, data: { recipients: { total: 1, sent: ["erin"], queued: [] } } });
    await Bun.sleep(100);
    expect(got).toHaveLength(1);
    expect(got[0]?.metadata).toBeNull();
  });

  test("a sender may write to itself: all its devices get it, the sending one too", async () => {
    const [s1, s2] = [await connect("fay"), await connect("fay")];
    const [got1, got2] = [collect(s1), collect(s2)];
    const ack = await send(s1, { recipientIds: ["fay"], message: "note to self" });
    expect(ack).toMatchObject({ success: true, data: { status: "sent", recipients: { sent: ["fay"] } } });
    await Bun.sleep(100);
    expect(got1.map((m) => m.message)).toEqual(["note to self"]);
    expect(got2.map((m) => m.message)).toEqual(["note to self"]);
  });
});

describe("offline recipients", () => {
  test("queued, then delivered on the next connect in order, exactly once, then removed", async () => {
    const sender = await connect("gus");
    const online = await connect("hal");
    for (const text of ["one", "two", "three"]) {
      const ack = await send(sender, { recipientIds: ["hal", "ivy"], message: text, metadata: { n: text } });
      expect(ack).toMatchObject({
        success: true,
        data: { status: "sent", recipients: { total: 2, sent: ["hal"], failed: [], queued: ["ivy"] } },
      });
    }
    online.close();
    expect(await queued("ivy")).toBe(3);

    const ivy = server.socket({ token: await server.token("ivy"), autoConnect: false });
    const got = collect(ivy);
    ivy.connect();
    await once(ivy, "connected");
    await Bun.sleep(200);
    expect(got.map((m) => [m.message, m.metadata, m.senderId])).toEqual([
      ["one", { n: "one" }, "gus"],
      ["two", { n: "two" }, "gus"],
      ["three", { n: "three" }, "gus"],
    ]);
    expect([...got.map((m) => m.id)].sort()).toEqual(got.map((m) => m.id));
    expect(await queued("ivy")).toBe(0);

    // The next connect, and the devices already online, get nothing again.
    ivy.close();
    const again = server.socket({ token: await server.token("ivy"), autoConnect: false });
    const gotAgain = collect(again);
    again.connect();
    await once(again, "connected");
    await Bun.sleep(200);
    expect(gotAgain).toEqual([]);
  });

  test("two devices connecting at the same moment: each message reaches the user once, no device twice", async () => {
    const sender = await connect("jon");
    for (const text of ["a", "b", "c", "d"]) await send(sender, { recipientIds: ["kim"], message: text });
    expect(await queued("kim")).toBe(4);

    const token = await server.token("kim");
    const devices = [0, 1, 2].map(() => server.socket({ token, autoConnect: false }));
    const got = devices.map(collect);
    for (const d of devices) d.connect();
    await Promise.all(devices.map((d) => once(d, "connected")));
    await Bun.sleep(300);

    expect(await queued("kim")).toBe(0);
    for (const list of got) {
      // No device twice, and each device in send order.
      expect(new Set(list.map((m) => m.id)).size).toBe(list.length);
      expect(list.map((m) => m.message)).toEqual(["a", "b", "c", "d"].filter((t) => list.some((m) => m.message === t)));
    }
    // Every message reached the user, from one claim: every device that got it got the same id.
    const byText = new Map<string, Set<string>>();
    for (const m of got.flat()) byText.set(m.message, (byText.get(m.message) ?? new Set()).add(m.id));
    expect([...byText.keys()].sort()).toEqual(["a", "b", "c", "d"]);
    for (const ids of byText.values()) expect(ids.size).toBe(1);

    const late = server.socket({ token, autoConnect: false });
    const gotLate = collect(late);
    late.connect();
    await once(late, "connected");
    await Bun.sleep(200);
    expect(gotLate).toEqual([]);
  });
});

describe("a connect in the middle of a stream of messages", () => {
  test("nothing is lost or repeated, and the order holds: queued ones first, then live ones", async () => {
    const sender = await connect("streamer");
    const device = server.socket({ token: await server.token("listener"), autoConnect: false });
    const got = collect(device);
    const connected = once(device, "connected");
    const statuses: string[] = [];
    for (let i = 0; i < 60; i++) {
      if (i === 20) device.connect(); // no await: the handshake races the next sends
      const ack = await send(sender, { recipientIds: ["listener"], message: `m${i}` });
      if (ack.success) statuses.push(ack.data.recipients.queued.length > 0 ? "queued" : "sent");
    }
    await connected;
    await Bun.sleep(300);
    expect(statuses.slice(0, 20).every((s) => s === "queued")).toBe(true);
    expect(statuses.at(-1)).toBe("sent");
    expect(got.map((m) => m.message)).toEqual(Array.from({ length: 60 }, (_, i) => `m${i}`));
    expect(await queued("listener")).toBe(0);
  });
});

describe("refusals change nothing", () => {
  /** One online and one offline recipient: nothing may be delivered to the first nor stored for the second. */
  const TO = ["zed-online", "zed-offline"];
  const malformed: [string, unknown][] = [
    ["no payload", undefined],
    ["not an object", "hello"],
    ["no recipients", { message: "x" }],
    ["empty recipients", { recipientIds: [], message: "x" }],
    ["101 recipients", { recipientIds: Array.from({ length: 101 }, (_, i) => `u${i}`), message: "x" }],
    ["a recipient that is not a string", { recipientIds: [42], message: "x" }],
    ["an empty recipient id", { recipientIds: [""], message: "x" }],
    ["no message", { recipientIds: TO }],
    ["an empty message", { recipientIds: TO, message: "" }],
    ["a message that is not a string", { recipientIds: TO, message: { text: "x" } }],
    ["metadata that is not an object", { recipientIds: TO, message: "x", metadata: "meta" }],
    ["an unknown key", { recipientIds: TO, message: "x", extra: true }],
    ["longer than MAX_MESSAGE_CHARS", { recipientIds: TO, message: "x".repeat(51) }],
    ["the reserved metadata.source", { recipientIds: TO, message: "x", metadata: { source: "internal_service" } }],
  ];

  test.each(malformed)("%s: BAD_REQUEST, nothing sent or stored", async (_name, payload) => {
    const sender = await connect("mal");
    const zed = await connect("zed-online");
    const got = collect(zed);
    const before = await queued();
    const ack = await send(sender, payload);
    expect(ack.success).toBe(false);
    if (!ack.success) expect(ack.error.code).toBe("BAD_REQUEST");
    await Bun.sleep(50);
    expect(got).toEqual([]);
    expect(await queued()).toBe(before);
  });

  test("without an ack callback the refusal comes as an `error` event", async () => {
    const sender = await connect("quiet");
    const error = once<{ code: string }>(sender, "error");
    // biome-ignore lint/suspicious/noExplicitAny: no ack callback on purpose
    (sender as any).emit("message:direct", { recipientIds: [], message: "x" });
    expect((await error).code).toBe("BAD_REQUEST");
  });

  test("MAX_MESSAGE_CHARS itself is accepted", async () => {
    const sender = await connect("max");
    const ack = await send(sender, { recipientIds: ["nobody-max"], message: "x".repeat(50) });
    expect(ack).toMatchObject({ success: true, data: { recipients: { queued: ["nobody-max"] } } });
    expect(await queued("nobody-max")).toBe(1);
  });
});
