/**
 * Runs one admin operation the same way for every transport: auth, input validation against the
 * contract, the implementation, output validation. REST and tRPC differ only in how they carry it.
 */
import type { z } from "zod";
import type { AnyOperation } from "../../../contracts/operation";
import type { Caller } from "../../domain/callers";
import { AppError, fieldIssues, invalidInput } from "../../domain/errors";
import type { Logger } from "../../observability/logger";

export interface OperationContext {
  requestId: string;
  ip: string;
  /** Who is calling (the API token, an admin or user JWT, nobody). */
  caller: Caller;
  log: Logger;
  /** The `Idempotency-Key` header as sent (the operation validates it); undefined when absent. */
  idempotencyKey?: string | undefined;
}

export type OperationFn<O extends AnyOperation> = (
  input: z.output<O["input"]>,
  ctx: OperationContext,
) => Promise<z.input<O["output"]>> | z.input<O["output"]>;

/**
 * UNAUTHORIZED (no or a bad credential) or FORBIDDEN (a valid one without the right) unless the
 * caller may run `op`; transports call it before reading a body too.
 */
export function checkAuth(op: AnyOperation, ctx: OperationContext): void {
  const { caller } = ctx;
  if (op.auth === "public") return;
  if (op.auth === "admin") {
    if (caller.kind === "admin") return;
    if (caller.kind === "user")
      throw new AppError("FORBIDDEN", "This operation needs an admin: the API token or a JWT with role admin");
    throw new AppError(
      "UNAUTHORIZED",
      `${caller.kind === "invalid" ? `Invalid credential (${caller.reason})` : "Missing credential"}: send Authorization: Bearer <API_TOKEN> or an admin JWT`,
    );
  }
  // auth "user": the caller's own end-user JWT.
  if (caller.kind === "user" || (caller.kind === "admin" && caller.userId !== undefined)) return;
  if (caller.kind === "admin")
    throw new AppError("FORBIDDEN", "This operation needs a user JWT: it acts for the caller");
  throw new AppError(
    "UNAUTHORIZED",
    `${caller.kind === "invalid" ? `Invalid token (${caller.reason})` : "Missing token"}: send Authorization: Bearer <your JWT>`,
  );
}

/** The user an auth "user" operation acts for (checkAuth has let it through). */
export function callerUserId(ctx: OperationContext): string {
  const { caller } = ctx;
  if ((caller.kind === "user" || caller.kind === "admin") && caller.userId !== undefined) return caller.userId;
  throw new AppError("UNAUTHORIZED", "Missing token: send Authorization: Bearer <your JWT>");
}

/**
 * Validates the input, runs the operation and checks its answer against the contract. Synchronous
 * when the operation is (a thrown AppError, or the checked answer), a promise when it returns one.
 */
export function runOperation<O extends AnyOperation>(
  op: O,
  fn: OperationFn<O>,
  rawInput: unknown,
  ctx: OperationContext,
): z.output<O["output"]> | Promise<z.output<O["output"]>> {
  checkAuth(op, ctx);
  const parsed = op.input.safeParse(rawInput ?? {});
  if (!parsed.success) throw invalidInput(fieldIssues(parsed.error.issues));
  const result = fn(parsed.data as z.output<O["input"]>, ctx);
  const check = (value: unknown): z.output<O["output"]> => {
    const output = op.output.safeParse(value);
    if (!output.success) {
      ctx.log.error({ operation: op.name, issues: output.error.issues }, "operation output breaks its contract");
      throw new AppError("INTERNAL", "Internal error");
    }
    return output.data as z.output<O["output"]>;
  };
  return result instanceof Promise ? result.then(check) : check(result);
}
