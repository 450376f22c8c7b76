/**
 * Which event names are taken, so a run-time name never shadows one: every event asyncapi.yaml
 * declares (any namespace, either direction) and Socket.IO's own names.
 */
import { RESERVED_EVENTS } from "../../../contracts/asyncapi-template/lib/events-model.js";
import { namespaces } from "../../../generated/events";

/**
 * Socket.IO's own events (a contract may not declare them either), and `error`, which Socket.IO
 * clients treat as their own too (asyncapi.yaml declares it as ours).
 */
export const RESERVED_EVENT_NAMES: ReadonlySet<string> = new Set([...RESERVED_EVENTS, "error"]);

/** Every declared event name, with where it is declared (`client → server in /`). */
const declared = new Map<string, string[]>();
for (const [path, contract] of Object.entries(namespaces)) {
  const add = (names: Iterable<string>, direction: string) => {
    for (const name of names) declared.set(name, [...(declared.get(name) ?? []), `${direction} in ${path}`]);
  };
  add(Object.keys(contract.clientEventSchemas), "client → server");
  add(Object.keys(contract.serverEventSchemas), "server → client");
}

/** Where asyncapi.yaml declares `name` (empty when it does not). */
export const declaredAs = (name: string): readonly string[] => declared.get(name) ?? [];

/** Reserved or declared: no run-time event may take this name. */
export const isTakenEventName = (name: string) => RESERVED_EVENT_NAMES.has(name) || declared.has(name);
