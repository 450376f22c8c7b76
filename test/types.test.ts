/**
 * Type tests: `bun run typecheck` fails if the generated event maps or the admin client stop
 * catching these mistakes (each `@ts-expect-error` must find an error). The bodies never run.
 */
import { expect, test } from "bun:test";
import { type AdminClient, createAdminClient, type SwitchboardSocket } from "switchboard/client";
import { ClientEvents, clientEventSchemas, ServerEvents } from "../generated/events";
import { handlers } from "../src/realtime/bind";

export function socketTypes(socket: SwitchboardSocket) {
  socket.emit("ping", { id: "ok" }, (ack) => {
    if (ack.success) ack.data.timestamp.toUpperCase();
    else ack.error.code.toLowerCase();
  });
  // @ts-expect-error undeclared event
  socket.emit("no:such-event", {});
  // @ts-expect-error wrong payload type
  socket.emit("ping", { id: 42 }, () => {});
  socket.on("connected", (c) => c.userId.toUpperCase());
  // @ts-expect-error the payload has no such field
  socket.on("pong", (p) => p.nope);
}

export async function adminTypes(admin: AdminClient) {
  const { token, expiresAt } = await admin.jwt.create.mutate({ userId: "u" });
  token.toUpperCase();
  expiresAt.toUpperCase();
  // @ts-expect-error userId is required
  await admin.jwt.create.mutate({});
  // @ts-expect-error no such operation
  await admin.jwt.revoke.mutate({ token });
  const verified = await admin.jwt.verify.mutate({ token });
  verified.valid satisfies boolean;
  // @ts-expect-error POST operations are mutations, not queries
  await admin.jwt.decode.query({ token });
}

/** GET operations are tRPC queries: `operation()` keeps the literal method the router type reads. */
export async function adminQueryTypes() {
  const admin = createAdminClient({ url: "http://localhost:3000", apiToken: "t" });
  const page = await admin.sockets.stats.query({ limit: 5 });
  page.totalConnections satisfies number;
  page.nextCursor satisfies string | null;
  for (const c of page.connections) c.socketId.toUpperCase();
  // limit has a default, so the input may be empty
  await admin.sockets.stats.query({});
  await admin.sockets.stats.query({ limit: 5, cursor: page.nextCursor ?? undefined });
  // @ts-expect-error a query is not a mutation
  await admin.sockets.stats.mutate({ limit: 5 });
  // @ts-expect-error no such input field
  await admin.sockets.stats.query({ limit: 5, offset: 10 });
}

export function handlerTypes() {
  handlers({
    ping: (input) => ({ timestamp: new Date().toISOString(), ...(input.id ? { id: input.id } : {}) }),
  });
  handlers({
    // @ts-expect-error a handler for an undeclared event
    "no:such-event": () => undefined,
  });
  handlers({
    // @ts-expect-error the reply must match the contract
    ping: () => ({ when: 1 }),
  });
}

test("generated constants name every event", () => {
  expect<string[]>(Object.values(ClientEvents).sort()).toEqual(Object.keys(clientEventSchemas).sort());
  expect(Object.values(ServerEvents)).toEqual(expect.arrayContaining(["connected", "pong", "error"]));
});
