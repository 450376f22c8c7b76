/**
 * Who is connected, and managing a user's connections (seed 004: /websocket/users/..., /websocket/me/status).
 * A user's devices are its open sockets on every node; its status is the one presence stores.
 */
import { z } from "zod";
import { operation } from "../operation";
import { nextCursor, PAGE_DESCRIPTION, pageCursor, pageLimit } from "../shared/page";

const UserId = z.string().min(1).max(256).meta({ description: "A user id (the token's `sub`)", example: "user123" });

const UserStatus = z
  .object({
    userId: z.string(),
    online: z.boolean().meta({ description: "At least one socket of the user is connected" }),
    status: z.enum(["online", "away", "busy", "offline"]).meta({
      description:
        "`offline` when no socket is connected; else the status the user chose (`user:status`; `offline` there " +
        "means connected but invisible to friends)",
    }),
    devices: z.number().int().meta({ description: "Connected sockets" }),
    lastSeen: z.iso
      .datetime()
      .nullable()
      .meta({ description: "When friends last saw the user go offline; null if never" }),
  })
  .meta({ id: "UserConnectionStatus", description: "A user's connections and presence" });

export const connectedUsers = operation({
  name: "users.connected",
  method: "GET",
  path: "/websocket/users/connected",
  auth: "admin",
  summary: "Connected users with their device counts, by user id (seed 004)",
  description:
    "Every user with at least one open socket (trusted service connections included), invisible ones too. " +
    PAGE_DESCRIPTION,
  input: z.object({
    limit: pageLimit("Users"),
    cursor: pageCursor,
  }),
  output: z.object({
    totalUsers: z.number().int().meta({ description: "Connected users in all (every page)" }),
    totalConnections: z.number().int().meta({ description: "Their open sockets in all" }),
    users: z.array(
      z.object({
        userId: z.string(),
        devices: z.number().int().meta({ description: "Open sockets of the user" }),
        status: UserStatus.shape.status,
        connectedAt: z.iso.datetime().meta({ description: "When its oldest open socket connected" }),
      }),
    ),
    nextCursor,
  }),
  example: {
    input: { limit: 100 },
    output: {
      totalUsers: 2,
      totalConnections: 3,
      users: [
        { userId: "user123", devices: 2, status: "online", connectedAt: "2024-01-15T10:30:00.000Z" },
        { userId: "user456", devices: 1, status: "away", connectedAt: "2024-01-15T10:31:00.000Z" },
      ],
      nextCursor: null,
    },
  },
});

export const userStatus = operation({
  name: "users.status",
  method: "GET",
  path: "/websocket/users/:userId/status",
  auth: "admin",
  summary: "Whether a user is connected, on how many devices, and its status (seed 004)",
  description: "A user never seen answers `online: false, status: offline, devices: 0, lastSeen: null` (no 404).",
  input: z.object({ userId: UserId }),
  output: UserStatus,
  example: {
    input: { userId: "user123" },
    output: { userId: "user123", online: true, status: "online", devices: 2, lastSeen: "2024-01-15T09:00:00.000Z" },
  },
});

export const myStatus = operation({
  name: "users.me",
  method: "GET",
  path: "/websocket/me/status",
  auth: "user",
  summary: "The caller's own connection status (seed 004)",
  description:
    "Authenticated by the caller's own JWT (an admin JWT answers for its `sub`); the API token has no user: 403.",
  input: z.object({}),
  output: UserStatus,
  example: {
    input: {},
    output: { userId: "user123", online: true, status: "online", devices: 1, lastSeen: null },
  },
});

export const disconnectUser = operation({
  name: "users.disconnect",
  method: "DELETE",
  path: "/websocket/users/:userId/disconnect",
  auth: "admin",
  summary: "Close every socket of a user (seed 004)",
  description:
    "The sockets are closed from the server (the client is not told to reconnect); presence follows as for any " +
    "disconnect (friends get `user:offline`). A user with no socket answers `success: false, disconnected: 0`.",
  input: z.object({ userId: UserId }),
  output: z.object({
    success: z.boolean().meta({ description: "true when at least one socket was closed" }),
    disconnected: z.number().int().meta({ description: "Sockets closed" }),
  }),
  example: { input: { userId: "user123" }, output: { success: true, disconnected: 2 } },
});
