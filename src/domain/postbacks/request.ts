/**
 * One postback attempt as an HTTP request: the signed headers (Standard Webhooks), the body or,
 * for GET, the query string; and how the answer is judged (completed, retry when, or give up).
 */
import type { Webhook } from "standardwebhooks";

export type PostbackMethod = "GET" | "POST" | "PUT" | "PATCH";

/** Headers a job cannot set: the transport's and the signature's. */
const RESERVED = new Set([
  "host",
  "content-length",
  "content-type",
  "transfer-encoding",
  "connection",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
]);

export const USER_AGENT = "Switchboard-Postbacks/1";

const queryValue = (v: unknown) =>
  typeof v === "string"
    ? v
    : v === null || v === undefined
      ? ""
      : typeof v === "object"
        ? JSON.stringify(v)
        : String(v);

export interface BuiltRequest {
  url: string;
  init: { method: PostbackMethod; headers: Headers; body?: string };
}

/**
 * The request of one attempt. `webhook-id` is the job id (the same on every retry, so receivers
 * can drop duplicates); the signature covers `id.timestamp.body` (an empty body for GET).
 */
export function buildRequest(
  signer: Webhook,
  job: { id: string; postbackUrl: string; method: PostbackMethod; headers: Record<string, string>; payload: unknown },
  now: Date,
): BuiltRequest {
  const url = new URL(job.postbackUrl);
  let body: string | undefined;
  if (job.method === "GET") {
    for (const [k, v] of Object.entries((job.payload ?? {}) as Record<string, unknown>)) {
      url.searchParams.append(k, queryValue(v));
    }
  } else body = JSON.stringify(job.payload);
  const headers = new Headers();
  for (const [k, v] of Object.entries(job.headers)) if (!RESERVED.has(k.toLowerCase())) headers.set(k, v);
  if (!headers.has("user-agent")) headers.set("user-agent", USER_AGENT);
  if (body !== undefined) headers.set("content-type", "application/json");
  headers.set("webhook-id", job.id);
  headers.set("webhook-timestamp", String(Math.floor(now.getTime() / 1000)));
  headers.set("webhook-signature", signer.sign(job.id, now, body ?? ""));
  return {
    url: url.toString(),
    init: body === undefined ? { method: job.method, headers } : { method: job.method, headers, body },
  };
}

/** Retry-After as milliseconds from now (delta seconds or an HTTP date), or undefined. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Exponential backoff with full jitter: uniform in [0, base * 2^retry]. */
export const backoffMs = (baseMs: number, retry: number, random = Math.random) =>
  Math.floor(random() * baseMs * 2 ** Math.min(retry, 30));
