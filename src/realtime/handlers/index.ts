/**
 * Every handler table, per namespace. The realtime server binds exactly these (one loop over this
 * object), and contracts:check reads the same object: each client→server operation of a namespace in
 * asyncapi.yaml has exactly one handler here, and no handler exists for an undeclared event.
 */
import type { HandlerTable } from "../bind";
import { session } from "./session";
import { system } from "./system";

export const namespaceHandlers = {
  "/": { system, session },
} satisfies Record<string, Record<string, HandlerTable>>;

export type NamespaceHandlers = { [N in keyof typeof namespaceHandlers]: Record<string, HandlerTable> };
