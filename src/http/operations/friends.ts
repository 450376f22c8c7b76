import type { addFriend, listFriends, removeFriend } from "../../../contracts/admin/friends";
import type { Services } from "../../services";
import type { OperationFn } from "./run";

export const friendOperations = ({ friends }: Services) => ({
  "friends.add": ((pair) => friends.add(pair)) satisfies OperationFn<typeof addFriend>,
  "friends.remove": ((pair) => friends.remove(pair)) satisfies OperationFn<typeof removeFriend>,
  "friends.list": (async ({ userId }) => ({ userId, friends: await friends.of(userId) })) satisfies OperationFn<
    typeof listFriends
  >,
});
