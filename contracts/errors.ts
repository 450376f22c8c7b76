/**
 * The project's one error shape, shared by every transport: REST bodies, tRPC error data and
 * Socket.IO acks all carry `{ code, message, details? }`. Each code maps once to HTTP and tRPC.
 */
import { z } from "zod";

export const errorCodes = {
  BAD_REQUEST: { http: 400, trpc: "BAD_REQUEST" },
  UNAUTHORIZED: { http: 401, trpc: "UNAUTHORIZED" },
  FORBIDDEN: { http: 403, trpc: "FORBIDDEN" },
  NOT_FOUND: { http: 404, trpc: "NOT_FOUND" },
  METHOD_NOT_ALLOWED: { http: 405, trpc: "METHOD_NOT_SUPPORTED" },
  CONFLICT: { http: 409, trpc: "CONFLICT" },
  PAYLOAD_TOO_LARGE: { http: 413, trpc: "PAYLOAD_TOO_LARGE" },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, trpc: "UNSUPPORTED_MEDIA_TYPE" },
  RATE_LIMITED: { http: 429, trpc: "TOO_MANY_REQUESTS" },
  INTERNAL: { http: 500, trpc: "INTERNAL_SERVER_ERROR" },
  NOT_IMPLEMENTED: { http: 501, trpc: "NOT_IMPLEMENTED" },
  SERVICE_UNAVAILABLE: { http: 503, trpc: "SERVICE_UNAVAILABLE" },
} as const;

export type ErrorCode = keyof typeof errorCodes;
export const ErrorCodeSchema = z.enum(Object.keys(errorCodes) as [ErrorCode, ...ErrorCode[]]);

export const ErrorBody = z
  .object({
    code: ErrorCodeSchema,
    message: z.string(),
    details: z.unknown().optional(),
  })
  .meta({ id: "Error", description: "What went wrong: a stable code, a readable message, optional details" });
export type ErrorBody = z.infer<typeof ErrorBody>;

/** A failed REST call's body; the same envelope as a failed Socket.IO ack. */
export const ErrorResponse = z.object({ success: z.literal(false), error: ErrorBody }).meta({ id: "ErrorResponse" });
export type ErrorResponse = z.infer<typeof ErrorResponse>;

/** One field that failed validation, with its path in the input ("body.userId", "roomId"). */
export interface FieldIssue {
  path: string;
  message: string;
}
