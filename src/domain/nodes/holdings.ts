/**
 * Which users this node holds sockets for, kept in `node_users` so that another node can tell their
 * friends they left should this one die without a graceful shutdown (see ./index.ts).
 *
 * The connect path is hot, so this costs it little: sockets are counted per user in memory and a row
 * is written only when a user's first socket on this node connects (insert) or its last one leaves
 * (delete). Connects and disconnects never wait for it: changes are written together a little later,
 * the last change of each user winning, each write after the previous one committed (changes made
 * meanwhile wait and go together). A failed write is kept and tried again with the next one.
 * - PostgreSQL: after the turn (the window in which a crash loses a row is a turn: that user would
 *   stay online for its friends); a lone change is one prepared statement, several are one multi-row
 *   INSERT and one DELETE (cheaper there than a statement per row).
 * - SQLite: up to SQLITE_DELAY_MS later, as prepared statements in one group commit (a commit per
 *   turn cost ~30 us per connect and disconnect at light load; this, ~5-9 us). A crash loses the rows
 *   of that moment, and with them only the lastSeen the next start would have stored (on one node
 *   nobody is left to be told anything).
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Store } from "../../db/client";
import type { ConnectionListener } from "../connections/events";

export interface HoldingsDeps {
  store: Store;
  nodeId: string;
  /** A write failed (it is tried again with the next one). */
  onError(error: unknown): void;
}

/** SQLite: how long changes wait, to be written together. */
const SQLITE_DELAY_MS = 100;
/** Users per multi-row statement (well under both dialects' parameter limits). */
const CHUNK = 500;

export function createHoldings({ store, nodeId, onError }: HoldingsDeps) {
  const { nodeUsers } = store.tables;
  /** Open sockets per user on this node. */
  const sockets = new Map<string, number>();
  /** Rows to write: true to insert (held), false to delete (no longer held). */
  const pending = new Map<string, boolean>();
  let scheduled = false;
  let timer: Timer | undefined;
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

  /** Inserts (held) or deletes the rows of `userIds`. */
  async function apply(held: boolean, userIds: string[]): Promise<void> {
    if (userIds.length === 1 || store.dialect === "sqlite") {
      const statement = held ? insert : remove;
      await store.write(...userIds.map((userId) => statement.with({ nodeId, userId })));
      return;
    }
    for (let i = 0; i < userIds.length; i += CHUNK) {
      const chunk = userIds.slice(i, i + CHUNK);
      if (held) {
        await store.db
          .insert(nodeUsers)
          .values(chunk.map((userId) => ({ nodeId, userId })))
          .onConflictDoNothing();
      } else {
        await store.db.delete(nodeUsers).where(and(eq(nodeUsers.nodeId, nodeId), inArray(nodeUsers.userId, chunk)));
      }
    }
  }

  async function write(): Promise<void> {
    if (pending.size === 0) return;
    const batch = new Map(pending);
    pending.clear();
    for (const held of [true, false]) {
      const userIds = [...batch].filter(([, h]) => h === held).map(([userId]) => userId);
      if (userIds.length === 0) continue;
      try {
        await apply(held, userIds);
      } catch (error) {
        // Kept for the next write, unless a later change of the user replaced it.
        for (const userId of userIds) if (!pending.has(userId)) pending.set(userId, held);
        onError(error);
      }
    }
  }

  /** Writes what changed so far (after any write in flight); resolves once it is committed or failed. */
  function flush(): Promise<void> {
    scheduled = false;
    clearTimeout(timer);
    writing = writing.then(write);
    return writing;
  }

  function mark(userId: string, held: boolean) {
    if (closed) return;
    pending.set(userId, held);
    if (!scheduled) {
      scheduled = true;
      if (store.dialect === "sqlite") {
        timer = setTimeout(flush, SQLITE_DELAY_MS);
        timer.unref();
      } else setImmediate(flush);
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
