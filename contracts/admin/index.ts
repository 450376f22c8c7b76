/**
 * The admin API: every operation, in one table. REST routes, the OpenAPI document, the tRPC
 * router and the typed admin client are generated from it; add an entry here to add an operation.
 */
import { createToken, decodeToken, verifyToken } from "./jwt";

export const operations = [createToken, verifyToken, decodeToken] as const;

export type Operations = typeof operations;
export type OperationName = Operations[number]["name"];
