import type { Context } from "elysia";
import { errorCodes } from "../../contracts/errors";
import type { AppError } from "../domain/errors";

/** An AppError as an HTTP answer: its mapped status and `{ success: false, error }`. */
export function errorResponse(set: Context["set"], error: AppError): Response {
  const headers = new Headers();
  for (const [k, v] of Object.entries(set.headers)) if (typeof v === "string") headers.set(k, v);
  headers.set("content-type", "application/json; charset=utf-8");
  const status = errorCodes[error.code].http;
  set.status = status; // read by the metrics and access-log hook
  return new Response(JSON.stringify({ success: false, error: error.toBody() }), { status, headers });
}
