/**
 * Connections and status, over REST and tRPC: channel stats (seed 003), socket health (seed 001),
 * connected users, a user's status, the caller's own status and disconnecting a user (seed 004).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TRPCClientError } from "@trpc/client";
import { io, type Socket } from "socket.io-client";
import type { SwitchboardSocket } from "switchboard/client";
import { once, startTestServer, TEST_API_TOKEN, type TestServer } from "../helpers/server";

interface ErrorReply {
  success: false;
  error: { code: string; message: string; details?: { issues: { path: string }[] } };
}
interface UserStatus {
  userId: string;
  online: boolean;
  status: string;
  devices: number;
  lastSeen: string | null;
}
interface ConnectedPage {
  totalUsers: number;
  totalConnections: number;
  users: { userId: string; devices: number; status: string; connectedAt: string }[];
  nextCursor: string | null;
}

const SETTLE_MS = 150;
let server: TestServer;
const services: Socket[] = [];

/** A trusted service connection (seed 003) in `channel`, as `userId`. */
async function service(channel: string, userId: string) {
  const socket = io(server.url, {
    transports: ["websocket"],
    reconnection: false,
    query: { channel, userId },
    auth: { token: TEST_API_TOKEN },
  });
  services.push(socket);
  await once(socket, "connected");
  return socket;
}
async function user(userId: string): Promise<SwitchboardSocket> {
  const socket = server.socket({ token: await server.token(userId) });
  await once(socket, "connected");
  return socket;
}
const getJson = async <T>(path: string, auth: boolean | string = true) => {
  const res = await server.api(path, { auth });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
};
const trpcError = (promise: Promise<unknown>) => promise.catch((e: unknown) => e) as Promise<TRPCClientError<never>>;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const s of services) s.close();
  await server.close();
});

describe("GET /api/socket/sockets/channel/:channel/stats (seed 003)", () => {
  beforeAll(async () => {
    await service("lobby", "svc-1");
    await service("lobby", "svc-1");
    await service("lobby", "svc-2");
    await service("other", "svc-1");
  });

  test("REST: distinct users and sockets in the channel", async () => {
    expect(await getJson("/api/socket/sockets/channel/lobby/stats")).toEqual({
      channel: "lobby",
      userCount: 2,
      socketCount: 3,
    });
    expect(await getJson("/api/socket/sockets/channel/other/stats")).toEqual({
      channel: "other",
      userCount: 1,
      socketCount: 1,
    });
    expect(await getJson("/api/socket/sockets/channel/nobody-here/stats")).toEqual({
      channel: "nobody-here",
      userCount: 0,
      socketCount: 0,
    });
  });

  test("tRPC: sockets.channelStats", async () => {
    expect(await server.admin().sockets.channelStats.query({ channel: "lobby" })).toEqual({
      channel: "lobby",
      userCount: 2,
      socketCount: 3,
    });
  });

  test("bad channel 400, no token 401, a user JWT 403", async () => {
    for (const channel of ["a%20b", "user%3Aann", "x".repeat(129)]) {
      const res = await server.api(`/api/socket/sockets/channel/${channel}/stats`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorReply).error.details?.issues[0]?.path).toBe("channel");
    }
    expect((await server.api("/api/socket/sockets/channel/lobby/stats", { auth: false })).status).toBe(401);
    expect(
      (await server.api("/api/socket/sockets/channel/lobby/stats", { auth: await server.token("u") })).status,
    ).toBe(403);
  });
});

describe("GET /api/socket/health (seed 001): public", () => {
  test("REST, without a token: connections and joined rooms", async () => {
    const before = await getJson<{
      status: string;
      socket: { initialized: boolean; connected: number; rooms: number };
    }>("/api/socket/health", false);
    expect(before.status).toBe("ok");
    expect(before.socket.initialized).toBe(true);
    const connected = before.socket.connected;

    const ann = await user("health-ann");
    const joined = await ann.emitWithAck("room:join", { roomId: "health-room" });
    expect(joined.success).toBe(true);
    const after = await getJson<typeof before>("/api/socket/health", false);
    expect(after).toEqual({
      status: "ok",
      socket: { initialized: true, connected: connected + 1, rooms: before.socket.rooms + 1 },
    });
    ann.close();
    await Bun.sleep(SETTLE_MS);
    expect(await getJson("/api/socket/health", false)).toEqual(before);
  });

  test("tRPC without a token; a wrong token is no reason to refuse it", async () => {
    const health = await server.admin("no-token-at-all-here").sockets.health.query({});
    expect(health.status).toBe("ok");
    expect(health.socket.initialized).toBe(true);
    expect(health.socket.connected).toBeGreaterThanOrEqual(4);
  });
});

describe("connected users, status, me/status, disconnect (seed 004)", () => {
  let ann: SwitchboardSocket[];
  beforeAll(async () => {
    ann = [await user("ann"), await user("ann")];
    await Bun.sleep(5);
    await user("ben");
  });

  test("GET /websocket/users/connected: users by id with their devices, a page at a time", async () => {
    const all = await getJson<ConnectedPage>("/websocket/users/connected");
    const byId = Object.fromEntries(all.users.map((u) => [u.userId, u]));
    expect(byId.ann).toMatchObject({ userId: "ann", devices: 2, status: "online" });
    expect(byId.ben).toMatchObject({ userId: "ben", devices: 1, status: "online" });
    expect(byId["svc-1"]).toMatchObject({ devices: 3 });
    expect(all.totalUsers).toBe(all.users.length);
    expect(all.totalConnections).toBe(all.users.reduce((n, u) => n + u.devices, 0));
    expect(all.users.map((u) => u.userId)).toEqual(all.users.map((u) => u.userId).sort());
    expect(all.nextCursor).toBeNull();

    const first = await getJson<ConnectedPage>("/websocket/users/connected?limit=1");
    expect(first.users.map((u) => u.userId)).toEqual([all.users[0]?.userId as string]);
    expect(first.totalUsers).toBe(all.totalUsers);
    const second = await getJson<ConnectedPage>(`/websocket/users/connected?limit=1&cursor=${first.nextCursor}`);
    expect(second.users.map((u) => u.userId)).toEqual([all.users[1]?.userId as string]);

    const viaTrpc = await server.admin().users.connected.query({ limit: 1000 });
    expect(viaTrpc.users.map((u) => u.userId)).toEqual(all.users.map((u) => u.userId));

    for (const query of ["limit=0", "limit=x", "limit=1001", "cursor=bm9wZQ"]) {
      const res = await server.api(`/websocket/users/connected?${query}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorReply).error.details?.issues[0]?.path).toBe(query.split("=")[0] as string);
    }
  });

  test("GET /websocket/users/:userId/status: online, status, devices, lastSeen", async () => {
    expect(await getJson("/websocket/users/ann/status")).toEqual({
      userId: "ann",
      online: true,
      status: "online",
      devices: 2,
      lastSeen: null,
    });
    expect(await getJson("/websocket/users/never-seen/status")).toEqual({
      userId: "never-seen",
      online: false,
      status: "offline",
      devices: 0,
      lastSeen: null,
    });
    const away = await (ann[0] as SwitchboardSocket).emitWithAck("user:status", { status: "away" });
    expect(away.success).toBe(true);
    expect(await server.admin().users.status.query({ userId: "ann" })).toMatchObject({ status: "away", devices: 2 });
    await (ann[0] as SwitchboardSocket).emitWithAck("user:status", { status: "online" });

    const long = await server.api(`/websocket/users/${"x".repeat(257)}/status`);
    expect(long.status).toBe(400);
    expect(((await long.json()) as ErrorReply).error.details?.issues[0]?.path).toBe("userId");
  });

  test("GET /websocket/me/status: the caller's own JWT; the API token has no user (403); none 401", async () => {
    const annToken = await server.token("ann");
    expect(await getJson("/websocket/me/status", annToken)).toEqual({
      userId: "ann",
      online: true,
      status: "online",
      devices: 2,
      lastSeen: null,
    });
    expect(await server.admin(annToken).users.me.query({})).toMatchObject({ userId: "ann", devices: 2 });
    // An admin JWT acts for its own sub.
    expect(await getJson("/websocket/me/status", await server.token("ops", { role: "admin" }))).toMatchObject({
      userId: "ops",
      online: false,
    });

    const apiToken = await server.api("/websocket/me/status");
    expect(apiToken.status).toBe(403);
    expect(((await apiToken.json()) as ErrorReply).error.code).toBe("FORBIDDEN");
    for (const auth of [
      false,
      "wrong-token-wrong-token",
      await server.token("ann", {}, Math.floor(Date.now() / 1000) - 3600),
    ]) {
      const res = await server.api("/websocket/me/status", { auth });
      expect(res.status).toBe(401);
      expect(((await res.json()) as ErrorReply).error.code).toBe("UNAUTHORIZED");
    }
    expect((await trpcError(server.admin().users.me.query({}))).data).toMatchObject({ httpStatus: 403 });
    expect((await trpcError(server.admin("wrong-token-wrong-token").users.me.query({}))).data).toMatchObject({
      httpStatus: 401,
    });
  });

  test("DELETE /websocket/users/:userId/disconnect: sockets closed, presence offline, friends told", async () => {
    const cat = [await user("cat"), await user("cat")];
    const friend = await user("dan");
    expect((await server.admin().friends.add.mutate({ userId: "cat", friendId: "dan" })).created).toBe(true);
    const closed = cat.map((s) => once<string>(s, "disconnect"));
    const told = once<{ userId: string; lastSeen: string }>(friend, "user:offline");

    const res = await server.api("/websocket/users/cat/disconnect", { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true, disconnected: 2 });
    expect(await Promise.all(closed)).toEqual(["io server disconnect", "io server disconnect"]);
    expect((await told).userId).toBe("cat");

    const status = await getJson<UserStatus>("/websocket/users/cat/status");
    expect(status).toMatchObject({ userId: "cat", online: false, status: "offline", devices: 0 });
    expect(status.lastSeen).toBeString();
    const connected = await getJson<ConnectedPage>("/websocket/users/connected");
    expect(connected.users.map((u) => u.userId)).not.toContain("cat");
    expect((await getJson<UserStatus>("/websocket/users/dan/status")).online).toBe(true);

    expect(await (await server.api("/websocket/users/cat/disconnect", { method: "DELETE" })).json()).toEqual({
      success: false,
      disconnected: 0,
    });
  });

  test("tRPC: users.disconnect", async () => {
    const eve = await user("eve");
    const closed = once<string>(eve, "disconnect");
    expect(await server.admin().users.disconnect.mutate({ userId: "eve" })).toEqual({ success: true, disconnected: 1 });
    expect(await closed).toBe("io server disconnect");
    expect(await server.admin().users.status.query({ userId: "eve" })).toMatchObject({ online: false, devices: 0 });
  });

  test("refusals change nothing: no token 401, a user JWT 403, a bad id 400", async () => {
    const token = await server.token("ann");
    for (const [auth, status] of [
      [false, 401],
      ["wrong-token-wrong-token", 401],
      [token, 403],
    ] as const) {
      const res = await server.api("/websocket/users/ann/disconnect", { method: "DELETE", auth });
      expect(res.status).toBe(status);
      expect(((await res.json()) as ErrorReply).success).toBe(false);
      expect((await server.api("/websocket/users/connected", { auth })).status).toBe(status);
      expect((await server.api("/websocket/users/ann/status", { auth })).status).toBe(status);
    }
    const long = await server.api(`/websocket/users/${"x".repeat(257)}/disconnect`, { method: "DELETE" });
    expect(long.status).toBe(400);
    expect((await server.api("/websocket/users/ann/disconnect", { method: "POST" })).status).toBe(405);
    expect(ann.every((s) => s.connected)).toBe(true);
    expect((await getJson<UserStatus>("/websocket/users/ann/status")).devices).toBe(2);
  });
});
