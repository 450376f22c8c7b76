/**
 * Direct messages (seed 002): one message to up to 100 users. A recipient with at least one socket
 * gets `message:direct` on every device at once; an offline one has it stored in `direct_queue` and
 * delivered when it next connects, in id order, then removed.
 *
 * Delivery of the queue is claim-then-emit: the rows of a user are deleted and returned by one
 * `DELETE … RETURNING`, so two sockets connecting at the same moment (or a connect racing
 * a send) can never both get a row: each stored message is handed to the delivery port exactly once.
 * The emit itself is fire-and-forget (no client ack), so the guarantee to a device is at most once:
 * the emit is a room broadcast, which Socket.IO keeps for connection state recovery, so a transport
 * that drops right after the claim gets it back on a reconnect within RECOVERY_WINDOW_MS; past that
 * window it is lost. We chose this over client acks: acks would need a second state per row
 * (claimed, not yet confirmed), a redelivery timer, and clients that dedupe by id.
 */
import { eq, sql } from "drizzle-orm";
import type { DirectMessage, DirectResult, InternalSendResult } from "../../../generated/events";
import type { Store, Tables } from "../../db/client";
import type { Logger } from "../../observability/logger";
import type { ConnectionListener } from "../connections/events";
import type { Delivery } from "../delivery";
import { invalidInput } from "../errors";

export interface DirectInput {
  recipientIds: string[];
  message: string;
  metadata?: Record<string, unknown> | undefined;
}

/** `metadata.source` of messages sent through the /internal namespace (seed 002). */
export const INTERNAL_SOURCE = "internal_service";

export interface DirectDeps {
  store: Store;
  delivery: Delivery;
  /** MAX_MESSAGE_CHARS: the longest `message`, in UTF-16 code units (JavaScript's `length`). */
  maxMessageChars: number;
  log?: Logger;
}

export interface SendOptions {
  /** The /internal namespace: `metadata.source` becomes "internal_service" (which end users may not set). */
  internal?: boolean;
}

export function createDirect({ store, delivery, maxMessageChars, log }: DirectDeps) {
  const { db } = store;
  const { directQueue } = store.tables;
  type Row = Tables["directQueue"]["$inferSelect"];
  const toMessage = (r: Row): DirectMessage => ({
    id: r.id,
    senderId: r.senderId,
    message: r.message,
    metadata: (r.metadata as Record<string, unknown> | null) ?? null,
    timestamp: r.createdAt,
  });

  // Prepared once: it runs on every connect.
  const deleteQueued = store.statement((db) =>
    db
      .delete(directQueue)
      .where(eq(directQueue.recipientId, sql.placeholder("userId")))
      .returning(),
  );
  const anyQueued = store.statement((db) =>
    db
      .select({ id: directQueue.id })
      .from(directQueue)
      .where(eq(directQueue.recipientId, sql.placeholder("userId")))
      .limit(1),
  );
  /**
   * Takes every stored message of `userId` off the queue (one statement: nobody else can take them
   * too). Most users have none: a read, which takes no write lock, decides whether to write at all.
   * A message queued after that read found nothing is not missed: its sender stores it, then sees the
   * user connected (this runs after the socket joined its user room) and flushes again.
   */
  const claim = async (userId: string): Promise<Row[]> =>
    (await anyQueued.run({ userId })).length === 0
      ? []
      : (await deleteQueued.run({ userId }))
          // RETURNING has no defined order; ids are UUIDv7, so id order is send order.
          .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  /**
   * The flush in progress per user. Flushes of one user run one after the other, and a live message to
   * the user waits for the one in progress: the queue's claim is a database round trip, and a live
   * message must not overtake the queued ones it follows.
   */
  const flushing = new Map<string, Promise<number>>();

  /** Delivers and removes the stored messages of `userId` to its devices; resolves with how many. */
  const flush = (userId: string): Promise<number> => {
    const run = (flushing.get(userId) ?? Promise.resolve(0))
      .catch(() => 0)
      .then(async () => {
        const rows = await claim(userId);
        for (const row of rows) delivery.emit({ user: userId }, "message:direct", toMessage(row));
        if (rows.length > 0)
          log?.info({ event: "direct_queue_delivered", userId, count: rows.length }, "queue delivered");
        return rows.length;
      });
    flushing.set(userId, run);
    void run
      .catch(() => 0)
      .then(() => {
        if (flushing.get(userId) === run) flushing.delete(userId);
      });
    return run;
  };

  /** One multi-row insert: every offline recipient's copy, or none. */
  const enqueue = async (recipients: string[], message: DirectMessage) => {
    await db.insert(directQueue).values(
      recipients.map((recipientId) => ({
        id: message.id,
        recipientId,
        senderId: message.senderId,
        message: message.message,
        metadata: message.metadata,
        createdAt: message.timestamp,
      })),
    );
  };

  return {
    /**
     * Sends `input` from `senderId`. Duplicate recipient ids count once; the sender may be a recipient
     * (all its devices get it, the sending one too). BAD_REQUEST when the message is too long or an end
     * user sets the reserved `metadata.source` "internal_service".
     */
    async send(senderId: string, input: DirectInput, options: SendOptions = {}): Promise<DirectResult> {
      if (input.message.length > maxMessageChars) {
        throw invalidInput([{ path: "message", message: `Too big: expected at most ${maxMessageChars} characters` }]);
      }
      if (!options.internal && input.metadata?.source === INTERNAL_SOURCE) {
        throw invalidInput([
          { path: "metadata.source", message: `"${INTERNAL_SOURCE}" is reserved for the /internal namespace` },
        ]);
      }
      const recipients = [...new Set(input.recipientIds)];
      const metadata = options.internal ? { ...input.metadata, source: INTERNAL_SOURCE } : (input.metadata ?? null);
      const message: DirectMessage = {
        id: Bun.randomUUIDv7(),
        senderId,
        message: input.message,
        metadata,
        timestamp: new Date().toISOString(),
      };

      // Online recipients get it now, each as soon as it is known to be online (the shortest window for a
      // disconnect in between; a socket that drops and recovers still gets the broadcast).
      const online = await Promise.all(
        recipients.map(async (user) => {
          if ((await delivery.count({ user })) === 0) return false;
          await flushing.get(user)?.catch(() => 0); // queued messages first
          delivery.emit({ user }, "message:direct", message);
          return true;
        }),
      );
      const sent = recipients.filter((_, i) => online[i]);
      const offline = recipients.filter((_, i) => !online[i]);

      let queued: string[] = [];
      let failed: string[] = [];
      if (offline.length > 0) {
        try {
          await enqueue(offline, message);
          queued = offline;
        } catch (error) {
          log?.error({ err: error, event: "direct_queue_failed", messageId: message.id }, "could not store");
          failed = offline;
        }
        // A recipient that connected between the count and the insert found an empty queue: deliver now.
        // The claim is atomic, so this and its connect can never both deliver a row.
        await Promise.all(
          queued.map(async (user) => {
            if ((await delivery.count({ user })) > 0) await flush(user);
          }),
        );
      }

      const status = failed.length === 0 ? "sent" : failed.length === recipients.length ? "failed" : "partial";
      return {
        status,
        recipients: { total: recipients.length, sent, failed, queued },
        timestamp: message.timestamp,
      };
    },

    /**
     * A backend service's send through /internal (seed 002's internal gateway): `metadata.source` is
     * "internal_service", and the answer is seed 002's shape, where stored recipients count as sent.
     */
    async sendFromService(serviceId: string, input: DirectInput): Promise<InternalSendResult> {
      const { recipients, timestamp } = await this.send(serviceId, input, { internal: true });
      const reached = [...recipients.sent, ...recipients.queued];
      return {
        status: reached.length > 0 ? "sent" : "error",
        recipients: { total: recipients.total, sent: reached, failed: recipients.failed },
        timestamp,
      };
    },

    /** Delivers the stored messages of `userId` now (it just connected); returns how many. */
    flush,

    /** Delivers a user's queue when one of its sockets connects (a recovered one too). */
    listener: {
      async connected({ userId }) {
        await flush(userId);
      },
    } satisfies ConnectionListener,
  };
}

export type Direct = ReturnType<typeof createDirect>;
