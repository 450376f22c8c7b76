import type {
  dispatchEvent,
  messageBroadcast,
  messageUser,
  messageUsers,
  sendNotification,
} from "../../../contracts/admin/dispatch";
import type { Services } from "../../services";
import type { OperationFn } from "./run";

export const dispatchOperations = ({ dispatch }: Services) => ({
  "dispatch.event": (async (input) => ({
    success: true,
    message: "Event dispatched successfully",
    dispatchedCount: await dispatch.event(input),
  })) satisfies OperationFn<typeof dispatchEvent>,
  "dispatch.user": (({ userId, type, data }) => dispatch.toUsers([userId], type, data)) satisfies OperationFn<
    typeof messageUser
  >,
  "dispatch.users": (({ userIds, type, data }) => dispatch.toUsers(userIds, type, data)) satisfies OperationFn<
    typeof messageUsers
  >,
  "dispatch.broadcast": (({ type, data }) => dispatch.broadcast(type, data)) satisfies OperationFn<
    typeof messageBroadcast
  >,
  "dispatch.notification": (({ userId, ...notification }) =>
    dispatch.notify(userId, notification)) satisfies OperationFn<typeof sendNotification>,
});
