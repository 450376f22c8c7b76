/** Token lifetime on an open socket: auth:expired at exp, auth:refresh to extend, and its refusals. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Ack, AuthExpired, AuthRefreshed } from "../../generated/events";
import { namespaceHandlers } from "../../src/realtime/handlers";
import { once, startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ JWT_CLOCK_TOLERANCE_SECONDS: "0" });
});
afterAll(() => server.close());

const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;

describe("token expiry", () => {
  test("at exp the socket gets auth:expired, then the server disconnects it", async () => {
    const socket = server.socket({ token: await server.token("short", {}, inSeconds(2)) });
    await once(socket, "connected");
    const events: string[] = [];
    socket.on("disconnect", (reason) => events.push(`disconnect:${reason}`));
    const expired = await once<AuthExpired>(socket, "auth:expired", 4000);
    events.push("auth:expired");
    expect(expired.code).toBe("UNAUTHORIZED");
    expect(expired.message).toBe("token expired");
    expect(Math.abs(Date.parse(expired.expiredAt) - inSeconds(0) * 1000)).toBeLessThan(3000);
    await Bun.sleep(100);
    expect(events).toEqual(["auth:expired", "disconnect:io server disconnect"]);
  });

  test("auth:refresh with a fresh token for the same user keeps the socket past the old exp", async () => {
    const socket = server.socket({ token: await server.token("renewing", {}, inSeconds(2)) });
    await once(socket, "connected");
    let expired = false;
    socket.on("auth:expired", () => {
      expired = true;
    });
    const fresh = await server.token("renewing", {}, inSeconds(3600));
    const ack = (await socket.timeout(5000).emitWithAck("auth:refresh", { token: fresh })) as Ack<AuthRefreshed>;
    expect(ack).toEqual({
      success: true,
      data: { userId: "renewing", expiresAt: new Date(inSeconds(3600) * 1000).toISOString() },
    });
    await Bun.sleep(2600);
    expect(expired).toBe(false);
    expect(socket.connected).toBe(true);
  });

  test("auth:refresh refuses another user's token (FORBIDDEN) and a bad one (UNAUTHORIZED); nothing changes", async () => {
    const socket = server.socket({ token: await server.token("owner", {}, inSeconds(2)) });
    await once(socket, "connected");
    const other = await server.token("intruder", {}, inSeconds(3600));
    const forbidden = (await socket.emitWithAck("auth:refresh", { token: other })) as Ack<AuthRefreshed>;
    expect(forbidden).toEqual({
      success: false,
      error: { code: "FORBIDDEN", message: "the token is for another user: reconnect to change users" },
    });
    const bad = (await socket.emitWithAck("auth:refresh", { token: "not-a-jwt" })) as Ack<AuthRefreshed>;
    expect(bad).toEqual({ success: false, error: { code: "UNAUTHORIZED", message: "malformed token" } });
    const empty = (await socket.emitWithAck("auth:refresh", { token: "" })) as Ack<AuthRefreshed>;
    expect(!empty.success && empty.error.code).toBe("BAD_REQUEST");
    // The original expiry still applies.
    await once(socket, "auth:expired", 4000);
  });
});

test("a declared event this server has no handler for gets NOT_IMPLEMENTED, not silence", async () => {
  const { session: _session, ...withoutSession } = namespaceHandlers["/"];
  const partial = await startTestServer({}, { handlers: { "/": withoutSession } });
  try {
    const socket = partial.socket({ token: await partial.token("u") });
    await once(socket, "connected");
    const ack = (await socket.timeout(5000).emitWithAck("auth:refresh", { token: "x" })) as Ack<unknown>;
    expect(ack).toEqual({
      success: false,
      error: { code: "NOT_IMPLEMENTED", message: 'Event "auth:refresh" is declared but not handled by this server' },
    });
    const error = once<{ code: string }>(socket, "error");
    // biome-ignore lint/suspicious/noExplicitAny: no ack callback on purpose
    (socket as any).emit("auth:refresh", { token: "x" });
    expect((await error).code).toBe("NOT_IMPLEMENTED");
  } finally {
    await partial.close();
  }
});

test("an unknown event name is quoted only in part in the error", async () => {
  const socket = server.socket({ token: await server.token("long-names") });
  await once(socket, "connected");
  // biome-ignore lint/suspicious/noExplicitAny: undeclared on purpose
  const ack = (await (socket.timeout(5000) as any).emitWithAck("x".repeat(5000), {})) as Ack<unknown>;
  expect(!ack.success && ack.error.code).toBe("NOT_FOUND");
  expect(!ack.success && ack.error.message.length).toBeLessThan(100);
});
