/**
 * The one database layer domain code sees, on either dialect:
 * - SQLite (bun:sqlite, `DATABASE_PATH`), the zero-config default: one file, WAL, NORMAL sync; writes
 *   that wait for their commit share one transaction per event-loop turn (group commit).
 * - PostgreSQL (`DATABASE_URL`, Bun's SQL client through drizzle-orm/bun-sql), for N nodes sharing state.
 *
 * Domain code builds queries with `store.db` and `store.tables` and awaits them (drizzle builders are
 * thenable on both dialects); it never calls `.all()`, `.get()` or `.run()`, which exist on SQLite only.
 * Both are typed as the SQLite flavour; on PostgreSQL they are the twin schema (schema.pg.ts, same
 * property names) and a PostgreSQL database. That cast lives here and nowhere else. Hot statements are
 * prepared once with `store.statement`, and writes that must commit together go through `store.write`.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { SQL } from "bun";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/bun-sql";
import { migrate as migratePg } from "drizzle-orm/bun-sql/migrator";
import { type BunSQLiteDatabase, drizzle } from "drizzle-orm/bun-sqlite";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import { createGroupCommit } from "./group-commit";
import * as schema from "./schema";
import * as pgSchema from "./schema.pg";

/** The query builder domain code writes against (await it; see above). */
export type Db = BunSQLiteDatabase<typeof schema>;
/** The tables, by their TypeScript names (the same on both dialects). */
export type Tables = typeof schema;
export type Dialect = "sqlite" | "postgres";
export type Params = Record<string, unknown>;

/** What a statement's builder looks like (the SQLite flavour: it names the result type). */
interface Preparable {
  prepare(): { all(params?: Params): unknown };
}
type ResultOf<Q extends Preparable> = ReturnType<ReturnType<Q["prepare"]>["all"]>;

/** A statement built once (values as `sql.placeholder(name)`), run many times with `params`. */
export interface Statement<R> {
  /** Runs it on its own; resolves with its rows (an array; empty for a write without RETURNING). */
  run(params?: Params): Promise<R>;
  /** One step of a `write`. */
  with(params?: Params): Step<R>;
}

export interface Step<R> {
  readonly statement: Statement<R>;
  readonly params: Params | undefined;
}

export interface Store {
  readonly dialect: Dialect;
  readonly db: Db;
  readonly tables: Tables;
  /** Prepares `build(db)` once (SQLite: one compiled statement; PostgreSQL: rebuilt inside a `write`). */
  statement<Q extends Preparable>(build: (db: Db) => Q): Statement<ResultOf<Q>>;
  /**
   * Runs the steps in order in one transaction; resolves with each step's rows once it committed. A
   * step that throws rolls the whole write back (its caller gets the error). SQLite: writes of the same
   * turn share one transaction (each its own savepoint), so a commit costs one fsync for many callers.
   * PostgreSQL: writes queue and are committed a batch at a time, in order, one transaction per batch.
   */
  write<R>(step: Step<R>): Promise<R>;
  write(...steps: Step<unknown>[]): Promise<unknown[]>;
  /** For SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL (a job claim shared by nodes); SQLite: as is. */
  skipLocked<S>(select: S): S;
  /** A trivial query: false when the database is unreachable. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Kept as `DatabaseHandle` for callers that name the whole handle. */
export type DatabaseHandle = Store;

export type DatabaseTarget = { url: string } | { path: string };

const MIGRATIONS = join(import.meta.dir, "migrations");
/** The advisory lock key under which one node at a time migrates a PostgreSQL database. */
const MIGRATION_LOCK = 5_319_742_011;
/** Most writes in one PostgreSQL group transaction. */
const MAX_BATCH = 500;
const MIGRATIONS_PG = join(import.meta.dir, "migrations-pg");

/** Opens the database the config names (creating an SQLite file and its folder) and migrates it. */
export async function openDatabase(target: DatabaseTarget): Promise<Store> {
  return "url" in target ? openPostgres(target.url) : openSqlite(target.path);
}

interface SqliteStatement<R> extends Statement<R> {
  sync(params: Params | undefined): R;
}

function openSqlite(path: string): Store {
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
  const groupCommit = createGroupCommit(sqlite);
  const finalizers: (() => void)[] = [];

  const runStep = (s: Step<unknown>) => (s.statement as SqliteStatement<unknown>).sync(s.params);
  // A write of several steps is a savepoint inside the group's transaction; its statements prepared once
  // (`sqlite.transaction(fn)()` would build a wrapper per write).
  const savepoint = sqlite.prepare("SAVEPOINT write");
  const release = sqlite.prepare("RELEASE write");
  const rollbackTo = sqlite.prepare("ROLLBACK TO write");
  const runSteps = (steps: Step<unknown>[]) => {
    savepoint.run();
    try {
      const results = steps.map(runStep);
      release.run();
      return results;
    } catch (error) {
      // The transaction may be gone already (an error that rolls it all back): the group fails then.
      if (sqlite.inTransaction) {
        rollbackTo.run();
        release.run();
      }
      throw error;
    }
  };

  const store: Store = {
    dialect: "sqlite",
    db,
    tables: schema,
    statement<Q extends Preparable>(build: (db: Db) => Q) {
      const prepared = build(db).prepare() as ReturnType<Q["prepare"]> & { finalize?(): void };
      if (prepared.finalize) finalizers.push(() => prepared.finalize?.());
      const statement: SqliteStatement<ResultOf<Q>> = {
        sync: (params) => prepared.all(params) as ResultOf<Q>,
        async run(params) {
          return prepared.all(params) as ResultOf<Q>;
        },
        with: (params) => ({ statement, params }),
      };
      return statement;
    },
    write(...steps: Step<unknown>[]): Promise<never> {
      if (steps.length === 1) return groupCommit.run(() => runStep(steps[0] as Step<unknown>)) as Promise<never>;
      // Several statements that stand or fall together: a savepoint inside the group's transaction.
      return groupCommit.run(() => runSteps(steps)) as Promise<never>;
    },
    skipLocked: (select) => select,
    async ping() {
      try {
        return (probe.get() as { ok: number } | null)?.ok === 1;
      } catch {
        return false;
      }
    },
    async close() {
      for (const f of finalizers) f();
      for (const s of [probe, savepoint, release, rollbackTo]) s.finalize();
      groupCommit.close();
      sqlite.close();
    },
  };
  return store;
}

interface PgStatement<R> extends Statement<R> {
  inTx(tx: Db, params: Params | undefined): Promise<R>;
}

interface PgPreparable {
  prepare(name: string): { execute(params?: Params): Promise<unknown> };
}

async function openPostgres(url: string): Promise<Store> {
  const client = new SQL(url);
  const pg = drizzlePg({ client, schema: pgSchema });
  try {
    // Nodes starting together would race on the DDL: one migrates at a time (a session advisory lock on
    // a connection of its own); the others then find nothing left to apply.
    const lock = await client.reserve();
    try {
      await lock`select pg_advisory_lock(${MIGRATION_LOCK})`;
      await migratePg(pg, { migrationsFolder: MIGRATIONS_PG });
    } finally {
      await lock`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => {});
      lock.release();
    }
  } catch (error) {
    await client.close().catch(() => {});
    const where = new URL(url);
    where.password = where.password ? "***" : "";
    const reason = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new Error(`PostgreSQL at ${where} could not be opened and migrated: ${reason}`, { cause: error });
  }
  // The twin schema has the same property names and row types: domain code sees one shape.
  const db = pg as unknown as Db;
  let names = 0;

  // Group commit, PostgreSQL flavour: writes queue; one batch at a time is committed, in one
  // transaction (a round trip per statement, one commit for all). Writes are committed, and their
  // promises settle, in the order they were made: a burst of chat messages reaches the room in order.
  const queue: { steps: Step<unknown>[]; resolve: (value: unknown) => void; reject: (error: unknown) => void }[] = [];
  let draining = false;
  const runSteps = async (tx: Db, steps: Step<unknown>[]) => {
    const results: unknown[] = [];
    for (const s of steps) results.push(await (s.statement as PgStatement<unknown>).inTx(tx, s.params));
    return steps.length === 1 ? results[0] : results;
  };
  const alone = (steps: Step<unknown>[]) =>
    steps.length === 1
      ? (steps[0] as Step<unknown>).statement.run((steps[0] as Step<unknown>).params)
      : pg.transaction((tx) => runSteps(tx as unknown as Db, steps));
  async function drain() {
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      if (batch.length === 1) {
        const [p] = batch as [(typeof queue)[number]];
        await alone(p.steps).then(p.resolve, p.reject);
        continue;
      }
      try {
        // Sent without waiting for each answer: the client pipelines them on the transaction's
        // connection (in order), so a batch costs about one round trip, not one per statement.
        const results = await pg.transaction((tx) =>
          Promise.all(batch.map((p) => runSteps(tx as unknown as Db, p.steps))),
        );
        for (const [i, p] of batch.entries()) p.resolve(results[i]);
      } catch {
        // A statement failed, and with it the whole batch (rolled back): each write again on its own,
        // in order, so only the failing one fails.
        for (const p of batch) await alone(p.steps).then(p.resolve, p.reject);
      }
    }
    draining = false;
  }

  const store: Store = {
    dialect: "postgres",
    db,
    tables: pgSchema as unknown as Tables,
    statement<Q extends Preparable>(build: (db: Db) => Q) {
      const name = `s${++names}`;
      const prepared = (build(db) as unknown as PgPreparable).prepare(name);
      const statement: PgStatement<ResultOf<Q>> = {
        run: (params) => prepared.execute(params) as Promise<ResultOf<Q>>,
        // Inside a transaction the statement must run on its connection: built on it.
        inTx: (tx, params) =>
          (build(tx) as unknown as PgPreparable).prepare(name).execute(params) as Promise<ResultOf<Q>>,
        with: (params) => ({ statement, params }),
      };
      return statement;
    },
    write(...steps: Step<unknown>[]): Promise<never> {
      return new Promise((resolve, reject) => {
        queue.push({ steps, resolve: resolve as (value: unknown) => void, reject });
        if (!draining) {
          draining = true;
          setImmediate(drain);
        }
      });
    },
    skipLocked: (select) =>
      (select as unknown as { for(s: string, o: object): unknown }).for("update", {
        skipLocked: true,
      }) as typeof select,
    async ping() {
      try {
        const rows = (await pg.execute(sql`select 1 as ok`)) as unknown as { ok: number }[];
        return rows[0]?.ok === 1;
      } catch {
        return false;
      }
    },
    async close() {
      await client.close({ timeout: 5 });
    },
  };
  return store;
}
