/**
 * Presence with friends-only privacy (seed 002).
 *
 * - A user is online while at least one of its sockets is connected (every device counts); the
 *   devices are counted through the delivery port, so the answer covers every node.
 * - Its status (`online`, `away`, `busy`, `offline`) is stored in `user_presence` and outlives the
 *   connection: `online` on the very first connect, then whatever the user last chose. `offline` is
 *   invisible: the user stays connected, and nobody is told it is there.
 * - Visible = online and not invisible. Only friends hear about it, on each of their devices:
 *   `user:online { userId, status }` when the user becomes visible or changes its visible status,
 *   `user:offline { userId, lastSeen }` when it stops being visible (last device gone, or invisible).
 *   Each change is told once: what friends were last told is kept per user, and the changes of one
 *   user are worked out one at a time (two devices connecting together make one `user:online`).
 * - `lastSeen` is when friends last saw the user: stored when it stops being visible. The end of an
 *   invisible session is not recorded (it would tell friends the user was there).
 * - A node that crashed cannot tell anyone: `leftWithNode` is how another node (or the next start on
 *   SQLite) reports that the user's devices there are gone (domain/nodes).
 */
import { and, eq, inArray, isNotNull, sql } from "drizzle-orm";
import type { DetailedPresence, FriendsPresence, UserStatus } from "../../../generated/events";
import type { Store } from "../../db/client";
import type { ConnectionListener } from "../connections/events";
import type { ConnectionInfo, Delivery } from "../delivery";
import { AppError } from "../errors";
import type { Friends } from "../friends";

export interface PresenceDeps {
  store: Store;
  delivery: Delivery;
  friends: Friends;
  /** PRESENCE_PUBLIC: whether presence:online and presence:detailed answer at all. */
  presencePublic: boolean;
}

interface Stored {
  status: UserStatus;
  lastSeen: string | null;
}

const DEFAULT: Stored = { status: "online", lastSeen: null };
/** Ids per `IN (...)` query, well under SQLite's variable limit. */
const CHUNK = 500;

export function createPresence({ store, delivery, friends, presencePublic }: PresenceDeps) {
  const { db } = store;
  const { userPresence } = store.tables;
  /** The status friends were last told (by `user:online`), for users they see online now. */
  const told = new Map<string, UserStatus>();
  /** The tail of each user's queue of presence changes. */
  const queues = new Map<string, Promise<unknown>>();

  /** Runs `work` after the user's earlier presence changes have finished. */
  function serialized<T>(userId: string, work: () => Promise<T>): Promise<T> {
    const run = (queues.get(userId) ?? Promise.resolve()).then(work);
    const tail = run.catch(() => {});
    queues.set(userId, tail);
    void tail.then(() => {
      if (queues.get(userId) === tail) queues.delete(userId);
    });
    return run;
  }

  // Prepared once: every connect and disconnect reads it.
  const selectStored = store.statement((db) =>
    db
      .select({ status: userPresence.status, lastSeen: userPresence.lastSeen })
      .from(userPresence)
      .where(eq(userPresence.userId, sql.placeholder("userId"))),
  );
  const stored = async (userId: string): Promise<Stored> => (await selectStored.run({ userId }))[0] ?? DEFAULT;
  const storeLastSeen = store.statement((db) =>
    db
      .insert(userPresence)
      .values({
        userId: sql.placeholder("userId"),
        status: sql.placeholder("status"),
        lastSeen: sql.placeholder("lastSeen"),
      })
      .onConflictDoUpdate({ target: userPresence.userId, set: { lastSeen: sql`excluded.last_seen` } }),
  );

  async function storedMany(userIds: string[]): Promise<Map<string, Stored>> {
    const found = new Map<string, Stored>();
    for (let i = 0; i < userIds.length; i += CHUNK) {
      const rows = await db
        .select()
        .from(userPresence)
        .where(inArray(userPresence.userId, userIds.slice(i, i + CHUNK)));
      for (const row of rows) found.set(row.userId, { status: row.status, lastSeen: row.lastSeen });
    }
    return found;
  }

  async function tellFriends(userId: string, tell: (friendId: string) => void) {
    for (const friendId of await friends.of(userId)) tell(friendId);
  }

  /**
   * Compares what friends should see with what they were told, and tells them the difference. One
   * node (SQLite): what they were told is kept in memory (`told`).
   */
  async function reconcileAlone(userId: string, lastSeenAt?: string): Promise<void> {
    const devices = await delivery.count({ user: userId });
    const now = await stored(userId);
    const was = told.get(userId);
    if (devices > 0 && now.status !== "offline") {
      if (was !== now.status) {
        told.set(userId, now.status);
        await tellFriends(userId, (f) => delivery.emit({ user: f }, "user:online", { userId, status: now.status }));
      }
    } else if (was !== undefined) {
      told.delete(userId);
      const lastSeen = lastSeenAt ?? new Date().toISOString();
      await storeLastSeen.run({ userId, status: now.status, lastSeen });
      await tellFriends(userId, (f) => delivery.emit({ user: f }, "user:offline", { userId, lastSeen }));
    }
  }

  /**
   * The same on N nodes (PostgreSQL): what friends were told is the row's `announced`, changed by one
   * compare-and-set statement, so of the nodes reconciling one user at once (its devices on several
   * nodes) only the one whose write changed it tells friends.
   */
  async function reconcileShared(userId: string, lastSeenAt?: string): Promise<void> {
    const devices = await delivery.count({ user: userId });
    const now = await stored(userId);
    if (devices > 0 && now.status !== "offline") {
      const [changed] = await db
        .insert(userPresence)
        .values({ userId, status: now.status, announced: now.status })
        .onConflictDoUpdate({
          target: userPresence.userId,
          set: { announced: now.status },
          setWhere: sql`${userPresence.announced} is distinct from ${now.status}`,
        })
        .returning({ userId: userPresence.userId });
      if (changed) {
        await tellFriends(userId, (f) => delivery.emit({ user: f }, "user:online", { userId, status: now.status }));
      }
    } else {
      const lastSeen = lastSeenAt ?? new Date().toISOString();
      const [changed] = await db
        .update(userPresence)
        .set({ announced: null, lastSeen })
        .where(and(eq(userPresence.userId, userId), isNotNull(userPresence.announced)))
        .returning({ userId: userPresence.userId });
      if (changed) await tellFriends(userId, (f) => delivery.emit({ user: f }, "user:offline", { userId, lastSeen }));
    }
  }

  const reconcile = store.dialect === "postgres" ? reconcileShared : reconcileAlone;

  /**
   * One node (SQLite), at start-up: what friends were told died with the previous run, but it told
   * them the user was online unless it was invisible; nobody has connected yet to tell.
   */
  async function leftAlone(userId: string, lastSeen: string): Promise<void> {
    if (told.has(userId)) return reconcileAlone(userId, lastSeen);
    if ((await delivery.count({ user: userId })) > 0) return; // back already: that connect told friends
    const now = await stored(userId);
    if (now.status === "offline") return; // invisible: friends were never told it was there
    await storeLastSeen.run({ userId, status: now.status, lastSeen });
    await tellFriends(userId, (f) => delivery.emit({ user: f }, "user:offline", { userId, lastSeen }));
  }

  const listener: ConnectionListener = {
    connected: ({ userId }) =>
      // Nothing to store: a user without a row is `online` (DEFAULT) until it chooses otherwise.
      serialized(userId, () => reconcile(userId)),
    disconnected: ({ userId }) => serialized(userId, () => reconcile(userId)),
  };

  function refusePrivate() {
    if (!presencePublic) {
      throw new AppError(
        "FORBIDDEN",
        "Presence is private on this server (PRESENCE_PUBLIC=false): presence:friends lists your friends",
      );
    }
  }

  /** Every connection, grouped by user (oldest connection first). */
  async function byUser(): Promise<Map<string, ConnectionInfo[]>> {
    const users = new Map<string, ConnectionInfo[]>();
    for (const c of await delivery.connections()) {
      const list = users.get(c.userId);
      if (list) list.push(c);
      else users.set(c.userId, [c]);
    }
    return users;
  }

  /** Online users who are not invisible, by id, with what is stored about them. */
  async function visibleOnline() {
    const users = await byUser();
    const ids = [...users.keys()].sort();
    const rows = await storedMany(ids);
    return ids
      .map((userId) => ({ userId, connections: users.get(userId) ?? [], ...(rows.get(userId) ?? DEFAULT) }))
      .filter((u) => u.status !== "offline");
  }

  return {
    /**
     * The node that held the user's devices died without telling: re-checks the user across the
     * cluster and, when no device is left, tells friends it went offline (once), with `lastSeen` the
     * last moment the dead node was known alive. A user connected elsewhere stays online.
     */
    leftWithNode: (userId: string, lastSeen: string): Promise<void> =>
      serialized(userId, async () => {
        if (store.dialect !== "postgres") return leftAlone(userId, lastSeen);
        await reconcileShared(userId, lastSeen);
        // A device that came back through another node while this ran found friends told online
        // still, so it told them nothing: once more, to tell them it is back if so (a no-op otherwise).
        await reconcileShared(userId);
      }),

    /** `user:status`: stores the status and tells friends what changed for them. */
    setStatus: (userId: string, status: UserStatus): Promise<{ status: UserStatus }> =>
      serialized(userId, async () => {
        await db
          .insert(userPresence)
          .values({ userId, status })
          .onConflictDoUpdate({ target: userPresence.userId, set: { status } });
        await reconcile(userId);
        return { status };
      }),

    /** `presence:friends`: the user's friends who are online and visible, by id. */
    async friends(userId: string): Promise<FriendsPresence> {
      const ids = await friends.of(userId);
      const rows = await storedMany(ids);
      const counted = await Promise.all(
        ids.map(async (id) => ({
          userId: id,
          devices: await delivery.count({ user: id }),
          ...(rows.get(id) ?? DEFAULT),
        })),
      );
      return counted
        .filter((f) => f.devices > 0 && f.status !== "offline")
        .map(({ userId: id, status, devices, lastSeen }) => ({ userId: id, status, devices, lastSeen }));
    },

    /** `presence:online`: every online, visible user id (FORBIDDEN unless PRESENCE_PUBLIC). */
    async online(): Promise<string[]> {
      refusePrivate();
      return (await visibleOnline()).map((u) => u.userId);
    },

    /** `presence:detailed`: the same users with status, devices, oldest connection and last seen. */
    async detailed(): Promise<DetailedPresence> {
      refusePrivate();
      return (await visibleOnline()).map(({ userId, status, lastSeen, connections }) => ({
        userId,
        status,
        devices: connections.length,
        connectedAt: connections.map((c) => c.connectedAt).sort()[0] as string,
        lastSeen,
      }));
    },

    /** What is stored about each user (for admin reads): its chosen status and lastSeen; the defaults when never seen. */
    async storedOf(userIds: string[]): Promise<Map<string, Stored>> {
      const rows = await storedMany(userIds);
      return new Map(userIds.map((id) => [id, rows.get(id) ?? DEFAULT]));
    },

    listener,
  };
}

export type Presence = ReturnType<typeof createPresence>;
