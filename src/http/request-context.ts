import type { OperationContext } from "./operations/run";

/**
 * Builds an operation's context (request id, client IP, admin or not, logger) from its request.
 * It also carries the HTTP limits that the REST and tRPC routes enforce while reading a request,
 * so route modules take their configuration from the app that built it.
 */
export interface RequestContextFn {
  (request: Request): OperationContext;
  readonly limits: { maxBodyBytes: number; trpcMaxBatch: number };
  /**
   * A route's JSON answer with the headers the request hook set (see answer.ts); undefined when
   * the headers are not all strings, and the route returns its value to Elysia instead.
   */
  readonly json: (set: { headers: Record<string, unknown>; status?: unknown }, value: unknown) => Response | undefined;
}
