import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { type BunSQLiteDatabase, drizzle } from "drizzle-orm/bun-sqlite";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import { createGroupCommit, type GroupCommit } from "./group-commit";
import * as schema from "./schema";

export type Db = BunSQLiteDatabase<typeof schema>;

export interface DatabaseHandle {
  db: Db;
  sqlite: Database;
  /** Hot writes whose callers wait for the commit (chat messages) share one transaction per turn. */
  groupCommit: GroupCommit;
  /** A trivial query: false when the file is gone or locked. */
  ping(): boolean;
  close(): void;
}

const MIGRATIONS = join(import.meta.dir, "migrations");

/** Opens (creating folder and file), tunes for a server (WAL, NORMAL sync) and migrates. */
export function openDatabase(path: string): DatabaseHandle {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path, { create: true, strict: true });
  sqlite.run("PRAGMA journal_mode = WAL");
  sqlite.run("PRAGMA synchronous = NORMAL");
  sqlite.run("PRAGMA foreign_keys = ON");
  sqlite.run("PRAGMA busy_timeout = 5000");
  // 64 MiB of page cache (SQLite's default is 2 MiB): message indexes outgrow the default within minutes of chat.
  sqlite.run("PRAGMA cache_size = -65536");
  const db = drizzle({ client: sqlite, schema });
  migrate(db, { migrationsFolder: MIGRATIONS });
  const probe = sqlite.prepare("SELECT 1 AS ok");
  return {
    db,
    sqlite,
    groupCommit: createGroupCommit(sqlite),
    ping() {
      try {
        return (probe.get() as { ok: number } | null)?.ok === 1;
      } catch {
        return false;
      }
    },
    close() {
      probe.finalize();
      sqlite.close();
    },
  };
}
