/**
 * Reaching clients from a backend: seed 003's dispatch (`POST /api/socket/dispatch`, any event name to
 * a channel, a user, or a user in a channel) and seed 004's messages (`message { type, data, timestamp }`
 * to a user, some users or everyone, and notifications). Nothing is queued: a user who is not connected
 * is listed in `offline` and gets nothing.
 */
import { z } from "zod";
import { operation } from "../operation";

/** Nesting allowed in dispatched data: deeper values cannot be serialised safely by Socket.IO's encoder. */
export const MAX_DATA_DEPTH = 32;

/**
 * Whether `value` nests objects / arrays at most `max` levels deep (walked without recursion). Runs
 * on every dispatch: primitives are never stacked, and the stack holds values and depths side by
 * side (no pair allocated per value).
 */
function nestsAtMost(value: unknown, max: number): boolean {
  if (typeof value !== "object" || value === null) return true;
  const values: object[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const v = values.pop() as object;
    const depth = depths.pop() as number;
    if (depth >= max) return false;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child !== "object" || child === null) continue;
      values.push(child);
      depths.push(depth + 1);
    }
  }
  return true;
}

/** Any JSON value the clients get as sent (required; `null` is a value). */
export const DispatchData = z
  .unknown()
  .superRefine((value, ctx) => {
    if (value === undefined) ctx.addIssue({ code: "custom", message: "is required" });
    else if (!nestsAtMost(value, MAX_DATA_DEPTH))
      ctx.addIssue({ code: "custom", message: `nests deeper than ${MAX_DATA_DEPTH} levels` });
  })
  .meta({ description: `Any JSON value (at most ${MAX_DATA_DEPTH} levels deep)` });

const UserId = z.string().min(1).max(256).meta({ description: "A user id (the token's `sub`)", example: "user-123" });

/** A channel (seed 003): the room trusted service connections joined with `?channel=`. */
export const Channel = z
  .string()
  .regex(/^[A-Za-z0-9:_.@-]{1,128}$/, { error: "1-128 characters of A-Z a-z 0-9 : _ . @ -" })
  .refine((c) => !c.startsWith("user:"), { error: "user:* rooms are not channels" })
  .meta({
    description: "A channel: the room trusted service connections joined with `?channel=` (`user:*` is refused)",
    example: "my-channel",
  });

/** A dispatched event name: 1-64 characters of `A-Za-z0-9:_.-`. */
export const EventName = z
  .string()
  .regex(/^[A-Za-z0-9:_.-]{1,64}$/, { error: "1-64 characters of A-Z a-z 0-9 : _ . -" })
  .meta({
    description:
      "The Socket.IO event name clients receive. An event declared server -> client in asyncapi.yaml: `data` must " +
      "match its schema. A reserved Socket.IO name (connect, connect_error, disconnect, disconnecting, error, " +
      "newListener, removeListener) or a client -> server event: refused (400)",
    example: "notification",
  });

/** A seed 004 message type (`notification` is what /websocket/notification sends). */
const MessageType = z
  .string()
  .min(1)
  .max(64)
  .meta({ description: "The message's `type`: chat, system, update, alert, custom, ...", example: "chat" });

/** What seed 004's sends answer. */
const SendResult = z.object({
  success: z.boolean().meta({ description: "true when at least one socket got the message" }),
  delivered: z.array(z.string()).meta({ description: "Users with at least one connected socket: they got it" }),
  offline: z.array(z.string()).meta({ description: "Users with no connected socket: nothing was sent (no queue)" }),
  socketCount: z.number().int().meta({ description: "Sockets the message was sent to" }),
});

export const dispatchEvent = operation({
  name: "dispatch.event",
  method: "POST",
  path: "/api/socket/dispatch",
  auth: "admin",
  summary: "Send an event to a channel, a user, or a user in a channel (seed 003)",
  description:
    "`channel` only: every socket in the channel; `userId` only: every socket of the user; both: the user's " +
    "sockets in that channel; neither: 400. Clients receive `event` with `data` as the payload. " +
    "`dispatchedCount` is the number of sockets reached (0 is not an error).",
  input: z.strictObject({
    channel: Channel.optional(),
    userId: UserId.optional(),
    event: EventName,
    data: DispatchData,
  }),
  output: z.object({
    success: z.literal(true),
    message: z.literal("Event dispatched successfully"),
    dispatchedCount: z.number().int().meta({ description: "Sockets the event was sent to" }),
  }),
  example: {
    input: {
      channel: "my-channel",
      event: "notification",
      data: { title: "Nova mensagem", body: "Você tem uma nova mensagem" },
    },
    output: { success: true, message: "Event dispatched successfully", dispatchedCount: 5 },
  },
});

export const messageUser = operation({
  name: "dispatch.user",
  method: "POST",
  path: "/websocket/message/user",
  auth: "admin",
  summary: "Send `message { type, data, timestamp }` to every socket of one user (seed 004)",
  input: z.strictObject({ userId: UserId, type: MessageType, data: DispatchData }),
  output: SendResult,
  example: {
    input: { userId: "user123", type: "chat", data: { message: "Hello!", sender: "system" } },
    output: { success: true, delivered: ["user123"], offline: [], socketCount: 2 },
  },
});

export const messageUsers = operation({
  name: "dispatch.users",
  method: "POST",
  path: "/websocket/message/users",
  auth: "admin",
  summary: "Send `message { type, data, timestamp }` to every socket of each user listed (seed 004)",
  description: "A user listed twice counts once; `delivered` and `offline` keep the order of `userIds`.",
  input: z.strictObject({
    userIds: z.array(UserId).min(1).max(1000).meta({ description: "1-1000 user ids" }),
    type: MessageType,
    data: DispatchData,
  }),
  output: SendResult,
  example: {
    input: {
      userIds: ["user123", "user456"],
      type: "announcement",
      data: { title: "System Update", message: "System will be updated tonight" },
    },
    output: { success: true, delivered: ["user123"], offline: ["user456"], socketCount: 1 },
  },
});

export const messageBroadcast = operation({
  name: "dispatch.broadcast",
  method: "POST",
  path: "/websocket/message/broadcast",
  auth: "admin",
  summary: "Send `message { type, data, timestamp }` to every connected socket (seed 004)",
  description: "`delivered` lists the users connected when it was sent; `offline` is always empty.",
  input: z.strictObject({ type: MessageType, data: DispatchData }),
  output: SendResult,
  example: {
    input: { type: "system", data: { message: "Welcome to our platform!", level: "info" } },
    output: { success: true, delivered: ["user123", "user456"], offline: [], socketCount: 3 },
  },
});

export const sendNotification = operation({
  name: "dispatch.notification",
  method: "POST",
  path: "/websocket/notification",
  auth: "admin",
  summary: 'Send a notification: `message { type: "notification", data: { title, body, ...data } }` (seed 004)',
  description:
    "The keys of `data` are copied next to `title` and `body`; `title` and `body` win over keys of the same name.",
  input: z.strictObject({
    userId: UserId,
    title: z.string().min(1).max(256).meta({ example: "New Message" }),
    body: z.string().max(4096).meta({ example: "You have received a new message" }),
    data: z
      .record(z.string(), DispatchData)
      .optional()
      .meta({ description: "More fields for the client", example: { category: "message", priority: "normal" } }),
  }),
  output: SendResult,
  example: {
    input: {
      userId: "user123",
      title: "New Message",
      body: "You have received a new message",
      data: { category: "message", priority: "normal" },
    },
    output: { success: true, delivered: ["user123"], offline: [], socketCount: 1 },
  },
});
