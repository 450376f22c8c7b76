/** Connection management for backends (seed 003: /api/socket/sockets/..., seed 001: /api/socket/health). */
import { z } from "zod";
import { operation } from "../operation";
import { nextCursor, PAGE_DESCRIPTION, pageCursor, pageLimit } from "../shared/page";
import { Channel } from "./dispatch";

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
  description: PAGE_DESCRIPTION,
  input: z.object({
    limit: pageLimit("Connections"),
    cursor: pageCursor,
  }),
  output: z.object({
    totalConnections: z.number().int().meta({ description: "Open connections in all (every page)" }),
    connections: z.array(SocketInfo),
    nextCursor,
  }),
  example: {
    input: { limit: 100 },
    output: {
      totalConnections: 1,
      connections: [
        {
          socketId: "Gkq2VwWm0kY5AAAB",
          channel: "my-channel",
          userId: "user-123",
          connectedAt: "2024-01-15T10:30:00.000Z",
        },
      ],
      nextCursor: null,
    },
  },
});

export const channelStats = operation({
  name: "sockets.channelStats",
  method: "GET",
  path: "/api/socket/sockets/channel/:channel/stats",
  auth: "admin",
  summary: "How many users and sockets are in a channel (seed 003)",
  description: "A channel nobody is in answers zeros (no 404): channels exist only while sockets are in them.",
  input: z.object({ channel: Channel }),
  output: z.object({
    channel: z.string(),
    userCount: z.number().int().meta({ description: "Distinct users with a socket in the channel" }),
    socketCount: z.number().int().meta({ description: "Sockets in the channel" }),
  }),
  example: {
    input: { channel: "my-channel" },
    output: { channel: "my-channel", userCount: 5, socketCount: 8 },
  },
});

export const socketHealth = operation({
  name: "sockets.health",
  method: "GET",
  path: "/api/socket/health",
  auth: "public",
  summary: "Whether Socket.IO serves, how many sockets and rooms it has (seed 001)",
  description:
    "Public, as in seed 001 (load balancers call it without a token); it tells no more than /health does. " +
    "`rooms` counts the rooms sockets joined (chat rooms and channels), not each socket's own room nor user rooms.",
  input: z.object({}),
  output: z.object({
    status: z.literal("ok"),
    socket: z.object({
      initialized: z.boolean().meta({ description: "Socket.IO accepts connections" }),
      connected: z.number().int().meta({ description: "Open connections (main namespace, every node)" }),
      rooms: z.number().int().meta({ description: "Rooms with at least one socket" }),
    }),
  }),
  example: { input: {}, output: { status: "ok", socket: { initialized: true, connected: 5, rooms: 12 } } },
});
