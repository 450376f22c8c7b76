import type { ErrorBody, ErrorCode, FieldIssue } from "../../contracts/errors";

/** The one error type. Transports map `code` to an HTTP status, a tRPC code or a failed ack. */
export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  /** Anything thrown, as an AppError; unknown errors become INTERNAL without leaking their text. */
  static from(error: unknown): AppError {
    if (error instanceof AppError) return error;
    return new AppError("INTERNAL", "Internal error");
  }
}

/** A validation failure: BAD_REQUEST naming every field and its rule. */
export function invalidInput(issues: FieldIssue[]): AppError {
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
  return new AppError("BAD_REQUEST", `Invalid input: ${summary}`, { issues });
}

/** Zod-style issues (Standard Schema) -> field issues. */
export function fieldIssues(
  issues: readonly { path?: readonly (PropertyKey | { key: PropertyKey })[] | undefined; message: string }[],
  prefix?: string,
): FieldIssue[] {
  return issues.map((issue) => {
    const parts = (issue.path ?? []).map((p) => String(typeof p === "object" ? p.key : p));
    const path = [prefix, ...parts].filter(Boolean).join(".");
    return { path, message: issue.message };
  });
}
