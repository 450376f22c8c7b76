/**
 * generated/events.ts from the events model: zod schemas and types for every payload, the typed
 * Socket.IO event maps, event-name constants and the validator maps, per namespace.
 */

import { emitZod, propertyKey } from "./zod-emitter.js";

const WIDTH = 120;

/** Greedy word wrap of one paragraph line to `width` columns. */
function wrap(line, width) {
  const out = [];
  let current = "";
  for (const word of line.split(/ +/)) {
    if (current !== "" && current.length + 1 + word.length > width) {
      out.push(current);
      current = word;
    } else current = current === "" ? word : `${current} ${word}`;
  }
  out.push(current);
  return out;
}

/** A JSDoc block at `indent`, wrapped to the line width, or nothing. */
function doc(text, indent = "") {
  if (!text) return [];
  const safe = text.replaceAll("*/", "*\\/");
  if (!safe.includes("\n") && indent.length + safe.length + 7 <= WIDTH) return [`${indent}/** ${safe} */`];
  const lines = safe
    .split("\n")
    .flatMap((l) => (l.trim() === "" ? [""] : wrap(l.trimEnd(), WIDTH - indent.length - 3)));
  return [`${indent}/**`, ...lines.map((l) => (l === "" ? `${indent} *` : `${indent} * ${l}`)), `${indent} */`];
}

/** An interface with the given member lines (`{}` when there are none). */
function iface(name, members) {
  if (members.length === 0) return [`export interface ${name} {}`, ""];
  return [`export interface ${name} {`, ...members, "}", ""];
}

/** `head body` on one line when it fits, else `body` on the next line, indented. */
function alias(head, body) {
  return head.length + 1 + body.length <= WIDTH ? [`${head} ${body}`] : [head, `  ${body}`];
}

const lowerFirst = (s) => (s === "" ? s : s[0].toLowerCase() + s.slice(1));
const union = (names) => names.join(" | ");
/** The name of a namespace's const map: "clientEventSchemas" for "/", "internalClientEventSchemas" for "/internal". */
const constName = (prefix, base) => (prefix === "" ? lowerFirst(base) : `${lowerFirst(prefix)}${base}`);

function renderNamespace(ns) {
  const P = ns.prefix; // "" for the default namespace
  const name = (base) => (P === "" ? base : `${P}${base}`); // type-ish names
  const cname = (base) => constName(P, base); // const maps: clientEventSchemas
  const out = [];
  const where = ns.path === "/" ? "the default namespace (`/`)" : `the \`${ns.path}\` namespace`;

  out.push(`// ---- namespace ${ns.path} `.padEnd(100, "-"), "");
  out.push(`/** Events a client emits to the server in ${where}. */`);
  out.push(
    ...iface(
      name("ClientToServerEvents"),
      ns.client.flatMap((e) => {
        const wrapper = e.ack === "raw" ? "RawAck" : "Ack";
        const ack = e.reply ? `, ack: (response: ${wrapper}<${union(e.reply)}>) => void` : "";
        return [...doc(e.description, "  "), `  ${propertyKey(e.name)}: (payload: ${union(e.payload)}${ack}) => void;`];
      }),
    ),
  );
  out.push(`/** Events the server emits to a client in ${where}. */`);
  out.push(
    ...iface(
      name("ServerToClientEvents"),
      ns.server.flatMap((e) => [
        ...doc(e.description, "  "),
        `  ${propertyKey(e.name)}: (payload: ${union(e.payload)}) => void;`,
      ]),
    ),
  );

  const constMap = (exportName, entries, comment) => {
    out.push(`/** ${comment} */`);
    if (entries.length === 0) {
      out.push(`export const ${exportName} = {} as const;`, "");
      return;
    }
    out.push(`export const ${exportName} = {`);
    for (const [k, v] of entries) out.push(`  ${propertyKey(k)}: ${v},`);
    out.push("} as const;", "");
  };
  const schemaOf = (names) => (names.length === 1 ? names[0] : `z.union([${names.join(", ")}])`);

  constMap(
    name("ClientEvents"),
    ns.client.map((e) => [e.key, JSON.stringify(e.name)]),
    "Client -> server event names.",
  );
  constMap(
    name("ServerEvents"),
    ns.server.map((e) => [e.key, JSON.stringify(e.name)]),
    "Server -> client event names.",
  );
  out.push(`export type ${name("ClientEventName")} = keyof ${name("ClientToServerEvents")};`);
  out.push(`export type ${name("ServerEventName")} = keyof ${name("ServerToClientEvents")};`, "");
  constMap(
    cname("ClientEventSchemas"),
    ns.client.map((e) => [e.name, schemaOf(e.payload)]),
    "The validator of every client -> server payload, by event name.",
  );
  constMap(
    cname("ClientEventReplySchemas"),
    ns.client.filter((e) => e.reply).map((e) => [e.name, schemaOf(e.reply)]),
    "The schema of the ack's `data`, by client -> server event name (events with an ack only).",
  );
  const raw = ns.client.filter((e) => e.ack === "raw").map((e) => JSON.stringify(e.name));
  out.push("/** Client -> server events whose ack is the reply itself, not the `{ success: true, data }` envelope. */");
  out.push(...alias(`export const ${cname("RawAckEvents")}: readonly string[] =`, `[${raw.join(", ")}];`), "");
  const unreplayed = ns.server.filter((e) => !e.replay).map((e) => JSON.stringify(e.name));
  out.push(
    "/** Server -> client events kept out of connection state recovery (`x-replay: false`): live answers only. */",
  );
  out.push(
    ...alias(`export const ${cname("UnreplayedEvents")}: readonly string[] =`, `[${unreplayed.join(", ")}];`),
    "",
  );
  constMap(
    cname("ServerEventSchemas"),
    ns.server.map((e) => [e.name, schemaOf(e.payload)]),
    "The schema of every server -> client payload, by event name.",
  );
  const C = name("ClientEventName");
  const S = name("ServerEventName");
  const clientSchemas = `(typeof ${cname("ClientEventSchemas")})`;
  const replySchemas = `typeof ${cname("ClientEventReplySchemas")}`;
  const serverSchemas = `(typeof ${cname("ServerEventSchemas")})`;
  out.push(...alias(`export type ${name("ClientEventPayload")}<E extends ${C}> =`, `z.output<${clientSchemas}[E]>;`));
  out.push(`/** The ack's \`data\` of a client -> server event; \`never\` for events without an ack. */`);
  out.push(...alias(`export type ${name("ClientEventReply")}<E extends ${C}> =`, `E extends keyof ${replySchemas}`));
  out.push(`  ? z.output<(${replySchemas})[E]>`);
  out.push("  : never;");
  out.push(
    ...alias(`export type ${name("ServerEventPayload")}<E extends ${S}> =`, `z.output<${serverSchemas}[E]>;`),
    "",
  );
  return out;
}

/**
 * @param {import("./events-model").EventsModel} model
 * @returns {string} the content of generated/events.ts
 */
export function renderEvents(model) {
  const out = [
    "// Generated by `bun run generate` from asyncapi.yaml: do not edit.",
    "// Change asyncapi.yaml, then run `bun run generate` (contracts:check fails when this file drifts).",
    `// ${model.title} ${model.version}`,
    "",
    'import { z } from "zod";',
    "",
    "// ---- payload schemas ".padEnd(100, "-"),
    "",
  ];
  for (const s of model.schemas) {
    const head = `export const ${s.name} = `;
    const expr = emitZod(s.json, {
      path: s.source,
      nameOf: model.nameOf,
      refName: () => undefined,
      column: head.length,
      trailing: 1,
    });
    out.push(...doc(s.description));
    out.push(`${head}${expr};`);
    out.push(`export type ${s.name} = z.infer<typeof ${s.name}>;`, "");
  }
  out.push("/** Every ack: `{ success: true, data }` or `{ success: false, error }`. */");
  out.push("export type Ack<T> = { success: true; data: T } | { success: false; error: ErrorBody };", "");
  out.push("/** The ack of an `x-ack: raw` event: the reply itself, or `{ success: false, error }`. */");
  out.push("export type RawAck<T> = T | { success: false; error: ErrorBody };", "");
  for (const ns of model.namespaces) out.push(...renderNamespace(ns));
  out.push(
    "/** Each namespace's validators and ack styles, by namespace path: what the server binds per namespace. */",
  );
  out.push("export const namespaces = {");
  for (const ns of model.namespaces) {
    out.push(`  ${JSON.stringify(ns.path)}: {`);
    for (const [key, base] of [
      ["clientEventSchemas", "ClientEventSchemas"],
      ["clientEventReplySchemas", "ClientEventReplySchemas"],
      ["serverEventSchemas", "ServerEventSchemas"],
      ["rawAckEvents", "RawAckEvents"],
      ["unreplayedEvents", "UnreplayedEvents"],
    ]) {
      const value = constName(ns.prefix, base);
      out.push(value === key ? `    ${key},` : `    ${key}: ${value},`);
    }
    out.push("  },");
  }
  out.push("} as const;", "");
  if (model.dynamic.length > 0) {
    out.push("// Dynamic (parameterised) events, validated at run time, not mapped here:");
    for (const d of model.dynamic)
      out.push(
        `//   ${d.direction === "client" ? "client -> server" : "server -> client"} ${d.address} (operations.${d.operationId})`,
      );
    out.push("");
  }
  while (out.at(-1) === "") out.pop();
  return `${out.join("\n")}\n`;
}
