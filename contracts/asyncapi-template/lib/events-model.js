/**
 * The Socket.IO view of a parsed AsyncAPI 3.0 document (parser-api v3): namespaces, the events in
 * each direction with their payload and ack schemas, and the named payload schemas in declaration
 * order. Used by the generator template (generated/events.ts) and by contracts:check (handlers).
 *
 * Conventions (DESIGN.md, "Modelling Socket.IO in AsyncAPI 3.0"):
 * - a server entry is a namespace, its `pathname` the namespace path (`/` when absent); entries with
 *   the same pathname (e.g. environments) are one namespace;
 * - a channel is one event, its `address` the event name; a channel lists the namespaces it is in
 *   (none listed: all of them);
 * - `action: receive` = client -> server, `action: send` = server -> client; the operation's
 *   `reply` is the ack, its message payload the ack's `data`;
 * - parameterised channels (`{eventName}`) are dynamic run-time events: reported, not mapped.
 *
 * Anything the conventions cannot express makes the build fail with a ContractError.
 */

import { referencedNames } from "./zod-emitter.js";

export class ContractError extends Error {
  constructor(message) {
    super(message);
    this.name = "ContractError";
  }
}

/** Socket.IO's own events: a contract may not declare them. */
export const RESERVED_EVENTS = [
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
];

/** Names a schema may not take in generated code (globals it would shadow, generated names). */
const RESERVED_NAMES = new Set([
  "z",
  "Ack",
  "Array",
  "Boolean",
  "Date",
  "Error",
  "Function",
  "JSON",
  "Map",
  "Math",
  "Number",
  "Object",
  "Promise",
  "Record",
  "RegExp",
  "Set",
  "String",
  "Symbol",
  "RawAck",
  "namespaces",
]);

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const PARSER_SCHEMA_ID = "x-parser-schema-id";
const TS_NAME = "x-ts-name";
/**
 * On a receive operation with a reply: how the ack carries it. `envelope` (the default): `{ success: true, data }`;
 * `raw`: the reply payload itself (a protocol kept from elsewhere, e.g. seed 002's internal gateway). Failures are
 * `{ success: false, error }` either way.
 */
const ACK_STYLE = "x-ack";
const ACK_STYLES = ["envelope", "raw"];
/**
 * On a send operation: `x-replay: false` keeps the event out of connection state recovery (a client
 * that reconnects within the window does not get it again): for answers that only make sense live,
 * like `pong`. Default: true (Socket.IO keeps every event for recovery).
 */
const REPLAY = "x-replay";
/** The TS name of the error schema, used by the generated Ack<T>. */
export const ERROR_BODY = "ErrorBody";

/** "message:send" -> "messageSend", "room:join-request" -> "roomJoinRequest". */
export function camelKey(eventName) {
  const parts = eventName.split(/[^A-Za-z0-9]+/).filter(Boolean);
  if (parts.length === 0) throw new ContractError(`event name ${JSON.stringify(eventName)} has no letters or digits`);
  const key = parts.map((p, i) => (i === 0 ? p : p[0].toUpperCase() + p.slice(1))).join("");
  return /^[0-9]/.test(key) ? `_${key}` : key;
}

/** "/" -> "", "/internal" -> "Internal", "/admin/live-feed" -> "AdminLiveFeed". */
export function namespacePrefix(path) {
  return path
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join("");
}

const isDynamic = (address) => /\{[^}]*\}/.test(address);

function describe(...candidates) {
  for (const c of candidates) if (typeof c === "string" && c.trim() !== "") return c.trim();
  return undefined;
}

/**
 * @param {import("@asyncapi/parser").AsyncAPIDocumentInterface} doc a parsed v3 document
 * @returns {import("./events-model").EventsModel}
 */
export function buildEventsModel(doc) {
  // Named schemas: components.schemas by id, and inline message payloads by identity.
  const componentNames = new Map(); // schema id -> TS name
  const schemaById = new Map();
  const takenBy = new Map(); // TS name -> what took it
  const claim = (name, owner) => {
    if (!IDENTIFIER.test(name)) {
      throw new ContractError(`${owner}: "${name}" is not a valid TypeScript identifier (set ${TS_NAME})`);
    }
    if (RESERVED_NAMES.has(name)) {
      throw new ContractError(`${owner}: the name "${name}" is reserved in generated code; set "${TS_NAME}" on it`);
    }
    const previous = takenBy.get(name);
    if (previous && previous !== owner) throw new ContractError(`${owner} and ${previous} both generate "${name}"`);
    takenBy.set(name, owner);
  };
  for (const schema of doc.components().schemas().all()) {
    const json = schema.json();
    const tsName = json[TS_NAME] ?? schema.id();
    if (typeof tsName !== "string")
      throw new ContractError(`components.schemas.${schema.id()}: ${TS_NAME} must be a string`);
    claim(tsName, `components.schemas.${schema.id()}`);
    componentNames.set(schema.id(), tsName);
    schemaById.set(schema.id(), json);
  }
  const inlineNames = new Map(); // payload json -> TS name
  const nameOf = (node) => {
    if (!node || typeof node !== "object") return undefined;
    const inline = inlineNames.get(node);
    if (inline) return inline;
    const id = node[PARSER_SCHEMA_ID];
    return typeof id === "string" ? componentNames.get(id) : undefined;
  };
  const declared = new Map(); // TS name -> { json, description, source }

  const payloadName = (message, where) => {
    if (!message.hasPayload()) {
      throw new ContractError(
        `${where}: message "${message.id()}" has no payload; an event without data declares ` +
          "`payload: { type: object, additionalProperties: false }`",
      );
    }
    const json = message.payload().json();
    let name = nameOf(json);
    let source;
    if (name) {
      source = `#/components/schemas/${[...componentNames].find(([, n]) => n === name)?.[0] ?? name}`;
    } else {
      name = `${namespacePrefix(message.id())}Payload`;
      source = `the payload of message "${message.id()}"`;
      claim(name, source);
      inlineNames.set(json, name);
    }
    declared.set(name, { json, source });
    return name;
  };

  // Namespaces, by pathname.
  const namespaces = new Map();
  for (const server of doc.servers().all()) {
    const path = server.pathname() || "/";
    if (!path.startsWith("/")) throw new ContractError(`servers.${server.id()}: pathname must start with "/"`);
    let ns = namespaces.get(path);
    if (!ns) {
      ns = { path, prefix: namespacePrefix(path), servers: [], client: [], server: [] };
      namespaces.set(path, ns);
    }
    ns.servers.push(server.id());
  }
  if (namespaces.size === 0)
    throw new ContractError("servers: declare at least one server (namespace), e.g. pathname /");
  const prefixes = new Map();
  for (const ns of namespaces.values()) {
    const other = prefixes.get(ns.prefix);
    if (other !== undefined) throw new ContractError(`namespaces ${other} and ${ns.path} generate the same names`);
    prefixes.set(ns.prefix, ns.path);
  }

  const dynamic = [];
  const operations = [...doc.operations().all()].sort((a, b) => (a.id() < b.id() ? -1 : a.id() > b.id() ? 1 : 0));
  for (const op of operations) {
    const where = `operations.${op.id()}`;
    const channels = op.channels().all();
    if (channels.length !== 1) throw new ContractError(`${where}: must reference exactly one channel`);
    const channel = channels[0];
    const address = channel.address();
    const direction = op.action() === "receive" ? "client" : op.action() === "send" ? "server" : undefined;
    if (!direction) throw new ContractError(`${where}: unknown action ${JSON.stringify(op.action())}`);
    if (address === null || address === undefined) {
      throw new ContractError(`${where}: channel "${channel.id()}" has no address; its address is the event name`);
    }
    const nsPaths = [
      ...new Set(
        channel
          .servers()
          .all()
          .map((s) => s.pathname() || "/"),
      ),
    ].sort();
    if (isDynamic(address)) {
      dynamic.push({ address, direction, operationId: op.id(), namespaces: nsPaths });
      continue;
    }
    if (RESERVED_EVENTS.includes(address)) {
      throw new ContractError(`${where}: "${address}" is a reserved Socket.IO event and cannot be declared`);
    }
    const messages = op.messages().all();
    if (messages.length === 0) throw new ContractError(`${where}: no messages`);
    for (const m of messages) {
      if (m.name() !== undefined && m.name() !== address) {
        throw new ContractError(
          `${where}: message "${m.id()}" is named "${m.name()}" but its channel's address is "${address}"; ` +
            "a message's name is its Socket.IO event name",
        );
      }
    }
    const payload = [...new Set(messages.map((m) => payloadName(m, where)))];
    let reply = null;
    if (op.reply()) {
      if (direction !== "client") {
        throw new ContractError(`${where}: only client -> server (receive) operations can have a reply (ack)`);
      }
      const replyMessages = op.reply().messages().all();
      if (replyMessages.length === 0) throw new ContractError(`${where}: the reply lists no messages`);
      reply = [...new Set(replyMessages.map((m) => payloadName(m, `${where}.reply`)))];
    }
    const ack = op.json()[ACK_STYLE] ?? "envelope";
    if (!ACK_STYLES.includes(ack)) {
      throw new ContractError(`${where}: ${ACK_STYLE} must be one of ${ACK_STYLES.join(", ")}`);
    }
    if (ack !== "envelope" && !reply) throw new ContractError(`${where}: ${ACK_STYLE}: ${ack} needs a reply`);
    const replay = op.json()[REPLAY] ?? true;
    if (typeof replay !== "boolean") throw new ContractError(`${where}: ${REPLAY} must be true or false`);
    if (!replay && direction !== "server") {
      throw new ContractError(`${where}: ${REPLAY} applies to server -> client (send) operations only`);
    }
    const message = messages[0];
    const event = {
      name: address,
      key: camelKey(address),
      operationId: op.id(),
      channelId: channel.id(),
      description: describe(
        op.description(),
        op.summary(),
        message.description(),
        message.summary(),
        channel.description(),
      ),
      payload,
      reply,
      ack,
      replay,
    };
    for (const path of nsPaths) {
      const ns = namespaces.get(path);
      const list = ns[direction];
      const clash = list.find((e) => e.name === event.name || e.key === event.key);
      if (clash) {
        throw new ContractError(
          `${where}: ${direction === "client" ? "client -> server" : "server -> client"} event "${address}" ` +
            `clashes with operations.${clash.operationId} ("${clash.name}") in namespace ${path}`,
        );
      }
      list.push(event);
    }
  }

  const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const nsList = [...namespaces.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const ns of nsList) {
    ns.client.sort(byName);
    ns.server.sort(byName);
  }

  // The ack envelope's error shape is always generated (Ack<T> needs it).
  const errorEntry = [...componentNames].find(([, n]) => n === ERROR_BODY);
  if (!errorEntry) {
    throw new ContractError(
      `components.schemas: no schema generates "${ERROR_BODY}", the error of every failed ack; ` +
        `declare it (e.g. key Error with ${TS_NAME}: ${ERROR_BODY})`,
    );
  }
  if (!declared.has(ERROR_BODY)) {
    declared.set(ERROR_BODY, { json: schemaById.get(errorEntry[0]), source: `#/components/schemas/${errorEntry[0]}` });
  }

  // Every schema the payloads reach, declared after the schemas it references.
  const queue = [...declared.keys()];
  while (queue.length > 0) {
    const name = queue.shift();
    for (const dep of referencedNames(declared.get(name).json, { nameOf, refName: () => undefined })) {
      if (!declared.has(dep)) {
        const id = [...componentNames].find(([, n]) => n === dep)[0];
        declared.set(dep, { json: schemaById.get(id), source: `#/components/schemas/${id}` });
        queue.push(dep);
      }
    }
  }
  const deps = new Map(
    [...declared].map(([name, d]) => [
      name,
      referencedNames(d.json, { nameOf, refName: () => undefined }).filter((n) => n !== name),
    ]),
  );
  for (const [name, d] of declared) {
    if (referencedNames(d.json, { nameOf, refName: () => undefined }).includes(name)) {
      throw new ContractError(`${d.source}: recursive schemas are not supported`);
    }
  }
  const ordered = [];
  const done = new Set();
  while (done.size < declared.size) {
    const ready = [...declared.keys()].filter((n) => !done.has(n) && deps.get(n).every((d) => done.has(d))).sort();
    if (ready.length === 0) {
      const left = [...declared.keys()].filter((n) => !done.has(n)).sort();
      throw new ContractError(`schemas reference each other in a cycle: ${left.join(", ")}`);
    }
    const next = ready[0];
    done.add(next);
    const d = declared.get(next);
    ordered.push({ name: next, source: d.source, json: d.json, description: describe(d.json.description) });
  }

  return {
    title: doc.info().title(),
    version: doc.info().version(),
    namespaces: nsList,
    schemas: ordered,
    dynamic,
    nameOf,
  };
}

/** The receive (client -> server) event names per namespace path: what handlers must cover. */
export function receiveEventsByNamespace(model) {
  return Object.fromEntries(model.namespaces.map((ns) => [ns.path, ns.client.map((e) => e.name)]));
}
