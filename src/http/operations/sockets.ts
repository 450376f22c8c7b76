import type { socketStats } from "../../../contracts/admin/sockets";
import type { Services } from "../../services";
import type { OperationFn } from "./run";

export const socketOperations = ({ connections }: Services) => ({
  "sockets.stats": ((input) => connections.page(input)) satisfies OperationFn<typeof socketStats>,
});
