/**
 * Dynamic events (seed 000), over the wire: a client emits a name registered through the admin API
 * and gets seed 000's answer; a replicable event reaches the others in the sender's room (never the
 * sender, never another room), a non-replicable one nobody; a room the sender has not joined is
 * FORBIDDEN and nothing is sent; registry changes apply to the next event; the per-socket rate limit
 * and payload cap hold; the served AsyncAPI document lists what is registered right now.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { io, type Socket } from "socket.io-client";
import type { Ack, Connected } from "switchboard/client";
import { parseAsyncApi } from "../../scripts/lib/pipeline";
import { once, sharedDatabase, startTestServer, TEST_API_TOKEN, type TestServer } from "../helpers/server";

/** Long enough for an event that is coming to have arrived. */
const SETTLE_MS = 150;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface DynamicResult {
  event: string;
  subscribers: { subscriberId: string; eventListener: string; replicable: boolean; processed: boolean }[];
  originalData: Record<string, unknown>;
}
interface Subscriber {
  id: string;
  eventListener: string;
  replicable: boolean;
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ SOCKET_RATE_LIMIT: "1000" });
});
afterAll(() => server.close());

/** A connected raw socket of `userId` (dynamic names are not in the typed maps), recording what it hears. */
async function device(s: TestServer, userId: string) {
  const socket = io(s.url, {
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    auth: { token: await s.token(userId) },
  });
  const connected = await once<Connected>(socket, "connected");
  const heard: [string, unknown][] = [];
  socket.onAny((event: string, payload: unknown) => {
    if (event !== "room:user-joined" && event !== "room:user-left") heard.push([event, payload]);
  });
  return { socket, heard, socketId: connected.socketId };
}
const emit = async (socket: Socket, event: string, ...payload: unknown[]) =>
  (await socket.timeout(5000).emitWithAck(event, ...payload)) as Ack<DynamicResult>;
const joinRoom = async (socket: Socket, roomId: string) => {
  const ack = (await socket.timeout(5000).emitWithAck("room:join", roomId)) as Ack<unknown>;
  expect(ack.success).toBe(true);
};
const register = async (s: TestServer, body: Record<string, unknown>) => {
  const res = await s.api("/subscribers", { method: "POST", body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return (await res.json()) as Subscriber;
};
const codeOf = (ack: Ack<unknown>) => (ack.success ? "ok" : ack.error.code);

describe("seed 000's dynamic events", () => {
  test("replicable: the sender gets seed 000's answer; the others in the room get the event, nobody else", async () => {
    const sub = await register(server, { eventListener: "customEvent", replicable: true });
    const ann = await device(server, "ann");
    const ann2 = await device(server, "ann"); // ann's other device
    const bob = await device(server, "bob");
    const cy = await device(server, "cy"); // in another room
    const dee = await device(server, "dee"); // in no room
    for (const d of [ann, ann2, bob]) await joinRoom(d.socket, "room123");
    await joinRoom(cy.socket, "room-other");

    const received = once<Record<string, unknown>>(bob.socket, "customEvent");
    const ack = await emit(ann.socket, "customEvent", { data: "some data", roomId: "room123" });
    expect(ack).toEqual({
      success: true,
      data: {
        event: "customEvent",
        subscribers: [{ subscriberId: sub.id, eventListener: "customEvent", replicable: true, processed: true }],
        originalData: { data: "some data", roomId: "room123" },
      },
    });
    const replicated = {
      data: "some data",
      roomId: "room123",
      userId: "ann",
      timestamp: expect.stringMatching(ISO),
      subscriberId: sub.id,
    };
    expect(await received).toEqual(replicated);
    await Bun.sleep(SETTLE_MS);
    expect(bob.heard).toEqual([["customEvent", replicated]]);
    expect(ann2.heard).toEqual([["customEvent", replicated]]);
    expect(ann.heard).toEqual([]);
    expect(cy.heard).toEqual([]);
    expect(dee.heard).toEqual([]);
  });

  test("the server's userId, timestamp and subscriberId win over the client's; other fields are kept", async () => {
    const sub = await register(server, { eventListener: "spoof:try", replicable: true });
    const mal = await device(server, "mallory");
    const bob = await device(server, "bob");
    await joinRoom(mal.socket, "spoof-room");
    await joinRoom(bob.socket, "spoof-room");
    const received = once<Record<string, unknown>>(bob.socket, "spoof:try");
    const sent = {
      roomId: "spoof-room",
      userId: "admin",
      subscriberId: "forged",
      timestamp: "1970",
      extra: [1, { a: 2 }],
    };
    const ack = await emit(mal.socket, "spoof:try", sent);
    expect(ack.success && ack.data.originalData).toEqual(sent);
    expect(await received).toEqual({
      roomId: "spoof-room",
      extra: [1, { a: 2 }],
      userId: "mallory",
      subscriberId: sub.id,
      timestamp: expect.stringMatching(ISO),
    });
  });

  test("not replicable: acknowledged, never sent to another client", async () => {
    const sub = await register(server, { eventListener: "secret.event", replicable: false });
    const ann = await device(server, "ann");
    const bob = await device(server, "bob");
    await joinRoom(ann.socket, "quiet");
    await joinRoom(bob.socket, "quiet");
    const ack = await emit(ann.socket, "secret.event", { data: { pin: 1234 }, roomId: "quiet" });
    expect(ack).toEqual({
      success: true,
      data: {
        event: "secret.event",
        subscribers: [{ subscriberId: sub.id, eventListener: "secret.event", replicable: false, processed: true }],
        originalData: { data: { pin: 1234 }, roomId: "quiet" },
      },
    });
    await Bun.sleep(SETTLE_MS);
    expect(bob.heard).toEqual([]);
    expect(ann.heard).toEqual([]);
  });

  test("replicable without a roomId, or without any payload: acknowledged, sent to nobody", async () => {
    await register(server, { eventListener: "noRoom", replicable: true });
    const ann = await device(server, "ann");
    const bob = await device(server, "bob");
    await joinRoom(ann.socket, "nr");
    await joinRoom(bob.socket, "nr");
    expect(await emit(ann.socket, "noRoom", { data: 1 })).toMatchObject({
      success: true,
      data: { originalData: { data: 1 } },
    });
    expect(await emit(ann.socket, "noRoom")).toMatchObject({
      success: true,
      data: { event: "noRoom", originalData: {} },
    });
    await Bun.sleep(SETTLE_MS);
    expect(bob.heard).toEqual([]);
  });

  test("a roomId the sender has not joined: FORBIDDEN, nothing sent (replicable or not)", async () => {
    await register(server, { eventListener: "roomOnly", replicable: true });
    await register(server, { eventListener: "roomOnlyQuiet", replicable: false });
    const ann = await device(server, "ann");
    const bob = await device(server, "bob");
    await joinRoom(bob.socket, "members-only");
    for (const event of ["roomOnly", "roomOnlyQuiet"]) {
      expect(await emit(ann.socket, event, { data: "x", roomId: "members-only" })).toEqual({
        success: false,
        error: { code: "FORBIDDEN", message: 'Not a member of room "members-only": join it first' },
      });
    }
    // Reserved rooms are nobody's: a user room, the sender's own socket id.
    expect(codeOf(await emit(ann.socket, "roomOnly", { roomId: "user:bob" }))).toBe("FORBIDDEN");
    expect(codeOf(await emit(ann.socket, "roomOnly", { roomId: ann.socketId }))).toBe("FORBIDDEN");
    await Bun.sleep(SETTLE_MS);
    expect(bob.heard).toEqual([]);
  });

  test("an unregistered name: NOT_FOUND; a bad payload: BAD_REQUEST naming the field; nothing sent", async () => {
    await register(server, { eventListener: "strict", replicable: true });
    const ann = await device(server, "ann");
    const bob = await device(server, "bob");
    await joinRoom(ann.socket, "bad-input");
    await joinRoom(bob.socket, "bad-input");
    expect(await emit(ann.socket, "neverRegistered", { roomId: "bad-input" })).toEqual({
      success: false,
      error: { code: "NOT_FOUND", message: 'Unknown event "neverRegistered"' },
    });
    for (const payload of ["a string", 42, null, ["bad-input"]]) {
      const ack = await emit(ann.socket, "strict", payload);
      expect(ack).toMatchObject({
        success: false,
        error: { code: "BAD_REQUEST", details: { issues: [{ path: "" }] } },
      });
    }
    for (const roomId of ["", "bad room", 7, "r".repeat(129), null]) {
      const ack = await emit(ann.socket, "strict", { roomId });
      expect(ack).toMatchObject({ success: false, error: { code: "BAD_REQUEST" } });
      const paths = ack.success ? [] : (ack.error.details as { issues: { path: string }[] }).issues.map((i) => i.path);
      expect(new Set(paths)).toEqual(new Set(["roomId"]));
    }
    await Bun.sleep(SETTLE_MS);
    expect(bob.heard).toEqual([]);
  });

  test("without an ack callback, a failure arrives as an error event; a success sends nothing back", async () => {
    await register(server, { eventListener: "noAck", replicable: true });
    const ann = await device(server, "ann");
    ann.socket.emit("noAck", { roomId: "not-joined" });
    ann.socket.emit("noAck", { data: 1 });
    await Bun.sleep(SETTLE_MS);
    expect(ann.heard).toEqual([
      ["error", { code: "FORBIDDEN", message: 'Not a member of room "not-joined": join it first' }],
    ]);
  });

  test("dynamic events exist on the main namespace only, not on /internal", async () => {
    await register(server, { eventListener: "mainOnly", replicable: true });
    const service = io(`${server.url}/internal`, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      auth: { token: TEST_API_TOKEN },
    });
    await once(service, "connected");
    expect(codeOf(await emit(service, "mainOnly", { data: 1 }))).toBe("NOT_FOUND");
    service.close();
  });
});

describe("registry changes apply at once", () => {
  test("register, make quiet, rename, delete, delete all: each takes effect on the next event", async () => {
    const ann = await device(server, "ann");
    const bob = await device(server, "bob");
    await joinRoom(ann.socket, "live");
    await joinRoom(bob.socket, "live");
    const payload = { data: "x", roomId: "live" };

    expect(codeOf(await emit(ann.socket, "liveEvent", payload))).toBe("NOT_FOUND");
    const sub = await register(server, { eventListener: "liveEvent", replicable: true });
    expect(codeOf(await emit(ann.socket, "liveEvent", payload))).toBe("ok");
    await Bun.sleep(SETTLE_MS);
    expect(bob.heard.map(([e]) => e)).toEqual(["liveEvent"]);

    // Replaced through POST with the same name: not replicable any more.
    await register(server, { eventListener: "liveEvent", replicable: false });
    expect(await emit(ann.socket, "liveEvent", payload)).toMatchObject({
      success: true,
      data: { subscribers: [{ subscriberId: sub.id, replicable: false }] },
    });
    // PUT: replicable again, then renamed.
    expect(
      (await server.api(`/subscribers/${sub.id}`, { method: "PUT", body: JSON.stringify({ replicable: true }) }))
        .status,
    ).toBe(200);
    expect(codeOf(await emit(ann.socket, "liveEvent", payload))).toBe("ok");
    expect(
      (
        await server.api(`/subscribers/${sub.id}`, {
          method: "PUT",
          body: JSON.stringify({ eventListener: "liveRenamed" }),
        })
      ).status,
    ).toBe(200);
    expect(codeOf(await emit(ann.socket, "liveEvent", payload))).toBe("NOT_FOUND");
    expect(codeOf(await emit(ann.socket, "liveRenamed", payload))).toBe("ok");
    await Bun.sleep(SETTLE_MS);
    expect(bob.heard.map(([e]) => e)).toEqual(["liveEvent", "liveEvent", "liveRenamed"]);

    expect((await server.api(`/subscribers/${sub.id}`, { method: "DELETE" })).status).toBe(200);
    expect(codeOf(await emit(ann.socket, "liveRenamed", payload))).toBe("NOT_FOUND");

    await register(server, { eventListener: "liveAgain", replicable: true });
    expect(codeOf(await emit(ann.socket, "liveAgain", payload))).toBe("ok");
    expect((await server.api("/subscribers", { method: "DELETE" })).status).toBe(200);
    expect(codeOf(await emit(ann.socket, "liveAgain", payload))).toBe("NOT_FOUND");
    // A failed write changes nothing: the event stays unknown.
    expect(
      (
        await server.api("/subscribers", {
          method: "POST",
          body: JSON.stringify({ eventListener: "liveAgain", replicable: "yes" }),
        })
      ).status,
    ).toBe(400);
    expect(codeOf(await emit(ann.socket, "liveAgain", payload))).toBe("NOT_FOUND");
  });

  test("the registry is loaded from the database at start-up", async () => {
    const database = await sharedDatabase();
    const env = database.env;
    try {
      const first = await startTestServer(env);
      await register(first, { eventListener: "survives", replicable: true });
      await first.close();
      const second = await startTestServer(env);
      try {
        const ann = await device(second, "ann");
        expect(codeOf(await emit(ann.socket, "survives", { data: 1 }))).toBe("ok");
        ann.socket.close();
      } finally {
        await second.close();
      }
    } finally {
      await database.remove();
    }
  });
});

describe("limits", () => {
  test("dynamic events count against the per-socket rate limit: over it, RATE_LIMITED and not run", async () => {
    const limited = await startTestServer({ SOCKET_RATE_LIMIT: "3", SOCKET_RATE_BURST: "3" });
    try {
      await register(limited, { eventListener: "burst", replicable: true });
      const ann = await device(limited, "ann");
      const bob = await device(limited, "bob");
      await joinRoom(ann.socket, "r");
      await joinRoom(bob.socket, "r");
      await Bun.sleep(1100); // the joins used the bucket: let it refill
      const acks = await Promise.all(
        Array.from({ length: 4 }, (_, i) => emit(ann.socket, "burst", { data: i, roomId: "r" })),
      );
      expect(acks.map(codeOf)).toEqual(["ok", "ok", "ok", "RATE_LIMITED"]);
      expect(acks[3]).toEqual({
        success: false,
        error: { code: "RATE_LIMITED", message: "Too many events: at most 3 per second" },
      });
      await Bun.sleep(SETTLE_MS);
      expect(bob.heard.map(([, p]) => (p as { data: number }).data)).toEqual([0, 1, 2]);
      const metrics = await (await limited.api("/metrics")).text();
      expect(metrics).toMatch(/socket_events_total\{event="\(dynamic\)",outcome="ok"\} 3/);
      expect(metrics).toMatch(/socket_events_total\{event="\(dynamic\)",outcome="rate_limited"\} 1/);
      ann.socket.close();
      bob.socket.close();
    } finally {
      await limited.close();
    }
  });

  test("a payload over SOCKET_MAX_PAYLOAD_BYTES closes the connection; nothing is sent", async () => {
    const capped = await startTestServer({ SOCKET_MAX_PAYLOAD_BYTES: "4096", SOCKET_RATE_LIMIT: "1000" });
    try {
      await register(capped, { eventListener: "big", replicable: true });
      const ann = await device(capped, "ann");
      const bob = await device(capped, "bob");
      await joinRoom(ann.socket, "r");
      await joinRoom(bob.socket, "r");
      expect(codeOf(await emit(ann.socket, "big", { data: "x".repeat(1000), roomId: "r" }))).toBe("ok");
      const gone = once<string>(ann.socket, "disconnect");
      ann.socket.emit("big", { data: "x".repeat(10_000), roomId: "r" });
      expect(await gone).toBe("transport close");
      await Bun.sleep(SETTLE_MS);
      expect(bob.heard).toHaveLength(1);
      bob.socket.close();
    } finally {
      await capped.close();
    }
  });
});

describe("the served AsyncAPI document lists the registered dynamic events", () => {
  type Doc = {
    operations: Record<
      string,
      { action: string; channel: { $ref: string }; "x-event-name"?: string; "x-subscriber"?: Record<string, unknown> }
    >;
  };
  const served = async () => (await (await server.api("/asyncapi.json", { auth: false })).json()) as Doc;
  const dynamicOps = (doc: Doc) =>
    Object.entries(doc.operations)
      .filter(([, op]) => op["x-event-name"] !== undefined)
      .map(([id, op]) => [id, op.action, op["x-event-name"]]);

  test("/asyncapi.json and /asyncapi.yaml: a receive operation per name (and a send one when replicable), gone after DELETE", async () => {
    await server.api("/subscribers", { method: "DELETE" });
    const committed = await served();
    expect(dynamicOps(committed)).toEqual([]);
    const committedYaml = await (await server.api("/asyncapi.yaml", { auth: false })).text();
    expect(committedYaml).toBe(await Bun.file(join(import.meta.dir, "../../asyncapi.yaml")).text());

    const shown = await register(server, {
      eventListener: "docs:shown",
      replicable: true,
      description: "Shown in the docs",
      postbackUrl: "https://internal.example/hook",
    });
    const quiet = await register(server, { eventListener: "docs.quiet", replicable: false });
    const doc = await served();
    expect(dynamicOps(doc)).toEqual([
      [`receiveDynamicEvent-${shown.id}`, "receive", "docs:shown"],
      [`sendDynamicEvent-${shown.id}`, "send", "docs:shown"],
      [`receiveDynamicEvent-${quiet.id}`, "receive", "docs.quiet"],
    ]);
    const op = doc.operations[`receiveDynamicEvent-${shown.id}`];
    expect(op?.channel).toEqual({ $ref: "#/channels/dynamicEvent" });
    expect(op?.["x-subscriber"]).toMatchObject({
      id: shown.id,
      eventListener: "docs:shown",
      replicable: true,
      description: "Shown in the docs",
    });
    // A public document: the postback target stays private.
    expect(JSON.stringify(doc)).not.toContain("internal.example");
    // Everything else is the committed document.
    expect({ ...doc, operations: {} }).toEqual({ ...committed, operations: {} });

    const yaml = Bun.YAML.parse(await (await server.api("/asyncapi.yaml", { auth: false })).text()) as Doc;
    expect(yaml).toEqual(doc);
    // Still a valid AsyncAPI document.
    const parsed = await parseAsyncApi(JSON.stringify(doc), "served /asyncapi.json");
    expect(parsed.errors).toEqual([]);

    await server.api(`/subscribers/${shown.id}`, { method: "DELETE" });
    expect(dynamicOps(await served())).toEqual([[`receiveDynamicEvent-${quiet.id}`, "receive", "docs.quiet"]]);
    await server.api("/subscribers", { method: "DELETE" });
    expect(await served()).toEqual(committed);
  });
});
