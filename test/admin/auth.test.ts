/**
 * Admin auth (issue 7), over REST and tRPC: the API token or a JWT with `role: "admin"` may run admin
 * operations; a valid user JWT is FORBIDDEN (403); no credential, a wrong one or an expired admin JWT
 * is UNAUTHORIZED (401). Every admin operation of the table refuses the same way, before its input is
 * read, and a refused call changes nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TRPCClientError } from "@trpc/client";
import { operations } from "../../contracts/admin";
import { type AnyOperation, isQuery } from "../../contracts/operation";
import { once, startTestServer, TEST_API_TOKEN, type TestServer } from "../helpers/server";

interface ErrorReply {
  success: false;
  error: { code: string; message: string };
}

let server: TestServer;
/** Credentials by kind. */
let creds: { adminJwt: string; userJwt: string; expiredAdminJwt: string; wrong: string; apiToken: string };
beforeAll(async () => {
  // Every admin operation is refused 8 ways: more than the default anonymous budget.
  server = await startTestServer({ RATE_LIMIT_MAX: "100000" });
  const pastHour = Math.floor(Date.now() / 1000) - 3600;
  creds = {
    apiToken: TEST_API_TOKEN,
    adminJwt: await server.token("ops", { role: "admin" }),
    userJwt: await server.token("ann"),
    expiredAdminJwt: await server.token("ops", { role: "admin" }, pastHour),
    wrong: "not-the-api-token-0123456789",
  };
});
afterAll(() => server.close());

const admins = (operations as readonly AnyOperation[]).filter((op) => op.auth === "admin");

/** The example's path params in the path, the rest in the query (GET, DELETE) or the body. */
function requestOf(op: AnyOperation): { path: string; init: RequestInit } {
  const input = { ...(op.example.input as Record<string, unknown>) };
  const path = op.path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    const value = String(input[name]);
    delete input[name];
    return encodeURIComponent(value);
  });
  if (isQuery(op) || op.method === "DELETE") {
    const query = new URLSearchParams(
      Object.entries(input).map(([k, v]): [string, string] => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    ).toString();
    return { path: query ? `${path}?${query}` : path, init: { method: op.method } };
  }
  return { path, init: { method: op.method, body: JSON.stringify(input) } };
}

/** Calls `op`'s tRPC procedure with its example input, as `token`. */
function trpcCall(op: AnyOperation, token: string) {
  const [group, action] = op.name.split(".") as [string, string];
  const procedures = server.admin(token) as unknown as Record<
    string,
    Record<string, { query(i: unknown): Promise<unknown>; mutate(i: unknown): Promise<unknown> }>
  >;
  const procedure = procedures[group]?.[action];
  if (!procedure) throw new Error(`no tRPC procedure ${op.name}`);
  return isQuery(op) ? procedure.query(op.example.input) : procedure.mutate(op.example.input);
}

describe("accepted: the API token and an admin JWT", () => {
  test("REST", async () => {
    const ann = server.socket({ token: creds.userJwt });
    await once(ann, "connected");
    for (const token of [creds.apiToken, creds.adminJwt]) {
      const connected = await server.api("/websocket/users/connected", { auth: token });
      expect(connected.status).toBe(200);
      expect(((await connected.json()) as { totalUsers: number }).totalUsers).toBe(1);
      const got = once<{ type: string }>(ann, "message");
      const sent = await server.api("/websocket/message/user", {
        method: "POST",
        auth: token,
        body: JSON.stringify({ userId: "ann", type: "chat", data: { by: token.slice(0, 4) } }),
      });
      expect(sent.status).toBe(200);
      expect(((await sent.json()) as { socketCount: number }).socketCount).toBe(1);
      expect((await got).type).toBe("chat");
      // The bare token (seed 003) works too.
      const bare = await server.api("/api/socket/sockets/stats", { headers: { authorization: token }, auth: false });
      expect(bare.status).toBe(200);
    }
    ann.close();
  });

  test("tRPC", async () => {
    for (const token of [creds.apiToken, creds.adminJwt]) {
      const admin = server.admin(token);
      expect((await admin.sockets.stats.query({ limit: 1 })).nextCursor).toBeNull();
      expect(await admin.dispatch.broadcast.mutate({ type: "system", data: null })).toMatchObject({ success: false });
      expect((await admin.users.status.query({ userId: "nobody" })).online).toBe(false);
    }
  });
});

describe.each(admins.map((op) => [op.name, op] as const))("%s refuses", (_name, op) => {
  const cases = [
    ["no credential", () => undefined, 401, "UNAUTHORIZED"],
    ["a wrong token", () => creds.wrong, 401, "UNAUTHORIZED"],
    ["an expired admin JWT", () => creds.expiredAdminJwt, 401, "UNAUTHORIZED"],
    ["a user JWT", () => creds.userJwt, 403, "FORBIDDEN"],
  ] as const;

  test.each(cases)("REST, %s", async (_label, token, status, code) => {
    const { path, init } = requestOf(op);
    const res = await server.api(path, { ...init, auth: token() ?? false });
    expect(res.status).toBe(status);
    const body = (await res.json()) as ErrorReply;
    expect(body.success).toBe(false);
    expect(body.error.code).toBe(code);
  });

  test.each(cases)("tRPC, %s", async (_label, token, status, code) => {
    const error = (await trpcCall(op, token() ?? "").catch((e: unknown) => e)) as TRPCClientError<never>;
    expect(error).toBeInstanceOf(TRPCClientError);
    expect(error.data).toMatchObject({ httpStatus: status, error: { code } });
  });
});

test("refused calls changed nothing", async () => {
  const ann = server.socket({ token: creds.userJwt });
  await once(ann, "connected");
  const got: string[] = [];
  ann.onAny((event: string) => got.push(event));
  for (const token of [creds.userJwt, creds.expiredAdminJwt, undefined]) {
    await server.api("/websocket/message/broadcast", {
      method: "POST",
      auth: token ?? false,
      body: JSON.stringify({ type: "x", data: 1 }),
    });
    await server.api("/websocket/users/ann/disconnect", { method: "DELETE", auth: token ?? false });
  }
  await Bun.sleep(150);
  expect(got).toEqual([]);
  expect(ann.connected).toBe(true);
  ann.close();
});
