/**
 * The /internal namespace (seed 002's internal gateway, authenticated) and trusted service
 * connections on the main namespace (seed 003), over the wire.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { io, type Socket } from "socket.io-client";
import type { Connected, DirectMessage, InternalSendResult, SwitchboardSocket } from "switchboard/client";
import { once, startTestServer, TEST_API_TOKEN, type TestServer } from "../helpers/server";

let server: TestServer;
const opened: Socket[] = [];
beforeAll(async () => {
  // A tight per-socket rate limit, to show /internal is exempt from it.
  server = await startTestServer({ SOCKET_RATE_LIMIT: "2", SOCKET_RATE_BURST: "2" });
});
afterAll(async () => {
  for (const s of opened) s.close();
  await server.close();
});

const queued = async (recipient: string) =>
  (
    await server.query<{ n: number }>(
      "SELECT CAST(count(*) AS integer) AS n FROM direct_queue WHERE recipient_id = ?",
      recipient,
    )
  )[0]?.n;

/** A raw socket.io-client on `path` (the typed SDK is for the main namespace). */
function raw(path: string, opts: { token?: string; query?: Record<string, string> } = {}): Socket {
  const s = io(server.url + path, {
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    ...(opts.token === undefined ? {} : { auth: { token: opts.token } }),
    ...(opts.query === undefined ? {} : { query: opts.query }),
  });
  opened.push(s);
  return s;
}

/** Resolves with the connect_error's data, or fails when the socket connects. */
function refusal(socket: Socket) {
  return new Promise<{ code: string; message: string }>((resolve, reject) => {
    socket.once("connect", () => reject(new Error("connected")));
    socket.once("connect_error", (err) => resolve((err as Error & { data: { code: string; message: string } }).data));
  });
}

async function user(userId: string) {
  const socket = server.socket({ token: await server.token(userId) });
  await once(socket, "connected");
  return socket;
}

function collect(socket: SwitchboardSocket): DirectMessage[] {
  const got: DirectMessage[] = [];
  socket.on("message:direct", (m) => got.push(m));
  return got;
}

async function service(query?: Record<string, string>) {
  const s = raw("/internal", { token: TEST_API_TOKEN, ...(query ? { query } : {}) });
  const connected = await once<Connected>(s, "connected");
  return { s, connected };
}

describe("/internal handshake", () => {
  test("refuses an end-user token (FORBIDDEN), a missing or wrong one (UNAUTHORIZED)", async () => {
    expect(await refusal(raw("/internal", { token: await server.token("mallory") }))).toEqual({
      code: "FORBIDDEN",
      message: '/internal needs API_TOKEN or an admin token (role: "admin")',
    });
    expect(await refusal(raw("/internal", { token: await server.token("mallory", { role: "user" }) }))).toMatchObject({
      code: "FORBIDDEN",
    });
    expect(await refusal(raw("/internal"))).toEqual({ code: "UNAUTHORIZED", message: "missing token" });
    expect((await refusal(raw("/internal", { token: `${TEST_API_TOKEN}x` }))).code).toBe("UNAUTHORIZED");
    const refused = server.logs().filter((l) => l.event === "connection_refused" && l.namespace === "/internal");
    expect(refused.map((l) => l.reason)).toContain("NOT_ADMIN");
  });

  test("accepts API_TOKEN (as service-<uuid>, or the userId asked for) and an admin JWT", async () => {
    const { connected } = await service();
    expect(connected.userId).toMatch(/^service-[0-9a-f-]{36}$/);
    expect((await service({ userId: "notifier" })).connected.userId).toBe("notifier");
    const admin = raw("/internal", { token: await server.token("ops-admin", { role: "admin" }) });
    expect((await once<Connected>(admin, "connected")).userId).toBe("ops-admin");
  });
});

describe("send_message", () => {
  test("acks exactly seed 002's shape, not wrapped; recipients get message:direct from internal_service", async () => {
    const { s, connected } = await service();
    const [u1a, u1b] = [await user("user1"), await user("user1")];
    const [got1a, got1b] = [collect(u1a), collect(u1b)];
    const ack = (await s.timeout(5000).emitWithAck("send_message", {
      recipientIds: ["user1", "user2"],
      message: "System notification",
      metadata: { type: "notification", serviceName: "notification_service" },
    })) as InternalSendResult;

    expect(Object.keys(ack).sort()).toEqual(["recipients", "status", "timestamp"]);
    expect(Object.keys(ack.recipients).sort()).toEqual(["failed", "sent", "total"]);
    expect(ack).toEqual({
      status: "sent",
      recipients: { total: 2, sent: ["user1", "user2"], failed: [] },
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    await Bun.sleep(100);
    const expected = {
      id: expect.any(String),
      senderId: connected.userId,
      message: "System notification",
      metadata: { type: "notification", serviceName: "notification_service", source: "internal_service" },
      timestamp: ack.timestamp,
    };
    expect(got1a).toEqual([expected]);
    expect(got1b).toEqual([expected]);

    // user2 was offline: stored, and delivered on its next connect.
    expect(await queued("user2")).toBe(1);
    const u2 = server.socket({ token: await server.token("user2"), autoConnect: false });
    const got2 = collect(u2);
    u2.connect();
    await once(u2, "connected");
    await Bun.sleep(100);
    expect(got2).toEqual([expected]);
    expect(await queued("user2")).toBe(0);
  });

  test("metadata.source is internal_service even when the service says otherwise", async () => {
    const { s } = await service();
    const u = await user("user3");
    const got = collect(u);
    await s
      .timeout(5000)
      .emitWithAck("send_message", { recipientIds: ["user3"], message: "hi", metadata: { source: "x" } });
    await Bun.sleep(50);
    expect(got[0]?.metadata).toEqual({ source: "internal_service" });
  });

  test("a malformed payload gets BAD_REQUEST, delivers and stores nothing", async () => {
    const { s } = await service();
    const online = await user("user4");
    const got = collect(online);
    for (const payload of [
      {},
      { recipientIds: [], message: "x" },
      { recipientIds: ["user4", "user5"] },
      { recipientIds: ["user4", "user5"], message: 7 },
      { recipientIds: ["user4", "user5"], message: "x", metadata: [] },
      { recipientIds: ["user4", "user5"], message: "x", unknown: 1 },
    ]) {
      const ack = (await s.timeout(5000).emitWithAck("send_message", payload)) as {
        success: boolean;
        error: { code: string };
      };
      expect(ack).toMatchObject({ success: false, error: { code: "BAD_REQUEST" } });
    }
    await Bun.sleep(50);
    expect(got).toEqual([]);
    expect(await queued("user5")).toBe(0);
  });

  test("is not rate limited (SOCKET_RATE_LIMIT=2 here), while the main namespace is", async () => {
    const { s } = await service();
    const acks = (await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        s.timeout(5000).emitWithAck("send_message", { recipientIds: [`burst-${i}`], message: "x" }),
      ),
    )) as InternalSendResult[];
    expect(acks.every((a) => a.status === "sent")).toBe(true);

    const u = await user("limited");
    const answers = await Promise.all(Array.from({ length: 4 }, () => u.timeout(5000).emitWithAck("ping", {})));
    expect(answers.some((a) => !a.success && a.error.code === "RATE_LIMITED")).toBe(true);
  });

  test("main-namespace events do not exist on /internal", async () => {
    const { s } = await service();
    const ack = (await s.timeout(5000).emitWithAck("message:direct", { recipientIds: ["x"], message: "x" })) as {
      success: boolean;
      error: { code: string };
    };
    expect(ack).toMatchObject({ success: false, error: { code: "NOT_FOUND" } });
  });

  test("an /internal connection does not take its user's stored messages", async () => {
    const { s } = await service();
    await s.timeout(5000).emitWithAck("send_message", { recipientIds: ["ops"], message: "for ops' devices" });
    expect(await queued("ops")).toBe(1);
    const admin = raw("/internal", { token: await server.token("ops", { role: "admin" }) });
    await once(admin, "connected");
    await Bun.sleep(100);
    expect(await queued("ops")).toBe(1);
    const device = server.socket({ token: await server.token("ops"), autoConnect: false });
    const got = collect(device);
    device.connect();
    await once(device, "connected");
    await Bun.sleep(100);
    expect(got.map((m) => m.message)).toEqual(["for ops' devices"]);
  });
});

describe("trusted service connections on the main namespace (seed 003)", () => {
  interface Stats {
    connections: { socketId: string; userId: string; channel: string | null; connectedAt: string }[];
  }
  const stats = async () => (await (await server.api("/api/socket/sockets/stats?limit=100")).json()) as Stats;

  test("API_TOKEN with userId and channel: joined to the channel at once, shown in the socket stats", async () => {
    const s = raw("/", { token: TEST_API_TOKEN, query: { userId: "user-123", channel: "my-channel" } });
    const connected = await once<Connected>(s, "connected");
    expect(connected).toMatchObject({ userId: "user-123", rooms: ["my-channel"] });
    const row = (await stats()).connections.find((c) => c.socketId === connected.socketId);
    expect(row).toEqual({
      socketId: connected.socketId,
      userId: "user-123",
      channel: "my-channel",
      connectedAt: connected.connectedAt,
    });
  });

  test("without them both are generated", async () => {
    const s = raw("/", { token: TEST_API_TOKEN });
    const connected = await once<Connected>(s, "connected");
    expect(connected.userId).toMatch(/^service-[0-9a-f-]{36}$/);
    expect(connected.rooms).toHaveLength(1);
    expect(connected.rooms[0]).toMatch(/^channel-[0-9a-f-]{36}$/);
    const row = (await stats()).connections.find((c) => c.socketId === connected.socketId);
    expect(row?.channel).toBe(connected.rooms[0] as string);
  });

  test("the query token of seed 003 works too", async () => {
    const s = raw("/", { query: { token: TEST_API_TOKEN, channel: "c-1" } });
    expect((await once<Connected>(s, "connected")).rooms).toEqual(["c-1"]);
  });

  test("an invalid userId or channel is refused (BAD_REQUEST); an end user cannot pick a channel", async () => {
    expect(await refusal(raw("/", { token: TEST_API_TOKEN, query: { channel: "has space" } }))).toMatchObject({
      code: "BAD_REQUEST",
    });
    expect(await refusal(raw("/", { token: TEST_API_TOKEN, query: { channel: "user:alice" } }))).toMatchObject({
      code: "BAD_REQUEST",
    });
    const victim = await user("victim");
    expect(await refusal(raw("/", { token: TEST_API_TOKEN, query: { channel: victim.id as string } }))).toMatchObject({
      code: "BAD_REQUEST",
    });
    expect(await refusal(raw("/", { token: TEST_API_TOKEN, query: { userId: "x".repeat(129) } }))).toMatchObject({
      code: "BAD_REQUEST",
    });
    const enduser = raw("/", {
      token: await server.token("eve"),
      query: { channel: "my-channel", userId: "user-123" },
    });
    const connected = await once<Connected>(enduser, "connected");
    expect(connected).toMatchObject({ userId: "eve", rooms: [] });
    const row = (await stats()).connections.find((c) => c.socketId === connected.socketId);
    expect(row?.channel).toBeNull();
  });
});
