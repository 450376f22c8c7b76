import type { Context } from "elysia";
import { errorCodes } from "../../contracts/errors";
import type { AppError } from "../domain/errors";
import { trpcErrorEnvelope } from "./trpc";

/**
 * An AppError as an HTTP answer: its mapped status and `{ success: false, error }`, or, on the
 * tRPC endpoint, tRPC's error envelope carrying the same body in `error.data.error`.
 */
export function errorResponse(set: Context["set"], error: AppError, shape: "rest" | "trpc" = "rest"): Response {
  const headers = new Headers();
  for (const [k, v] of Object.entries(set.headers)) if (typeof v === "string") headers.set(k, v);
  headers.set("content-type", "application/json; charset=utf-8");
  const status = errorCodes[error.code].http;
  set.status = status; // read by the metrics and access-log hook
  const body = shape === "trpc" ? trpcErrorEnvelope(error) : { success: false, error: error.toBody() };
  return new Response(JSON.stringify(body), { status, headers });
}
