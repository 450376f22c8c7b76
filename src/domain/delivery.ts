/**
 * The delivery port: how domain code reaches connected clients without knowing Socket.IO. The
 * realtime layer implements it on top of the one adapter (src/realtime/delivery.ts), so the same
 * domain code runs on one node or many. Rooms are plain strings; `userRoom(id)` reaches every
 * device of a user.
 */
import type { ServerEventName, ServerEventPayload } from "../../generated/events";

/** One open connection, as the domain sees it. */
export interface ConnectionInfo {
  socketId: string;
  userId: string;
  /** The channel a trusted service connection joined (seed 003); null for end users. */
  channel: string | null;
  connectedAt: string;
  rooms: string[];
}

/** Where an emit goes: a room, a user (all devices), one socket, or everyone; minus some sockets. */
export type Target =
  | { room: string; except?: string[] }
  | { user: string; except?: string[] }
  | { socket: string }
  | { everyone: true; except?: string[] };

export interface Delivery {
  emit<E extends ServerEventName>(target: Target, event: E, payload: ServerEventPayload<E>): void;
  /**
   * Emits an event name asyncapi.yaml does not declare (a run-time name: a registered subscriber's).
   * The caller makes sure the name is neither declared nor reserved (`domain/events/names.ts`).
   */
  emitDynamic(target: Target, event: string, payload: unknown): void;
  /** Whether a socket is in a room (answered locally when the socket is on this node). */
  inRoom(socketId: string, room: string): boolean | Promise<boolean>;
  join(socketId: string, room: string): Promise<void>;
  leave(socketId: string, room: string): Promise<void>;
  /** Closes the matched sockets; resolves with how many there were. */
  disconnect(target: Exclude<Target, { everyone: true }>): Promise<number>;
  /** Open connections, all of them or those of a target, on every node. */
  connections(target?: Exclude<Target, { everyone: true }>): Promise<ConnectionInfo[]>;
  count(target?: Exclude<Target, { everyone: true }>): Promise<number>;
}

/** The room every socket of one user joins: emit to it to reach all their devices. */
export const userRoom = (userId: string) => `user:${userId}`;
