/**
 * Typing indicators (seed 001), per (user, room): the room's other sockets hear `typing:start` when
 * the user starts typing there and `typing:stop` once, when it stops: by `typing:stop` from any of
 * its devices, after `timeoutMs` without a new start, or when the last of its typing devices
 * disconnects. A repeated start only moves the deadline (nothing is sent twice). Membership is asked
 * of the delivery port, so it holds on any adapter; timers live on the node of the typing socket.
 */

import type { ConnectionListener } from "../connections/events";
import { type Delivery, userRoom } from "../delivery";
import { AppError, clip } from "../errors";

export interface TypingDeps {
  delivery: Delivery;
  /** TYPING_TIMEOUT_MS: how long a start lasts without a new one. */
  timeoutMs: number;
}

/** The socket that typed, and whose user. */
export interface Typist {
  socketId: string;
  userId: string;
}

interface Entry {
  userId: string;
  roomId: string;
  /** The user's sockets that sent a start still in force. */
  sockets: Set<string>;
  timer: ReturnType<typeof setTimeout>;
}

export function createTyping({ delivery, timeoutMs }: TypingDeps) {
  const entries = new Map<string, Entry>();
  /** socket id -> keys of the entries it typed in (cleanup on disconnect). */
  const bySocket = new Map<string, Set<string>>();
  const keyOf = (userId: string, roomId: string) => `${userId}\u0000${roomId}`;

  /** FORBIDDEN unless the socket is in the room (its own id and user room are not rooms to type in). */
  async function member({ socketId, userId }: Typist, roomId: string): Promise<void> {
    const [connection] = await delivery.connections({ socket: socketId });
    const isRoom = roomId !== socketId && roomId !== userRoom(userId);
    if (!isRoom || !connection?.rooms.includes(roomId)) {
      throw new AppError("FORBIDDEN", `Not a member of room "${clip(roomId)}": join it first`);
    }
  }

  function index(socketId: string, key: string) {
    const keys = bySocket.get(socketId) ?? new Set<string>();
    keys.add(key);
    bySocket.set(socketId, keys);
  }

  function unindex(socketId: string, key: string) {
    const keys = bySocket.get(socketId);
    keys?.delete(key);
    if (keys?.size === 0) bySocket.delete(socketId);
  }

  /** Ends an entry and tells the room once; the user's typing sockets (and `also`) are not told. */
  function end(key: string, also?: string) {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    clearTimeout(entry.timer);
    for (const socketId of entry.sockets) unindex(socketId, key);
    const except = new Set(entry.sockets);
    if (also) except.add(also);
    delivery.emit({ room: entry.roomId, except: [...except] }, "typing:stop", {
      userId: entry.userId,
      roomId: entry.roomId,
    });
  }

  const listener: ConnectionListener = {
    disconnected({ socketId }) {
      for (const key of [...(bySocket.get(socketId) ?? [])]) {
        const entry = entries.get(key);
        entry?.sockets.delete(socketId);
        unindex(socketId, key);
        if (entry?.sockets.size === 0) end(key);
      }
    },
  };

  return {
    async start(typist: Typist, roomId: string): Promise<{ roomId: string }> {
      await member(typist, roomId);
      const key = keyOf(typist.userId, roomId);
      const existing = entries.get(key);
      const timer = setTimeout(() => end(key), timeoutMs);
      timer.unref?.();
      if (existing) {
        clearTimeout(existing.timer);
        existing.timer = timer;
        existing.sockets.add(typist.socketId);
      } else {
        entries.set(key, { userId: typist.userId, roomId, sockets: new Set([typist.socketId]), timer });
        delivery.emit({ room: roomId, except: [typist.socketId] }, "typing:start", { userId: typist.userId, roomId });
      }
      index(typist.socketId, key);
      return { roomId };
    },

    /** Stops the user typing in the room (whichever of its devices started); nothing is sent if it was not. */
    async stop(typist: Typist, roomId: string): Promise<{ roomId: string }> {
      await member(typist, roomId);
      end(keyOf(typist.userId, roomId), typist.socketId);
      return { roomId };
    },

    listener,
  };
}

export type Typing = ReturnType<typeof createTyping>;
