/**
 * Backends reaching clients, over REST and tRPC: seed 003's dispatch (channel, user, user in a channel,
 * neither) with its counts, and seed 004's message/user, message/users, message/broadcast and
 * notification (clients receive `message { type, data, timestamp }`). Refusals send nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TRPCClientError } from "@trpc/client";
import { io, type Socket } from "socket.io-client";
import { once, startTestServer, TEST_API_TOKEN, type TestServer } from "../helpers/server";

interface ErrorReply {
  success: false;
  error: { code: string; message: string; details?: { issues: { path: string; message: string }[] } };
}
interface Received {
  event: string;
  payload: unknown;
}

/** A connected socket and every event it received after `connected`. */
interface Client {
  name: string;
  socket: Socket;
  got: Received[];
}

/** Long enough for an emit that is coming to have arrived. */
const SETTLE_MS = 150;
const json = (body: unknown) => JSON.stringify(body);
const post = (server: TestServer, path: string, body: unknown, auth: boolean | string = true) =>
  server.api(path, { method: "POST", body: json(body), auth });

async function record(name: string, socket: Socket): Promise<Client> {
  await once(socket, "connected");
  const got: Received[] = [];
  socket.onAny((event: string, payload: unknown) => got.push({ event, payload }));
  return { name, socket, got };
}

/** A trusted service connection (seed 003): API_TOKEN, with the channel and user it names. */
function service(server: TestServer, channel: string, userId: string, opened: Socket[]) {
  const socket = io(server.url, {
    transports: ["websocket"],
    reconnection: false,
    query: { channel, userId },
    auth: { token: TEST_API_TOKEN },
  });
  opened.push(socket);
  return record(`${userId}@${channel}`, socket);
}

const clear = (clients: Client[]) => {
  for (const c of clients) c.got.length = 0;
};
/** Which clients got `event` since the last clear, by name. */
const receivers = (clients: Client[], event: string) =>
  clients.filter((c) => c.got.some((g) => g.event === event)).map((c) => c.name);

describe("seed 003: POST /api/socket/dispatch", () => {
  let server: TestServer;
  const opened: Socket[] = [];
  let clients: Client[];
  beforeAll(async () => {
    server = await startTestServer();
    clients = await Promise.all([
      service(server, "ch-a", "alice", opened),
      service(server, "ch-a", "bob", opened),
      service(server, "ch-b", "alice", opened),
      service(server, "ch-a", "alice", opened),
      (async () => record("alice (jwt)", server.socket({ token: await server.token("alice") })))(),
      (async () => record("bob (jwt)", server.socket({ token: await server.token("bob") })))(),
    ]);
    // Two trusted connections of alice in ch-a: tell them apart.
    (clients[3] as Client).name = "alice@ch-a#2";
  });
  afterAll(async () => {
    for (const s of opened) s.close();
    await server.close();
  });

  const dispatch = async (body: Record<string, unknown>) => {
    clear(clients);
    const res = await post(server, "/api/socket/dispatch", body);
    await Bun.sleep(SETTLE_MS);
    return res;
  };

  test("channel only: every socket in the channel", async () => {
    const data = { title: "Nova mensagem", body: "Você tem uma nova mensagem" };
    const res = await dispatch({ channel: "ch-a", event: "notification", data });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true, message: "Event dispatched successfully", dispatchedCount: 3 });
    expect(receivers(clients, "notification").sort()).toEqual(["alice@ch-a", "alice@ch-a#2", "bob@ch-a"]);
    expect(clients[0]?.got).toEqual([{ event: "notification", payload: data }]);
  });

  test("userId only: every socket of the user, in every channel and none", async () => {
    const res = await dispatch({ userId: "alice", event: "private-message", data: { from: "admin", message: "hi" } });
    expect(((await res.json()) as { dispatchedCount: number }).dispatchedCount).toBe(4);
    expect(receivers(clients, "private-message").sort()).toEqual([
      "alice (jwt)",
      "alice@ch-a",
      "alice@ch-a#2",
      "alice@ch-b",
    ]);
  });

  test("both: the user's sockets in that channel only", async () => {
    const res = await dispatch({ channel: "ch-a", userId: "alice", event: "targeted-message", data: { n: 1 } });
    expect(((await res.json()) as { dispatchedCount: number }).dispatchedCount).toBe(2);
    expect(receivers(clients, "targeted-message").sort()).toEqual(["alice@ch-a", "alice@ch-a#2"]);
    const bob = await dispatch({ channel: "ch-b", userId: "bob", event: "targeted-message", data: { n: 2 } });
    expect(((await bob.json()) as { dispatchedCount: number }).dispatchedCount).toBe(0);
    expect(receivers(clients, "targeted-message")).toEqual([]);
  });

  test("nobody there: dispatchedCount 0, not an error", async () => {
    const res = await dispatch({ channel: "empty", event: "x", data: null });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { dispatchedCount: number }).dispatchedCount).toBe(0);
    const user = await dispatch({ userId: "nobody", event: "x", data: [] });
    expect(((await user.json()) as { dispatchedCount: number }).dispatchedCount).toBe(0);
  });

  test("an event declared server -> client goes out when its data matches the schema", async () => {
    const data = { type: "chat", data: { text: "hi" }, timestamp: "2025-01-01T12:00:00.000Z" };
    const res = await dispatch({ userId: "bob", event: "message", data });
    expect(((await res.json()) as { dispatchedCount: number }).dispatchedCount).toBe(2);
    expect(receivers(clients, "message").sort()).toEqual(["bob (jwt)", "bob@ch-a"]);
    expect(clients[1]?.got).toEqual([{ event: "message", payload: data }]);
  });

  test("tRPC: dispatch.event, the four cases", async () => {
    const admin = server.admin();
    clear(clients);
    expect(await admin.dispatch.event.mutate({ channel: "ch-b", event: "ping-all", data: 1 })).toEqual({
      success: true,
      message: "Event dispatched successfully",
      dispatchedCount: 1,
    });
    expect((await admin.dispatch.event.mutate({ userId: "bob", event: "ping-all", data: 2 })).dispatchedCount).toBe(2);
    expect(
      (await admin.dispatch.event.mutate({ channel: "ch-a", userId: "bob", event: "ping-all", data: 3 }))
        .dispatchedCount,
    ).toBe(1);
    await Bun.sleep(SETTLE_MS);
    expect(clients.find((c) => c.name === "bob@ch-a")?.got.map((g) => g.payload)).toEqual([2, 3]);
    expect(clients.find((c) => c.name === "alice@ch-b")?.got.map((g) => g.payload)).toEqual([1]);

    const neither = (await admin.dispatch.event
      .mutate({ event: "ping-all", data: 4 })
      .catch((e: unknown) => e)) as TRPCClientError<never>;
    expect(neither).toBeInstanceOf(TRPCClientError);
    expect(neither.data).toMatchObject({ httpStatus: 400, error: { code: "BAD_REQUEST" } });
    const reserved = (await admin.dispatch.event
      .mutate({ channel: "ch-a", event: "disconnect", data: {} })
      .catch((e: unknown) => e)) as TRPCClientError<never>;
    expect(reserved.data).toMatchObject({ httpStatus: 400, error: { details: { issues: [{ path: "event" }] } } });
    await Bun.sleep(SETTLE_MS);
    expect(clients.flatMap((c) => c.got).filter((g) => g.payload === 4 || g.event === "disconnect")).toEqual([]);
  });

  test("bad input: 400 in the error shape naming the field, and nothing is sent", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ event: "x", data: 1 }, "channel"],
      [{ channel: "ch-a", event: "disconnect", data: 1 }, "event"],
      [{ channel: "ch-a", event: "connect", data: 1 }, "event"],
      [{ channel: "ch-a", event: "error", data: { code: "INTERNAL", message: "x" } }, "event"],
      [{ channel: "ch-a", event: "room:join", data: { roomId: "r" } }, "event"],
      [{ channel: "ch-a", event: "presence:online", data: {} }, "event"],
      [{ channel: "ch-a", event: "message", data: { type: "chat", data: 1 } }, "data.timestamp"],
      [{ channel: "ch-a", event: "user:online", data: { userId: "u", status: "dancing" } }, "data.status"],
      [{ channel: "ch-a", event: "bad name", data: 1 }, "event"],
      [{ channel: "ch-a", event: "x".repeat(65), data: 1 }, "event"],
      [{ channel: "ch-a", event: "", data: 1 }, "event"],
      [{ channel: "ch-a", event: "x" }, "data"],
      [{ channel: "ch-a", userid: "alice", event: "x", data: 1 }, ""],
      [{ channel: "user:alice", event: "x", data: 1 }, "channel"],
      [{ channel: "a b", event: "x", data: 1 }, "channel"],
      [{ channel: 42, event: "x", data: 1 }, "channel"],
      [{ userId: "", event: "x", data: 1 }, "userId"],
      [{ channel: "ch-a", event: "x", data: JSON.parse(`${"[".repeat(40)}${"]".repeat(40)}`) }, "data"],
    ];
    clear(clients);
    for (const [body, path] of cases) {
      const res = await post(server, "/api/socket/dispatch", body);
      expect(res.status, json(body)).toBe(400);
      const reply = (await res.json()) as ErrorReply;
      expect(reply.success).toBe(false);
      expect(reply.error.code).toBe("BAD_REQUEST");
      expect(reply.error.details?.issues.map((i) => i.path) ?? [], json(body)).toContain(path);
    }
    for (const body of ["not json", "[1,2]", ""]) {
      const res = await server.api("/api/socket/dispatch", { method: "POST", body });
      expect(res.status).toBe(400);
    }
    await Bun.sleep(SETTLE_MS);
    expect(clients.flatMap((c) => c.got)).toEqual([]);
  });

  test("data nests at most 32 levels: 32 pass, 33 are refused, whatever mixes objects, arrays and primitives", async () => {
    const nested = (levels: number) => {
      let v: unknown = "leaf";
      for (let i = 0; i < levels; i++) v = i % 2 ? [1, v, null] : { a: true, b: v, c: "x" };
      return v;
    };
    const send = (data: unknown) => post(server, "/api/socket/dispatch", { channel: "nobody-here", event: "x", data });
    expect((await send(nested(32))).status).toBe(200);
    expect((await send([nested(31), 2, [nested(31)]])).status).toBe(400);
    expect((await send([nested(30), 2, [nested(30)]])).status).toBe(200);
    const deep = await send({ wide: [1, 2, 3], deep: nested(32) });
    expect(deep.status).toBe(400);
    expect(((await deep.json()) as ErrorReply).error.details?.issues.map((i) => i.path)).toContain("data");
  });

  test("credentials: none or wrong 401, a user JWT 403; nothing is sent", async () => {
    const body = { channel: "ch-a", event: "x", data: 1 };
    clear(clients);
    expect((await post(server, "/api/socket/dispatch", body, false)).status).toBe(401);
    expect((await post(server, "/api/socket/dispatch", body, "wrong-token-wrong-token")).status).toBe(401);
    const forbidden = await post(server, "/api/socket/dispatch", body, await server.token("alice"));
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as ErrorReply).error.code).toBe("FORBIDDEN");
    await Bun.sleep(SETTLE_MS);
    expect(clients.flatMap((c) => c.got)).toEqual([]);
  });
});

describe("seed 004: messages and notifications", () => {
  let server: TestServer;
  let clients: Client[];
  let carol: [Client, Client];
  let dave: Client;
  beforeAll(async () => {
    server = await startTestServer();
    const connectAs = async (userId: string, name: string) =>
      record(name, server.socket({ token: await server.token(userId) }));
    carol = [await connectAs("carol", "carol#1"), await connectAs("carol", "carol#2")];
    dave = await connectAs("dave", "dave");
    clients = [...carol, dave];
  });
  afterAll(() => server.close());

  const send = async (path: string, body: unknown) => {
    clear(clients);
    const res = await post(server, path, body);
    await Bun.sleep(SETTLE_MS);
    return res;
  };
  const messagesOf = (c: Client) => c.got.filter((g) => g.event === "message").map((g) => g.payload);
  const isoNow = (value: unknown) =>
    typeof value === "string" && Math.abs(Date.parse(value) - Date.now()) < 10_000 && value.endsWith("Z");

  test("POST /websocket/message/user: every socket of the user gets message { type, data, timestamp }", async () => {
    const data = { message: "Hello!", sender: "system" };
    const res = await send("/websocket/message/user", { userId: "carol", type: "chat", data });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true, delivered: ["carol"], offline: [], socketCount: 2 });
    for (const c of carol) {
      const [message] = messagesOf(c) as { type: string; data: unknown; timestamp: string }[];
      expect(message).toMatchObject({ type: "chat", data });
      expect(isoNow(message?.timestamp)).toBe(true);
    }
    expect(dave.got).toEqual([]);

    const offline = await send("/websocket/message/user", { userId: "erin", type: "chat", data: 1 });
    expect(await offline.json()).toEqual({ success: false, delivered: [], offline: ["erin"], socketCount: 0 });
    expect(clients.flatMap((c) => c.got)).toEqual([]);
  });

  test("POST /websocket/message/users: delivered and offline, in the order given, duplicates once", async () => {
    const data = { title: "System Update", message: "System will be updated tonight" };
    const res = await send("/websocket/message/users", {
      userIds: ["erin", "dave", "carol", "dave"],
      type: "announcement",
      data,
    });
    expect(await res.json()).toEqual({
      success: true,
      delivered: ["dave", "carol"],
      offline: ["erin"],
      socketCount: 3,
    });
    for (const c of clients) {
      expect(messagesOf(c)).toHaveLength(1);
      expect(messagesOf(c)[0]).toMatchObject({ type: "announcement", data });
    }
  });

  test("POST /websocket/message/broadcast: every connected socket", async () => {
    const data = { message: "Welcome to our platform!", level: "info" };
    const res = await send("/websocket/message/broadcast", { type: "system", data });
    expect(await res.json()).toEqual({ success: true, delivered: ["carol", "dave"], offline: [], socketCount: 3 });
    for (const c of clients) expect(messagesOf(c)[0]).toMatchObject({ type: "system", data });
  });

  test('POST /websocket/notification: message { type: "notification", data: { title, body, ...data } }', async () => {
    const res = await send("/websocket/notification", {
      userId: "dave",
      title: "New Message",
      body: "You have received a new message",
      data: { category: "message", priority: "normal", title: "not this one" },
    });
    expect(await res.json()).toEqual({ success: true, delivered: ["dave"], offline: [], socketCount: 1 });
    expect(messagesOf(dave)).toHaveLength(1);
    expect(messagesOf(dave)[0]).toMatchObject({
      type: "notification",
      data: { title: "New Message", body: "You have received a new message", category: "message", priority: "normal" },
    });
    expect(carol.flatMap((c) => c.got)).toEqual([]);

    const plain = await send("/websocket/notification", { userId: "carol", title: "Hi", body: "" });
    expect(((await plain.json()) as { socketCount: number }).socketCount).toBe(2);
    expect(messagesOf(carol[0])[0]).toMatchObject({ type: "notification", data: { title: "Hi", body: "" } });
  });

  test("tRPC: dispatch.user / users / broadcast / notification", async () => {
    const admin = server.admin();
    clear(clients);
    expect(await admin.dispatch.user.mutate({ userId: "dave", type: "update", data: { v: 1 } })).toEqual({
      success: true,
      delivered: ["dave"],
      offline: [],
      socketCount: 1,
    });
    expect(await admin.dispatch.users.mutate({ userIds: ["carol", "zoe"], type: "alert", data: null })).toEqual({
      success: true,
      delivered: ["carol"],
      offline: ["zoe"],
      socketCount: 2,
    });
    expect((await admin.dispatch.broadcast.mutate({ type: "custom", data: "x" })).socketCount).toBe(3);
    expect((await admin.dispatch.notification.mutate({ userId: "carol", title: "T", body: "B" })).delivered).toEqual([
      "carol",
    ]);
    await Bun.sleep(SETTLE_MS);
    expect(messagesOf(dave).map((m) => (m as { type: string }).type)).toEqual(["update", "custom"]);
    expect(messagesOf(carol[1]).map((m) => (m as { type: string }).type)).toEqual(["alert", "custom", "notification"]);
  });

  test("bad input to every route: 400 naming the field, and nothing is sent", async () => {
    const cases: [string, unknown, string][] = [
      ["/websocket/message/user", { type: "chat", data: 1 }, "userId"],
      ["/websocket/message/user", { userId: "dave", data: 1 }, "type"],
      ["/websocket/message/user", { userId: "dave", type: "chat" }, "data"],
      ["/websocket/message/user", { userId: "dave", type: "", data: 1 }, "type"],
      ["/websocket/message/user", { userId: "dave", type: "chat", data: 1, extra: true }, ""],
      ["/websocket/message/users", { userIds: [], type: "chat", data: 1 }, "userIds"],
      ["/websocket/message/users", { userIds: "dave", type: "chat", data: 1 }, "userIds"],
      ["/websocket/message/users", { userIds: ["dave", ""], type: "chat", data: 1 }, "userIds.1"],
      ["/websocket/message/users", { userIds: Array(1001).fill("dave"), type: "chat", data: 1 }, "userIds"],
      ["/websocket/message/broadcast", { type: "system" }, "data"],
      ["/websocket/message/broadcast", { type: 7, data: 1 }, "type"],
      ["/websocket/notification", { userId: "dave", body: "b" }, "title"],
      ["/websocket/notification", { userId: "dave", title: "t" }, "body"],
      ["/websocket/notification", { userId: "dave", title: "t", body: "b", data: [1] }, "data"],
      ["/websocket/notification", { title: "t", body: "b" }, "userId"],
    ];
    clear(clients);
    for (const [path, body, field] of cases) {
      const res = await post(server, path, body);
      expect(res.status, `${path} ${json(body)}`).toBe(400);
      const reply = (await res.json()) as ErrorReply;
      expect(reply.error.code).toBe("BAD_REQUEST");
      expect(reply.error.details?.issues.map((i) => i.path) ?? [], `${path} ${json(body)}`).toContain(field);
    }
    for (const path of [
      "/websocket/message/user",
      "/websocket/message/users",
      "/websocket/message/broadcast",
      "/websocket/notification",
    ]) {
      expect((await server.api(path, { method: "POST", body: "{" })).status).toBe(400);
      expect((await post(server, path, { type: "x", data: 1 }, false)).status).toBe(401);
      expect((await post(server, path, { type: "x", data: 1 }, await server.token("dave"))).status).toBe(403);
    }
    await Bun.sleep(SETTLE_MS);
    expect(clients.flatMap((c) => c.got)).toEqual([]);
  });
});
