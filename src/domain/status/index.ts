/**
 * Connections and status for backends (seeds 001, 003, 004): who is connected and on how many devices,
 * one user's status, a channel's counts, Socket.IO's health, and closing a user's sockets. Everything
 * is read through the delivery port (every node) and presence (the stored status and lastSeen).
 */
import type { UserStatus } from "../../../generated/events";
import { type ConnectionInfo, type Delivery, userRoom } from "../delivery";
import { AppError } from "../errors";
import type { Presence } from "../presence";

export interface StatusDeps {
  delivery: Delivery;
  presence: Pick<Presence, "storedOf">;
}

export interface UserConnectionStatus {
  userId: string;
  online: boolean;
  status: UserStatus;
  devices: number;
  lastSeen: string | null;
}

/** A connected-users cursor: the last user id of a page, tagged so a stray value is told apart. */
const CURSOR_TAG = "u ";
const encodeCursor = (userId: string) => Buffer.from(`${CURSOR_TAG}${userId}`).toString("base64url");
function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, "base64url").toString("utf8");
  if (!key.startsWith(CURSOR_TAG) || key.length === CURSOR_TAG.length) {
    throw new AppError("BAD_REQUEST", "Invalid input: cursor: is not a nextCursor from this endpoint", {
      issues: [{ path: "cursor", message: "is not a nextCursor from this endpoint" }],
    });
  }
  return key.slice(CURSOR_TAG.length);
}

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function createStatus({ delivery, presence }: StatusDeps) {
  /** Not connected: offline whatever was chosen; connected: the chosen status (`offline` = invisible). */
  const statusOf = async (userId: string, devices: number): Promise<UserConnectionStatus> => {
    const stored = (await presence.storedOf([userId])).get(userId);
    return {
      userId,
      online: devices > 0,
      status: devices > 0 ? (stored?.status ?? "online") : "offline",
      devices,
      lastSeen: stored?.lastSeen ?? null,
    };
  };

  return {
    /** One user's connections and presence (a user never seen is offline, with no lastSeen). */
    async user(userId: string): Promise<UserConnectionStatus> {
      return statusOf(userId, await delivery.count({ user: userId }));
    },

    /** Connected users by id, a page at a time, with their devices and oldest connection. */
    async connected({ limit, cursor }: { limit: number; cursor?: string }) {
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      const connections = await delivery.connections();
      const users = new Map<string, ConnectionInfo[]>();
      for (const c of connections) {
        const list = users.get(c.userId);
        if (list) list.push(c);
        else users.set(c.userId, [c]);
      }
      const ids = [...users.keys()].sort(byId);
      const rest = after === undefined ? ids : ids.filter((id) => id > after);
      const page = rest.slice(0, limit);
      const stored = await presence.storedOf(page);
      const last = page.at(-1);
      return {
        totalUsers: ids.length,
        totalConnections: connections.length,
        users: page.map((userId) => {
          const sockets = users.get(userId) ?? [];
          return {
            userId,
            devices: sockets.length,
            status: stored.get(userId)?.status ?? "online",
            connectedAt: sockets.map((s) => s.connectedAt).sort()[0] as string,
          };
        }),
        nextCursor: rest.length > limit && last !== undefined ? encodeCursor(last) : null,
      };
    },

    /**
     * Closes every socket of the user from the server; presence, rooms and typing follow through the
     * usual disconnect listeners. Resolves with how many sockets were closed.
     */
    disconnect: (userId: string): Promise<number> => delivery.disconnect({ user: userId }),

    /** Distinct users and sockets in a channel (the room trusted service connections joined). */
    async channel(channel: string) {
      const sockets = await delivery.connections({ room: channel });
      return { channel, userCount: new Set(sockets.map((s) => s.userId)).size, socketCount: sockets.length };
    },

    /** Seed 001's socket health: open connections and the rooms they joined (own and user rooms aside). */
    async health() {
      const connections = await delivery.connections();
      const rooms = new Set<string>();
      for (const c of connections) {
        for (const room of c.rooms) if (room !== c.socketId && room !== userRoom(c.userId)) rooms.add(room);
      }
      return { status: "ok" as const, socket: { initialized: true, connected: connections.length, rooms: rooms.size } };
    },
  };
}

export type Status = ReturnType<typeof createStatus>;
