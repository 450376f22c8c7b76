/**
 * Which users this node holds sockets for, kept in `node_users` so that another node can tell their
 * friends they left should this one die without a graceful shutdown (see ./index.ts).
 *
 * The connect path is hot, so this costs it little: sockets are counted per user in memory and a row
 * is written only when a user's first socket on this node connects (insert) or its last one leaves
 * (delete). Connects and disconnects never wait for it: the changes of one event-loop turn are written
 * together after it (one group-commit transaction on SQLite, one batch on PostgreSQL), the last change
 * of each user winning, each write after the previous one committed. A failed write is kept and tried
 * again with the next one.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Store } from "../../db/client";
import type { ConnectionListener } from "../connections/events";

export interface HoldingsDeps {
  store: Store;
  nodeId: string;
  /** A write failed (it is tried again with the next one). */
  onError(error: unknown): void;
}

export function createHoldings({ store, nodeId, onError }: HoldingsDeps) {
  const { nodeUsers } = store.tables;
  /** Open sockets per user on this node. */
  const sockets = new Map<string, number>();
  /** Rows to write: true to insert (held), false to delete (no longer held). */
  const pending = new Map<string, boolean>();
  let scheduled = false;
  let closed = false;
  /** The write in flight (or the last one): the next waits for it, so rows change in order. */
  let writing: Promise<void> = Promise.resolve();

  const insert = store.statement((db) =>
    db
      .insert(nodeUsers)
      .values({ nodeId: sql.placeholder("nodeId"), userId: sql.placeholder("userId") })
      .onConflictDoNothing(),
  );
  const remove = store.statement((db) =>
    db
      .delete(nodeUsers)
      .where(and(eq(nodeUsers.nodeId, sql.placeholder("nodeId")), eq(nodeUsers.userId, sql.placeholder("userId")))),
  );

  async function write(): Promise<void> {
    if (pending.size === 0) return;
    const batch = [...pending];
    pending.clear();
    // One write per row, all made in this turn: the store commits them together.
    const results = await Promise.allSettled(
      batch.map(([userId, held]) => store.write((held ? insert : remove).with({ nodeId, userId }))),
    );
    const failed = results.flatMap((r, i) => (r.status === "rejected" ? [{ row: batch[i], error: r.reason }] : []));
    for (const { row } of failed) {
      const [userId, held] = row as [string, boolean];
      if (!pending.has(userId)) pending.set(userId, held); // unless a later change replaced it
    }
    if (failed[0]) onError(failed[0].error);
  }

  /** Writes what changed so far (after any write in flight); resolves once it is committed or failed. */
  function flush(): Promise<void> {
    scheduled = false;
    writing = writing.then(write);
    return writing;
  }

  function mark(userId: string, held: boolean) {
    if (closed) return;
    pending.set(userId, held);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  }

  const listener: ConnectionListener = {
    connected({ userId }) {
      const n = (sockets.get(userId) ?? 0) + 1;
      sockets.set(userId, n);
      if (n === 1) mark(userId, true);
    },
    disconnected({ userId }) {
      const n = (sockets.get(userId) ?? 0) - 1;
      if (n > 0) {
        sockets.set(userId, n);
        return;
      }
      sockets.delete(userId);
      mark(userId, false);
    },
  };

  return {
    listener,
    flush,
    /** Writes every user held now again (this node's rows were taken for a dead node's). */
    republish(): Promise<void> {
      for (const userId of sockets.keys()) pending.set(userId, true);
      return flush();
    },
    /** Writes what is left, then nothing more (the database is about to close). */
    async close(): Promise<void> {
      await flush();
      closed = true;
    },
  };
}

export type Holdings = ReturnType<typeof createHoldings>;
