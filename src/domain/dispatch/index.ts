/**
 * Backends reaching clients (seeds 003, 004), through the delivery port only.
 *
 * - `event`: seed 003's dispatch of any event name to a channel (the room trusted service connections
 *   joined), a user, or a user's sockets in a channel. The name is checked against the contract: a
 *   reserved Socket.IO name or a client -> server event is refused; a server -> client event's data
 *   must match its schema (typed clients never get a payload their types deny); any other name is a
 *   dynamic event (asyncapi.yaml's `{eventName}` channel) and its data goes out as given.
 * - `toUsers` / `broadcast`: seed 004's `message { type, data, timestamp }` to users or everyone, with
 *   who was reached. Nothing is queued: a user with no socket is `offline` and gets nothing.
 *
 * Counts are taken just before sending (across nodes, through the port), so a socket connecting or
 * leaving at that moment may be counted and not reached, or the reverse.
 */

import type { z } from "zod";
import {
  type DispatchMessage,
  namespaces,
  type ServerEventName,
  type ServerEventPayload,
} from "../../../generated/events";
import type { Delivery, Target } from "../delivery";
import { AppError, clip, fieldIssues, invalidInput } from "../errors";
import { RESERVED_EVENT_NAMES } from "../events/names";

const main = namespaces["/"];
/** Server -> client payload schemas of the main namespace, by event name (any string may be looked up). */
const serverSchemas: Readonly<Record<string, z.ZodType>> = main.serverEventSchemas;

const refuseEvent = (message: string) => invalidInput([{ path: "event", message }]);

/**
 * What clients get for a dispatched `event` with `data`: the data itself, parsed by its schema when the
 * event is declared server -> client (`declared`). BAD_REQUEST (naming the field) for a refused name or bad data.
 */
export function dispatchPayload(event: string, data: unknown): { declared: boolean; payload: unknown } {
  if (RESERVED_EVENT_NAMES.has(event)) {
    throw refuseEvent(`"${clip(event)}" is a reserved Socket.IO event name`);
  }
  const schema = Object.hasOwn(serverSchemas, event) ? serverSchemas[event] : undefined;
  if (schema) {
    const parsed = schema.safeParse(data);
    if (!parsed.success) throw invalidInput(fieldIssues(parsed.error.issues, "data"));
    return { declared: true, payload: parsed.data };
  }
  if (Object.hasOwn(main.clientEventSchemas, event)) {
    throw refuseEvent(`"${clip(event)}" is a client -> server event: clients do not listen for it`);
  }
  return { declared: false, payload: data };
}

export interface DispatchDeps {
  delivery: Delivery;
  now?: () => Date;
}

export interface DispatchTarget {
  channel?: string;
  userId?: string;
}

export interface SendResult {
  success: boolean;
  delivered: string[];
  offline: string[];
  socketCount: number;
}

export function createDispatch({ delivery, now = () => new Date() }: DispatchDeps) {
  const message = (type: string, data: unknown): DispatchMessage => ({ type, data, timestamp: now().toISOString() });

  /** Sends `message` to each user's sockets; who had none is offline. */
  async function toUsers(userIds: readonly string[], type: string, data: unknown): Promise<SendResult> {
    const unique = [...new Set(userIds)];
    const counts = await Promise.all(unique.map((user) => delivery.count({ user })));
    const payload = message(type, data);
    const delivered: string[] = [];
    const offline: string[] = [];
    let socketCount = 0;
    unique.forEach((user, i) => {
      const sockets = counts[i] ?? 0;
      if (sockets === 0) {
        offline.push(user);
        return;
      }
      delivery.emit({ user }, "message", payload);
      delivered.push(user);
      socketCount += sockets;
    });
    return { success: socketCount > 0, delivered, offline, socketCount };
  }

  return {
    /** Seed 003: sends `event` to the target's sockets; resolves with how many there were. */
    async event({ channel, userId, event, data }: DispatchTarget & { event: string; data: unknown }): Promise<number> {
      if (channel === undefined && userId === undefined) {
        throw new AppError("BAD_REQUEST", "Invalid input: give channel, userId or both", {
          issues: [
            { path: "channel", message: "channel or userId is required" },
            { path: "userId", message: "channel or userId is required" },
          ],
        });
      }
      const { declared, payload } = dispatchPayload(event, data);
      // A declared name goes out as the contract's event (its payload was checked); any other is dynamic.
      const send = (target: Target) =>
        declared
          ? delivery.emit(target, event as ServerEventName, payload as ServerEventPayload<ServerEventName>)
          : delivery.emitDynamic(target, event, payload);
      if (userId === undefined || channel === undefined) {
        const target: Target = userId === undefined ? { room: channel as string } : { user: userId };
        const count = await delivery.count(target);
        if (count > 0) send(target);
        return count;
      }
      // A user's sockets in a channel: no room holds exactly those, so each is addressed by its id.
      const sockets = (await delivery.connections({ user: userId })).filter((c) => c.rooms.includes(channel));
      for (const s of sockets) send({ socket: s.socketId });
      return sockets.length;
    },

    /** Seed 004: `message` to every socket of each user (a user listed twice counts once). */
    toUsers,

    /** Seed 004: a notification, `message { type: "notification", data: { ...data, title, body } }`. */
    notify: (userId: string, n: { title: string; body: string; data?: Record<string, unknown> }) =>
      toUsers([userId], "notification", { ...n.data, title: n.title, body: n.body }),

    /** Seed 004: `message` to every connected socket; `delivered` lists their users, by id. */
    async broadcast(type: string, data: unknown): Promise<SendResult> {
      const connections = await delivery.connections();
      const users = [...new Set(connections.map((c) => c.userId))].sort();
      if (connections.length > 0) delivery.emit({ everyone: true }, "message", message(type, data));
      return { success: connections.length > 0, delivered: users, offline: [], socketCount: connections.length };
    },
  };
}

export type Dispatch = ReturnType<typeof createDispatch>;
