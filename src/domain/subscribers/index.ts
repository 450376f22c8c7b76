/**
 * Subscribers (seed 000): the registry of event names clients may emit at run time, one subscriber
 * per name, stored in SQLite. The registry keeps an in-memory index by name, loaded at start-up and
 * changed after every committed write, so a change applies to the next event (no restart) and the
 * hot path (every undeclared event) never touches the database. One node today: with several, the
 * index would need an invalidation signal between nodes.
 *
 * A name may not shadow a declared event (CONFLICT) nor a reserved Socket.IO name (BAD_REQUEST).
 */
import { asc, eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { subscribers } from "../../db/schema";
import { AppError, clip, invalidInput } from "../errors";
import { declaredAs, isTakenEventName, RESERVED_EVENT_NAMES } from "../events/names";

export type Subscriber = typeof subscribers.$inferSelect;

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
    if ((e as { code?: unknown }).code === "SQLITE_CONSTRAINT_UNIQUE") return true;
  }
  return false;
};

const nameTaken = (name: string) =>
  new AppError("CONFLICT", `Another subscriber already listens to "${clip(name)}"`, { eventListener: name });

export function createSubscribers(db: Db) {
  /** By eventListener; the only thing read on the event path. */
  const index = new Map<string, Subscriber>();
  /** Raised on every change: readers cache what they derive from the registry by it. */
  let version = 0;
  const touch = () => {
    version++;
  };

  for (const row of db.select().from(subscribers).all()) index.set(row.eventListener, row);

  const byId = (id: string) => db.select().from(subscribers).where(eq(subscribers.id, id)).get();

  return {
    /**
     * Creates the subscriber of `eventListener`, or replaces the existing one (keeping its id and
     * createdAt; fields left out are cleared). One statement, so two callers cannot both create.
     */
    upsert(input: SubscriberInput): { subscriber: Subscriber; wasUpdated: boolean } {
      checkName(input.eventListener);
      const now = new Date().toISOString();
      const id = Bun.randomUUIDv7();
      const fields = {
        replicable: input.replicable,
        description: input.description ?? null,
        postbackUrl: input.postbackUrl ?? null,
        updatedAt: now,
      };
      const row = db
        .insert(subscribers)
        .values({ id, eventListener: input.eventListener, createdAt: now, ...fields })
        .onConflictDoUpdate({ target: subscribers.eventListener, set: fields })
        .returning()
        .get();
      index.set(row.eventListener, row);
      touch();
      return { subscriber: row, wasUpdated: row.id !== id };
    },

    /** Every subscriber, oldest first (ids are UUIDv7). */
    list(): Subscriber[] {
      return db.select().from(subscribers).orderBy(asc(subscribers.id)).all();
    },

    /** NOT_FOUND when there is none. */
    get(id: string): Subscriber {
      const row = byId(id);
      if (!row) throw notFound(id);
      return row;
    },

    /**
     * Changes the fields given (null clears description / postbackUrl). NOT_FOUND, CONFLICT when the
     * new name is another subscriber's or declared, BAD_REQUEST when nothing is given or the name is reserved.
     */
    update(id: string, changes: SubscriberChanges): Subscriber {
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
      let result: { before: Subscriber; after: Subscriber };
      try {
        result = db.transaction((tx) => {
          const before = tx.select().from(subscribers).where(eq(subscribers.id, id)).get();
          if (!before) throw notFound(id);
          const name = changes.eventListener;
          if (name !== undefined && name !== before.eventListener) {
            const holder = tx.select().from(subscribers).where(eq(subscribers.eventListener, name)).get();
            if (holder) throw nameTaken(name);
          }
          const after = tx
            .update(subscribers)
            .set({ ...given, updatedAt: new Date().toISOString() })
            .where(eq(subscribers.id, id))
            .returning()
            .get() as Subscriber;
          return { before, after };
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw nameTaken(changes.eventListener ?? "");
        throw error;
      }
      index.delete(result.before.eventListener);
      index.set(result.after.eventListener, result.after);
      touch();
      return result.after;
    },

    /** NOT_FOUND when there is none; its event is unknown from now on. */
    delete(id: string): void {
      const row = db.delete(subscribers).where(eq(subscribers.id, id)).returning().get();
      if (!row) throw notFound(id);
      index.delete(row.eventListener);
      touch();
    },

    /** Removes every subscriber; how many there were. */
    deleteAll(): number {
      const deleted = db.delete(subscribers).returning({ id: subscribers.id }).all().length;
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
  };
}

export type Subscribers = ReturnType<typeof createSubscribers>;

export { createDynamicEvents, type DynamicEventResult, type DynamicEvents } from "./dynamic-events";
