/**
 * The postback queue (seed 003), durable in SQLite, and its in-process scheduler.
 *
 * - Enqueue answers once the job is committed; delivery happens later, at least once.
 * - Jobs are claimed atomically (one UPDATE … RETURNING), so none is in flight twice; at start-up
 *   the jobs a crash left `processing` go back to `pending`.
 * - The scheduler sleeps until the earliest `nextAttemptAt` (a timer re-armed on every enqueue
 *   and after every attempt): no polling. At most `concurrency` attempts run at once.
 * - A failed attempt (non-2xx, network error, timeout) is retried with exponential backoff and full
 *   jitter, up to `maxRetries`; 410 and a refused target fail at once; 429/503 honour Retry-After.
 * - Finished jobs older than `retentionMs` are removed (their idempotency keys with them).
 */

import { createHash } from "node:crypto";
import { and, asc, desc, eq, inArray, lt, lte, sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import type { Config } from "../../config";
import type { Db } from "../../db/client";
import type { GroupCommit } from "../../db/group-commit";
import { postbackAttempts, postbacks } from "../../db/schema";
import { AppError, clip, invalidInput } from "../errors";
import { backoffMs, buildRequest, type PostbackMethod, retryAfterMs } from "./request";
import { checkTarget, checkUrlShape } from "./ssrf";

export type PostbackRow = typeof postbacks.$inferSelect;
export type PostbackStatus = PostbackRow["status"];
export const STATUSES: readonly PostbackStatus[] = ["pending", "processing", "completed", "failed", "cancelled"];

/** The POSTBACK_* settings (their one home is the config table). */
export type PostbackSettings = Omit<Config["postbacks"], "enabled">;

export type AttemptOutcome = "success" | "http_error" | "network_error" | "timeout" | "refused";

/** What the scheduler reports (metrics live outside the domain). */
export interface PostbackObserver {
  attempt(outcome: AttemptOutcome, seconds: number): void;
  queueWait(seconds: number): void;
}

interface LogLike {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EnqueueInput {
  postbackUrl: string;
  payload: Record<string, unknown>;
  method: PostbackMethod;
  headers?: Record<string, string> | undefined;
  runAt?: string | undefined;
  idempotencyKey?: string | undefined;
  maxRetries?: number | undefined;
  timeoutMs?: number | undefined;
}

export interface PostbacksDeps {
  db: Db;
  /** Outcomes of attempts that end in the same turn are recorded in one transaction. */
  groupCommit: GroupCommit;
  settings: PostbackSettings;
  log: LogLike;
  observer?: PostbackObserver;
  /** The HTTP client; tests of the domain could pass another. */
  fetch?: typeof fetch;
}

export const MESSAGES = { queued: "Postback queued successfully" } as const;

/** Keys sorted at every level, so the same request always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

const iso = (ms: number) => new Date(ms).toISOString();
/** Timers above this are re-armed (a wake-up, not a tick: setTimeout caps at ~24.8 days). */
const MAX_TIMER_MS = 60 * 60 * 1000;
/** A Retry-After is honoured up to this; beyond it the job waits this long. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;
/** The most of a response body read (and dropped) before the stream is cancelled. */
const MAX_DISCARDED_BODY_BYTES = 1024 * 1024;

/**
 * Reads the response body without keeping it, so the connection can be reused, and cancels it past
 * MAX_DISCARDED_BODY_BYTES: a receiver cannot make us hold (or wait for) an endless answer.
 */
async function discardBody(res: Response): Promise<void> {
  const reader = res.body?.getReader();
  if (!reader) return;
  let seen = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
      if (seen > MAX_DISCARDED_BODY_BYTES) return void (await reader.cancel());
    }
  } catch {
    // The attempt's outcome is the status; a broken body after it changes nothing.
  }
}

/** Text kept from an error in the job (the message is ours or the runtime's, never the response body). */
const MAX_ERROR = 300;

export function createPostbacks({ db, groupCommit, settings, log, observer, fetch: http = fetch }: PostbacksDeps) {
  const signer = settings.signingSecret ? new Webhook(settings.signingSecret) : undefined;
  const policy = { allowPrivate: settings.allowPrivate, allowedHosts: settings.allowedHosts };

  let running = false;
  let timer: Timer | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let sweepTimer: Timer | undefined;
  /** Attempts in flight: the promise of each, and an abort for a forced stop. */
  const inFlight = new Map<string, { done: Promise<void>; abort: AbortController }>();
  /** Set when stop gave up waiting: late attempts must not write to a closing database. */
  let abandoned = false;

  const byId = (id: string) => db.select().from(postbacks).where(eq(postbacks.id, id)).get();
  const notFound = (id: string) => new AppError("NOT_FOUND", `Postback "${clip(id)}" not found`);

  const view = (row: PostbackRow) => ({
    id: row.id,
    postbackUrl: row.postbackUrl,
    method: row.method,
    status: row.status,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    retries: row.retries,
    nextAttemptAt: row.status === "pending" ? iso(row.nextAttemptAt) : null,
    lastError: row.lastError,
    lastResponseStatus: row.lastResponseStatus,
  });

  // ---- the scheduler ----

  // drizzle's update().set() takes a placeholder only wrapped in SQL.
  const placeholder = (name: string) => sql`${sql.placeholder(name)}`;
  // The scheduler's statements run for every attempt: prepared once (building and compiling them
  // each time cost more than running them).
  const selectNextDue = db
    .select({ at: sql<number | null>`min(${postbacks.nextAttemptAt})` })
    .from(postbacks)
    .where(eq(postbacks.status, "pending"))
    .prepare();
  const claimDue = db
    .update(postbacks)
    .set({ status: "processing", updatedAt: placeholder("updatedAt") })
    .where(
      and(
        inArray(
          postbacks.id,
          db
            .select({ id: postbacks.id })
            .from(postbacks)
            .where(and(eq(postbacks.status, "pending"), lte(postbacks.nextAttemptAt, sql.placeholder("now"))))
            .orderBy(asc(postbacks.nextAttemptAt))
            .limit(sql.placeholder("limit")),
        ),
        // `+status`: the same condition, kept off the index, so SQLite finds the rows by id. On the
        // status index it walked every pending job for each claim (quadratic in a long queue).
        sql`+${postbacks.status} = 'pending'`,
      ),
    )
    .returning()
    .prepare();
  const insertAttempt = db
    .insert(postbackAttempts)
    .values({
      postbackId: sql.placeholder("postbackId"),
      at: sql.placeholder("at"),
      durationMs: sql.placeholder("durationMs"),
      responseStatus: sql.placeholder("responseStatus"),
      error: sql.placeholder("error"),
    })
    .prepare();
  const recordOutcome = db
    .update(postbacks)
    .set({
      status: placeholder("status"),
      retries: placeholder("retries"),
      nextAttemptAt: placeholder("nextAttemptAt"),
      finishedAt: placeholder("finishedAt"),
      lastError: placeholder("lastError"),
      lastResponseStatus: placeholder("lastResponseStatus"),
      updatedAt: placeholder("updatedAt"),
    })
    .where(and(eq(postbacks.id, sql.placeholder("id")), eq(postbacks.status, "processing")))
    .prepare();

  /** Sleeps until the earliest pending job is due (or wakes at once when one is). */
  function arm() {
    if (!running) return;
    if (inFlight.size >= settings.concurrency) return; // a finishing attempt pumps
    const next = selectNextDue.get()?.at;
    if (next === null || next === undefined) return;
    if (timer && timerAt <= next) return;
    if (timer) clearTimeout(timer);
    const delay = Math.min(Math.max(0, next - Date.now()), MAX_TIMER_MS);
    timerAt = next;
    timer = setTimeout(() => {
      timer = undefined;
      timerAt = Number.POSITIVE_INFINITY;
      pump();
    }, delay);
  }

  /** Pumps once at the end of this turn: attempts finishing together make one claim, not one each. */
  let pumpScheduled = false;
  function pumpSoon() {
    if (pumpScheduled) return;
    pumpScheduled = true;
    setImmediate(() => {
      pumpScheduled = false;
      pump();
    });
  }

  /** A claim waiting for its commit: its jobs are not in flight yet, and nothing else is claimed meanwhile. */
  let claiming: Promise<void> | undefined;

  /**
   * Claims as many due jobs as there are free slots, in one statement that shares the group commit
   * with the outcomes of finished attempts (one transaction per turn, not two per delivery), and
   * starts them once the claim is committed.
   */
  function pump() {
    if (!running || claiming) return; // a claim in progress arms again when committed
    const free = settings.concurrency - inFlight.size;
    if (free <= 0) return; // a finishing attempt pumps
    const now = Date.now();
    claiming = groupCommit
      .run(() => claimDue.all({ updatedAt: iso(now), now, limit: free }))
      .then(
        (claimed) => {
          claiming = undefined;
          if (!running) return requeue(claimed.map((job) => job.id));
          for (const job of claimed) begin(job, now);
          arm();
        },
        (error) => {
          claiming = undefined;
          log.error({ err: error }, "postback claim failed: retrying in a second");
          setTimeout(pump, 1000).unref();
        },
      );
  }

  function begin(job: PostbackRow, claimedAt: number) {
    observer?.queueWait(Math.max(0, claimedAt - job.nextAttemptAt) / 1000);
    const abort = new AbortController();
    const done = attempt(job, abort.signal)
      .catch((error) => log.error({ err: error, queueId: job.id }, "postback attempt crashed"))
      .finally(() => {
        inFlight.delete(job.id);
        pumpSoon();
      });
    inFlight.set(job.id, { done, abort });
  }

  /** Jobs claimed while stopping go back to the queue, untouched. */
  function requeue(ids: string[]) {
    if (ids.length === 0) return;
    db.update(postbacks)
      .set({ status: "pending", updatedAt: iso(Date.now()) })
      .where(and(inArray(postbacks.id, ids), eq(postbacks.status, "processing")))
      .run();
  }

  interface Result {
    outcome: AttemptOutcome;
    status?: number;
    error?: string;
    /** Set: retry after this long (429/503 Retry-After); undefined: the usual backoff. */
    retryAfter?: number;
    /** No retry whatever the count (410, a refused target). */
    final?: boolean;
  }

  async function send(job: PostbackRow, signal: AbortSignal): Promise<Result> {
    const target = await checkTarget(job.postbackUrl, policy);
    if (!target.ok) {
      // A name that does not resolve (now) is a network error, retried; a refused address is final.
      return target.unresolved
        ? { outcome: "network_error", error: target.reason }
        : { outcome: "refused", error: `Refused target: ${target.reason}`, final: true };
    }
    if (!signer) return { outcome: "refused", error: "No signing secret configured", final: true };
    const timeoutMs = Math.min(job.timeoutMs ?? settings.timeoutMs, settings.timeoutMs);
    const { url, init } = buildRequest(signer, job, new Date());
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const res = await http(url, { ...init, redirect: "manual", signal: AbortSignal.any([signal, timeout]) });
      await discardBody(res);
      if (res.status >= 200 && res.status < 300) return { outcome: "success", status: res.status };
      const error =
        res.status >= 300 && res.status < 400
          ? `HTTP ${res.status} (redirects are not followed)`
          : `HTTP ${res.status}`;
      if (res.status === 410)
        return { outcome: "http_error", status: res.status, error: `${error}: gone`, final: true };
      const retryAfter =
        res.status === 429 || res.status === 503 ? retryAfterMs(res.headers.get("retry-after")) : undefined;
      return retryAfter === undefined
        ? { outcome: "http_error", status: res.status, error }
        : { outcome: "http_error", status: res.status, error, retryAfter: Math.min(retryAfter, MAX_RETRY_AFTER_MS) };
    } catch (e) {
      if (timeout.aborted) return { outcome: "timeout", error: `Timed out after ${timeoutMs} ms` };
      const err = e as { code?: string; message?: string };
      return {
        outcome: "network_error",
        error: clip(`${err.code ? `${err.code}: ` : ""}${err.message ?? String(e)}`, MAX_ERROR),
      };
    }
  }

  async function attempt(job: PostbackRow, signal: AbortSignal) {
    const startedAt = Date.now();
    const t0 = performance.now();
    const result = await send(job, signal);
    const durationMs = Math.round(performance.now() - t0);
    if (abandoned) return; // stop gave up on us: the row stays `processing` and start-up requeues it
    observer?.attempt(result.outcome, durationMs / 1000);
    const now = Date.now();
    const attemptNo = job.retries + 1;
    let next: Pick<PostbackRow, "status" | "retries" | "nextAttemptAt" | "finishedAt">;
    if (result.outcome === "success") next = { ...job, status: "completed", finishedAt: now };
    else if (result.final || job.retries >= job.maxRetries) next = { ...job, status: "failed", finishedAt: now };
    else {
      const wait = result.retryAfter ?? backoffMs(settings.backoffMs, job.retries);
      next = { ...job, status: "pending", retries: job.retries + 1, nextAttemptAt: now + wait };
    }
    // The attempt and the job's new state together (a savepoint inside the group's transaction).
    await groupCommit.run(() =>
      db.transaction(() => {
        insertAttempt.run({
          postbackId: job.id,
          at: iso(startedAt),
          durationMs,
          responseStatus: result.status ?? null,
          error: result.error ?? null,
        });
        recordOutcome.run({
          id: job.id,
          status: next.status,
          retries: next.retries,
          nextAttemptAt: next.nextAttemptAt,
          finishedAt: next.finishedAt,
          lastError: result.error ?? null,
          lastResponseStatus: result.status ?? null,
          updatedAt: iso(now),
        });
      }),
    );
    if (abandoned) return;
    const host = new URL(job.postbackUrl).host;
    log.info(
      {
        event: "postback_attempt",
        queueId: job.id,
        attempt: attemptNo,
        host,
        method: job.method,
        outcome: result.outcome,
        responseStatus: result.status,
        error: result.error,
        durationMs,
        status: next.status,
        nextAttemptAt: next.status === "pending" ? iso(next.nextAttemptAt) : undefined,
      },
      "postback attempt",
    );
  }

  /** Removes finished jobs older than the retention window (attempts go with them). */
  function sweep() {
    const before = Date.now() - settings.retentionMs;
    const removed = db
      .delete(postbacks)
      .where(lt(postbacks.finishedAt, before))
      .returning({ id: postbacks.id })
      .all().length;
    if (removed > 0) log.info({ event: "postback_retention", removed }, "old postbacks removed");
  }

  // ---- enqueue and the admin operations ----

  function requestHash(input: EnqueueInput) {
    const { idempotencyKey: _key, ...rest } = input;
    return createHash("sha256").update(canonical(rest)).digest("hex");
  }

  /** The job stored under `key`, if any: CONFLICT when it was queued by a different request. */
  function replay(key: string | undefined, hash: string): string | undefined {
    if (key === undefined) return undefined;
    const row = db
      .select({ id: postbacks.id, requestHash: postbacks.requestHash })
      .from(postbacks)
      .where(eq(postbacks.idempotencyKey, key))
      .get();
    if (!row) return undefined;
    if (row.requestHash !== hash) {
      throw new AppError("CONFLICT", "This idempotency key was used for a different request", {
        queueId: row.id,
      });
    }
    return row.id;
  }

  /** Stores a job (or finds the one stored under its idempotency key); the caller arms the scheduler. */
  function insert(input: EnqueueInput, hash: string): string {
    const now = Date.now();
    const runAt = input.runAt === undefined ? now : Date.parse(input.runAt);
    const id = Bun.randomUUIDv7();
    const stored = db.transaction((tx) => {
      // Checked again inside the write: two calls with one key cannot both insert.
      const existing = replay(input.idempotencyKey, hash);
      if (existing) return existing;
      tx.insert(postbacks)
        .values({
          id,
          postbackUrl: input.postbackUrl,
          method: input.method,
          headers: input.headers ?? {},
          payload: input.payload,
          status: "pending",
          retries: 0,
          maxRetries: input.maxRetries ?? settings.maxRetries,
          timeoutMs: input.timeoutMs ?? null,
          nextAttemptAt: Number.isNaN(runAt) ? now : runAt,
          idempotencyKey: input.idempotencyKey ?? null,
          requestHash: hash,
          createdAt: iso(now),
          updatedAt: iso(now),
        })
        .run();
      return id;
    });
    return stored;
  }

  return {
    /**
     * Stores a job (committed when this resolves) and wakes the scheduler. BAD_REQUEST for a
     * refused target, CONFLICT for a reused idempotency key with another request.
     */
    async enqueue(input: EnqueueInput): Promise<{ queueId: string; replayed: boolean }> {
      const hash = requestHash(input);
      const seen = replay(input.idempotencyKey, hash);
      if (seen) return { queueId: seen, replayed: true };
      const target = await checkTarget(input.postbackUrl, policy);
      // A name that does not resolve yet is accepted: every attempt checks it again.
      if (!target.ok && !target.unresolved) {
        throw invalidInput([{ path: "postbackUrl", message: `Refused target: ${target.reason}` }]);
      }
      // Concurrent enqueues share one commit; the answer waits for it.
      const queueId = await groupCommit.run(() => insert(input, hash));
      arm();
      return { queueId, replayed: false };
    },

    /**
     * For the server's own postbacks (dynamic events forwarded to a subscriber): no DNS at
     * enqueue (the attempt checks the target), synchronous, never throws for a bad URL.
     */
    enqueueInternal(postbackUrl: string, payload: Record<string, unknown>): string | undefined {
      if (!checkUrlShape(postbackUrl).ok) {
        log.warn(
          { event: "postback_refused", host: URL.canParse(postbackUrl) ? new URL(postbackUrl).host : undefined },
          "postback URL refused",
        );
        return undefined;
      }
      const input: EnqueueInput = { postbackUrl, payload, method: "POST" };
      const queueId = insert(input, requestHash(input));
      arm();
      return queueId;
    },

    get(id: string) {
      const row = byId(id);
      if (!row) throw notFound(id);
      const attempts = db
        .select()
        .from(postbackAttempts)
        .where(eq(postbackAttempts.postbackId, id))
        .orderBy(asc(postbackAttempts.id))
        .all()
        .map((a) => ({
          at: a.at,
          durationMs: a.durationMs,
          ...(a.responseStatus === null ? {} : { responseStatus: a.responseStatus }),
          ...(a.error === null ? {} : { error: a.error }),
        }));
      return { ...view(row), attempts };
    },

    /** Newest first (ids are UUIDv7); `cursor` is the last id of the previous page. */
    list(opts: { status?: PostbackStatus | undefined; limit: number; cursor?: string | undefined }) {
      const where = and(
        opts.status === undefined ? undefined : eq(postbacks.status, opts.status),
        opts.cursor === undefined ? undefined : lt(postbacks.id, opts.cursor),
      );
      const rows = db
        .select()
        .from(postbacks)
        .where(where)
        .orderBy(desc(postbacks.id))
        .limit(opts.limit + 1)
        .all();
      const page = rows.slice(0, opts.limit);
      return {
        items: page.map(view),
        nextCursor: rows.length > opts.limit ? (page.at(-1)?.id ?? null) : null,
      };
    },

    /** A failed or cancelled job back to pending, due now, retries reset. CONFLICT otherwise. */
    retry(id: string) {
      const now = Date.now();
      const row = db
        .update(postbacks)
        .set({ status: "pending", retries: 0, nextAttemptAt: now, finishedAt: null, updatedAt: iso(now) })
        .where(and(eq(postbacks.id, id), inArray(postbacks.status, ["failed", "cancelled"])))
        .returning()
        .get();
      if (!row) {
        const existing = byId(id);
        if (!existing) throw notFound(id);
        throw new AppError(
          "CONFLICT",
          `Only a failed or cancelled postback can be retried; this one is ${existing.status}`,
          {
            status: existing.status,
          },
        );
      }
      arm();
      return view(row);
    },

    /** A pending job to cancelled. CONFLICT when it is in flight or finished. */
    cancel(id: string) {
      const now = Date.now();
      const row = db
        .update(postbacks)
        .set({ status: "cancelled", finishedAt: now, updatedAt: iso(now) })
        .where(and(eq(postbacks.id, id), eq(postbacks.status, "pending")))
        .returning()
        .get();
      if (!row) {
        const existing = byId(id);
        if (!existing) throw notFound(id);
        throw new AppError("CONFLICT", `Only a pending postback can be cancelled; this one is ${existing.status}`, {
          status: existing.status,
        });
      }
      return view(row);
    },

    stats() {
      const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<PostbackStatus, number>;
      for (const row of db
        .select({ status: postbacks.status, n: sql<number>`count(*)` })
        .from(postbacks)
        .groupBy(postbacks.status)
        .all()) {
        counts[row.status] = row.n;
      }
      const oldest = db
        .select({ at: sql<number | null>`min(${postbacks.nextAttemptAt})` })
        .from(postbacks)
        .where(eq(postbacks.status, "pending"))
        .get()?.at;
      return {
        counts,
        total: Object.values(counts).reduce((a, b) => a + b, 0),
        oldestPendingAgeMs: oldest === null || oldest === undefined ? null : Math.max(0, Date.now() - oldest),
      };
    },

    /** Requeues what a crash left in flight, then runs: wakes for due jobs, sweeps old ones. */
    start() {
      if (running) return;
      const now = Date.now();
      const requeued = db
        .update(postbacks)
        .set({ status: "pending", updatedAt: iso(now) })
        .where(eq(postbacks.status, "processing"))
        .returning({ id: postbacks.id })
        .all().length;
      if (requeued > 0)
        log.warn({ event: "postback_requeued", requeued }, "postbacks left in flight by a crash requeued");
      running = true;
      abandoned = false;
      sweep();
      const every = Math.min(Math.max(Math.floor(settings.retentionMs / 4), 250), 60_000);
      sweepTimer = setInterval(() => {
        try {
          sweep();
        } catch (error) {
          log.error({ err: error }, "postback retention sweep failed");
        }
      }, every);
      pump();
    },

    /**
     * Claims nothing more and waits (at most `timeoutMs`) for the attempts in flight to finish and
     * be recorded. Those still running then are aborted and left `processing`: the next start
     * requeues them (at least once). Resolves true when everything finished.
     */
    async stop(timeoutMs: number): Promise<boolean> {
      running = false;
      if (timer) clearTimeout(timer);
      if (sweepTimer) clearInterval(sweepTimer);
      timer = sweepTimer = undefined;
      timerAt = Number.POSITIVE_INFINITY;
      await claiming; // a claim committing now puts its jobs back
      if (inFlight.size === 0) return true;
      let wait: Timer | undefined;
      const finished = await Promise.race([
        Promise.allSettled([...inFlight.values()].map((f) => f.done)).then(() => true),
        new Promise<boolean>((resolve) => {
          wait = setTimeout(() => resolve(false), timeoutMs);
        }),
      ]);
      clearTimeout(wait);
      if (!finished) {
        abandoned = true;
        for (const f of inFlight.values()) f.abort.abort();
      }
      return finished;
    },

    /** Attempts running now. */
    get inFlight() {
      return inFlight.size;
    },
  };
}

export type Postbacks = ReturnType<typeof createPostbacks>;
