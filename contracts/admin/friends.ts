/**
 * Friendships for backends (seed 002): who sees whose presence. A friendship is mutual; adding and
 * removing one are idempotent, and the answer says whether anything changed.
 */
import { z } from "zod";
import { operation } from "../operation";

const UserId = z.string().min(1).max(256).meta({ description: "A user id (the token's `sub`)", example: "alice" });
const FriendId = z
  .string()
  .min(1)
  .max(256)
  .meta({ description: "The other user's id; not `userId` itself (400)", example: "bob" });

const Pair = z.object({ userId: UserId, friendId: FriendId });

export const addFriend = operation({
  name: "friends.add",
  method: "PUT",
  path: "/api/users/:userId/friends/:friendId",
  auth: "admin",
  summary: "Make two users friends (mutual): each sees the other's presence",
  description:
    "Idempotent: `created` is false when they already were friends. A user cannot befriend itself (400). " +
    "Presence events follow the next status change; clients may ask `presence:friends` at once.",
  input: Pair,
  output: z.object({
    userId: z.string(),
    friendId: z.string(),
    created: z.boolean().meta({ description: "false: they already were friends" }),
  }),
  example: {
    input: { userId: "user-42", friendId: "user-7" },
    output: { userId: "user-42", friendId: "user-7", created: true },
  },
});

export const removeFriend = operation({
  name: "friends.remove",
  method: "DELETE",
  path: "/api/users/:userId/friends/:friendId",
  auth: "admin",
  summary: "End a friendship (both directions)",
  description: "Idempotent: `removed` is false when they were not friends (no 404, so a retry is safe).",
  input: Pair,
  output: z.object({
    userId: z.string(),
    friendId: z.string(),
    removed: z.boolean().meta({ description: "false: they were not friends" }),
  }),
  example: {
    input: { userId: "user-42", friendId: "user-7" },
    output: { userId: "user-42", friendId: "user-7", removed: true },
  },
});

export const listFriends = operation({
  name: "friends.list",
  method: "GET",
  path: "/api/users/:userId/friends",
  auth: "admin",
  summary: "A user's friends, by id",
  input: z.object({ userId: UserId }),
  output: z.object({
    userId: z.string(),
    friends: z.array(z.string()).meta({ description: "Friend ids, in id order; empty when none" }),
  }),
  example: { input: { userId: "user-42" }, output: { userId: "user-42", friends: ["user-7"] } },
});
