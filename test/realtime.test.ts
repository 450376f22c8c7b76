import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { io } from "socket.io-client";
import type { Ack, Connected, Pong } from "../generated/events";
import { once, startTestServer, type TestServer } from "./helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

type Refusal = Error & { data?: { code: string; message: string } };
const refusal = (s: { once(e: string, f: (err: Refusal) => void): unknown }) => once<Refusal>(s, "connect_error");

describe("handshake", () => {
  test("auth.token: connected arrives with the user id, socket id and time", async () => {
    const socket = server.socket({ token: await server.token("alice") });
    const connected = await once<Connected>(socket, "connected");
    expect(connected.userId).toBe("alice");
    expect(connected.socketId).toBe(socket.id as string);
    expect(Math.abs(Date.parse(connected.connectedAt) - Date.now())).toBeLessThan(5000);
  });

  test.each([
    ["query.token", (t: string) => ({ query: { token: t } })],
    ["Authorization: Bearer header", (t: string) => ({ extraHeaders: { authorization: `Bearer ${t}` } })],
    ["token header", (t: string) => ({ extraHeaders: { token: t } })],
  ])("%s is accepted", async (_name, opts) => {
    const token = await server.token("bob");
    const socket = io(server.url, { transports: ["polling"], reconnection: false, ...opts(token) });
    try {
      expect((await once<Connected>(socket, "connected")).userId).toBe("bob");
    } finally {
      socket.close();
    }
  });

  test("a userId claim stands in when there is no sub (seed 000)", async () => {
    const token = await new SignJWT({ userId: "carol" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(server.config.jwtSecret));
    const socket = server.socket({ token });
    expect((await once<Connected>(socket, "connected")).userId).toBe("carol");
  });

  test("missing token", async () => {
    const socket = io(server.url, { transports: ["websocket"], reconnection: false });
    const err = await refusal(socket);
    socket.close();
    expect(err.data).toEqual({ code: "UNAUTHORIZED", message: "missing token" });
  });

  test("expired token", async () => {
    const token = await server.token("dave", {}, Math.floor(Date.now() / 1000) - 120);
    const err = await refusal(server.socket({ token }));
    expect(err.data).toEqual({ code: "UNAUTHORIZED", message: "token expired" });
  });

  test("bad signature", async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("eve")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("another-secret-another-secret-another-secret"));
    const err = await refusal(server.socket({ token }));
    expect(err.data).toEqual({ code: "UNAUTHORIZED", message: "invalid signature" });
  });

  test('alg "none" is refused', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const token = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "mallory", exp: 9999999999 })}.`;
    const err = await refusal(server.socket({ token }));
    expect(err.data).toEqual({ code: "UNAUTHORIZED", message: "algorithm not allowed (only HS256 is accepted)" });
  });

  test("garbage token", async () => {
    const err = await refusal(server.socket({ token: "not-a-jwt" }));
    expect(err.data).toEqual({ code: "UNAUTHORIZED", message: "malformed token" });
  });
});

describe("events", () => {
  let socket: ReturnType<TestServer["socket"]>;
  beforeAll(async () => {
    socket = server.socket({ token: await server.token("pinger") });
    await once(socket, "connected");
  });

  test("ping: ack { success: true, data } and a pong event with the same id", async () => {
    const pong = once<Pong>(socket, "pong");
    const ack = await socket.timeout(5000).emitWithAck("ping", { id: "p-1" });
    expect(ack.success).toBe(true);
    if (!ack.success) throw new Error("unreachable");
    expect(ack.data.id).toBe("p-1");
    expect(Number.isNaN(Date.parse(ack.data.timestamp))).toBe(false);
    expect(await pong).toEqual(ack.data);
  });

  test("ping with no payload is validated as {}", async () => {
    // biome-ignore lint/suspicious/noExplicitAny: emitting without the payload on purpose
    const ack = (await (socket.timeout(5000) as any).emitWithAck("ping")) as Ack<Pong>;
    expect(ack.success).toBe(true);
  });

  test("an invalid payload gets BAD_REQUEST naming the field; the handler does not run", async () => {
    let pongs = 0;
    const count = () => pongs++;
    socket.on("pong", count);
    // biome-ignore lint/suspicious/noExplicitAny: wrong payload on purpose
    const ack = (await (socket.timeout(5000) as any).emitWithAck("ping", { id: 42, extra: true })) as Ack<Pong>;
    await Bun.sleep(100);
    socket.off("pong", count);
    expect(ack.success).toBe(false);
    if (ack.success) throw new Error("unreachable");
    expect(ack.error.code).toBe("BAD_REQUEST");
    const paths = (ack.error.details as { issues: { path: string }[] }).issues.map((i) => i.path);
    expect(paths).toContain("id");
    expect(pongs).toBe(0);
  });

  test("a failure without an ack callback arrives as an error event", async () => {
    const error = once<{ code: string; message: string }>(socket, "error");
    // biome-ignore lint/suspicious/noExplicitAny: wrong payload on purpose
    (socket as any).emit("ping", "not an object");
    expect((await error).code).toBe("BAD_REQUEST");
  });

  test("an undeclared event gets NOT_FOUND", async () => {
    // biome-ignore lint/suspicious/noExplicitAny: undeclared on purpose
    const ack = (await (socket.timeout(5000) as any).emitWithAck("no:such-event", {})) as Ack<unknown>;
    expect(ack).toEqual({ success: false, error: { code: "NOT_FOUND", message: 'Unknown event "no:such-event"' } });
  });
});

test("one user on several devices: each socket is its own connection", async () => {
  const token = await server.token("multi");
  const a = server.socket({ token });
  const b = server.socket({ token });
  const [ca, cb] = await Promise.all([once<Connected>(a, "connected"), once<Connected>(b, "connected")]);
  expect(ca.userId).toBe("multi");
  expect(cb.userId).toBe("multi");
  expect(ca.socketId).not.toBe(cb.socketId);
  const health = (await (await server.api("/health")).json()) as { sockets: { connected: number } };
  expect(health.sockets.connected).toBeGreaterThanOrEqual(2);
});

test("socket metrics count connections and events by outcome", async () => {
  const socket = server.socket({ token: await server.token("metered") });
  await once(socket, "connected");
  await socket.timeout(5000).emitWithAck("ping", {});
  const text = await (await server.api("/metrics")).text();
  expect(text).toMatch(/switchboard_socket_connections\{namespace="\/"\} [1-9]/);
  expect(text).toMatch(/switchboard_socket_events_total\{event="ping",outcome="ok"\} [1-9]/);
  expect(text).toMatch(/switchboard_socket_events_total\{event="ping",outcome="invalid"\} [1-9]/);
});

test("one log line per connection open and close, with ids and no token", async () => {
  const token = await server.token("logged");
  const socket = server.socket({ token });
  const { socketId } = await once<Connected>(socket, "connected");
  socket.close();
  await Bun.sleep(200);
  const lines = server.logs().filter((l) => l.socketId === socketId);
  expect(lines.filter((l) => l.event === "connection_open")).toHaveLength(1);
  expect(lines.filter((l) => l.event === "connection_close")).toHaveLength(1);
  expect(lines[0]?.userId).toBe("logged");
  expect(server.rawLogs()).not.toContain(token);
});
