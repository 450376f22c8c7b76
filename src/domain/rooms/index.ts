/**
 * Rooms (seed 000): a socket joins and leaves rooms by id; the room's other sockets hear about users,
 * not devices. `room:user-joined` goes out when a user's first socket enters a room, `room:user-left`
 * when its last socket is gone from it (a leave or a disconnect), so a second device never announces
 * its user twice. A socket that comes back within RECOVERY_WINDOW_MS gets its rooms back from
 * Socket.IO; the others, who were told it left, are told it joined again.
 *
 * Reserved rooms can never be joined: `user:*` (every device of a user) and socket ids (the room each
 * socket is addressed by). A socket id is refused while a connection holds it, on every node (asked
 * of the delivery port); a socket that recovers its id evicts anyone who joined a room of that name
 * while it was away. Socket ids are 96 random bits, shown only to their socket and to admins.
 *
 * Membership is asked of the delivery port, so it holds on any adapter; `requireMember` is the check
 * chat and receipts use.
 */
import type { RoomJoined, RoomLeft } from "../../../generated/events";
import type { ConnectionListener } from "../connections/events";
import type { Delivery } from "../delivery";
import { AppError, clip } from "../errors";

/** The socket acting, and whose user. */
export interface RoomMember {
  socketId: string;
  userId: string;
}

/** `user:*` rooms reach every device of a user; a socket's own id is the room it is addressed by. */
const isReserved = (roomId: string, socketId: string) => roomId.startsWith("user:") || roomId === socketId;

/** FORBIDDEN unless the socket is in the room (its own id and the `user:*` rooms are not rooms here). */
export async function requireMember(delivery: Delivery, { socketId }: RoomMember, roomId: string): Promise<void> {
  if (!isReserved(roomId, socketId) && (await delivery.inRoom(socketId, roomId))) return;
  throw new AppError("FORBIDDEN", `Not a member of room "${clip(roomId)}": join it first`);
}

/**
 * The rooms a token's `rooms` claim lets its user join: absent, every room (seed behaviour); an array,
 * the ids it lists and the rooms starting with the prefix of each `prefix*` entry (`team-42:*`; a bare
 * `*` allows every room). Anything else allows no room: a malformed claim fails closed.
 */
export function roomsClaimAllows(claim: unknown, roomId: string): boolean {
  if (claim === undefined) return true;
  if (!Array.isArray(claim)) return false;
  return claim.some(
    (entry) =>
      typeof entry === "string" && (entry.endsWith("*") ? roomId.startsWith(entry.slice(0, -1)) : entry === roomId),
  );
}

export interface RoomsDeps {
  delivery: Delivery;
}

export function createRooms({ delivery }: RoomsDeps) {
  /** True when another socket of `userId` than `socketId` is in the room. */
  const otherDeviceIn = async (roomId: string, userId: string, socketId: string) =>
    (await delivery.connections({ room: roomId })).some((c) => c.userId === userId && c.socketId !== socketId);

  const announceLeft = async (roomId: string, userId: string, socketId: string) => {
    if (await otherDeviceIn(roomId, userId, socketId)) return;
    delivery.emit({ room: roomId, except: [socketId] }, "room:user-left", { userId, roomId });
  };

  const listener: ConnectionListener = {
    /** The socket left every room: its user leaves those where it has no other socket. */
    async disconnected({ socketId, userId, rooms }) {
      await Promise.all(rooms.map((roomId) => announceLeft(roomId, userId, socketId)));
    },

    /** A recovered socket is back in its rooms: evict squatters of its id, and re-announce its user. */
    async connected({ socketId, userId, recovered }) {
      if (!recovered) return;
      const inOwnRoom = await delivery.connections({ socket: socketId });
      await Promise.all(
        inOwnRoom.filter((c) => c.socketId !== socketId).map((c) => delivery.leave(c.socketId, socketId)),
      );
      const self = inOwnRoom.find((c) => c.socketId === socketId);
      const rooms = (self?.rooms ?? []).filter((r) => !isReserved(r, socketId));
      await Promise.all(
        rooms.map(async (roomId) => {
          if (await otherDeviceIn(roomId, userId, socketId)) return;
          delivery.emit({ room: roomId, except: [socketId] }, "room:user-joined", { userId, roomId });
        }),
      );
    },
  };

  return {
    /**
     * Joins the socket to the room; the ack lists the room's users, this one included. FORBIDDEN for
     * reserved rooms and rooms outside the token's `rooms` claim. Joining again is harmless: the
     * same answer, nothing announced.
     */
    async join(member: RoomMember & { roomsClaim: unknown }, roomId: string): Promise<RoomJoined> {
      const { socketId, userId } = member;
      const reserved = () =>
        new AppError("FORBIDDEN", `Room "${clip(roomId)}" is reserved: user rooms and socket ids cannot be joined`);
      if (isReserved(roomId, socketId)) throw reserved();
      if (!roomsClaimAllows(member.roomsClaim, roomId)) {
        throw new AppError("FORBIDDEN", `Room "${clip(roomId)}" is outside this token's rooms claim`);
      }
      // One look at the room: a socket is in the room named by its id, so a live holder of the id shows here.
      const inRoom = await delivery.connections({ room: roomId });
      if (inRoom.some((c) => c.socketId === roomId)) throw reserved();
      if (!inRoom.some((c) => c.socketId === socketId)) {
        await delivery.join(socketId, roomId);
        if (!inRoom.some((c) => c.userId === userId)) {
          delivery.emit({ room: roomId, except: [socketId] }, "room:user-joined", { userId, roomId });
        }
      }
      return { roomId, members: [...new Set([...inRoom.map((c) => c.userId), userId])].sort() };
    },

    /**
     * Takes the socket out of the room; the others hear `room:user-left` once the user has no socket
     * left in it. Leaving a room the socket is not in is harmless (nothing is sent). The reserved
     * rooms cannot be left (FORBIDDEN): a socket stays reachable as itself and as its user.
     */
    async leave({ socketId, userId }: RoomMember, roomId: string): Promise<RoomLeft> {
      if (isReserved(roomId, socketId)) {
        throw new AppError("FORBIDDEN", `Room "${clip(roomId)}" is reserved: user rooms and socket ids cannot be left`);
      }
      const [self] = (await delivery.connections({ socket: socketId })).filter((c) => c.socketId === socketId);
      if (self?.rooms.includes(roomId)) {
        await delivery.leave(socketId, roomId);
        await announceLeft(roomId, userId, socketId);
      }
      return { roomId };
    },

    listener,
  };
}

export type Rooms = ReturnType<typeof createRooms>;
