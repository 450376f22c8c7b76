/**
 * Friendships (seed 002): who sees whose presence. A friendship is mutual and stored in both
 * directions, (a, b) and (b, a), so "the friends of a" is one indexed read. Backends manage them
 * through the admin API; presence reads them.
 */
import { and, asc, eq, or, sql } from "drizzle-orm";
import type { Store } from "../../db/client";
import { AppError } from "../errors";

export interface Friendship {
  userId: string;
  friendId: string;
}

function distinct({ userId, friendId }: Friendship): void {
  if (userId === friendId) {
    throw new AppError("BAD_REQUEST", "Invalid input: friendId: a user cannot befriend itself", {
      issues: [{ path: "friendId", message: "a user cannot befriend itself" }],
    });
  }
}

export function createFriends(store: Store) {
  const { db } = store;
  const { friendships } = store.tables;
  // Prepared once: presence reads it on every connect and disconnect.
  const selectFriends = store.statement((db) =>
    db
      .select({ friendId: friendships.friendId })
      .from(friendships)
      .where(eq(friendships.userId, sql.placeholder("userId")))
      .orderBy(asc(friendships.friendId)),
  );
  const both = ({ userId, friendId }: Friendship) =>
    or(
      and(eq(friendships.userId, userId), eq(friendships.friendId, friendId)),
      and(eq(friendships.userId, friendId), eq(friendships.friendId, userId)),
    );

  return {
    /** Makes the two users friends (both directions). `created`: false when they already were. */
    async add(pair: Friendship): Promise<Friendship & { created: boolean }> {
      distinct(pair);
      const createdAt = new Date().toISOString();
      // One statement: both directions or neither.
      const inserted = await db
        .insert(friendships)
        .values([
          { userId: pair.userId, friendId: pair.friendId, createdAt },
          { userId: pair.friendId, friendId: pair.userId, createdAt },
        ])
        .onConflictDoNothing()
        .returning({ userId: friendships.userId });
      return { ...pair, created: inserted.length > 0 };
    },

    /** Ends the friendship (both directions). `removed`: false when they were not friends. */
    async remove(pair: Friendship): Promise<Friendship & { removed: boolean }> {
      distinct(pair);
      const deleted = await db.delete(friendships).where(both(pair)).returning({ userId: friendships.userId });
      return { ...pair, removed: deleted.length > 0 };
    },

    /** The user's friends, by id. */
    async of(userId: string): Promise<string[]> {
      return (await selectFriends.run({ userId })).map((r) => r.friendId);
    },
  };
}

export type Friends = ReturnType<typeof createFriends>;
