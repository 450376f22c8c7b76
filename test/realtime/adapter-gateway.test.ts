/**
 * Room broadcasts through the real gateway on either adapter (SOCKET_ADAPTER=bun, the default, and
 * memory): an admin dispatch to a channel and chat's message:new reach websocket, polling and
 * upgraded members once each, in order; members elsewhere hear nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Ack, ChatMessage, Connected } from "../../generated/events";
import { once, startTestServer, type TestServer } from "../helpers/server";

type Transport = "websocket" | "polling" | "upgraded";

async function until(ok: () => boolean, what: string, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

describe.each(["bun", "memory"])("SOCKET_ADAPTER=%s", (adapter) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ SOCKET_ADAPTER: adapter, SOCKET_RATE_LIMIT: "1000" });
  });
  afterAll(() => server.close());

  /** A connected socket of `userId` in `room` (if any), recording the first argument of every event. */
  async function member(userId: string, transport: Transport, room?: string) {
    const transports = transport === "websocket" ? ["websocket"] : transport === "polling" ? ["polling"] : undefined;
    const socket = server.socket({
      token: await server.token(userId),
      transports: transports ?? ["polling", "websocket"],
    });
    await once<Connected>(socket, "connected");
    if (transport === "upgraded") await until(() => socket.io.engine.transport.name === "websocket", "the upgrade");
    if (room) {
      const joined = (await socket.emitWithAck("room:join", { roomId: room })) as Ack<unknown>;
      expect(joined.success).toBe(true);
    }
    const events: [string, unknown][] = [];
    socket.onAny((event: string, first: unknown) => events.push([event, first]));
    return { socket, got: (event: string) => events.filter(([e]) => e === event).map(([, first]) => first) };
  }

  test("start-up logs which adapter carries room broadcasts", () => {
    const line = server.logs().find((l) => l.event === "socket_adapter");
    expect(line && { adapter: line.adapter, level: line.level }).toEqual(
      adapter === "bun" ? { adapter: "bun", level: 30 } : undefined,
    );
  });

  test("an admin dispatch to a channel reaches websocket, polling and upgraded members once, in order", async () => {
    const room = `dispatch-${adapter}`;
    const members = [
      await member("d1", "websocket", room),
      await member("d2", "polling", room),
      await member("d3", "upgraded", room),
    ];
    const outsider = await member("d4", "websocket", `${room}-other`);
    for (let i = 0; i < 30; i++) {
      const res = await server.api("/api/socket/dispatch", {
        method: "POST",
        body: JSON.stringify({ channel: room, event: "fanout-check", data: { i } }),
      });
      expect(((await res.json()) as { dispatchedCount: number }).dispatchedCount).toBe(3);
    }
    await until(() => members.every((m) => m.got("fanout-check").length >= 30), "30 dispatches");
    await Bun.sleep(100);
    const expected = Array.from({ length: 30 }, (_, i) => ({ i }));
    for (const m of members) expect(m.got("fanout-check")).toEqual(expected);
    expect(outsider.got("fanout-check")).toEqual([]);
  });

  test("chat: message:new reaches every other member and the sender's other device, in order, never the sender", async () => {
    const room = `chat-${adapter}`;
    const sender = await member("c-sender", "websocket", room);
    const listeners = [
      await member("c-sender", "polling", room), // the sender's other device
      await member("c-1", "websocket", room),
      await member("c-2", "polling", room),
      await member("c-3", "upgraded", room),
    ];
    const outsider = await member("c-4", "websocket");
    const N = 100;
    for (let i = 0; i < N; i++) {
      const ack = (await sender.socket.emitWithAck("message:send", { roomId: room, content: `m${i}` })) as Ack<unknown>;
      expect(ack.success).toBe(true);
    }
    await until(() => listeners.every((m) => m.got("message:new").length >= N), "every message:new");
    await Bun.sleep(100);
    const expected = Array.from({ length: N }, (_, i) => `m${i}`);
    for (const m of listeners) expect(m.got("message:new").map((x) => (x as ChatMessage).content)).toEqual(expected);
    expect(sender.got("message:new")).toEqual([]);
    expect(outsider.got("message:new")).toEqual([]);
  });

  test("a member that leaves hears nothing more; the others go on", async () => {
    const room = `leave-${adapter}`;
    const [stays, leaves] = [await member("l1", "websocket", room), await member("l2", "websocket", room)];
    const speaker = await member("l3", "polling", room);
    const say = async (content: string) =>
      expect(
        ((await speaker.socket.emitWithAck("message:send", { roomId: room, content })) as Ack<unknown>).success,
      ).toBe(true);
    await say("before");
    expect(((await leaves.socket.emitWithAck("room:leave", { roomId: room })) as Ack<unknown>).success).toBe(true);
    await say("after");
    await until(() => stays.got("message:new").length >= 2, "both messages");
    await Bun.sleep(100);
    const contents = (s: { got(e: string): unknown[] }) => s.got("message:new").map((x) => (x as ChatMessage).content);
    expect(contents(stays)).toEqual(["before", "after"]);
    expect(contents(leaves)).toEqual(["before"]);
  });
});
