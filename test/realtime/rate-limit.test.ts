/** Per-socket rate limit (seed 001): a token bucket per socket; persistent abuse disconnects. */
import { afterEach, expect, test } from "bun:test";
import type { Ack, Pong } from "../../generated/events";
import { once, startTestServer, type TestServer } from "../helpers/server";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

test("the 11th event in one second is refused with RATE_LIMITED and does not run", async () => {
  server = await startTestServer(); // defaults: 10 events/s, burst 10
  const socket = server.socket({ token: await server.token("chatty") });
  await once(socket, "connected");
  let pongs = 0;
  socket.on("pong", () => pongs++);
  const acks = (await Promise.all(
    Array.from({ length: 11 }, (_, i) => socket.timeout(5000).emitWithAck("ping", { id: String(i) })),
  )) as Ack<Pong>[];
  expect(acks.slice(0, 10).every((a) => a.success)).toBe(true);
  expect(acks[10]).toEqual({
    success: false,
    error: { code: "RATE_LIMITED", message: "Too many events: at most 10 per second" },
  });
  await Bun.sleep(100);
  expect(pongs).toBe(10);
  // Another socket of the same user has its own bucket; this one refills with time.
  const other = server.socket({ token: await server.token("chatty") });
  await once(other, "connected");
  expect(((await other.emitWithAck("ping", {})) as Ack<Pong>).success).toBe(true);
  await Bun.sleep(250);
  expect(((await socket.emitWithAck("ping", {})) as Ack<Pong>).success).toBe(true);
});

test("without an ack callback the refusal arrives as an error event; unknown events count too", async () => {
  server = await startTestServer({ SOCKET_RATE_LIMIT: "2" });
  const socket = server.socket({ token: await server.token("noack") });
  await once(socket, "connected");
  const errors: { code: string }[] = [];
  socket.on("error", (e: { code: string }) => errors.push(e));
  // biome-ignore lint/suspicious/noExplicitAny: undeclared and ack-less on purpose
  const raw = socket as any;
  raw.emit("no:such-event", {});
  raw.emit("no:such-event", {});
  raw.emit("ping", {});
  await Bun.sleep(200);
  expect(errors.map((e) => e.code)).toEqual(["NOT_FOUND", "NOT_FOUND", "RATE_LIMITED"]);
});

test("a socket refused more than SOCKET_ABUSE_LIMIT times in a minute is disconnected", async () => {
  server = await startTestServer({ SOCKET_RATE_LIMIT: "1", SOCKET_ABUSE_LIMIT: "5" });
  const socket = server.socket({ token: await server.token("abuser") });
  await once(socket, "connected");
  const gone = once<string>(socket, "disconnect");
  // biome-ignore lint/suspicious/noExplicitAny: ack-less on purpose
  for (let i = 0; i < 10; i++) (socket as any).emit("ping", {});
  expect(await gone).toBe("io server disconnect");
  expect(server.logs().some((l) => l.event === "socket_abuse" && l.userId === "abuser")).toBe(true);
});
