/**
 * The examples in asyncapi.yaml feed the docs: every message must have some, and each must pass the
 * generated validator of the event it illustrates (so the docs never show a payload the server refuses).
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import type { z } from "zod";
import { namespaces } from "../generated/events";

interface Ref {
  $ref: string;
}
interface Message {
  name: string;
  examples?: { name: string; payload: unknown }[];
}
interface Doc {
  servers: Record<string, { pathname?: string }>;
  channels: Record<string, { address: string; servers?: Ref[]; messages: Record<string, Ref> }>;
  operations: Record<
    string,
    { action: "send" | "receive"; channel: Ref; messages: Ref[]; reply?: { messages: Ref[] } }
  >;
  components: { messages: Record<string, Message> };
}

const doc = Bun.YAML.parse(await Bun.file(join(import.meta.dir, "../asyncapi.yaml")).text()) as Doc;
const at = <T>(ref: string): T =>
  ref
    .replace(/^#\//, "")
    .split("/")
    .reduce((node: unknown, key) => (node as Record<string, unknown>)[key], doc as unknown) as T;
const messageOf = (ref: Ref) => {
  const m = at<Ref | Message>(ref.$ref);
  return "$ref" in m ? at<Message>(m.$ref) : m;
};

const cases: [string, Message, z.ZodType][] = [];
/** Dynamic (run-time) events have no generated validator: their messages only need examples. */
const dynamic: [string, Message][] = [];
for (const [id, op] of Object.entries(doc.operations)) {
  const channel = at<Doc["channels"][string]>(op.channel.$ref);
  const event = channel.address;
  if (/\{[^}]*\}/.test(event)) {
    for (const ref of [...op.messages, ...(op.reply?.messages ?? [])]) dynamic.push([`${id} ${event}`, messageOf(ref)]);
    continue;
  }
  // The validators of each namespace the channel is in (none listed: all of them).
  const servers = channel.servers?.map((r) => at<{ pathname?: string }>(r.$ref)) ?? Object.values(doc.servers);
  for (const path of new Set(servers.map((s) => s.pathname ?? "/"))) {
    type Maps = Record<
      "clientEventSchemas" | "clientEventReplySchemas" | "serverEventSchemas",
      Record<string, z.ZodType>
    >;
    const maps = (namespaces as unknown as Record<string, Maps>)[path] as Maps;
    const table = op.action === "receive" ? maps.clientEventSchemas : maps.serverEventSchemas;
    const where = path === "/" ? "" : ` (${path})`;
    for (const ref of op.messages) cases.push([`${id} ${event}${where}`, messageOf(ref), table[event] as z.ZodType]);
    for (const ref of op.reply?.messages ?? [])
      cases.push([`${id} ${event} (ack)${where}`, messageOf(ref), maps.clientEventReplySchemas[event] as z.ZodType]);
  }
}

test("every operation's messages are covered", () => {
  expect(cases.length + dynamic.length).toBeGreaterThanOrEqual(Object.keys(doc.operations).length);
});

test.each(dynamic)("%s (dynamic): has examples", (_name, message) => {
  expect(message.examples?.length ?? 0).toBeGreaterThan(0);
});

test.each(cases)("%s: examples pass the generated validator", (_name, message, schema) => {
  expect(schema).toBeDefined();
  expect(message.examples?.length ?? 0).toBeGreaterThan(0);
  for (const example of message.examples ?? []) {
    const result = schema.safeParse(example.payload);
    if (!result.success) throw new Error(`example "${example.name}" of ${message.name}: ${result.error.message}`);
  }
});
