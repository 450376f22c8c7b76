/**
 * Subscribers (seed 000) over REST and tRPC: seed 000's documented requests and answers (CRUD and
 * upsert by eventListener), names that shadow declared or reserved events refused with the reason,
 * and every refusal in the error shape with the database unchanged.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { TRPCClientError } from "@trpc/client";
import { startTestServer, type TestServer } from "../helpers/server";

interface Subscriber {
  id: string;
  eventListener: string;
  replicable: boolean;
  description: string | null;
  postbackUrl: string | null;
  createdAt: string;
  updatedAt: string;
}
interface ErrorReply {
  success: false;
  error: { code: string; message: string; details?: { issues?: { path: string; message: string }[] } };
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UNKNOWN_ID = "01936d3e-7c2a-7000-8000-00000000ffff";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

/** The table as stored: what "nothing changed" is checked against (`replicable` as 0 or 1 on both dialects). */
const rows = () =>
  server.query(
    `SELECT id, event_listener, CASE WHEN replicable THEN 1 ELSE 0 END AS replicable, description, postback_url,
     created_at, updated_at FROM subscribers ORDER BY id`,
  );

const call = async <T>(method: string, path: string, body?: unknown, auth?: boolean | string) => {
  const res = await server.api(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }), auth });
  return { status: res.status, body: (await res.json()) as T };
};
const create = (body: unknown) =>
  call<Subscriber & { message: string; wasUpdated: boolean }>("POST", "/subscribers", body);

describe("seed 000's documented examples over REST", () => {
  beforeEach(async () => {
    await call("DELETE", "/subscribers");
  });

  test("POST /subscribers creates; the same eventListener again replaces it (wasUpdated)", async () => {
    const created = await create({
      eventListener: "customEvent",
      replicable: true,
      description: "Custom event handler for notifications",
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      id: expect.stringMatching(UUID_V7),
      eventListener: "customEvent",
      replicable: true,
      description: "Custom event handler for notifications",
      postbackUrl: null,
      createdAt: expect.stringMatching(ISO),
      updatedAt: created.body.createdAt,
      message: "Subscriber created successfully",
      wasUpdated: false,
    });

    await Bun.sleep(5);
    const replaced = await create({
      eventListener: "customEvent",
      replicable: false,
      description: "Updated description",
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toEqual({
      id: created.body.id,
      eventListener: "customEvent",
      replicable: false,
      description: "Updated description",
      postbackUrl: null,
      createdAt: created.body.createdAt,
      updatedAt: expect.stringMatching(ISO),
      message: "Subscriber updated (replaced existing subscriber with same eventListener)",
      wasUpdated: true,
    });
    expect(replaced.body.updatedAt > created.body.updatedAt).toBe(true);
    // One subscriber per eventListener.
    expect((await call<Subscriber[]>("GET", "/subscribers")).body).toHaveLength(1);

    // Replacing clears what the new request leaves out; replicable defaults to false.
    const bare = await create({ eventListener: "customEvent" });
    expect(bare.body).toMatchObject({ id: created.body.id, replicable: false, description: null, wasUpdated: true });
  });

  test("GET /subscribers, GET /subscribers/:id, GET /subscribers/event/:eventListener", async () => {
    const a = (await create({ eventListener: "customEvent", replicable: true, description: "Custom event handler" }))
      .body;
    const b = (await create({ eventListener: "chat:reaction", replicable: false })).body;
    const { message: _m, wasUpdated: _w, ...first } = a;
    const { message: _m2, wasUpdated: _w2, ...second } = b;

    expect(await call("GET", "/subscribers")).toEqual({ status: 200, body: [first, second] });
    expect(await call("GET", `/subscribers/${a.id}`)).toEqual({ status: 200, body: first });
    expect(await call("GET", "/subscribers/event/customEvent")).toEqual({ status: 200, body: [first] });
    expect(await call("GET", "/subscribers/event/chat:reaction")).toEqual({ status: 200, body: [second] });
    expect(await call("GET", "/subscribers/event/noSuchEvent")).toEqual({ status: 200, body: [] });
  });

  test("PUT /subscribers/:id changes the fields sent and keeps the others", async () => {
    const a = (
      await create({
        eventListener: "customEvent",
        replicable: true,
        description: "Custom event handler",
        postbackUrl: "https://backend.example.com/hooks/custom",
      })
    ).body;
    await Bun.sleep(5);
    const updated = await call<Subscriber>("PUT", `/subscribers/${a.id}`, {
      eventListener: "updatedEvent",
      replicable: false,
      description: "Updated description",
    });
    expect(updated).toEqual({
      status: 200,
      body: {
        id: a.id,
        eventListener: "updatedEvent",
        replicable: false,
        description: "Updated description",
        postbackUrl: "https://backend.example.com/hooks/custom",
        createdAt: a.createdAt,
        updatedAt: expect.stringMatching(ISO),
      },
    });
    expect(updated.body.updatedAt > a.updatedAt).toBe(true);
    expect((await call("GET", "/subscribers/event/customEvent")).body).toEqual([]);
    expect((await call("GET", "/subscribers/event/updatedEvent")).body).toEqual([updated.body]);

    // null clears; one field alone is enough.
    const cleared = await call<Subscriber>("PUT", `/subscribers/${a.id}`, { postbackUrl: null });
    expect(cleared.body).toMatchObject({
      eventListener: "updatedEvent",
      description: "Updated description",
      postbackUrl: null,
    });
  });

  test("DELETE /subscribers/:id and DELETE /subscribers", async () => {
    const a = (await create({ eventListener: "customEvent", replicable: true })).body;
    expect(await call("DELETE", `/subscribers/${a.id}`)).toEqual({
      status: 200,
      body: { success: true, message: "Subscriber deleted successfully" },
    });
    expect((await call<ErrorReply>("GET", `/subscribers/${a.id}`)).status).toBe(404);

    for (const name of ["e1", "e2", "e3", "e4", "e5"]) await create({ eventListener: name });
    expect(await call("DELETE", "/subscribers")).toEqual({
      status: 200,
      body: { success: true, message: "Successfully deleted 5 subscribers", deletedCount: 5 },
    });
    expect((await call("GET", "/subscribers")).body).toEqual([]);
    expect(await rows()).toEqual([]);
    expect((await call("DELETE", "/subscribers")).body).toMatchObject({ deletedCount: 0 });
  });

  test("subscribers are stored: what the API answers is what the database holds", async () => {
    const a = (await create({ eventListener: "stored", replicable: true, postbackUrl: "http://127.0.0.1:9/x" })).body;
    expect(await rows()).toEqual([
      {
        id: a.id,
        event_listener: "stored",
        replicable: 1,
        description: null,
        postback_url: "http://127.0.0.1:9/x",
        created_at: a.createdAt,
        updated_at: a.updatedAt,
      },
    ]);
  });
});

describe("over tRPC", () => {
  test("the seven operations", async () => {
    const admin = server.admin();
    await admin.subscribers.deleteAll.mutate({});
    const created = await admin.subscribers.upsert.mutate({
      eventListener: "customEvent",
      replicable: true,
      description: "Custom event handler for notifications",
    });
    expect(created).toMatchObject({
      eventListener: "customEvent",
      wasUpdated: false,
      message: "Subscriber created successfully",
    });
    const replaced = await admin.subscribers.upsert.mutate({ eventListener: "customEvent", replicable: false });
    expect(replaced).toMatchObject({ id: created.id, replicable: false, wasUpdated: true });

    const { message: _m, wasUpdated: _w, ...stored } = replaced;
    expect(await admin.subscribers.list.query({})).toEqual([stored]);
    expect(await admin.subscribers.get.query({ id: created.id })).toEqual(stored);
    expect(await admin.subscribers.byEvent.query({ eventListener: "customEvent" })).toEqual([stored]);

    const updated = await admin.subscribers.update.mutate({ id: created.id, eventListener: "updatedEvent" });
    expect(updated).toMatchObject({ id: created.id, eventListener: "updatedEvent", replicable: false });
    expect(await admin.subscribers.delete.mutate({ id: created.id })).toEqual({
      success: true,
      message: "Subscriber deleted successfully",
    });
    await admin.subscribers.upsert.mutate({ eventListener: "one" });
    expect(await admin.subscribers.deleteAll.mutate({})).toEqual({
      success: true,
      message: "Successfully deleted 1 subscribers",
      deletedCount: 1,
    });
  });

  test("refusals carry the same error: 400 reserved, 409 declared, 404 unknown, 401 without the token", async () => {
    const refusal = async (p: Promise<unknown>) => ((await p.catch((e: unknown) => e)) as TRPCClientError<never>).data;
    const admin = server.admin();
    expect(await refusal(admin.subscribers.upsert.mutate({ eventListener: "disconnect" }))).toMatchObject({
      httpStatus: 400,
      error: { code: "BAD_REQUEST", details: { issues: [{ path: "eventListener" }] } },
    });
    expect(await refusal(admin.subscribers.upsert.mutate({ eventListener: "message:send" }))).toMatchObject({
      httpStatus: 409,
      error: { code: "CONFLICT" },
    });
    expect(await refusal(admin.subscribers.get.query({ id: UNKNOWN_ID }))).toMatchObject({
      httpStatus: 404,
      error: { code: "NOT_FOUND" },
    });
    expect(await refusal(server.admin("wrong-token-wrong-token").subscribers.list.query({}))).toMatchObject({
      httpStatus: 401,
    });
    expect(
      (await rows()).some((r) =>
        ["disconnect", "message:send"].includes((r as { event_listener: string }).event_listener),
      ),
    ).toBe(false);
  });
});

describe("bad input: the error shape, and nothing changes", () => {
  let existing: Subscriber;
  let other: Subscriber;
  beforeAll(async () => {
    await call("DELETE", "/subscribers");
    existing = (await create({ eventListener: "kept", replicable: true, description: "stays as it is" })).body;
    other = (await create({ eventListener: "taken", replicable: false })).body;
  });

  const userJwt = () => server.token("not-an-admin");
  type Case = [
    what: string,
    method: string,
    path: () => string,
    body: unknown,
    status: number,
    auth?: () => Promise<string | false>,
  ];
  const cases: Case[] = [
    ["no eventListener", "POST", () => "/subscribers", { replicable: true }, 400],
    ["an empty eventListener", "POST", () => "/subscribers", { eventListener: "" }, 400],
    ["a 65-character eventListener", "POST", () => "/subscribers", { eventListener: "e".repeat(65) }, 400],
    ["a space in eventListener", "POST", () => "/subscribers", { eventListener: "my event" }, 400],
    ["a slash in eventListener", "POST", () => "/subscribers", { eventListener: "a/b" }, 400],
    ["eventListener not a string", "POST", () => "/subscribers", { eventListener: 42 }, 400],
    ["reserved: connect", "POST", () => "/subscribers", { eventListener: "connect" }, 400],
    ["reserved: connect_error", "POST", () => "/subscribers", { eventListener: "connect_error" }, 400],
    ["reserved: disconnect", "POST", () => "/subscribers", { eventListener: "disconnect" }, 400],
    ["reserved: disconnecting", "POST", () => "/subscribers", { eventListener: "disconnecting" }, 400],
    ["reserved: newListener", "POST", () => "/subscribers", { eventListener: "newListener" }, 400],
    ["reserved: removeListener", "POST", () => "/subscribers", { eventListener: "removeListener" }, 400],
    ["reserved: error", "POST", () => "/subscribers", { eventListener: "error" }, 400],
    ["declared client → server: room:join", "POST", () => "/subscribers", { eventListener: "room:join" }, 409],
    ["declared client → server: ping", "POST", () => "/subscribers", { eventListener: "ping" }, 409],
    ["declared server → client: message:new", "POST", () => "/subscribers", { eventListener: "message:new" }, 409],
    ["declared server → client: connected", "POST", () => "/subscribers", { eventListener: "connected" }, 409],
    ["declared in /internal: send_message", "POST", () => "/subscribers", { eventListener: "send_message" }, 409],
    ["replicable not a boolean", "POST", () => "/subscribers", { eventListener: "x1", replicable: "yes" }, 400],
    ["description too long", "POST", () => "/subscribers", { eventListener: "x2", description: "d".repeat(1001) }, 400],
    ["postbackUrl not a URL", "POST", () => "/subscribers", { eventListener: "x3", postbackUrl: "not a url" }, 400],
    ["postbackUrl ftp", "POST", () => "/subscribers", { eventListener: "x4", postbackUrl: "ftp://example.com/x" }, 400],
    [
      "postbackUrl javascript:",
      "POST",
      () => "/subscribers",
      { eventListener: "x5", postbackUrl: "javascript:alert(1)" },
      400,
    ],
    ["a body that is an array", "POST", () => "/subscribers", [{ eventListener: "x6" }], 400],
    [
      "replacing an existing one with a bad field",
      "POST",
      () => "/subscribers",
      { eventListener: "kept", replicable: 1 },
      400,
    ],
    ["no token", "POST", () => "/subscribers", { eventListener: "x7" }, 401, async () => false],
    [
      "a wrong token",
      "POST",
      () => "/subscribers",
      { eventListener: "x8" },
      401,
      async () => "wrong-token-wrong-token",
    ],
    ["a user JWT without role admin", "POST", () => "/subscribers", { eventListener: "x9" }, 403, userJwt],
    ["GET list without a token", "GET", () => "/subscribers", undefined, 401, async () => false],
    ["GET by an id that is not a UUID", "GET", () => "/subscribers/uuid-here", undefined, 400],
    ["GET by an unknown id", "GET", () => `/subscribers/${UNKNOWN_ID}`, undefined, 404],
    ["GET by event: a bad name", "GET", () => "/subscribers/event/bad%20name", undefined, 400],
    ["PUT an unknown id", "PUT", () => `/subscribers/${UNKNOWN_ID}`, { replicable: false }, 404],
    ["PUT nothing", "PUT", () => `/subscribers/${existing.id}`, {}, 400],
    ["PUT another subscriber's name", "PUT", () => `/subscribers/${existing.id}`, { eventListener: "taken" }, 409],
    ["PUT a declared name", "PUT", () => `/subscribers/${existing.id}`, { eventListener: "typing:start" }, 409],
    ["PUT a reserved name", "PUT", () => `/subscribers/${existing.id}`, { eventListener: "disconnect" }, 400],
    ["PUT a bad postbackUrl", "PUT", () => `/subscribers/${existing.id}`, { postbackUrl: "ws://x.example" }, 400],
    ["PUT with a user JWT", "PUT", () => `/subscribers/${existing.id}`, { replicable: false }, 403, userJwt],
    ["DELETE an unknown id", "DELETE", () => `/subscribers/${UNKNOWN_ID}`, undefined, 404],
    ["DELETE a bad id", "DELETE", () => "/subscribers/not-a-uuid", undefined, 400],
    ["DELETE one without a token", "DELETE", () => `/subscribers/${other.id}`, undefined, 401, async () => false],
    ["DELETE all without a token", "DELETE", () => "/subscribers", undefined, 401, async () => false],
    ["DELETE all with a user JWT", "DELETE", () => "/subscribers", undefined, 403, userJwt],
  ];
  const codes: Record<number, string> = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
  };

  test.each(cases)("%s", async (_what, method, path, body, status, auth) => {
    const before = await rows();
    const res = await call<ErrorReply>(method, path(), body, auth ? await auth() : undefined);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ success: false, error: { code: codes[status], message: expect.any(String) } });
    expect(await rows()).toEqual(before);
    expect(before).toHaveLength(2);
  });

  test("the reasons are named: reserved, declared (and where), taken", async () => {
    const reserved = (await create({ eventListener: "connect" })).body as unknown as ErrorReply;
    expect(reserved.error.message).toContain('"connect" is a reserved Socket.IO event name');
    expect(reserved.error.details?.issues).toEqual([
      { path: "eventListener", message: '"connect" is a reserved Socket.IO event name: choose another' },
    ]);
    const declared = (await create({ eventListener: "room:join" })).body as unknown as ErrorReply;
    expect(declared.error.message).toBe(
      '"room:join" is an event declared in asyncapi.yaml (client → server in /): a subscriber cannot shadow it',
    );
    const taken = await call<ErrorReply>("PUT", `/subscribers/${existing.id}`, { eventListener: "taken" });
    expect(taken.body.error.message).toBe('Another subscriber already listens to "taken"');
    const bad = (await create({ eventListener: "my event" })).body as unknown as ErrorReply;
    expect(bad.error.details?.issues?.map((i) => i.path)).toEqual(["eventListener"]);
  });
});
