/**
 * Subscribers (seed 000): the registry of event names clients may emit at run time, one subscriber
 * per name, stored in the database. The registry keeps an in-memory index by name, loaded at start-up and
 * changed after every committed write, so a change applies to the next event (no restart) and the
 * hot path (every undeclared event) never touches the database. Nodes sharing a PostgreSQL database
 * also reload the index every REFRESH_MS, so another node's change applies here within that time.
 *
 * A name may not shadow a declared event (CONFLICT) nor a reserved Socket.IO name (BAD_REQUEST).
 */
import { asc, eq } from "drizzle-orm";
import type { Store, Tables } from "../../db/client";
import { AppError, clip, invalidInput } from "../errors";
import { declaredAs, isTakenEventName, RESERVED_EVENT_NAMES } from "../events/names";

export type Subscriber = Tables["subscribers"]["$inferSelect"];

export interface SubscriberInput {
  eventListener: string;
  replicable: boolean;
  description?: string | null | undefined;
  postbackUrl?: string | null | undefined;
}

export type SubscriberChanges = Partial<SubscriberInput>;

export const MESSAGES = {
  created: "Subscriber created successfully",
  replaced: "Subscriber updated (replaced existing subscriber with same eventListener)",
  deleted: "Subscriber deleted successfully",
  deletedAll: (n: number) => `Successfully deleted ${n} subscribers`,
} as const;

/** BAD_REQUEST for a reserved Socket.IO name, CONFLICT for a declared event; the reason says which. */
function checkName(name: string): void {
  if (RESERVED_EVENT_NAMES.has(name)) {
    throw invalidInput([
      { path: "eventListener", message: `"${clip(name)}" is a reserved Socket.IO event name: choose another` },
    ]);
  }
  const where = declaredAs(name);
  if (where.length > 0) {
    throw new AppError(
      "CONFLICT",
      `"${clip(name)}" is an event declared in asyncapi.yaml (${where.join(", ")}): a subscriber cannot shadow it`,
      { eventListener: name, declaredAs: where },
    );
  }
}

const notFound = (id: string) => new AppError("NOT_FOUND", `Subscriber "${clip(id)}" not found`);

const isUniqueViolation = (error: unknown): boolean => {
  for (let e = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    const { code, errno } = e as { code?: unknown; errno?: unknown };
    // SQLite's code; PostgreSQL's SQLSTATE 23505 (Bun's SQL client puts it in `errno`).
    if (code === "SQLITE_CONSTRAINT_UNIQUE" || code === "23505" || errno === "23505") return true;
  }
  return false;
};

const nameTaken = (name: string) =>
  new AppError("CONFLICT", `Another subscriber already listens to "${clip(name)}"`, { eventListener: name });

/** PostgreSQL: how often the index is reloaded to see other nodes' changes. */
export const REFRESH_MS = 1000;

/** Loads the registry (the in-memory index by name) from the database. */
export async function createSubscribers(store: Store, log?: { error(obj: object, msg?: string): void }) {
  const { db } = store;
  const { subscribers } = store.tables;
  /** By eventListener; the only thing read on the event path. */
  const index = new Map<string, Subscriber>();
  /** Raised on every change: readers cache what they derive from the registry by it. */
  let version = 0;
  const touch = () => {
    version++;
  };

  for (const row of await db.select().from(subscribers)) index.set(row.eventListener, row);

  /** What identifies the registry's content: a reload that finds the same changes nothing. */
  const fingerprint = (rows: Iterable<Subscriber>) =>
    [...rows]
      .map((r) => `${r.id}\u0000${r.eventListener}\u0000${r.updatedAt}`)
      .sort()
      .join("\u0001");
  /** Replaces the index with what the database holds now (other nodes write it too). */
  async function reload() {
    const before = version;
    const rows = await db.select().from(subscribers);
    // A write of this node landed meanwhile: what was read may predate it; the next reload sees both.
    if (version !== before || fingerprint(rows) === fingerprint(index.values())) return;
    index.clear();
    for (const row of rows) index.set(row.eventListener, row);
    touch();
  }
  let refresh: Timer | undefined;
  if (store.dialect === "postgres") {
    refresh = setInterval(() => {
      reload().catch((error) => log?.error({ err: error }, "subscriber registry reload failed"));
    }, REFRESH_MS);
    refresh.unref();
  }

  const byId = async (id: string) => (await db.select().from(subscribers).where(eq(subscribers.id, id)).limit(1))[0];
  /** The index entry of subscriber `id`, whatever its name (the map is small: one entry per registered name). */
  const unindex = (id: string) => {
    for (const [name, row] of index) if (row.id === id) index.delete(name);
  };

  return {
    /**
     * Creates the subscriber of `eventListener`, or replaces the existing one (keeping its id and
     * createdAt; fields left out are cleared). One statement, so two callers cannot both create.
     */
    async upsert(input: SubscriberInput): Promise<{ subscriber: Subscriber; wasUpdated: boolean }> {
      checkName(input.eventListener);
      const now = new Date().toISOString();
      const id = Bun.randomUUIDv7();
      const fields = {
        replicable: input.replicable,
        description: input.description ?? null,
        postbackUrl: input.postbackUrl ?? null,
        updatedAt: now,
      };
      const [row] = await db
        .insert(subscribers)
        .values({ id, eventListener: input.eventListener, createdAt: now, ...fields })
        .onConflictDoUpdate({ target: subscribers.eventListener, set: fields })
        .returning();
      if (!row) throw new AppError("INTERNAL", "Internal error");
      index.set(row.eventListener, row);
      touch();
      return { subscriber: row, wasUpdated: row.id !== id };
    },

    /** Every subscriber, oldest first (ids are UUIDv7). */
    list(): Promise<Subscriber[]> {
      return db
        .select()
        .from(subscribers)
        .orderBy(asc(subscribers.id))
        .then((rows) => rows);
    },

    /** NOT_FOUND when there is none. */
    async get(id: string): Promise<Subscriber> {
      const row = await byId(id);
      if (!row) throw notFound(id);
      return row;
    },

    /**
     * Changes the fields given (null clears description / postbackUrl). NOT_FOUND, CONFLICT when the
     * new name is another subscriber's or declared, BAD_REQUEST when nothing is given or the name is reserved.
     */
    async update(id: string, changes: SubscriberChanges): Promise<Subscriber> {
      const given: Partial<Omit<Subscriber, "id" | "createdAt">> = {};
      if (changes.eventListener !== undefined) given.eventListener = changes.eventListener;
      if (changes.replicable !== undefined) given.replicable = changes.replicable;
      if (changes.description !== undefined) given.description = changes.description;
      if (changes.postbackUrl !== undefined) given.postbackUrl = changes.postbackUrl;
      if (Object.keys(given).length === 0) {
        throw invalidInput([
          { path: "", message: "Nothing to update: send eventListener, replicable, description or postbackUrl" },
        ]);
      }
      if (changes.eventListener !== undefined) checkName(changes.eventListener);
      // One statement: the unique index on the name decides a race for it.
      let after: Subscriber | undefined;
      try {
        [after] = await db
          .update(subscribers)
          .set({ ...given, updatedAt: new Date().toISOString() })
          .where(eq(subscribers.id, id))
          .returning();
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(changes.eventListener ?? "");
        throw error;
      }
      if (!after) throw notFound(id);
      unindex(id);
      index.set(after.eventListener, after);
      touch();
      return after;
    },

    /** NOT_FOUND when there is none; its event is unknown from now on. */
    async delete(id: string): Promise<void> {
      const [row] = await db.delete(subscribers).where(eq(subscribers.id, id)).returning();
      if (!row) throw notFound(id);
      index.delete(row.eventListener);
      touch();
    },

    /** Removes every subscriber; how many there were. */
    async deleteAll(): Promise<number> {
      const deleted = (await db.delete(subscribers).returning({ id: subscribers.id })).length;
      index.clear();
      touch();
      return deleted;
    },

    /** The subscribers of one name (at most one), from the index. */
    byEvent(eventListener: string): Subscriber[] {
      const row = index.get(eventListener);
      return row ? [row] : [];
    },

    /**
     * The subscriber clients may emit `event` for, if any. A stored name that a newer asyncapi.yaml
     * declares is ignored: the declared event wins.
     */
    lookup(event: string): Subscriber | undefined {
      const row = index.get(event);
      return row && !isTakenEventName(event) ? row : undefined;
    },

    /** The registered subscribers (from the index) and the registry's version, for derived views. */
    snapshot(): { version: number; subscribers: Subscriber[] } {
      return { version, subscribers: [...index.values()].sort((a, b) => a.id.localeCompare(b.id)) };
    },

    /** Raised on every change. */
    get version() {
      return version;
    },

    /** Stops reloading (before the database closes). */
    close() {
      if (refresh) clearInterval(refresh);
      refresh = undefined;
    },
  };
}

export type Subscribers = Awaited<ReturnType<typeof createSubscribers>>;

export { createDynamicEvents, type DynamicEventResult, type DynamicEvents } from "./dynamic-events";
