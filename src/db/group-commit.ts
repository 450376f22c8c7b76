/**
 * Group commit: writes that arrive in the same turn of the event loop share one transaction. Each
 * caller's promise settles only after that transaction committed (an ack sent then is durable), and a
 * commit costs the same for one row as for a hundred, so under load the per-write cost falls sharply
 * while a lone write waits for no more than the rest of the current turn.
 *
 * A write is a synchronous function of one statement (or several that may fail only together): if it
 * throws, the statement failed without effect, its caller gets the error and the others still commit.
 */
import type { Database } from "bun:sqlite";

interface Pending {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Most writes in one transaction: a flood is committed in slices, so no transaction grows unbounded. */
const MAX_BATCH = 1000;

export function createGroupCommit(sqlite: Database) {
  let queue: Pending[] = [];
  let scheduled = false;
  // Prepared once: `sqlite.transaction(fn)` builds a new wrapper function (and its properties) per call.
  const begin = sqlite.prepare("BEGIN");
  const commit = sqlite.prepare("COMMIT");
  const rollback = sqlite.prepare("ROLLBACK");

  const flush = () => {
    scheduled = false;
    const batch = queue.length > MAX_BATCH ? queue.splice(0, MAX_BATCH) : queue;
    if (batch === queue) queue = [];
    if (queue.length > 0) schedule();
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      begin.run();
      for (const p of batch) {
        try {
          outcomes.push({ ok: true, value: p.write() });
        } catch (error) {
          outcomes.push({ ok: false, value: error });
        }
      }
      commit.run();
    } catch (error) {
      // BEGIN or COMMIT failed: nothing of the batch is stored.
      if (sqlite.inTransaction) rollback.run();
      for (const p of batch) p.reject(error);
      return;
    }
    batch.forEach((p, i) => {
      const o = outcomes[i] as { ok: boolean; value: unknown };
      if (o.ok) p.resolve(o.value);
      else p.reject(o.value);
    });
  };

  function schedule() {
    scheduled = true;
    setImmediate(flush);
  }

  return {
    /** Runs `write` in the next group transaction; resolves with its result once that committed. */
    run<T>(write: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
        if (!scheduled) schedule();
      });
    },
    /** Finalizes its statements (before the database is closed). */
    close() {
      for (const s of [begin, commit, rollback]) s.finalize();
    },
  };
}

export type GroupCommit = ReturnType<typeof createGroupCommit>;
