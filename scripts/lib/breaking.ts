/**
 * Breaking changes between a base revision and the working tree:
 * - events: @asyncapi/diff on the two parsed asyncapi.yaml documents, with its "unclassified"
 *   removals and edits treated as breaking, and payload changes judged per direction by
 *   schema-compat (a client -> server payload may widen, a server -> client payload may narrow);
 * - admin API: the two generated/openapi.json documents (OpenAPI 3.1), operation by operation.
 * A breaking change is allowed only when the contract's info.version allows it (breakingAllowedBy).
 */

import { diff, type JSONOutput } from "@asyncapi/diff";
import type { AsyncAPIDocumentInterface, OperationInterface } from "@asyncapi/parser";
import { canonical, type Direction, schemaBreakingChanges } from "./schema-compat";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The major of a semver-ish version ("1.2.3" -> 1); undefined when it has none. */
export function majorOf(version: unknown): number | undefined {
  return versionOf(version)?.major;
}

function versionOf(version: unknown): { major: number; minor: number } | undefined {
  const match = typeof version === "string" ? /^v?(\d+)(?:\.(\d+))?(\.|-|\+|$)/.exec(version.trim()) : null;
  return match ? { major: Number(match[1]), minor: Number(match[2] ?? 0) } : undefined;
}

/**
 * Why `head` may break clients of `base`, or undefined when it may not. Semver: a raised major; and
 * while the major is 0 (anything may change), a raised minor, so 0.1.0 -> 0.2.0 counts like
 * 1.4.0 -> 2.0.0.
 */
export function breakingAllowedBy(baseVersion: unknown, headVersion: unknown): string | undefined {
  const b = versionOf(baseVersion);
  const h = versionOf(headVersion);
  if (!b || !h) return undefined;
  if (h.major > b.major) return "major raised";
  if (b.major === 0 && h.major === 0 && h.minor > b.minor) return "minor raised while the major is 0";
  return undefined;
}

export interface BreakingReport {
  breaking: string[];
  /** Facts worth printing that are not breaking changes (a base document read leniently). */
  notes: string[];
  baseVersion: string | undefined;
  headVersion: string | undefined;
  /** Why breaking changes are allowed (see breakingAllowedBy); undefined = they are not. */
  allowedBy: string | undefined;
}

function report(breaking: string[], baseVersion: unknown, headVersion: unknown, notes: string[] = []): BreakingReport {
  return {
    breaking,
    notes,
    baseVersion: typeof baseVersion === "string" ? baseVersion : undefined,
    headVersion: typeof headVersion === "string" ? headVersion : undefined,
    allowedBy: breakingAllowedBy(baseVersion, headVersion),
  };
}

// ---- events (AsyncAPI) ------------------------------------------------------------------------

/** The document as plain JSON without the parser's x-parser-* bookkeeping (cycles cut). */
function plainJson(doc: AsyncAPIDocumentInterface): Json {
  const seen = new Set<unknown>();
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (!isObject(value)) return value;
    if (seen.has(value)) return { $recursive: true };
    seen.add(value);
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) if (!k.startsWith("x-parser-")) out[k] = strip(v);
    seen.delete(value);
    return out;
  };
  return strip(doc.json()) as Json;
}

interface MessageUse {
  /** channel key -> message key -> directions its payload flows in */
  directions: Map<string, Map<string, Set<Direction>>>;
  operations: Map<string, { action: string; channel: string; messages: string[]; reply: string[] | null }>;
}

function messageUse(doc: AsyncAPIDocumentInterface): MessageUse {
  const directions = new Map<string, Map<string, Set<Direction>>>();
  const operations: MessageUse["operations"] = new Map();
  const mark = (channel: string, message: string, direction: Direction) => {
    const byMessage = directions.get(channel) ?? new Map<string, Set<Direction>>();
    directions.set(channel, byMessage);
    const set = byMessage.get(message) ?? new Set<Direction>();
    byMessage.set(message, set);
    set.add(direction);
  };
  for (const op of doc.operations().all() as OperationInterface[]) {
    const channel = op.channels().all()[0]?.id() ?? "";
    const inbound: Direction = op.action() === "receive" ? "input" : "output";
    const outbound: Direction = inbound === "input" ? "output" : "input";
    const messages = op
      .messages()
      .all()
      .map((m) => m.id());
    for (const m of messages) mark(channel, m, inbound);
    const reply = op.reply();
    let replyMessages: string[] | null = null;
    if (reply) {
      const replyChannel = reply.channel()?.id() ?? channel;
      replyMessages = reply
        .messages()
        .all()
        .map((m) => m.id());
      for (const m of replyMessages) mark(replyChannel, m, outbound);
    }
    operations.set(String(op.id()), { action: String(op.action()), channel, messages, reply: replyMessages });
  }
  return { directions, operations };
}

const ANNOTATION_SEGMENTS = new Set(["description", "summary", "title", "examples", "externalDocs", "tags"]);

/** Keys of these objects are names, not keywords. */
const MAPS = new Set(["channels", "messages", "operations", "servers", "properties", "parameters", "variables"]);

/** Paths that are not wire-visible, or that repeat (dereferenced) what is reported under /channels. */
function ignoredPath(segments: string[]): boolean {
  const [top, , sub] = segments;
  if (top === "components" || top === "info" || top === "asyncapi" || top === "id") return true;
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i] as string;
    if (MAPS.has(segments[i - 1] as string)) continue;
    if (s.startsWith("x-") || ANNOTATION_SEGMENTS.has(s)) return true;
  }
  if (top === "operations") {
    if (sub === "channel" && segments.length > 3) return true; // /operations/x/channel/...
    if (sub === "messages" && segments.length > 4) return true; // /operations/x/messages/0/...
    if (sub === "reply" && segments[3] === "channel" && segments.length > 4) return true;
    if (sub === "reply" && segments[3] === "messages" && segments.length > 5) return true;
  }
  return false;
}

const decode = (segment: string) => segment.replaceAll("~1", "/").replaceAll("~0", "~");
const brief = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? "nothing" : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

export function asyncApiBreakingChanges(
  base: AsyncAPIDocumentInterface,
  head: AsyncAPIDocumentInterface,
): BreakingReport {
  const baseJson = plainJson(base);
  const headJson = plainJson(head);
  const output = diff(baseJson, headJson, { outputType: "json" }).getOutput() as JSONOutput;
  const breaking: string[] = [];
  const payloads = new Set<string>(); // "channel\0message" whose payload changed

  for (const change of output.changes) {
    const segments = change.path.split("/").slice(1).map(decode);
    if (segments[0] === "channels" && segments[2] === "messages" && segments[4] === "payload") {
      payloads.add(`${segments[1]}\0${segments[3]}`);
      continue;
    }
    if (ignoredPath(segments)) continue;
    const judged = change.type === "breaking" || (change.type === "unclassified" && change.action !== "add");
    if (!judged) continue;
    const what =
      change.action === "remove"
        ? "removed"
        : change.action === "add"
          ? `added ${brief(change.after)}`
          : `${brief(change.before)} -> ${brief(change.after)}`;
    breaking.push(`${change.path}: ${what} (${change.type})`);
  }

  // Operations that now point at another channel or other messages (invisible under /channels).
  const baseUse = messageUse(base);
  const headUse = messageUse(head);
  for (const [id, b] of baseUse.operations) {
    const h = headUse.operations.get(id);
    if (!h) continue; // removal reported by the diff
    if (h.channel !== b.channel) breaking.push(`/operations/${id}: channel ${b.channel} -> ${h.channel}`);
    for (const m of b.messages) if (!h.messages.includes(m)) breaking.push(`/operations/${id}: message ${m} removed`);
    if (b.reply && h.reply) {
      for (const m of b.reply) if (!h.reply.includes(m)) breaking.push(`/operations/${id}/reply: message ${m} removed`);
    }
  }

  // Payloads, per direction.
  const channelsOf = (json: Json) => (isObject(json.channels) ? json.channels : {});
  for (const key of [...payloads].sort()) {
    const [channel, message] = key.split("\0") as [string, string];
    const b = (channelsOf(baseJson)[channel] as Json | undefined)?.messages as Json | undefined;
    const h = (channelsOf(headJson)[channel] as Json | undefined)?.messages as Json | undefined;
    const bm = b?.[message] as Json | undefined;
    const hm = h?.[message] as Json | undefined;
    if (!bm || !hm) continue; // the message's removal is reported by the diff
    const directions = baseUse.directions.get(channel)?.get(message) ?? new Set<Direction>(["input", "output"]);
    for (const direction of [...directions].sort()) {
      breaking.push(
        ...schemaBreakingChanges(
          bm.payload,
          hm.payload,
          direction,
          `/channels/${channel}/messages/${message}/payload`,
        ).map((line) => `${line} (${direction === "input" ? "client -> server" : "server -> client"})`),
      );
    }
  }

  const version = (json: Json) => (isObject(json.info) ? json.info.version : undefined);
  return report([...new Set(breaking)], version(baseJson), version(headJson));
}

// ---- admin API (OpenAPI 3.1) ----------------------------------------------------------------------

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"] as const;

/**
 * Resolves local `$ref`s (siblings override the target). Throws on one it cannot follow: reading it
 * as "anything" would hide every change behind it.
 */
function resolverFor(doc: Json, label: string) {
  return (schema: unknown): Json | boolean => {
    let current = schema;
    const seen = new Set<string>();
    while (isObject(current) && typeof current.$ref === "string") {
      const ref = current.$ref;
      if (!ref.startsWith("#/")) throw new Error(`${label}: $ref "${ref}" is not local to the document`);
      if (seen.has(ref)) throw new Error(`${label}: $ref "${ref}" is circular and never reaches a schema`);
      seen.add(ref);
      let target: unknown = doc;
      for (const seg of ref.slice(2).split("/").map(decode)) target = isObject(target) ? target[seg] : undefined;
      if (target === undefined) throw new Error(`${label}: unresolved $ref "${ref}" (no such target)`);
      const siblings = Object.fromEntries(Object.entries(current).filter(([k]) => k !== "$ref"));
      current = Object.keys(siblings).length > 0 && isObject(target) ? { ...target, ...siblings } : target;
    }
    return typeof current === "boolean" ? current : isObject(current) ? current : true;
  };
}

/**
 * Documents generated with zod 4.6 before contracts/openapi.ts handled its root `$ref` hold
 * components that are bare references to themselves (`Alive: { $ref: "#/components/schemas/Alive" }`).
 * Such a base promised nothing about them: read them as "anything" (a narrowing output is then
 * fine, a constrained input is still reported), and say so.
 */
function withoutSelfReferences(doc: Json): { doc: Json; notes: string[] } {
  const components = isObject(doc.components) ? doc.components : {};
  const schemas = isObject(components.schemas) ? components.schemas : {};
  const selfRefs = Object.keys(schemas).filter((name) => {
    const s = schemas[name];
    return isObject(s) && Object.keys(s).length === 1 && s.$ref === `#/components/schemas/${name}`;
  });
  if (selfRefs.length === 0) return { doc, notes: [] };
  const fixed = Object.fromEntries(Object.entries(schemas).map(([k, v]) => [k, selfRefs.includes(k) ? {} : v]));
  return {
    doc: { ...doc, components: { ...components, schemas: fixed } },
    notes: selfRefs.map((name) => `base: components.schemas.${name} is a bare self-reference, read as "anything"`),
  };
}

/** tRPC procedures by path (x-trpc, written by contracts/openapi.ts), with the route serving each. */
function proceduresOf(doc: Json): Map<string, { type: string; where: string }> {
  const out = new Map<string, { type: string; where: string }>();
  for (const [path, item] of Object.entries(isObject(doc.paths) ? doc.paths : {})) {
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const trpc = isObject(item[method]) ? (item[method] as Json)["x-trpc"] : undefined;
      if (isObject(trpc) && typeof trpc.path === "string") {
        out.set(trpc.path, { type: String(trpc.type), where: `${method.toUpperCase()} ${path}` });
      }
    }
  }
  return out;
}

/** "/rooms/{id}" and "/rooms/{roomId}" are the same route. */
const routeKey = (path: string) => path.replace(/\{[^}]*\}/g, "{}");

function parametersOf(pathItem: Json, op: Json, resolve: (s: unknown) => Json | boolean): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const list of [pathItem.parameters, op.parameters]) {
    if (!Array.isArray(list)) continue;
    for (const raw of list) {
      const p = resolve(raw);
      if (isObject(p) && typeof p.name === "string") out.set(`${p.in}:${p.name}`, p);
    }
  }
  return out;
}

export function openApiBreakingChanges(rawBase: Json, head: Json): BreakingReport {
  const breaking: string[] = [];
  const { doc: base, notes } = withoutSelfReferences(rawBase);
  const rb = resolverFor(base, "base");
  const rh = resolverFor(head, "head");
  const schemaChanges = (b: unknown, h: unknown, direction: Direction, where: string) =>
    breaking.push(...schemaBreakingChanges(b, h, direction, where, rb as never, rh as never));

  const headPaths = new Map<string, [string, Json]>();
  for (const [path, item] of Object.entries(isObject(head.paths) ? head.paths : {})) {
    if (isObject(item)) headPaths.set(routeKey(path), [path, item]);
  }
  const globalSecurity = (doc: Json) => doc.security;

  for (const [path, rawItem] of Object.entries(isObject(base.paths) ? base.paths : {})) {
    if (!isObject(rawItem)) continue;
    const headEntry = headPaths.get(routeKey(path));
    for (const method of METHODS) {
      const bop = rawItem[method];
      if (!isObject(bop)) continue;
      const where = `${method.toUpperCase()} ${path}`;
      const hop = headEntry?.[1][method];
      if (!headEntry || !isObject(hop)) {
        breaking.push(`${where}: operation removed`);
        continue;
      }
      const headItem = headEntry[1];

      // Generated REST clients name their methods after the operationId.
      if (bop.operationId !== undefined && hop.operationId !== bop.operationId) {
        breaking.push(`${where}: operationId ${brief(bop.operationId)} -> ${brief(hop.operationId)}`);
      }

      // Security: any change to what a caller must present.
      const sb = canonical(bop.security ?? globalSecurity(base) ?? []);
      const sh = canonical(hop.security ?? globalSecurity(head) ?? []);
      if (sb !== sh) breaking.push(`${where}: security requirements changed`);

      // Parameters.
      const pb = parametersOf(rawItem, bop, rb as never);
      const ph = parametersOf(headItem, hop, rh as never);
      for (const [key, p] of ph) {
        const before = pb.get(key);
        if (p.required === true && before?.required !== true) {
          breaking.push(`${where}: parameter ${key} ${before ? "became required" : "added as required"}`);
        }
        if (before) schemaChanges(before.schema, p.schema, "input", `${where} parameter ${key}`);
      }

      // Request body.
      const bb = rb(bop.requestBody);
      const bh = rh(hop.requestBody);
      const bodyB = isObject(bb) && bop.requestBody !== undefined ? bb : undefined;
      const bodyH = isObject(bh) && hop.requestBody !== undefined ? bh : undefined;
      if (bodyH?.required === true && bodyB?.required !== true) breaking.push(`${where}: request body became required`);
      if (bodyB && bodyH) {
        const cb = isObject(bodyB.content) ? bodyB.content : {};
        const ch = isObject(bodyH.content) ? bodyH.content : {};
        for (const [type, media] of Object.entries(cb)) {
          const m = ch[type];
          if (!isObject(m)) breaking.push(`${where}: request body no longer accepts ${type}`);
          else schemaChanges((media as Json).schema, m.schema, "input", `${where} request body`);
        }
      }

      // Responses.
      const rsb = isObject(bop.responses) ? bop.responses : {};
      const rsh = isObject(hop.responses) ? hop.responses : {};
      for (const [status, rawResponse] of Object.entries(rsb)) {
        const response = rb(rawResponse);
        const headResponse = rsh[status] === undefined ? undefined : rh(rsh[status]);
        if (!isObject(headResponse)) {
          if (/^2/.test(status)) breaking.push(`${where}: response ${status} removed`);
          continue;
        }
        if (!isObject(response)) continue;
        const cb = isObject(response.content) ? response.content : {};
        const ch = isObject(headResponse.content) ? headResponse.content : {};
        for (const [type, media] of Object.entries(cb)) {
          const m = ch[type];
          if (!isObject(m)) breaking.push(`${where}: response ${status} no longer ${type}`);
          else schemaChanges((media as Json).schema, m.schema, "output", `${where} response ${status}`);
        }
      }
    }
  }

  // tRPC procedures, by identity: a client calls `path` with `.query()` or `.mutate()`.
  const headProcedures = proceduresOf(head);
  for (const [path, b] of proceduresOf(base)) {
    const h = headProcedures.get(path);
    if (!h) breaking.push(`tRPC procedure ${path} (${b.type}, ${b.where}): removed or renamed`);
    else if (h.type !== b.type) breaking.push(`tRPC procedure ${path}: ${b.type} -> ${h.type}`);
  }

  const version = (json: Json) => (isObject(json.info) ? json.info.version : undefined);
  return report([...new Set(breaking)], version(base), version(head), notes);
}
