/**
 * Delivery and read receipts (seed 001): a room member other than the sender confirms a message; one
 * row per (message, member) keeps when it was delivered and when it was read. Every device of the
 * sender hears each state once: `message:delivered`, `message:read`. Read implies delivered: a read
 * of a message never confirmed delivered stores both at once and the sender hears both (delivered
 * first). A repeat changes nothing, sends nothing, and is answered with the stored receipt.
 *
 * Every write is one statement that only one caller can win (`INSERT … ON CONFLICT DO NOTHING`,
 * `UPDATE … WHERE read_at IS NULL`), so concurrent confirmations, on any number of nodes sharing the
 * database, notify the sender once.
 */
import { and, eq, isNull } from "drizzle-orm";
import type { Receipt } from "../../../generated/events";
import type { Store } from "../../db/client";
import type { Delivery } from "../delivery";
import { AppError, clip } from "../errors";
import { type RoomMember, requireMember } from "../rooms";

export type ReceiptKind = "delivered" | "read";

export interface ReceiptsDeps {
  store: Store;
  delivery: Delivery;
}

export function createReceipts({ store, delivery }: ReceiptsDeps) {
  const { db } = store;
  const { messages, receipts } = store.tables;
  type Row = typeof receipts.$inferSelect;
  const mine = (messageId: string, userId: string) =>
    and(eq(receipts.messageId, messageId), eq(receipts.userId, userId));

  /**
   * Stores the receipt if it is new; returns the stored row and which states this call added. Each
   * write is one statement only one caller can win; the last read only reports what is stored.
   */
  const record = async (
    kind: ReceiptKind,
    messageId: string,
    userId: string,
  ): Promise<{ row: Row; added: ReceiptKind[] }> => {
    const at = new Date().toISOString();
    const [inserted] = await db
      .insert(receipts)
      .values({ messageId, userId, deliveredAt: at, readAt: kind === "read" ? at : null })
      .onConflictDoNothing()
      .returning();
    if (inserted) return { row: inserted, added: kind === "read" ? ["delivered", "read"] : ["delivered"] };
    if (kind === "read") {
      const [updated] = await db
        .update(receipts)
        .set({ readAt: at })
        .where(and(mine(messageId, userId), isNull(receipts.readAt)))
        .returning();
      if (updated) return { row: updated, added: ["read"] };
    }
    const [row] = await db.select().from(receipts).where(mine(messageId, userId)).limit(1);
    if (!row) throw new AppError("INTERNAL", "Internal error");
    return { row, added: [] };
  };

  return {
    /**
     * Confirms `messageId` as delivered or read by `reader`: NOT_FOUND for an unknown message;
     * FORBIDDEN unless the socket is in its room, and for its own sender. Resolves with the stored
     * receipt (`at`: when it was delivered, or read).
     */
    async confirm(kind: ReceiptKind, reader: RoomMember, messageId: string): Promise<Receipt> {
      const [message] = await db
        .select({ roomId: messages.roomId, senderId: messages.senderId })
        .from(messages)
        .where(eq(messages.id, messageId))
        .limit(1);
      if (!message) throw new AppError("NOT_FOUND", `Message "${clip(messageId)}" not found`);
      await requireMember(delivery, reader, message.roomId);
      if (message.senderId === reader.userId) {
        throw new AppError("FORBIDDEN", "A message's sender does not confirm its own message");
      }

      const { row, added } = await record(kind, messageId, reader.userId);
      const receiptOf = (state: ReceiptKind): Receipt => ({
        messageId,
        roomId: message.roomId,
        userId: reader.userId,
        at: (state === "read" ? row.readAt : row.deliveredAt) ?? row.deliveredAt,
      });
      for (const state of added) {
        delivery.emit(
          { user: message.senderId },
          state === "read" ? "message:read" : "message:delivered",
          receiptOf(state),
        );
      }
      return receiptOf(kind);
    },
  };
}

export type Receipts = ReturnType<typeof createReceipts>;
