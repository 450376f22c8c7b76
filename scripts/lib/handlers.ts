/**
 * Handler coverage: every client -> server event of each namespace has exactly one handler in that
 * namespace's tables, and no handler exists for an event the namespace does not declare.
 *
 * Handlers are read from `namespaceHandlers` of src/realtime/handlers/index.ts, and from nothing
 * else: it is the object the realtime server binds (namespace path -> table name -> event name ->
 * handler), so a table that is not listed there is not bound, and does not count.
 */
import { join } from "node:path";

export const HANDLERS_MODULE = "src/realtime/handlers/index.ts";
export const HANDLERS_EXPORT = "namespaceHandlers";

/** namespace path -> table name -> event name -> handler */
export type HandlersByNamespace = Record<string, Record<string, Record<string, unknown>>>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Imports the handler module of the repository at `root` and returns the tables it binds, by namespace. */
export async function loadHandlers(root: string): Promise<HandlersByNamespace> {
  const file = join(root, HANDLERS_MODULE);
  if (!(await Bun.file(file).exists())) throw new Error(`${HANDLERS_MODULE} not found`);
  const bound = ((await import(file)) as Record<string, unknown>)[HANDLERS_EXPORT];
  const what = `${HANDLERS_MODULE}: ${HANDLERS_EXPORT}`;
  if (bound === undefined) throw new Error(`${HANDLERS_MODULE} does not export ${HANDLERS_EXPORT}`);
  if (!isObject(bound)) throw new Error(`${what} must be an object keyed by namespace path`);
  const out: HandlersByNamespace = {};
  for (const [ns, tables] of Object.entries(bound)) {
    if (!isObject(tables)) throw new Error(`${what}[${JSON.stringify(ns)}] must be an object of handler tables`);
    out[ns] = {};
    for (const [name, table] of Object.entries(tables)) {
      if (!isObject(table)) {
        throw new Error(`${what}[${JSON.stringify(ns)}].${name} must be an object keyed by event name`);
      }
      out[ns][name] = table;
    }
  }
  return out;
}

/** Problems, one line each; empty = every declared event has exactly one handler, and nothing else. */
export function checkHandlerCoverage(declared: Record<string, string[]>, handlers: HandlersByNamespace): string[] {
  const problems: string[] = [];
  for (const ns of Object.keys(handlers).sort()) {
    if (!(ns in declared)) problems.push(`handlers for namespace ${ns}, which asyncapi.yaml does not declare`);
  }
  for (const [ns, events] of Object.entries(declared).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const owners = new Map<string, string[]>(); // event -> tables
    for (const [table, entries] of Object.entries(handlers[ns] ?? {})) {
      for (const [event, handler] of Object.entries(entries)) {
        if (typeof handler !== "function") problems.push(`${ns} ${table}["${event}"]: not a function`);
        owners.set(event, [...(owners.get(event) ?? []), table]);
      }
    }
    for (const event of events) {
      const tables = owners.get(event) ?? [];
      if (tables.length === 0) problems.push(`${ns} "${event}": no handler (declared as a client -> server operation)`);
      if (tables.length > 1) problems.push(`${ns} "${event}": more than one handler (tables ${tables.join(", ")})`);
    }
    for (const [event, tables] of [...owners].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!events.includes(event)) {
        problems.push(
          `${ns} "${event}": handler in ${tables.join(", ")} for an undeclared event (not in asyncapi.yaml)`,
        );
      }
    }
  }
  return problems;
}
