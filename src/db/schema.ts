/**
 * The database shape (drizzle). `bun run db:generate` writes SQL migrations from it into
 * src/db/migrations/; they are committed and applied at start-up.
 */
import { sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Facts about this installation that outlive a restart (its id, when it was first started). */
export const instanceMeta = sqliteTable("instance_meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: text("updated_at").notNull(),
});
