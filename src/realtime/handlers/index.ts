/**
 * Every handler table, per namespace. The realtime server binds exactly these (one loop over this
 * object), and contracts:check reads the same object: each client→server operation of a namespace in
 * asyncapi.yaml has exactly one handler here, and no handler exists for an undeclared event.
 */
import type { HandlerTable } from "../bind";
import { chat } from "./chat";
import { direct } from "./direct";
import { type InternalHandlerTable, internal } from "./internal";
import { presence } from "./presence";
import { receipts } from "./receipts";
import { rooms } from "./rooms";
import { session } from "./session";
import { system } from "./system";
import { typing } from "./typing";

/** The tables of each namespace, typed by that namespace's generated maps; a namespace left out is not served. */
export interface NamespaceHandlers {
  "/"?: Record<string, HandlerTable>;
  "/internal"?: Record<string, InternalHandlerTable>;
}

export const namespaceHandlers = {
  "/": { system, session, typing, presence, direct, rooms, chat, receipts },
  "/internal": { internal },
} satisfies Required<NamespaceHandlers>;
