import type { channelStats, socketHealth, socketStats } from "../../../contracts/admin/sockets";
import type { Services } from "../../services";
import type { OperationFn } from "./run";

export const socketOperations = ({ connections, status }: Services) => ({
  "sockets.stats": ((input) => connections.page(input)) satisfies OperationFn<typeof socketStats>,
  "sockets.channelStats": (({ channel }) => status.channel(channel)) satisfies OperationFn<typeof channelStats>,
  "sockets.health": (() => status.health()) satisfies OperationFn<typeof socketHealth>,
});
