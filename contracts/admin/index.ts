/**
 * The admin API: every operation, in one table. REST routes, the OpenAPI document, the tRPC
 * router and the typed admin client are generated from it; add an entry here to add an operation.
 */
import { createToken, decodeToken, verifyToken } from "./jwt";

/** Raise the major version for a breaking change: contracts:check refuses one otherwise. */
export const adminApi = {
  title: "Switchboard admin API",
  version: "0.1.0",
  description:
    "Reach end users from a backend. Every operation is served as REST (this document) and as tRPC at /trpc " +
    "(procedure = operationId). Errors: `{ success: false, error: { code, message, details? } }`.",
} as const;

export const operations = [createToken, verifyToken, decodeToken] as const;

export type Operations = typeof operations;
export type OperationName = Operations[number]["name"];
