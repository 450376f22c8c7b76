/** Friendships (seed 002) over REST and tRPC: mutual, idempotent, validated, admin only. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TRPCClientError } from "@trpc/client";
import { startTestServer, type TestServer } from "../helpers/server";

interface ErrorReply {
  error: { code: string; message: string; details?: { issues: { path: string }[] } };
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const friendsOf = async (userId: string) => {
  const res = await server.api(`/api/users/${encodeURIComponent(userId)}/friends`);
  expect(res.status).toBe(200);
  return (await res.json()) as { userId: string; friends: string[] };
};
const put = (userId: string, friendId: string, init: Parameters<TestServer["api"]>[1] = {}) =>
  server.api(`/api/users/${encodeURIComponent(userId)}/friends/${encodeURIComponent(friendId)}`, {
    method: "PUT",
    ...init,
  });
const del = (userId: string, friendId: string, init: Parameters<TestServer["api"]>[1] = {}) =>
  server.api(`/api/users/${encodeURIComponent(userId)}/friends/${encodeURIComponent(friendId)}`, {
    method: "DELETE",
    ...init,
  });

describe("REST", () => {
  test("PUT makes a mutual friendship; repeating it changes nothing", async () => {
    const first = await put("ann", "bob");
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ userId: "ann", friendId: "bob", created: true });
    expect(await (await put("ann", "bob")).json()).toEqual({ userId: "ann", friendId: "bob", created: false });
    // The other direction is the same friendship.
    expect(await (await put("bob", "ann")).json()).toEqual({ userId: "bob", friendId: "ann", created: false });

    await put("ann", "cy");
    expect(await friendsOf("ann")).toEqual({ userId: "ann", friends: ["bob", "cy"] });
    expect(await friendsOf("bob")).toEqual({ userId: "bob", friends: ["ann"] });
    expect(await friendsOf("cy")).toEqual({ userId: "cy", friends: ["ann"] });
    expect(await friendsOf("nobody")).toEqual({ userId: "nobody", friends: [] });
  });

  test("DELETE ends it in both directions; repeating it answers removed: false", async () => {
    await put("dee", "eve");
    const removed = await del("eve", "dee");
    expect(removed.status).toBe(200);
    expect(await removed.json()).toEqual({ userId: "eve", friendId: "dee", removed: true });
    expect((await friendsOf("dee")).friends).toEqual([]);
    expect((await friendsOf("eve")).friends).toEqual([]);
    expect(await (await del("dee", "eve")).json()).toEqual({ userId: "dee", friendId: "eve", removed: false });
  });

  test("ids are taken as sent, path-encoded characters included", async () => {
    const odd = "team:42/ülla@example.com";
    expect(await (await put(odd, "bob")).json()).toEqual({ userId: odd, friendId: "bob", created: true });
    expect((await friendsOf(odd)).friends).toEqual(["bob"]);
    expect((await friendsOf("bob")).friends).toContain(odd);
  });
});

describe("tRPC", () => {
  test("friends.add / friends.list / friends.remove", async () => {
    const admin = server.admin();
    expect(await admin.friends.add.mutate({ userId: "tom", friendId: "una" })).toEqual({
      userId: "tom",
      friendId: "una",
      created: true,
    });
    expect(await admin.friends.list.query({ userId: "una" })).toEqual({ userId: "una", friends: ["tom"] });
    expect(await admin.friends.remove.mutate({ userId: "tom", friendId: "una" })).toEqual({
      userId: "tom",
      friendId: "una",
      removed: true,
    });
    expect(await admin.friends.list.query({ userId: "tom" })).toEqual({ userId: "tom", friends: [] });
  });

  test("bad input is BAD_REQUEST naming the field; a bad token UNAUTHORIZED", async () => {
    const self = (await server
      .admin()
      .friends.add.mutate({ userId: "vic", friendId: "vic" })
      .catch((e: unknown) => e)) as TRPCClientError<never>;
    expect(self).toBeInstanceOf(TRPCClientError);
    expect(self.data).toMatchObject({
      httpStatus: 400,
      error: { code: "BAD_REQUEST", details: { issues: [{ path: "friendId" }] } },
    });

    const long = (await server
      .admin()
      .friends.list.query({ userId: "x".repeat(257) })
      .catch((e: unknown) => e)) as TRPCClientError<never>;
    expect(long.data).toMatchObject({ httpStatus: 400, error: { details: { issues: [{ path: "userId" }] } } });

    const anon = (await server
      .admin("not-the-api-token-at-all")
      .friends.list.query({ userId: "vic" })
      .catch((e: unknown) => e)) as TRPCClientError<never>;
    expect(anon.data).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
  });
});

describe("refusals over REST; nothing changes", () => {
  test("a user cannot befriend itself: 400", async () => {
    const res = await put("zed", "zed");
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorReply;
    expect(body.error.code).toBe("BAD_REQUEST");
    expect(body.error.details?.issues.map((i) => i.path)).toEqual(["friendId"]);
    expect((await del("zed", "zed")).status).toBe(400);
    expect((await friendsOf("zed")).friends).toEqual([]);
  });

  test("an id over 256 characters: 400 naming it", async () => {
    for (const [res, path] of [
      [await put("x".repeat(257), "bob"), "userId"],
      [await put("bob", "y".repeat(257)), "friendId"],
      [await del("bob", "y".repeat(257)), "friendId"],
      [await server.api(`/api/users/${"x".repeat(257)}/friends`), "userId"],
    ] as const) {
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorReply).error.details?.issues.map((i) => i.path)).toEqual([path]);
    }
    expect((await friendsOf("bob")).friends).not.toContain("y".repeat(257));
    // 256 is fine.
    expect((await put("w".repeat(256), "bob")).status).toBe(200);
  });

  test("no API token, or a wrong one: 401", async () => {
    expect((await put("kim", "lee", { auth: false })).status).toBe(401);
    expect((await put("kim", "lee", { auth: "wrong-token-wrong-token" })).status).toBe(401);
    expect((await del("ann", "bob", { auth: false })).status).toBe(401);
    expect((await server.api("/api/users/ann/friends", { auth: false })).status).toBe(401);
    expect((await friendsOf("kim")).friends).toEqual([]);
    expect((await friendsOf("ann")).friends).toContain("bob");
  });

  test("paths that are not operations: 404", async () => {
    for (const path of ["/api/users/ann/friend/bob", "/api/users/ann/friends/bob/extra", "/api/users/ann"]) {
      const res = await server.api(path, { method: "PUT" });
      expect(res.status).toBe(404);
      expect(((await res.json()) as ErrorReply).error.code).toBe("NOT_FOUND");
    }
  });
});
