/**
 * The postback queue (seed 003): outgoing HTTP requests (webhooks) delivered at least once by the
 * in-process scheduler, signed per Standard Webhooks, retried with backoff. Paths and the enqueue
 * answer are seed 003's; the rest (idempotency, runAt, attempts, cancel, retry, stats) is ours.
 */
import { z } from "zod";
import { operation } from "../operation";
import { nextCursor, PAGE_DESCRIPTION, pageLimit } from "../shared/page";

export const POSTBACK_STATUSES = ["pending", "processing", "completed", "failed", "cancelled"] as const;
export const PostbackStatus = z.enum(POSTBACK_STATUSES).meta({
  description:
    "pending: waiting for its next attempt; processing: an attempt is in flight; completed: a 2xx answer; " +
    "failed: retries exhausted, a 410, or a refused target; cancelled: cancelled while pending",
});

export const IdempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, { error: "Printable ASCII without spaces" })
  .meta({
    description:
      "The same key (header `Idempotency-Key` or this field) within the retention window returns the first " +
      "queueId and queues nothing; with a different request it is a 409",
    example: "order-1234-paid",
  });

const HeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/, { error: "Not an HTTP header name" });
const HeaderValue = z
  .string()
  .max(4096)
  .regex(/^[^\r\n\0]*$/, { error: "Header values cannot contain CR, LF or NUL" });

const QueueId = z
  .uuid()
  .meta({ description: "The job id (UUIDv7): also the `webhook-id` of every attempt", example: exampleId() });

function exampleId() {
  return "01936d3e-7c2a-7000-8000-0000000000a1";
}

export const Attempt = z
  .object({
    at: z.iso.datetime().meta({ description: "When the attempt started" }),
    durationMs: z.number().int().min(0),
    responseStatus: z.number().int().optional().meta({ description: "The HTTP status, when an answer came" }),
    error: z.string().optional().meta({ description: "Why the attempt failed (absent when it succeeded)" }),
  })
  .meta({ id: "PostbackAttempt", description: "One delivery attempt" });

export const PostbackJob = z
  .object({
    id: z.string(),
    postbackUrl: z.string(),
    method: z.enum(["GET", "POST", "PUT", "PATCH"]),
    status: PostbackStatus,
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    retries: z.number().int().min(0).meta({ description: "Retries made so far (attempts minus one)" }),
    nextAttemptAt: z.iso
      .datetime()
      .nullable()
      .meta({ description: "When the next attempt is due; null unless pending" }),
    lastError: z.string().nullable(),
    lastResponseStatus: z.number().int().nullable(),
  })
  .meta({ id: "PostbackJob", description: "A postback job (seed 003's fields and ours)" });

export const PostbackJobDetail = PostbackJob.extend({
  attempts: z.array(Attempt).meta({ description: "Every attempt, oldest first" }),
}).meta({ id: "PostbackJobDetail" });

const example = {
  id: exampleId(),
  postbackUrl: "https://example.com/webhook",
  method: "POST" as const,
  status: "completed" as const,
  createdAt: "2024-01-15T10:30:00.000Z",
  updatedAt: "2024-01-15T10:30:00.250Z",
  retries: 0,
  nextAttemptAt: null,
  lastError: null,
  lastResponseStatus: 200,
};

export const enqueuePostback = operation({
  name: "postbacks.enqueue",
  method: "POST",
  path: "/api/queue/postback",
  auth: "admin",
  summary: "Queue a postback: answers once the job is stored, before it is delivered",
  description:
    "The job is delivered at least once, signed per Standard Webhooks (`webhook-id` = queueId, `webhook-timestamp`, " +
    "`webhook-signature`), retried with exponential backoff on a non-2xx answer, a network error or a timeout. " +
    "GET sends the payload's top-level fields as query parameters. A target on a loopback, private, link-local, " +
    "CGNAT or metadata address is refused (400) unless the server allows it. Send `Idempotency-Key` (header) or " +
    "`idempotencyKey` to make a retry of this call safe.",
  input: z.object({
    postbackUrl: z
      .url({ protocol: /^https?$/, error: "Must be an http(s) URL" })
      .max(2048)
      .meta({ description: "Where the request goes; http(s), no credentials" }),
    payload: z
      .record(z.string(), z.unknown())
      .meta({ description: "The JSON body (GET: the query parameters; objects become JSON text)" }),
    method: z.enum(["GET", "POST", "PUT", "PATCH"]).default("POST"),
    headers: z
      .record(HeaderName, HeaderValue)
      .refine((h) => Object.keys(h).length <= 50, { error: "At most 50 headers" })
      .optional()
      .meta({
        description:
          "Extra request headers; they cannot replace Host, Content-Length, Content-Type nor the webhook-* headers",
      }),
    runAt: z.iso
      .datetime({ offset: true })
      .optional()
      .meta({ description: "Not before this time (ISO 8601); default: now" }),
    idempotencyKey: IdempotencyKey.optional(),
    maxRetries: z.number().int().min(0).max(100).optional().meta({ description: "Default: POSTBACK_MAX_RETRIES" }),
    timeoutMs: z
      .number()
      .int()
      .min(100)
      .max(600000)
      .optional()
      .meta({ description: "Per-attempt time limit; POSTBACK_TIMEOUT_MS when larger" }),
  }),
  output: z.object({
    success: z.literal(true),
    message: z.string().meta({ example: "Postback queued successfully" }),
    queueId: z.string(),
  }),
  example: {
    input: {
      postbackUrl: "https://example.com/webhook",
      payload: { event: "user.created", userId: "123", data: { name: "John Doe", email: "john@example.com" } },
      method: "POST",
      headers: { "X-Custom-Header": "value" },
    },
    output: { success: true, message: "Postback queued successfully", queueId: exampleId() },
  },
});

export const getPostback = operation({
  name: "postbacks.get",
  method: "GET",
  path: "/api/queue/postback/:id",
  auth: "admin",
  summary: "One postback job with its attempts (404 when there is none, or it was removed by retention)",
  input: z.object({ id: QueueId }),
  output: PostbackJobDetail,
  example: {
    input: { id: exampleId() },
    output: { ...example, attempts: [{ at: "2024-01-15T10:30:00.010Z", durationMs: 240, responseStatus: 200 }] },
  },
});

export const listPostbacks = operation({
  name: "postbacks.list",
  method: "GET",
  path: "/api/queue/postback",
  auth: "admin",
  summary: "Postback jobs, newest first, by status, a page at a time",
  description: PAGE_DESCRIPTION,
  input: z.object({
    status: PostbackStatus.optional(),
    limit: pageLimit("Jobs", 200, 50),
    cursor: z.uuid().optional().meta({ description: "The `nextCursor` of the previous page" }),
  }),
  output: z.object({ items: z.array(PostbackJob), nextCursor }),
  example: { input: { status: "completed", limit: 50 }, output: { items: [example], nextCursor: null } },
});

export const retryPostback = operation({
  name: "postbacks.retry",
  method: "POST",
  path: "/api/queue/postback/:id/retry",
  auth: "admin",
  summary: "Put a failed or cancelled job back in the queue, with its retries reset (409 otherwise)",
  input: z.object({ id: QueueId }),
  output: PostbackJob,
  example: {
    input: { id: exampleId() },
    output: {
      ...example,
      status: "pending",
      lastResponseStatus: 500,
      lastError: "HTTP 500",
      nextAttemptAt: "2024-01-15T10:35:00.000Z",
      updatedAt: "2024-01-15T10:35:00.000Z",
    },
  },
});

export const cancelPostback = operation({
  name: "postbacks.cancel",
  method: "DELETE",
  path: "/api/queue/postback/:id",
  auth: "admin",
  summary: "Cancel a pending job (409 when it is in flight or finished)",
  input: z.object({ id: QueueId }),
  output: PostbackJob,
  example: {
    input: { id: exampleId() },
    output: { ...example, status: "cancelled", lastResponseStatus: null },
  },
});

export const postbackStats = operation({
  name: "postbacks.stats",
  method: "GET",
  path: "/api/queue/stats",
  auth: "admin",
  summary: "Jobs by status, and how long the oldest due pending job has waited",
  input: z.object({}),
  output: z.object({
    counts: z.object(
      Object.fromEntries(POSTBACK_STATUSES.map((s) => [s, z.number().int().min(0)])) as {
        [K in (typeof POSTBACK_STATUSES)[number]]: z.ZodNumber;
      },
    ),
    total: z.number().int().min(0),
    oldestPendingAgeMs: z
      .number()
      .int()
      .min(0)
      .nullable()
      .meta({ description: "Since the oldest pending job became due (0 if not yet due); null when none is pending" }),
  }),
  example: {
    input: {},
    output: {
      counts: { pending: 2, processing: 1, completed: 40, failed: 1, cancelled: 0 },
      total: 44,
      oldestPendingAgeMs: 1200,
    },
  },
});
