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

/**
 * At most `max` characters of client-supplied text, for error messages that quote it: an error
 * never echoes more than a short prefix of what the client sent (a 1 MB key stays out of logs and
 * answers). A surrogate pair is not cut in half.
 */
export function clip(text: string, max = 64): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}…`;
}

/** Rule messages are ours (the contract's), but custom ones may quote input: bounded all the same. */
const MAX_MESSAGE = 200;
/** Issues listed in one error; a record of 10,000 bad values does not make a 10,000-line answer. */
const MAX_ISSUES = 20;
/** Unknown keys quoted in one "Unrecognized keys" message. */
const MAX_KEYS = 5;

/** A validation failure: BAD_REQUEST naming each field (the first MAX_ISSUES) and its rule. */
export function invalidInput(issues: FieldIssue[]): AppError {
  const shown = issues.slice(0, MAX_ISSUES);
  const omitted = issues.length - shown.length;
  const summary = shown.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
  const more = omitted > 0 ? `; and ${omitted} more` : "";
  const details = omitted > 0 ? { issues: shown, omittedIssues: omitted } : { issues: shown };
  return new AppError("BAD_REQUEST", `Invalid input: ${summary}${more}`, details);
}

interface IssueLike {
  path?: readonly (PropertyKey | { key: PropertyKey })[] | undefined;
  message: string;
  /** zod's `unrecognized_keys` lists the client's keys: they are clipped here. */
  code?: string;
  keys?: readonly string[];
}

/** Zod-style issues (Standard Schema) -> field issues; record keys and unknown keys are clipped. */
export function fieldIssues(issues: readonly IssueLike[], prefix?: string): FieldIssue[] {
  return issues.map((issue) => {
    const parts = (issue.path ?? []).map((p) => clip(String(typeof p === "object" ? p.key : p)));
    const path = [prefix, ...parts].filter(Boolean).join(".");
    return { path, message: messageOf(issue) };
  });
}

function messageOf(issue: IssueLike): string {
  if (issue.code === "unrecognized_keys" && issue.keys) {
    const quoted = issue.keys.slice(0, MAX_KEYS).map((k) => JSON.stringify(clip(k)));
    const more = issue.keys.length > MAX_KEYS ? ` and ${issue.keys.length - MAX_KEYS} more` : "";
    return `Unrecognized key${issue.keys.length === 1 ? "" : "s"}: ${quoted.join(", ")}${more}`;
  }
  return clip(issue.message, MAX_MESSAGE);
}
