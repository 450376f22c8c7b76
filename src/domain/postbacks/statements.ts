/**
 * The statements the postback scheduler runs on every attempt, prepared once per store (building
 * and compiling them each time cost more than running them). Dialect-aware where the queue is shared
 * by several nodes (PostgreSQL: SKIP LOCKED claims, expired leases taken over).
 */
import { and, asc, eq, inArray, lte, or, sql } from "drizzle-orm";
import type { Store, Tables } from "../../db/client";

export type PostbackRow = Tables["postbacks"]["$inferSelect"];
export type PostbackStatus = PostbackRow["status"];
/** What a claim returns: the columns the deliverer uses. */
export type ClaimedJob = Pick<
  PostbackRow,
  | "id"
  | "postbackUrl"
  | "method"
  | "headers"
  | "payload"
  | "retries"
  | "maxRetries"
  | "timeoutMs"
  | "nextAttemptAt"
  | "finishedAt"
  | "leaseUntil"
>;

export function preparePostbackStatements(store: Store) {
  const { postbacks, postbackAttempts } = store.tables;
  const shared = store.dialect === "postgres";
  // drizzle's update().set() takes a placeholder only wrapped in SQL.
  const placeholder = (name: string) => sql`${sql.placeholder(name)}`;
  const selectNextDue = store.statement((db) =>
    shared
      ? // Other nodes' jobs whose lease expires are due too.
        db
          .select({
            at: sql<
              number | null
            >`min(case when ${postbacks.status} = 'pending' then ${postbacks.nextAttemptAt} else ${postbacks.leaseUntil} end)`.mapWith(
              Number,
            ),
          })
          .from(postbacks)
          .where(inArray(postbacks.status, ["pending", "processing"]))
      : db
          .select({ at: sql<number | null>`min(${postbacks.nextAttemptAt})`.mapWith(Number) })
          .from(postbacks)
          .where(eq(postbacks.status, "pending")),
  );
  const claimDue = store.statement((db) =>
    db
      .update(postbacks)
      .set({ status: "processing", leaseUntil: placeholder("leaseUntil"), updatedAt: placeholder("updatedAt") })
      .where(
        shared
          ? inArray(
              postbacks.id,
              // SKIP LOCKED: nodes claiming at once each take other rows. A row another node claimed
              // meanwhile is checked again once locked (it is `processing` with a live lease: skipped).
              store.skipLocked(
                db
                  .select({ id: postbacks.id })
                  .from(postbacks)
                  .where(
                    or(
                      and(eq(postbacks.status, "pending"), lte(postbacks.nextAttemptAt, sql.placeholder("now"))),
                      and(eq(postbacks.status, "processing"), lte(postbacks.leaseUntil, sql.placeholder("now"))),
                    ),
                  )
                  .orderBy(asc(postbacks.nextAttemptAt))
                  .limit(sql.placeholder("limit")),
              ),
            )
          : and(
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
      .returning({
        id: postbacks.id,
        postbackUrl: postbacks.postbackUrl,
        method: postbacks.method,
        headers: postbacks.headers,
        payload: postbacks.payload,
        retries: postbacks.retries,
        maxRetries: postbacks.maxRetries,
        timeoutMs: postbacks.timeoutMs,
        nextAttemptAt: postbacks.nextAttemptAt,
        finishedAt: postbacks.finishedAt,
        leaseUntil: postbacks.leaseUntil,
      }),
  );
  const insertAttempt = store.statement((db) =>
    db.insert(postbackAttempts).values({
      postbackId: sql.placeholder("postbackId"),
      at: sql.placeholder("at"),
      durationMs: sql.placeholder("durationMs"),
      responseStatus: sql.placeholder("responseStatus"),
      error: sql.placeholder("error"),
    }),
  );
  /** Only the claim holding the lease records (a claim taken over after its lease expired does not). */
  const recordOutcome = store.statement((db) =>
    db
      .update(postbacks)
      .set({
        status: placeholder("status"),
        retries: placeholder("retries"),
        nextAttemptAt: placeholder("nextAttemptAt"),
        finishedAt: placeholder("finishedAt"),
        leaseUntil: null,
        lastError: placeholder("lastError"),
        lastResponseStatus: placeholder("lastResponseStatus"),
        updatedAt: placeholder("updatedAt"),
      })
      .where(
        and(
          eq(postbacks.id, sql.placeholder("id")),
          eq(postbacks.status, "processing"),
          eq(postbacks.leaseUntil, sql.placeholder("leaseUntil")),
        ),
      )
      .returning({ id: postbacks.id }),
  );
  const insertJob = store.statement((db) =>
    db
      .insert(postbacks)
      .values({
        id: sql.placeholder("id"),
        postbackUrl: sql.placeholder("postbackUrl"),
        method: sql.placeholder("method"),
        headers: sql.placeholder("headers"),
        payload: sql.placeholder("payload"),
        status: sql.placeholder("status"),
        retries: 0,
        maxRetries: sql.placeholder("maxRetries"),
        timeoutMs: sql.placeholder("timeoutMs"),
        nextAttemptAt: sql.placeholder("nextAttemptAt"),
        idempotencyKey: sql.placeholder("idempotencyKey"),
        requestHash: sql.placeholder("requestHash"),
        createdAt: sql.placeholder("createdAt"),
        updatedAt: sql.placeholder("updatedAt"),
        leaseUntil: sql.placeholder("leaseUntil"),
      })
      // The unique key decides between two enqueues with one key, on any node.
      .onConflictDoNothing({ target: postbacks.idempotencyKey })
      .returning({ id: postbacks.id }),
  );

  /** A claimed job handed back untouched (its lease still ours: a job another node took over stays its). */
  const releaseJob = store.statement((db) =>
    db
      .update(postbacks)
      .set({ status: "pending", leaseUntil: null, updatedAt: placeholder("updatedAt") })
      .where(
        and(
          eq(postbacks.id, sql.placeholder("id")),
          eq(postbacks.status, "processing"),
          eq(postbacks.leaseUntil, sql.placeholder("leaseUntil")),
        ),
      ),
  );

  return { selectNextDue, claimDue, insertAttempt, recordOutcome, insertJob, releaseJob };
}

export type PostbackStatements = ReturnType<typeof preparePostbackStatements>;
