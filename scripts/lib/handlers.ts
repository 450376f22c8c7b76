/**
 * Handler coverage: every client -> server event of each namespace has exactly one handler, and no
 * handler exists for an undeclared event.
 *
 * Handlers are discovered from src/realtime/handlers/index.ts:
 * - `handlerTables: Record<table, Record<event, handler>>`: the default namespace ("/");
 * - `namespaceHandlerTables?: Record<namespacePath, Record<table, Record<event, handler>>>`: other
 *   namespaces (and "/" too, if it is listed there).
 */
import { join } from "node:path";

export const HANDLERS_MODULE = "src/realtime/handlers/index.ts";

/** namespace path -> table name -> event name -> handler */
export type HandlersByNamespace = Record<string, Record<string, Record<string, unknown>>>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Imports the handler module of the repository at `root` and returns its tables by namespace. */
export async function loadHandlers(root: string): Promise<HandlersByNamespace> {
  const file = join(root, HANDLERS_MODULE);
  if (!(await Bun.file(file).exists())) throw new Error(`${HANDLERS_MODULE} not found`);
  const mod = (await import(file)) as { handlerTables?: unknown; namespaceHandlerTables?: unknown };
  const out: HandlersByNamespace = {};
  const addTables = (ns: string, tables: unknown, what: string) => {
    if (!isObject(tables)) throw new Error(`${HANDLERS_MODULE}: ${what} must be an object of handler tables`);
    for (const [name, table] of Object.entries(tables)) {
      if (!isObject(table))
        throw new Error(`${HANDLERS_MODULE}: ${what}.${name} must be an object keyed by event name`);
      out[ns] ??= {};
      if (name in (out[ns] as object)) throw new Error(`${HANDLERS_MODULE}: table "${name}" is listed twice for ${ns}`);
      (out[ns] as Record<string, Record<string, unknown>>)[name] = table;
    }
  };
  if (mod.handlerTables === undefined && mod.namespaceHandlerTables === undefined) {
    throw new Error(`${HANDLERS_MODULE} exports neither handlerTables nor namespaceHandlerTables`);
  }
  if (mod.handlerTables !== undefined) addTables("/", mod.handlerTables, "handlerTables");
  if (mod.namespaceHandlerTables !== undefined) {
    if (!isObject(mod.namespaceHandlerTables))
      throw new Error(`${HANDLERS_MODULE}: namespaceHandlerTables must be an object`);
    for (const [ns, tables] of Object.entries(mod.namespaceHandlerTables)) {
      addTables(ns, tables, `namespaceHandlerTables[${JSON.stringify(ns)}]`);
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
