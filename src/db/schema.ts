/**
 * The database shape (drizzle) on SQLite. `bun run db:generate` writes SQL migrations from it into
 * src/db/migrations/; they are committed and applied at start-up. src/db/schema.pg.ts is its
 * PostgreSQL twin (same tables, columns and property names): change both together.
 */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** Facts about this installation that outlive a restart (its id, when it was first started). */
export const instanceMeta = sqliteTable("instance_meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: text("updated_at").notNull(),
});

/** Chat messages (seed 001). Ids are UUIDv7, so id order is time order (history pages by id). */
export const messages = sqliteTable(
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
    // A repeated clientMessageId from one sender is the same message.
    uniqueIndex("messages_sender_client_id_idx").on(t.senderId, t.clientMessageId),
  ],
);

/** Delivery and read receipts, one row per (message, member); read implies delivered. */
export const receipts = sqliteTable(
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

/** Friendships (seed 002), stored in both directions: (a, b) and (b, a). */
export const friendships = sqliteTable(
  "friendships",
  {
    userId: text("user_id").notNull(),
    friendId: text("friend_id").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.friendId] })],
);

/** What outlives a connection: the status a user chose and when its last device left. */
export const userPresence = sqliteTable("user_presence", {
  userId: text("user_id").primaryKey(),
  status: text("status", { enum: ["online", "away", "busy", "offline"] }).notNull(),
  lastSeen: text("last_seen"),
  /**
   * The status friends were last told (`user:online`); null: told offline, or never told. Nodes sharing
   * the database (PostgreSQL) change it with a compare-and-set, so one change is told once cluster-wide.
   */
  announced: text("announced", { enum: ["online", "away", "busy", "offline"] }),
});

/**
 * Gateway nodes running now, one row each (its id is new at every start). With DATABASE_URL each node
 * beats every NODE_DEAD_AFTER_MS / 3; a row older than NODE_DEAD_AFTER_MS is a node that died without
 * a graceful shutdown, and the survivor that deletes it announces the node's users offline.
 */
export const gatewayNodes = sqliteTable("gateway_nodes", {
  nodeId: text("node_id").primaryKey(),
  startedAt: text("started_at").notNull(),
  /** Its last heartbeat, epoch ms (the node's clock). */
  heartbeatAt: integer("heartbeat_at").notNull(),
});

/**
 * The users each node holds sockets for (written when a user's first socket on the node connects and
 * its last one leaves). A row whose node is gone from gateway_nodes is claimed (deleted) by one node,
 * which re-checks the user across the cluster and announces it offline when no device is left.
 */
export const nodeUsers = sqliteTable(
  "node_users",
  {
    nodeId: text("node_id").notNull(),
    userId: text("user_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.nodeId, t.userId] })],
);

/** Direct messages for offline recipients (seed 002), delivered in id order on their next connect, then removed. */
export const directQueue = sqliteTable(
  "direct_queue",
  {
    id: text("id").notNull(),
    recipientId: text("recipient_id").notNull(),
    senderId: text("sender_id").notNull(),
    message: text("message").notNull(),
    metadata: text("metadata", { mode: "json" }),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.recipientId, t.id] })],
);

/**
 * Subscribers (seed 000): event names clients may emit at run time, one subscriber per name. Ids are
 * UUIDv7; `replicable` says whether the event reaches the sender's room; `postbackUrl` is where the
 * postback worker forwards accepted events.
 */
export const subscribers = sqliteTable(
  "subscribers",
  {
    id: text("id").primaryKey(),
    eventListener: text("event_listener").notNull(),
    replicable: integer("replicable", { mode: "boolean" }).notNull(),
    description: text("description"),
    postbackUrl: text("postback_url"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("subscribers_event_listener_idx").on(t.eventListener)],
);

/**
 * Postback jobs (seed 003): outgoing HTTP requests delivered at least once by the in-process
 * scheduler. Times the scheduler compares (`nextAttemptAt`, `finishedAt`) are epoch milliseconds;
 * the others ISO strings. `idempotencyKey` is unique while the job is kept (retention), and
 * `requestHash` tells a replay from a different request under the same key.
 */
export const postbacks = sqliteTable(
  "postbacks",
  {
    id: text("id").primaryKey(),
    postbackUrl: text("postback_url").notNull(),
    method: text("method", { enum: ["GET", "POST", "PUT", "PATCH"] }).notNull(),
    headers: text("headers", { mode: "json" }).$type<Record<string, string>>().notNull(),
    payload: text("payload", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    status: text("status", { enum: ["pending", "processing", "completed", "failed", "cancelled"] }).notNull(),
    retries: integer("retries").notNull(),
    maxRetries: integer("max_retries").notNull(),
    timeoutMs: integer("timeout_ms"),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    lastError: text("last_error"),
    lastResponseStatus: integer("last_response_status"),
    idempotencyKey: text("idempotency_key"),
    requestHash: text("request_hash").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    finishedAt: integer("finished_at"),
    /**
     * While `processing`: the node that claimed the job owns it until then (epoch ms), and only that
     * claim may record its outcome. Past it, another node sharing the database (PostgreSQL) takes the
     * job over: its claimer died mid-delivery.
     */
    leaseUntil: integer("lease_until"),
  },
  (t) => [
    index("postbacks_due_idx").on(t.status, t.nextAttemptAt),
    index("postbacks_finished_idx").on(t.finishedAt),
    uniqueIndex("postbacks_idempotency_key_idx").on(t.idempotencyKey),
  ],
);

/** One row per delivery attempt of a postback, removed with it. */
export const postbackAttempts = sqliteTable(
  "postback_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
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
