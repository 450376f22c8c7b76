/**
 * Chat with history (seed 001): messages of a room's members, stored in SQLite, then sent to the
 * room's other sockets (the sender's other devices included) as `message:new`.
 *
 * Idempotent sends: a `clientMessageId` is unique per sender (a unique index). Every send inserts with
 * `ON CONFLICT DO NOTHING`, so a repeat, even one racing the first on another node, stores nothing and
 * sends nothing: it is answered with the stored message. Reusing an id for a different message (another room, content or type) is a client bug we
 * report (CONFLICT) instead of answering with a message that is not the one sent.
 *
 * History pages by id: ids are UUIDv7, so id order is time order and a message id is the cursor.
 */
import { and, desc, eq, lt, sql } from "drizzle-orm";
import type { ChatMessage, MessageHistory, MessageHistoryPayload, MessageSendPayload } from "../../../generated/events";
import type { Store, Tables } from "../../db/client";
import type { Delivery } from "../delivery";
import { AppError, clip, invalidInput } from "../errors";
import { type RoomMember, requireMember } from "../rooms";

export interface ChatDeps {
  /** Messages are written with `store.write`: on SQLite those of one turn share a commit; each ack waits for its commit. */
  store: Store;
  delivery: Delivery;
  /** MAX_MESSAGE_CHARS: the longest `content`, in UTF-16 code units (JavaScript's `length`). */
  maxMessageChars: number;
}

/** A page when `limit` is not given. */
export const DEFAULT_HISTORY_LIMIT = 50;
const MESSAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Row = Tables["messages"]["$inferSelect"];

export const toChatMessage = (r: Row): ChatMessage => ({
  id: r.id,
  roomId: r.roomId,
  senderId: r.senderId,
  content: r.content,
  type: r.type,
  createdAt: r.createdAt,
  ...(r.clientMessageId === null ? {} : { clientMessageId: r.clientMessageId }),
});

export function createChat({ store, delivery, maxMessageChars }: ChatDeps) {
  const { db } = store;
  const { messages } = store.tables;
  // Prepared once: building the statement per message cost more than running it.
  const insertMessage = store.statement((db) =>
    db
      .insert(messages)
      .values({
        id: sql.placeholder("id"),
        roomId: sql.placeholder("roomId"),
        senderId: sql.placeholder("senderId"),
        content: sql.placeholder("content"),
        type: sql.placeholder("type"),
        clientMessageId: sql.placeholder("clientMessageId"),
        createdAt: sql.placeholder("createdAt"),
      })
      .onConflictDoNothing({ target: [messages.senderId, messages.clientMessageId] })
      // Only whether a row went in: the message is the values sent (no row read back and mapped).
      .returning({ id: messages.id }),
  );

  const sameMessage = (row: Row, input: MessageSendPayload) =>
    row.roomId === input.roomId && row.content === input.content && row.type === (input.type ?? "text");

  /** The stored message of a repeated clientMessageId: the first one, or CONFLICT when this is another. */
  const repeatOf = async (senderId: string, input: MessageSendPayload): Promise<ChatMessage | undefined> => {
    if (input.clientMessageId === undefined) return undefined;
    const [row] = await db
      .select()
      .from(messages)
      .where(and(eq(messages.senderId, senderId), eq(messages.clientMessageId, input.clientMessageId)))
      .limit(1);
    if (!row) return undefined;
    if (!sameMessage(row, input)) {
      throw new AppError(
        "CONFLICT",
        `clientMessageId "${clip(input.clientMessageId)}" was already used for another message`,
        { messageId: row.id },
      );
    }
    return toChatMessage(row);
  };

  return {
    /**
     * Stores `input` and sends it to the room's other sockets; resolves (for the ack) once the row is
     * committed. BAD_REQUEST past MAX_MESSAGE_CHARS; FORBIDDEN unless the socket is in the room; a
     * repeated clientMessageId is answered with the first message (even after its sender left the room).
     */
    async send(sender: RoomMember, input: MessageSendPayload): Promise<ChatMessage> {
      if (input.content.length > maxMessageChars) {
        throw invalidInput([{ path: "content", message: `Too big: expected at most ${maxMessageChars} characters` }]);
      }
      try {
        await requireMember(delivery, sender, input.roomId);
      } catch (error) {
        // A retry of a message stored before its sender left the room is still answered.
        const repeat = await repeatOf(sender.userId, input);
        if (repeat) return repeat;
        throw error;
      }

      const values = {
        id: Bun.randomUUIDv7(),
        roomId: input.roomId,
        senderId: sender.userId,
        content: input.content,
        type: input.type ?? "text",
        clientMessageId: input.clientMessageId ?? null,
        createdAt: new Date().toISOString(),
      };
      const [inserted] = await store.write(insertMessage.with(values));
      // Nothing inserted: this clientMessageId is stored already (a repeat, or a race the unique index decided).
      if (!inserted) {
        const stored = await repeatOf(sender.userId, input);
        if (!stored) throw new AppError("INTERNAL", "Internal error");
        return stored;
      }

      const message = toChatMessage(values);
      delivery.emit({ room: input.roomId, except: [sender.socketId] }, "message:new", message);
      return message;
    },

    /** A page of the room's messages, newest first, older than `before`; members only. */
    async history(member: RoomMember, input: MessageHistoryPayload): Promise<MessageHistory> {
      const before = input.before?.toLowerCase();
      if (before !== undefined && !MESSAGE_ID.test(before)) {
        throw invalidInput([{ path: "before", message: "Invalid cursor: expected a message id (a nextCursor)" }]);
      }
      await requireMember(delivery, member, input.roomId);
      const limit = input.limit ?? DEFAULT_HISTORY_LIMIT;
      const rows = await db
        .select()
        .from(messages)
        .where(
          before === undefined
            ? eq(messages.roomId, input.roomId)
            : and(eq(messages.roomId, input.roomId), lt(messages.id, before)),
        )
        .orderBy(desc(messages.id))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      return {
        messages: page.map(toChatMessage),
        nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
      };
    },
  };
}

export type Chat = ReturnType<typeof createChat>;
