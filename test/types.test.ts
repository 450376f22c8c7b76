/**
 * Type tests: `bun run typecheck` fails if the generated event maps or the admin client stop
 * catching these mistakes (each `@ts-expect-error` must find an error). The bodies never run.
 */
import { expect, test } from "bun:test";
import { type AdminClient, createAdminClient, type InternalSocket, type SwitchboardSocket } from "switchboard/client";
import { ClientEvents, clientEventSchemas, ServerEvents } from "../generated/events";
import type { OperationImpls } from "../src/http/operations";
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
  socket.emit("message:send", { roomId: "r", content: "hi" }, (ack) => {
    if (ack.success) ack.data.createdAt.toUpperCase();
    // @ts-expect-error the ack's data is a ChatMessage, which has no such field
    if (ack.success) ack.data.members.length;
  });
  // @ts-expect-error message:send needs content
  socket.emit("message:send", { roomId: "r" }, () => {});
}

export function internalSocketTypes(socket: InternalSocket) {
  socket.emit("send_message", { recipientIds: ["u"], message: "hi" }, (ack) => {
    // seed 002's shape, not the envelope (invalid input still gets { success: false, error })
    if ("recipients" in ack) ack.recipients.sent satisfies string[];
    else ack.error.code.toLowerCase();
    // @ts-expect-error seed 002's status is "sent" or "error"
    if ("recipients" in ack && ack.status === "partial") return;
  });
  // @ts-expect-error a main-namespace event is not an /internal one
  socket.emit("message:send", { roomId: "r", content: "hi" }, () => {});
}

/** The implementation map must name every operation of the table. */
export function implTypes(impls: OperationImpls) {
  const { "jwt.create": _dropped, ...rest } = impls;
  // @ts-expect-error an operation missing from the implementation map
  const incomplete: OperationImpls = rest;
  return incomplete;
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
  // limit has a default, so the input may be empty, or left out
  await admin.sockets.stats.query({});
  await admin.sockets.stats.query();
  // @ts-expect-error jwt.create has a required field: its input may not be left out
  await admin.jwt.create.mutate();
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
