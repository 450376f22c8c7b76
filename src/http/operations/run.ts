/**
 * Runs one admin operation the same way for every transport: auth, input validation against the
 * contract, the implementation, output validation. REST and tRPC differ only in how they carry it.
 */
import type { z } from "zod";
import type { AnyOperation } from "../../../contracts/operation";
import { AppError, fieldIssues, invalidInput } from "../../domain/errors";
import type { Logger } from "../../observability/logger";

export interface OperationContext {
  requestId: string;
  ip: string;
  /** The caller presented the API token. */
  admin: boolean;
  log: Logger;
}

export type OperationFn<O extends AnyOperation> = (
  input: z.output<O["input"]>,
  ctx: OperationContext,
) => Promise<z.input<O["output"]>> | z.input<O["output"]>;

/** UNAUTHORIZED unless the caller may run `op` (transports call it before reading a body too). */
export function checkAuth(op: AnyOperation, ctx: OperationContext): void {
  if (op.auth === "admin" && !ctx.admin) {
    throw new AppError("UNAUTHORIZED", "Missing or invalid API token: send Authorization: Bearer <API_TOKEN>");
  }
}

export async function runOperation<O extends AnyOperation>(
  op: O,
  fn: OperationFn<O>,
  rawInput: unknown,
  ctx: OperationContext,
): Promise<z.output<O["output"]>> {
  checkAuth(op, ctx);
  const parsed = op.input.safeParse(rawInput ?? {});
  if (!parsed.success) throw invalidInput(fieldIssues(parsed.error.issues));
  const result = await fn(parsed.data as z.output<O["input"]>, ctx);
  const output = op.output.safeParse(result);
  if (!output.success) {
    ctx.log.error({ operation: op.name, issues: output.error.issues }, "operation output breaks its contract");
    throw new AppError("INTERNAL", "Internal error");
  }
  return output.data as z.output<O["output"]>;
}
