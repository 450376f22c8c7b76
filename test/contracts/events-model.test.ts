/**
 * The generator template's model and renderer on a richer contract than the repository's: a second
 * namespace, a `domain:action` event, a receive event without ack, an inline payload, schemas that
 * reference each other, a parameterised (dynamic) channel. The rendered module must import, validate
 * and typecheck; contracts the conventions cannot express must fail with a clear message.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildEventsModel, receiveEventsByNamespace } from "../../contracts/asyncapi-template/lib/events-model.js";
import { renderEvents } from "../../contracts/asyncapi-template/lib/render-events.js";
import { parseAsyncApi } from "../../scripts/lib/pipeline";

const ROOT = resolve(import.meta.dir, "../..");
const ref = (to: string) => ({ $ref: to });

function contract() {
  const error = {
    type: "object",
    "x-ts-name": "ErrorBody",
    required: ["code", "message"],
    properties: { code: { type: "string", enum: ["BAD_REQUEST", "INTERNAL"] }, message: { type: "string" } },
  };
  return {
    asyncapi: "3.0.0",
    info: { title: "Test", version: "2.1.0" },
    defaultContentType: "application/json",
    servers: {
      main: { host: "localhost:3000", protocol: "ws", pathname: "/" },
      internal: { host: "localhost:3000", protocol: "ws", pathname: "/internal" },
    },
    channels: {
      messageSend: {
        address: "message:send",
        servers: [ref("#/servers/main")],
        messages: { send: ref("#/components/messages/MessageSend"), sent: ref("#/components/messages/MessageSent") },
      },
      typing: {
        address: "typing:start",
        servers: [ref("#/servers/main")],
        messages: {
          typing: {
            name: "typing:start",
            payload: { type: "object", additionalProperties: false, properties: { roomId: { type: "string" } } },
          },
        },
      },
      error: {
        address: "error",
        servers: [ref("#/servers/main")],
        messages: { error: ref("#/components/messages/Error") },
      },
      broadcast: {
        address: "broadcast",
        servers: [ref("#/servers/internal")],
        messages: { broadcast: ref("#/components/messages/Broadcast") },
      },
      dynamic: {
        address: "{eventName}",
        parameters: { eventName: { description: "any event name" } },
        servers: [ref("#/servers/main")],
        messages: { any: { payload: {} } },
      },
    },
    operations: {
      sendMessage: {
        action: "receive",
        description: "Send a message to a room.",
        channel: ref("#/channels/messageSend"),
        messages: [ref("#/channels/messageSend/messages/send")],
        reply: { channel: ref("#/channels/messageSend"), messages: [ref("#/channels/messageSend/messages/sent")] },
      },
      startTyping: {
        action: "receive",
        channel: ref("#/channels/typing"),
        messages: [ref("#/channels/typing/messages/typing")],
      },
      sendError: {
        action: "send",
        channel: ref("#/channels/error"),
        messages: [ref("#/channels/error/messages/error")],
      },
      internalBroadcast: {
        action: "receive",
        channel: ref("#/channels/broadcast"),
        messages: [ref("#/channels/broadcast/messages/broadcast")],
      },
      dynamicEvent: {
        action: "receive",
        channel: ref("#/channels/dynamic"),
        messages: [ref("#/channels/dynamic/messages/any")],
      },
    },
    components: {
      messages: {
        MessageSend: { name: "message:send", payload: ref("#/components/schemas/MessageInput") },
        MessageSent: { payload: ref("#/components/schemas/Message") },
        Error: { name: "error", payload: ref("#/components/schemas/Error") },
        Broadcast: { name: "broadcast", payload: ref("#/components/schemas/Message") },
      },
      schemas: {
        Message: {
          type: "object",
          required: ["id", "body", "author"],
          properties: {
            id: { type: "string", format: "uuid" },
            body: { type: "string" },
            author: ref("#/components/schemas/User"),
          },
        },
        User: {
          type: "object",
          required: ["id"],
          properties: { id: { type: "string" }, name: { type: ["string", "null"] } },
        },
        MessageInput: {
          type: "object",
          additionalProperties: false,
          required: ["roomId", "body"],
          properties: { roomId: { type: "string" }, body: { type: "string", minLength: 1, maxLength: 4000 } },
        },
        Error: error,
        Unused: { type: "string" },
      },
    },
  };
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function model(doc: unknown) {
  const parsed = await parseAsyncApi(JSON.stringify(doc), "test.yaml");
  expect(parsed.errors).toEqual([]);
  return buildEventsModel(parsed.document);
}

describe("events model and renderer", () => {
  test("namespaces, directions, acks, dynamic channels, declaration order", async () => {
    const m = await model(contract());
    expect(m.namespaces.map((n) => [n.path, n.prefix])).toEqual([
      ["/", ""],
      ["/internal", "Internal"],
    ]);
    const main = m.namespaces[0];
    expect(main?.client.map((e) => [e.name, e.key, e.payload, e.reply])).toEqual([
      ["message:send", "messageSend", ["MessageInput"], ["Message"]],
      ["typing:start", "typingStart", ["TypingPayload"], null],
    ]);
    expect(main?.server.map((e) => e.name)).toEqual(["error"]);
    expect(m.dynamic).toEqual([
      { address: "{eventName}", direction: "client", operationId: "dynamicEvent", namespaces: ["/"] },
    ]);
    const order = m.schemas.map((s) => s.name);
    expect(order.indexOf("User")).toBeLessThan(order.indexOf("Message"));
    expect(order).not.toContain("Unused");
    expect(receiveEventsByNamespace(m)).toEqual({ "/": ["message:send", "typing:start"], "/internal": ["broadcast"] });
  });

  test("the rendered module imports, validates and typechecks", async () => {
    const m = await model(contract());
    const source = renderEvents(m);
    expect(renderEvents(m)).toBe(source);
    const dir = await mkdtemp(join(tmpdir(), "switchboard-events-"));
    dirs.push(dir);
    await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
    await Bun.write(join(dir, "events.ts"), source);
    await Bun.write(
      join(dir, "use.ts"),
      `import type { ClientToServerEvents, ClientEventReply, InternalClientToServerEvents, Message } from "./events";
const send: ClientToServerEvents["message:send"] = (payload, ack) => {
  const reply: ClientEventReply<"message:send"> = { id: "x", body: payload.body, author: { id: "u", name: null } };
  ack({ success: true, data: reply });
  ack({ success: false, error: { code: "BAD_REQUEST", message: "no" } });
};
const typing: ClientToServerEvents["typing:start"] = (payload) => void payload.roomId;
const none: ClientEventReply<"typing:start"> extends never ? true : false = true;
const internal: InternalClientToServerEvents["broadcast"] = (m: Message) => void m;
export { send, typing, none, internal };
`,
    );
    await Bun.write(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noUncheckedIndexedAccess: true,
          module: "Preserve",
          moduleResolution: "bundler",
          target: "ESNext",
          noEmit: true,
          skipLibCheck: true,
          verbatimModuleSyntax: true,
          types: [],
        },
        files: ["events.ts", "use.ts"],
      }),
    );
    const tsc = Bun.spawnSync([join(ROOT, "node_modules/.bin/tsc"), "-p", dir], { stdout: "pipe", stderr: "pipe" });
    expect(tsc.stdout.toString() + tsc.stderr.toString()).toBe("");
    expect(tsc.exitCode).toBe(0);

    const mod = await import(join(dir, "events.ts"));
    expect(mod.ClientEvents).toEqual({ messageSend: "message:send", typingStart: "typing:start" });
    expect(mod.InternalClientEvents).toEqual({ broadcast: "broadcast" });
    expect(Object.keys(mod.clientEventReplySchemas)).toEqual(["message:send"]);
    expect(Object.keys(mod.internalClientEventSchemas)).toEqual(["broadcast"]);
    expect(mod.clientEventSchemas["message:send"].safeParse({ roomId: "r", body: "" }).success).toBe(false);
    expect(mod.clientEventSchemas["message:send"].safeParse({ roomId: "r", body: "hi" }).success).toBe(true);
    expect(mod.clientEventSchemas["typing:start"].safeParse({ roomId: "r", x: 1 }).success).toBe(false);
    expect(source).toContain("//   client -> server {eventName} (operations.dynamicEvent)");
    expect(source).toContain("/** Send a message to a room. */");
  }, 30_000); // it runs tsc: seconds on a loaded machine

  test("contracts the conventions cannot express fail clearly", async () => {
    const fails = async (mutate: (doc: ReturnType<typeof contract>) => void, message: RegExp) => {
      const doc = contract();
      mutate(doc);
      const parsed = await parseAsyncApi(JSON.stringify(doc), "test.yaml");
      expect(parsed.errors).toEqual([]);
      expect(() => buildEventsModel(parsed.document)).toThrow(message);
    };
    await fails((d) => {
      d.components.messages.Broadcast.name = "other";
    }, /named "other" but its channel's address is "broadcast"/);
    await fails((d) => {
      d.channels.error.address = "disconnect";
    }, /"disconnect" is a reserved Socket.IO event/);
    await fails((d) => {
      delete (d.components.schemas.Error as Record<string, unknown>)["x-ts-name"];
    }, /the name "Error" is reserved in generated code; set "x-ts-name"/);
  });
});
