/**
 * Connection state recovery (RECOVERY_WINDOW_MS): after a forced transport close the client comes
 * back with the same socket, its rooms, and the room broadcasts it missed.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Ack, ChatMessage, Connected, RoomJoined } from "../../generated/events";
import { once, startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

test("a forced transport close: rooms come back, and so does a message:new sent meanwhile", async () => {
  const alice = server.socket({ token: await server.token("alice"), reconnection: true, reconnectionDelay: 300 });
  const bob = server.socket({ token: await server.token("bob") });
  await Promise.all([once(alice, "connected"), once(bob, "connected")]);
  for (const s of [alice, bob]) {
    const ack = (await s.emitWithAck("room:join", { roomId: "recovery-room" })) as Ack<RoomJoined>;
    expect(ack.success).toBe(true);
  }
  const received: string[] = [];
  alice.on("message:new", (m: ChatMessage) => received.push(m.content));

  const idBefore = alice.id;
  const reconnected = once<Connected>(alice, "connected", 5000);
  alice.io.engine.close(); // the transport drops; the client reconnects after ~300 ms
  await Bun.sleep(50);
  const sent = (await bob.emitWithAck("message:send", {
    roomId: "recovery-room",
    content: "while you were away",
  })) as Ack<ChatMessage>;
  expect(sent.success).toBe(true);

  const connected = await reconnected;
  expect(alice.recovered).toBe(true);
  expect(alice.id).toBe(idBefore as string);
  expect(connected.rooms).toEqual(["recovery-room"]);
  await Bun.sleep(200);
  expect(received).toEqual(["while you were away"]);

  // Still a member: a new message arrives as usual, and alice may post.
  await bob.emitWithAck("message:send", { roomId: "recovery-room", content: "welcome back" });
  await Bun.sleep(100);
  expect(received).toEqual(["while you were away", "welcome back"]);
  expect(
    ((await alice.emitWithAck("message:send", { roomId: "recovery-room", content: "hi" })) as Ack<unknown>).success,
  ).toBe(true);
});

test("RECOVERY_WINDOW_MS=0: a reconnect is a new session without rooms", async () => {
  const plain = await startTestServer({ RECOVERY_WINDOW_MS: "0" });
  try {
    const socket = plain.socket({ token: await plain.token("carol"), reconnection: true, reconnectionDelay: 100 });
    await once(socket, "connected");
    await socket.emitWithAck("room:join", { roomId: "gone-room" });
    const again = once<Connected>(socket, "connected", 5000);
    socket.io.engine.close();
    expect((await again).rooms).toEqual([]);
    expect(socket.recovered).toBeFalsy();
  } finally {
    await plain.close();
  }
});

test("x-replay: false: after a reconnect, the kept events are replayed but not the pong between them", async () => {
  const dana = server.socket({ token: await server.token("dana"), reconnection: true, reconnectionDelay: 200 });
  const eve = server.socket({ token: await server.token("eve") });
  await Promise.all([once(dana, "connected"), once(eve, "connected")]);
  for (const s of [dana, eve]) await s.emitWithAck("room:join", { roomId: "replay-room" });
  const heard: string[] = [];
  dana.on("pong", () => heard.push("pong"));
  dana.on("message:new", (m: ChatMessage) => heard.push(m.content));
  // The client's recovery offset is the last kept event it got; it sends it back when it reconnects.
  const client = dana as unknown as { _lastOffset: string };

  await eve.emitWithAck("message:send", { roomId: "replay-room", content: "first" });
  await Bun.sleep(100);
  const afterFirst = client._lastOffset;
  expect((await dana.emitWithAck("ping", {})) as Ack<unknown>).toMatchObject({ success: true });
  await eve.emitWithAck("message:send", { roomId: "replay-room", content: "second" });
  await Bun.sleep(100);
  expect(heard).toEqual(["first", "pong", "second"]);

  // Come back as if "first" were the last thing received: the server replays what it kept after it.
  heard.length = 0;
  client._lastOffset = afterFirst;
  const reconnected = once<Connected>(dana, "connected", 5000);
  dana.io.engine.close();
  await reconnected;
  expect(dana.recovered).toBe(true);
  await Bun.sleep(200);
  expect(heard).toEqual(["second"]);
});
