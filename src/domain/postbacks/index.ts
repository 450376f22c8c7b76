/**
 * The postback queue (seed 003), durable in the database, and its in-process scheduler.
 *
 * - Enqueue answers once the job is committed; delivery happens later, at least once.
 * - Jobs are claimed atomically (one UPDATE … RETURNING), so none is in flight twice. A claim is a
 *   lease (`leaseUntil`): only the claim that holds it records the outcome.
 *   - SQLite (one node): at start-up the jobs a crash left `processing` go back to `pending`.
 *   - PostgreSQL (N nodes): the claim selects `FOR UPDATE SKIP LOCKED`, so nodes claiming together
 *     never take the same job; a `processing` job whose lease expired (its node was killed
 *     mid-delivery) is claimed again by any node. Start-up requeues nothing (other nodes' jobs are in
 *     flight), and each node also polls every CLUSTER_POLL_MS for jobs other nodes queued.
 * - The scheduler sleeps until the earliest `nextAttemptAt` (a timer re-armed on every enqueue
 *   and after every attempt): no polling. At most `concurrency` attempts run at once.
 * - A failed attempt (non-2xx, network error, timeout) is retried with exponential backoff and full
 *   jitter, up to `maxRetries`; 410 and a refused target fail at once; 429/503 honour Retry-After.
 * - Finished jobs older than `retentionMs` are removed (their idempotency keys with them).
 */

import { createHash } from "node:crypto";
import { and, asc, desc, eq, inArray, lt, sql } from "drizzle-orm";
import type { Config } from "../../config";
import type { Store } from "../../db/client";
import { AppError, clip, invalidInput } from "../errors";
import { backoffMs, type PostbackMethod } from "./request";
import { type AttemptOutcome, createSender } from "./send";
import { checkTarget, checkUrlShape } from "./ssrf";
import { type ClaimedJob, type PostbackRow, type PostbackStatus, preparePostbackStatements } from "./statements";

export type { AttemptOutcome } from "./send";
export type { PostbackRow, PostbackStatus } from "./statements";
export const STATUSES: readonly PostbackStatus[] = ["pending", "processing", "completed", "failed", "cancelled"];

/** The POSTBACK_* settings (their one home is the config table). */
export type PostbackSettings = Omit<Config["postbacks"], "enabled">;

/** What the scheduler reports (metrics live outside the domain). */
export interface PostbackObserver {
  attempt(outcome: AttemptOutcome, seconds: number): void;
  queueWait(seconds: number): void;
}

interface LogLike {
  /** When present and false for "info", the per-attempt line is not even built (pino has it). */
  isLevelEnabled?(level: string): boolean;
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
  /** Claims, outcomes and enqueues go through `store.write` (SQLite: those of one turn share a commit). */
  store: Store;
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
/** PostgreSQL: how often a node looks for jobs other nodes queued or left behind (expired leases). */
const CLUSTER_POLL_MS = 1000;
export function createPostbacks({ store, settings, log, observer, fetch: http = fetch }: PostbacksDeps) {
  const { db } = store;
  const { postbacks, postbackAttempts } = store.tables;
  const shared = store.dialect === "postgres";
  const policy = { allowPrivate: settings.allowPrivate, allowedHosts: settings.allowedHosts };

  let running = false;
  let timer: Timer | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let sweepTimer: Timer | undefined;
  let pollTimer: Timer | undefined;
  /** Attempts in flight: the promise of each, and an abort for a forced stop. */
  const inFlight = new Map<string, { done: Promise<void>; abort: AbortController }>();
  /** Set when stop gave up waiting: late attempts must not write to a closing database. */
  let abandoned = false;

  const byId = async (id: string) => (await db.select().from(postbacks).where(eq(postbacks.id, id)).limit(1))[0];
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

  const { selectNextDue, claimDue, insertAttempt, recordOutcome, insertJob, releaseJob } =
    preparePostbackStatements(store);
  /** Errors of the scheduler's own reads are logged, and it tries again on the next wake-up. */
  const armSafely = () =>
    void arm().catch((error) => log.error({ err: error }, "postback scheduler could not read the queue"));

  /** Sleeps until the earliest pending job is due (or wakes at once when one is). */
  async function arm() {
    if (!running) return;
    if (inFlight.size + ready.length >= capacity) return; // a finishing attempt pumps
    const next = (await selectNextDue.run())[0]?.at;
    if (next === null || next === undefined || Number.isNaN(next) || !running) return;
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
   * Jobs claimed (committed `processing`, leased to this node) and not started yet, oldest first: a claim
   * takes up to `capacity` jobs in one statement, so a slot that frees starts the next job from memory
   * and claims are several times fewer. Bounded: at most `concurrency` jobs wait here (their payloads
   * are in memory). A crash loses none: they are `processing` in the database (SQLite requeues them at
   * start-up; on PostgreSQL their lease expires and any node takes them over).
   */
  const ready: ClaimedJob[] = [];
  /** Enqueued jobs stored already claimed, not committed yet: they take a slot (see `insert`). */
  let handingOff = 0;
  /**
   * Due jobs may be waiting in the table that no claim has looked for yet (stored `pending` while a
   * claim was under way or every slot busy, or left by an earlier run): a hand-off would then deliver
   * a newer job before them. Cleared by a claim that found fewer due jobs than it had room for and
   * began after the last such job was stored (`waitingStored` counts them).
   */
  let waiting = true;
  let waitingStored = 0;
  /** Their writes, which `stop` waits for (a job committed while stopping is handed back). */
  const handOffs = new Set<Promise<unknown>>();
  const capacity = settings.concurrency * 2;
  /** A claim is made when the ready jobs fall to this many (every slot is busy while more wait). */
  const lowWater = Math.floor(settings.concurrency / 2);
  /** PostgreSQL: a ready job starts only with this much of its lease left beyond its timeout. */
  const LEASE_MARGIN_MS = 1000;

  const timeoutOf = (job: ClaimedJob) => Math.min(job.timeoutMs ?? settings.timeoutMs, settings.timeoutMs);
  const send = createSender({ signingSecret: settings.signingSecret, policy, timeoutOf, http });

  /** Starts ready jobs in the free slots. */
  function startReady() {
    const now = Date.now();
    const late: ClaimedJob[] = [];
    while (running && inFlight.size < settings.concurrency && ready.length > 0) {
      const job = ready.shift() as ClaimedJob;
      // PostgreSQL: the attempt must end (its timeout) while the lease is ours, or another node could
      // take the job over while it is being sent. A job that waited too long goes back to the queue.
      if (shared && now + timeoutOf(job) + LEASE_MARGIN_MS > (job.leaseUntil ?? 0)) {
        late.push(job);
        continue;
      }
      begin(job, now);
    }
    if (late.length > 0) {
      log.warn(
        { event: "postback_handed_back", queueIds: late.map((job) => job.id) },
        "claimed postbacks waited too long for a slot: handed back to the queue, not started on a short lease",
      );
      void release(late);
    }
  }

  /** Ready jobs back to `pending` (stopping, or a lease too short to start them in). */
  function release(jobs: ClaimedJob[]) {
    if (jobs.length === 0) return Promise.resolve();
    const updatedAt = iso(Date.now());
    return Promise.all(
      jobs.map((job) => store.write(releaseJob.with({ id: job.id, leaseUntil: job.leaseUntil, updatedAt }))),
    ).then(
      () => {},
      (error) => log.error({ err: error }, "postbacks could not be handed back: their lease will expire"),
    );
  }

  /**
   * Starts ready jobs in the free slots, and when few are left claims due jobs up to `capacity`, in
   * one statement that shares the group commit with the outcomes of finished attempts (one
   * transaction per turn, not two per delivery); they start once the claim is committed.
   */
  function pump() {
    startReady();
    if (!running || claiming) return; // a claim in progress arms again when committed
    const free = capacity - inFlight.size - ready.length - handingOff;
    const storedBefore = waitingStored;
    if (free <= 0 || ready.length > lowWater) return; // a finishing attempt pumps
    const now = Date.now();
    const leaseUntil = now + settings.leaseMs;
    claiming = store.write(claimDue.with({ updatedAt: iso(now), now, limit: free, leaseUntil })).then(
      async (claimed) => {
        claiming = undefined;
        if (!running) return requeue(claimed.map((job) => job.id));
        for (const job of claimed) ready.push(job);
        startReady();
        // A full claim: more may be due (the next finishing attempt claims them); else sleep until one is.
        if (claimed.length < free) {
          if (storedBefore === waitingStored) waiting = false; // nothing due is left behind
          armSafely();
        } else if (inFlight.size < settings.concurrency) pumpSoon();
      },
      (error) => {
        claiming = undefined;
        log.error({ err: error }, "postback claim failed: retrying in a second");
        setTimeout(pump, 1000).unref();
      },
    );
  }

  function begin(job: ClaimedJob, startedAt: number) {
    observer?.queueWait(Math.max(0, startedAt - job.nextAttemptAt) / 1000);
    const abort = new AbortController();
    const done = attempt(job, abort)
      .catch((error) => log.error({ err: error, queueId: job.id }, "postback attempt crashed"))
      .finally(() => {
        inFlight.delete(job.id);
        startReady(); // the freed slot takes a ready job at once; a claim waits for the end of the turn
        pumpSoon();
      });
    inFlight.set(job.id, { done, abort });
  }

  /** Jobs claimed while stopping go back to the queue, untouched. */
  async function requeue(ids: string[]) {
    if (ids.length === 0) return;
    await db
      .update(postbacks)
      .set({ status: "pending", leaseUntil: null, updatedAt: iso(Date.now()) })
      .where(and(inArray(postbacks.id, ids), eq(postbacks.status, "processing")));
  }

  async function attempt(job: ClaimedJob, abort: AbortController) {
    const startedAt = Date.now();
    const t0 = performance.now();
    const result = await send(job, abort);
    const durationMs = Math.round(performance.now() - t0);
    if (abandoned) return; // stop gave up on us: the row stays `processing` (requeued at start-up, or its lease expires)
    observer?.attempt(result.outcome, durationMs / 1000);
    const now = Date.now();
    const attemptNo = job.retries + 1;
    const { retries, nextAttemptAt, finishedAt } = job;
    let next: Pick<PostbackRow, "status" | "retries" | "nextAttemptAt" | "finishedAt">;
    if (result.outcome === "success") next = { status: "completed", retries, nextAttemptAt, finishedAt: now };
    else if (result.final || job.retries >= job.maxRetries)
      next = { status: "failed", retries, nextAttemptAt, finishedAt: now };
    else {
      const wait = result.retryAfter ?? backoffMs(settings.backoffMs, job.retries);
      next = { status: "pending", retries: job.retries + 1, nextAttemptAt: now + wait, finishedAt };
    }
    // The attempt and the job's new state together (SQLite: a savepoint inside the group's transaction).
    const [, recorded] = (await store.write(
      insertAttempt.with({
        postbackId: job.id,
        at: iso(startedAt),
        durationMs,
        responseStatus: result.status ?? null,
        error: result.error ?? null,
      }),
      recordOutcome.with({
        id: job.id,
        leaseUntil: job.leaseUntil,
        status: next.status,
        retries: next.retries,
        nextAttemptAt: next.nextAttemptAt,
        finishedAt: next.finishedAt,
        lastError: result.error ?? null,
        lastResponseStatus: result.status ?? null,
        updatedAt: iso(now),
      }),
    )) as [unknown, { id: string }[]];
    if (abandoned) return;
    if (recorded.length === 0) {
      log.warn(
        { event: "postback_lease_lost", queueId: job.id },
        "postback outcome not recorded: its lease had expired",
      );
    }
    if (log.isLevelEnabled && !log.isLevelEnabled("info")) return;
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
  async function sweep() {
    const before = Date.now() - settings.retentionMs;
    const removed = (await db.delete(postbacks).where(lt(postbacks.finishedAt, before)).returning({ id: postbacks.id }))
      .length;
    if (removed > 0) log.info({ event: "postback_retention", removed }, "old postbacks removed");
  }

  // ---- enqueue and the admin operations ----

  function requestHash(input: EnqueueInput) {
    const { idempotencyKey: _key, ...rest } = input;
    return createHash("sha256").update(canonical(rest)).digest("hex");
  }

  /** The job stored under `key`, if any: CONFLICT when it was queued by a different request. */
  async function replay(key: string | undefined, hash: string): Promise<string | undefined> {
    if (key === undefined) return undefined;
    const [row] = await db
      .select({ id: postbacks.id, requestHash: postbacks.requestHash })
      .from(postbacks)
      .where(eq(postbacks.idempotencyKey, key))
      .limit(1);
    if (!row) return undefined;
    if (row.requestHash !== hash) {
      throw new AppError("CONFLICT", "This idempotency key was used for a different request", {
        queueId: row.id,
      });
    }
    return row.id;
  }

  /**
   * Stores a job (or finds the one stored under its idempotency key) and wakes the scheduler.
   * One statement (INSERT … ON CONFLICT DO NOTHING on the key): two calls with one key cannot both insert.
   *
   * A job due now while a slot is free (no claim under way, no due job waiting before it) is stored already claimed
   * (`processing`, leased to this node) and handed to the deliverer from memory once committed: no
   * read for the next due time and no claim statement for it. A crash before its outcome leaves it
   * to be requeued, like any claimed job.
   */
  async function insert(input: EnqueueInput, hash: string): Promise<string> {
    const now = Date.now();
    const runAt = input.runAt === undefined || Number.isNaN(Date.parse(input.runAt)) ? now : Date.parse(input.runAt);
    const id = Bun.randomUUIDv7();
    const handOff =
      running && runAt <= now && !claiming && !waiting && inFlight.size + handingOff < settings.concurrency;
    if (!handOff && runAt <= now) {
      waiting = true;
      waitingStored++;
    }
    const job: PostbackRow = {
      id,
      postbackUrl: input.postbackUrl,
      method: input.method,
      headers: input.headers ?? {},
      payload: input.payload,
      status: handOff ? "processing" : "pending",
      retries: 0,
      maxRetries: input.maxRetries ?? settings.maxRetries,
      timeoutMs: input.timeoutMs ?? null,
      nextAttemptAt: runAt,
      lastError: null,
      lastResponseStatus: null,
      idempotencyKey: input.idempotencyKey ?? null,
      requestHash: hash,
      createdAt: iso(now),
      updatedAt: iso(now),
      finishedAt: null,
      leaseUntil: handOff ? now + settings.leaseMs : null,
    };
    // Concurrent enqueues share one commit on SQLite; the answer waits for it.
    let written = store.write(insertJob.with(job));
    if (handOff) {
      handingOff++;
      const handed: Promise<{ id: string }[]> = written
        .then((stored) => {
          // Stopping meanwhile: `stop` waits for this, then hands the ready jobs back.
          if (stored[0]) ready.push(job);
          startReady();
          return stored;
        })
        .finally(() => {
          handingOff--;
          handOffs.delete(handed);
        });
      handOffs.add(handed);
      written = handed;
    }
    const [row] = await written;
    if (row) {
      if (!handOff) armSafely();
      return row.id;
    }
    const existing = await replay(input.idempotencyKey, hash);
    if (!existing) throw new AppError("INTERNAL", "Internal error");
    return existing;
  }

  return {
    /**
     * Stores a job (committed when this resolves) and wakes the scheduler. BAD_REQUEST for a
     * refused target, CONFLICT for a reused idempotency key with another request.
     */
    async enqueue(input: EnqueueInput): Promise<{ queueId: string; replayed: boolean }> {
      const hash = requestHash(input);
      const seen = await replay(input.idempotencyKey, hash);
      if (seen) return { queueId: seen, replayed: true };
      const target = await checkTarget(input.postbackUrl, policy);
      // A name that does not resolve yet is accepted: every attempt checks it again.
      if (!target.ok && !target.unresolved) {
        throw invalidInput([{ path: "postbackUrl", message: `Refused target: ${target.reason}` }]);
      }
      const queueId = await insert(input, hash);
      return { queueId, replayed: false };
    },

    /**
     * For the server's own postbacks (dynamic events forwarded to a subscriber): no DNS at
     * enqueue (the attempt checks the target); never throws (a bad URL or a failed write is logged).
     */
    async enqueueInternal(postbackUrl: string, payload: Record<string, unknown>): Promise<string | undefined> {
      if (!checkUrlShape(postbackUrl).ok) {
        log.warn(
          { event: "postback_refused", host: URL.canParse(postbackUrl) ? new URL(postbackUrl).host : undefined },
          "postback URL refused",
        );
        return undefined;
      }
      const input: EnqueueInput = { postbackUrl, payload, method: "POST" };
      try {
        return await insert(input, requestHash(input));
      } catch (error) {
        log.error({ err: error, event: "postback_enqueue_failed" }, "postback could not be stored");
        return undefined;
      }
    },

    async get(id: string) {
      const row = await byId(id);
      if (!row) throw notFound(id);
      const attempts = (
        await db
          .select()
          .from(postbackAttempts)
          .where(eq(postbackAttempts.postbackId, id))
          .orderBy(asc(postbackAttempts.id))
      ).map((a) => ({
        at: a.at,
        durationMs: a.durationMs,
        ...(a.responseStatus === null ? {} : { responseStatus: a.responseStatus }),
        ...(a.error === null ? {} : { error: a.error }),
      }));
      return { ...view(row), attempts };
    },

    /** Newest first (ids are UUIDv7); `cursor` is the last id of the previous page. */
    async list(opts: { status?: PostbackStatus | undefined; limit: number; cursor?: string | undefined }) {
      const where = and(
        opts.status === undefined ? undefined : eq(postbacks.status, opts.status),
        opts.cursor === undefined ? undefined : lt(postbacks.id, opts.cursor),
      );
      const rows = await db
        .select()
        .from(postbacks)
        .where(where)
        .orderBy(desc(postbacks.id))
        .limit(opts.limit + 1);
      const page = rows.slice(0, opts.limit);
      return {
        items: page.map(view),
        nextCursor: rows.length > opts.limit ? (page.at(-1)?.id ?? null) : null,
      };
    },

    /** A failed or cancelled job back to pending, due now, retries reset. CONFLICT otherwise. */
    async retry(id: string) {
      const now = Date.now();
      const [row] = await db
        .update(postbacks)
        .set({ status: "pending", retries: 0, nextAttemptAt: now, finishedAt: null, updatedAt: iso(now) })
        .where(and(eq(postbacks.id, id), inArray(postbacks.status, ["failed", "cancelled"])))
        .returning();
      if (!row) {
        const existing = await byId(id);
        if (!existing) throw notFound(id);
        throw new AppError(
          "CONFLICT",
          `Only a failed or cancelled postback can be retried; this one is ${existing.status}`,
          {
            status: existing.status,
          },
        );
      }
      armSafely();
      return view(row);
    },

    /** A pending job to cancelled. CONFLICT when it is in flight or finished. */
    async cancel(id: string) {
      const now = Date.now();
      const [row] = await db
        .update(postbacks)
        .set({ status: "cancelled", finishedAt: now, updatedAt: iso(now) })
        .where(and(eq(postbacks.id, id), eq(postbacks.status, "pending")))
        .returning();
      if (!row) {
        const existing = await byId(id);
        if (!existing) throw notFound(id);
        throw new AppError("CONFLICT", `Only a pending postback can be cancelled; this one is ${existing.status}`, {
          status: existing.status,
        });
      }
      return view(row);
    },

    async stats() {
      const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<PostbackStatus, number>;
      for (const row of await db
        .select({ status: postbacks.status, n: sql<number>`count(*)`.mapWith(Number) })
        .from(postbacks)
        .groupBy(postbacks.status)) {
        counts[row.status] = row.n;
      }
      const [first] = await db
        .select({ at: sql<number | null>`min(${postbacks.nextAttemptAt})`.mapWith(Number) })
        .from(postbacks)
        .where(eq(postbacks.status, "pending"));
      const oldest = first?.at;
      return {
        counts,
        total: Object.values(counts).reduce((a, b) => a + b, 0),
        oldestPendingAgeMs: oldest === null || oldest === undefined ? null : Math.max(0, Date.now() - oldest),
      };
    },

    /**
     * Runs: wakes for due jobs, sweeps old ones. SQLite (this node alone): first requeues what a crash
     * left in flight. PostgreSQL: other nodes' jobs may be in flight; expired leases are claimed as due.
     */
    async start() {
      if (running) return;
      const now = Date.now();
      if (!shared) {
        const requeued = (
          await db
            .update(postbacks)
            .set({ status: "pending", leaseUntil: null, updatedAt: iso(now) })
            .where(eq(postbacks.status, "processing"))
            .returning({ id: postbacks.id })
        ).length;
        if (requeued > 0)
          log.warn({ event: "postback_requeued", requeued }, "postbacks left in flight by a crash requeued");
      }
      running = true;
      abandoned = false;
      waiting = true; // what is due in the table goes first
      await sweep();
      const every = Math.min(Math.max(Math.floor(settings.retentionMs / 4), 250), 60_000);
      sweepTimer = setInterval(() => {
        sweep().catch((error) => log.error({ err: error }, "postback retention sweep failed"));
      }, every);
      if (shared) pollTimer = setInterval(pump, CLUSTER_POLL_MS);
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
      if (pollTimer) clearInterval(pollTimer);
      timer = sweepTimer = pollTimer = undefined;
      timerAt = Number.POSITIVE_INFINITY;
      await claiming; // a claim committing now puts its jobs back
      await Promise.allSettled([...handOffs]); // so does an enqueue storing a claimed job
      await release(ready.splice(0));
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
