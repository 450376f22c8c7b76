/**
 * Dynamic events (seed 000): a client emits a name registered as a subscriber, with
 * `{ data?, roomId?, ... }`. The answer is seed 000's `{ event, subscribers, originalData }`. With a
 * replicable subscriber and a `roomId` the sender has joined, the room's other sockets (the
 * sender's other devices too) get the same name with `{ ...originalData, userId, timestamp,
 * subscriberId }`; the server's fields come last, so a client cannot speak for another user. A
 * non-replicable event is never sent to another client. A `roomId` the sender has not joined is
 * FORBIDDEN whatever the subscriber, and nothing is sent.
 */
import { RoomId } from "../../../generated/events";
import type { Delivery } from "../delivery";
import { AppError, clip, fieldIssues, invalidInput } from "../errors";
import { type RoomMember, requireMember } from "../rooms";
import type { Subscribers } from ".";

/** Seed 000's answer (asyncapi.yaml: DynamicEventResult). */
export interface DynamicEventResult {
  event: string;
  subscribers: { subscriberId: string; eventListener: string; replicable: boolean; processed: boolean }[];
  originalData: Record<string, unknown>;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The payload as asyncapi.yaml's DynamicEventPayload allows it: an object (none: `{}`), `roomId` a room id. */
function payloadOf(payload: unknown): { originalData: Record<string, unknown>; roomId: string | undefined } {
  if (payload === undefined) return { originalData: {}, roomId: undefined };
  if (!isPlainObject(payload)) {
    throw invalidInput([{ path: "", message: "Expected an object: { data?, roomId?, ... }" }]);
  }
  if (payload.roomId === undefined) return { originalData: payload, roomId: undefined };
  const roomId = RoomId.safeParse(payload.roomId);
  if (!roomId.success) throw invalidInput(fieldIssues(roomId.error.issues, "roomId"));
  return { originalData: payload, roomId: roomId.data };
}

export interface DynamicEventsDeps {
  subscribers: Subscribers;
  delivery: Delivery;
  /**
   * Queues a postback (the postback queue's enqueue): an accepted event of a subscriber with a
   * `postbackUrl` is forwarded there as `{ event, userId, roomId, data, timestamp }`.
   */
  forward?: (postbackUrl: string, payload: Record<string, unknown>) => unknown;
}

export function createDynamicEvents({ subscribers, delivery, forward }: DynamicEventsDeps) {
  return {
    /** Whether clients may emit `event` now (a registered name that nothing declared shadows). */
    registered: (event: string): boolean => subscribers.lookup(event) !== undefined,

    /**
     * Handles one emitted dynamic event. NOT_FOUND when the name is not registered, BAD_REQUEST for a
     * payload that is not an object or a malformed `roomId`, FORBIDDEN for a room the socket is not in.
     */
    async handle(sender: RoomMember, event: string, payload: unknown): Promise<DynamicEventResult> {
      const subscriber = subscribers.lookup(event);
      if (!subscriber) throw new AppError("NOT_FOUND", `Unknown event "${clip(event)}"`);
      const { originalData, roomId } = payloadOf(payload);
      if (roomId !== undefined) await requireMember(delivery, sender, roomId);
      const timestamp = new Date().toISOString();
      if (subscriber.replicable && roomId !== undefined) {
        delivery.emitDynamic({ room: roomId, except: [sender.socketId] }, event, {
          ...originalData,
          userId: sender.userId,
          timestamp,
          subscriberId: subscriber.id,
        });
      }
      if (subscriber.postbackUrl && forward) {
        // Stored (committed) before the ack, like any enqueue.
        await forward(subscriber.postbackUrl, {
          event,
          userId: sender.userId,
          roomId: roomId ?? null,
          data: originalData.data ?? null,
          timestamp,
        });
      }
      return {
        event,
        subscribers: [
          {
            subscriberId: subscriber.id,
            eventListener: subscriber.eventListener,
            replicable: subscriber.replicable,
            processed: true,
          },
        ],
        originalData,
      };
    },
  };
}

export type DynamicEvents = ReturnType<typeof createDynamicEvents>;
