import type { connectedUsers, disconnectUser, myStatus, userStatus } from "../../../contracts/admin/users";
import type { Services } from "../../services";
import { callerUserId, type OperationFn } from "./run";

export const userOperations = ({ status }: Services) => ({
  "users.connected": ((page) => status.connected(page)) satisfies OperationFn<typeof connectedUsers>,
  "users.status": (({ userId }) => status.user(userId)) satisfies OperationFn<typeof userStatus>,
  "users.me": ((_input, ctx) => status.user(callerUserId(ctx))) satisfies OperationFn<typeof myStatus>,
  "users.disconnect": (async ({ userId }) => {
    const disconnected = await status.disconnect(userId);
    return { success: disconnected > 0, disconnected };
  }) satisfies OperationFn<typeof disconnectUser>,
});
