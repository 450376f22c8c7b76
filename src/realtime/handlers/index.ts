/**
 * Every handler table of the main namespace. contracts:check requires exactly one handler per
 * client→server operation in asyncapi.yaml, and none for undeclared events.
 */
import type { HandlerTable } from "../bind";
import { system } from "./system";

export const handlerTables: Record<string, HandlerTable> = { system };
