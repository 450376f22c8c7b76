import type { OperationContext } from "./operations/run";

/** Builds an operation's context (request id, client IP, admin or not, logger) from its request. */
export type RequestContextFn = (request: Request) => OperationContext;
