/**
 * The database shape on PostgreSQL (drizzle), the twin of src/db/schema.ts: the same tables, columns
 * and TypeScript property names, so the same query-builder code runs on either dialect (src/db/client.ts
 * hands domain code one set of tables). Change both files together; `bun run db:generate` writes the
 * migrations of each (src/db/migrations, src/db/migrations-pg), and contracts:check (e) checks both.
 *
 * Types follow the SQLite side: times compared by the scheduler are epoch milliseconds (bigint, read as
 * numbers), the others ISO strings; JSON columns are jsonb.
 */
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";

export const instanceMeta = pgTable("instance_meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export const messages = pgTable(
  "messages",
  {
    id: text("id").primaryKey(),
    roomId: text("room_id").notNull(),
    senderId: text("sender_id").notNull(),
    content: text("content").notNull(),
    type: text("type", { enum: ["text", "system", "notification"] }).notNull(),
    clientMessageId: text("client_message_id"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    index("messages_room_id_idx").on(t.roomId, t.id),
    uniqueIndex("messages_sender_client_id_idx").on(t.senderId, t.clientMessageId),
  ],
);

export const receipts = pgTable(
  "receipts",
  {
    messageId: text("message_id")
      .notNull()
      .references(() => messages.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
    deliveredAt: text("delivered_at").notNull(),
    readAt: text("read_at"),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.userId] })],
);

export const friendships = pgTable(
  "friendships",
  {
    userId: text("user_id").notNull(),
    friendId: text("friend_id").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.friendId] })],
);

export const userPresence = pgTable("user_presence", {
  userId: text("user_id").primaryKey(),
  status: text("status", { enum: ["online", "away", "busy", "offline"] }).notNull(),
  lastSeen: text("last_seen"),
  /**
   * The status friends were last told (`user:online`); null: told offline, or never told. Nodes sharing
   * the database (PostgreSQL) change it with a compare-and-set, so one change is told once cluster-wide.
   */
  announced: text("announced", { enum: ["online", "away", "busy", "offline"] }),
});

export const gatewayNodes = pgTable("gateway_nodes", {
  nodeId: text("node_id").primaryKey(),
  startedAt: text("started_at").notNull(),
  heartbeatAt: bigint("heartbeat_at", { mode: "number" }).notNull(),
});

export const nodeUsers = pgTable(
  "node_users",
  {
    nodeId: text("node_id").notNull(),
    userId: text("user_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.nodeId, t.userId] })],
);

export const directQueue = pgTable(
  "direct_queue",
  {
    id: text("id").notNull(),
    recipientId: text("recipient_id").notNull(),
    senderId: text("sender_id").notNull(),
    message: text("message").notNull(),
    metadata: jsonb("metadata"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.recipientId, t.id] })],
);

export const subscribers = pgTable(
  "subscribers",
  {
    id: text("id").primaryKey(),
    eventListener: text("event_listener").notNull(),
    replicable: boolean("replicable").notNull(),
    description: text("description"),
    postbackUrl: text("postback_url"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("subscribers_event_listener_idx").on(t.eventListener)],
);

/** Postback jobs; see src/db/schema.ts (`leaseUntil`: the claimer owns a `processing` job until then). */
export const postbacks = pgTable(
  "postbacks",
  {
    id: text("id").primaryKey(),
    postbackUrl: text("postback_url").notNull(),
    method: text("method", { enum: ["GET", "POST", "PUT", "PATCH"] }).notNull(),
    headers: jsonb("headers").$type<Record<string, string>>().notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    status: text("status", { enum: ["pending", "processing", "completed", "failed", "cancelled"] }).notNull(),
    retries: integer("retries").notNull(),
    maxRetries: integer("max_retries").notNull(),
    timeoutMs: integer("timeout_ms"),
    nextAttemptAt: bigint("next_attempt_at", { mode: "number" }).notNull(),
    lastError: text("last_error"),
    lastResponseStatus: integer("last_response_status"),
    idempotencyKey: text("idempotency_key"),
    requestHash: text("request_hash").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    finishedAt: bigint("finished_at", { mode: "number" }),
    leaseUntil: bigint("lease_until", { mode: "number" }),
  },
  (t) => [
    index("postbacks_due_idx").on(t.status, t.nextAttemptAt),
    index("postbacks_finished_idx").on(t.finishedAt),
    uniqueIndex("postbacks_idempotency_key_idx").on(t.idempotencyKey),
  ],
);

export const postbackAttempts = pgTable(
  "postback_attempts",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    postbackId: text("postback_id")
      .notNull()
      .references(() => postbacks.id, { onDelete: "cascade" }),
    at: text("at").notNull(),
    durationMs: integer("duration_ms").notNull(),
    responseStatus: integer("response_status"),
    error: text("error"),
  },
  (t) => [index("postback_attempts_postback_idx").on(t.postbackId)],
);
