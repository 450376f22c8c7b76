/**
 * Friendships (seed 002): who sees whose presence. A friendship is mutual and stored in both
 * directions, (a, b) and (b, a), so "the friends of a" is one indexed read. Backends manage them
 * through the admin API; presence reads them.
 */
import { and, asc, eq, or, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { friendships } from "../../db/schema";
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

export function createFriends(db: Db) {
  // Prepared once: presence reads it on every connect and disconnect.
  const selectFriends = db
    .select({ friendId: friendships.friendId })
    .from(friendships)
    .where(eq(friendships.userId, sql.placeholder("userId")))
    .orderBy(asc(friendships.friendId))
    .prepare();
  const both = ({ userId, friendId }: Friendship) =>
    or(
      and(eq(friendships.userId, userId), eq(friendships.friendId, friendId)),
      and(eq(friendships.userId, friendId), eq(friendships.friendId, userId)),
    );

  return {
    /** Makes the two users friends (both directions). `created`: false when they already were. */
    add(pair: Friendship): Friendship & { created: boolean } {
      distinct(pair);
      const createdAt = new Date().toISOString();
      const inserted = db.transaction((tx) =>
        tx
          .insert(friendships)
          .values([
            { userId: pair.userId, friendId: pair.friendId, createdAt },
            { userId: pair.friendId, friendId: pair.userId, createdAt },
          ])
          .onConflictDoNothing()
          .returning({ userId: friendships.userId })
          .all(),
      );
      return { ...pair, created: inserted.length > 0 };
    },

    /** Ends the friendship (both directions). `removed`: false when they were not friends. */
    remove(pair: Friendship): Friendship & { removed: boolean } {
      distinct(pair);
      const deleted = db.delete(friendships).where(both(pair)).returning({ userId: friendships.userId }).all();
      return { ...pair, removed: deleted.length > 0 };
    },

    /** The user's friends, by id. */
    of(userId: string): string[] {
      return selectFriends.all({ userId }).map((r) => r.friendId);
    },
  };
}

export type Friends = ReturnType<typeof createFriends>;
