/** Connection management for backends (seed 003: /api/socket/sockets/...). */
import { z } from "zod";
import { operation } from "../operation";

export const SocketInfo = z
  .object({
    socketId: z.string(),
    channel: z
      .string()
      .nullable()
      .meta({ description: "The channel a trusted service connection joined; null otherwise" }),
    userId: z.string(),
    connectedAt: z.iso.datetime(),
  })
  .meta({ id: "SocketInfo", description: "One open Socket.IO connection" });

export const socketStats = operation({
  name: "sockets.stats",
  method: "GET",
  path: "/api/socket/sockets/stats",
  auth: "admin",
  summary: "Open connections: how many, and one page of them, oldest first (seed 003)",
  description: "Pass `nextCursor` back as `cursor` for the next page; it is null on the last one.",
  input: z.object({
    limit: z.number().int().min(1).max(1000).default(100).meta({ description: "Connections per page" }),
    cursor: z.string().min(1).max(512).optional().meta({ description: "`nextCursor` of the previous page" }),
  }),
  output: z.object({
    totalConnections: z.number().int().meta({ description: "Open connections in all (every page)" }),
    connections: z.array(SocketInfo),
    nextCursor: z.string().nullable(),
  }),
});
