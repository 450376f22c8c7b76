/**
 * One postback attempt as an HTTP request: the signed headers (Standard Webhooks), the body or,
 * for GET, the query string; and how the answer is judged (completed, retry when, or give up).
 */

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

/** Signs `id.timestamp.body` the Standard Webhooks way: the value of the `webhook-signature` header. */
export interface Signer {
  sign(id: string, now: Date, body: string): string;
}

const SECRET_PREFIX = "whsec_";

/**
 * The Standard Webhooks signature (`v1,` + base64 of HMAC-SHA256 over `id.timestamp.body`, the key being
 * the secret's base64 after `whsec_`), with the runtime's native HMAC: the same bytes as the
 * `standardwebhooks` package's `sign` (checked by test/postbacks/signature.test.ts), at a fraction of
 * the cost of its JavaScript SHA-256.
 */
export function createSigner(secret: string): Signer {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, "base64");
  if (key.length === 0) throw new Error("Secret can't be empty.");
  return {
    sign(id, now, body) {
      const hmac = new Bun.CryptoHasher("sha256", key);
      hmac.update(`${id}.${Math.floor(now.getTime() / 1000)}.${body}`);
      return `v1,${hmac.digest("base64")}`;
    },
  };
}

export interface BuiltRequest {
  url: string;
  init: { method: PostbackMethod; headers: Headers; body?: string };
}

/**
 * The request of one attempt. `webhook-id` is the job id (the same on every retry, so receivers
 * can drop duplicates); the signature covers `id.timestamp.body` (an empty body for GET).
 */
export function buildRequest(
  signer: Signer,
  job: { id: string; postbackUrl: string; method: PostbackMethod; headers: Record<string, string>; payload: unknown },
  now: Date,
): BuiltRequest {
  let url = job.postbackUrl;
  let body: string | undefined;
  if (job.method === "GET") {
    const withQuery = new URL(job.postbackUrl);
    for (const [k, v] of Object.entries((job.payload ?? {}) as Record<string, unknown>)) {
      withQuery.searchParams.append(k, queryValue(v));
    }
    url = withQuery.toString();
  } else body = JSON.stringify(job.payload); // the URL as queued: fetch parses it the same way
  const headers = new Headers();
  for (const [k, v] of Object.entries(job.headers)) if (!RESERVED.has(k.toLowerCase())) headers.set(k, v);
  if (!headers.has("user-agent")) headers.set("user-agent", USER_AGENT);
  if (body !== undefined) headers.set("content-type", "application/json");
  headers.set("webhook-id", job.id);
  headers.set("webhook-timestamp", String(Math.floor(now.getTime() / 1000)));
  headers.set("webhook-signature", signer.sign(job.id, now, body ?? ""));
  return {
    url,
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
