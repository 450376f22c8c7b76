/**
 * The dialect-neutral store (src/db/client.ts) on a real SQLite file and a real PostgreSQL database
 * (a database of its own): migrations applied at open, prepared statements, and `write`: writes of one
 * turn settle in the order they were made, each after its commit; a failing write fails alone; the
 * steps of one write stand or fall together.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import { openDatabase, type Store } from "../../src/db/client";
import { createPgDatabase, type PgDatabase, SKIP_PG } from "../helpers/postgres";

const dialects = SKIP_PG ? (["sqlite"] as const) : (["sqlite", "postgres"] as const);

describe.each(dialects)("%s", (dialect) => {
  let store: Store;
  let dir: string | undefined;
  let pg: PgDatabase | undefined;
  beforeAll(async () => {
    if (dialect === "postgres") {
      pg = await createPgDatabase();
      store = await openDatabase({ url: pg.url });
    } else {
      dir = mkdtempSync(join(tmpdir(), "store-test-"));
      store = await openDatabase({ path: join(dir, "t.db") });
    }
  });
  afterAll(async () => {
    await store.close();
    await pg?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const meta = () => store.tables.instanceMeta;
  const insert = () =>
    store.statement((db) =>
      db
        .insert(meta())
        .values({ key: sql.placeholder("key"), value: sql.placeholder("value"), updatedAt: "t" })
        .returning({ key: meta().key }),
    );
  const stored = async (prefix: string) =>
    (await store.db.select().from(meta()))
      .filter((r) => r.key.startsWith(prefix))
      .map((r) => r.key)
      .sort();

  test("migrated at open: the dialect says which, every table is there", async () => {
    expect(store.dialect).toBe(dialect);
    expect(await store.ping()).toBe(true);
    expect(await store.db.select().from(store.tables.postbacks)).toEqual([]);
  });

  test("writes of one turn settle in order, each with its rows; a failing one fails alone", async () => {
    const ins = insert();
    const order: string[] = [];
    const keys = Array.from({ length: 30 }, (_, i) => `o-${String(i).padStart(2, "0")}`);
    const writes = keys.map((key) =>
      store.write(ins.with({ key, value: "v" })).then((rows) => {
        order.push(key);
        return rows;
      }),
    );
    // The same key again: a primary-key violation, in the middle of the batch.
    const dup = store.write(ins.with({ key: "o-05", value: "again" }));
    const more = store.write(ins.with({ key: "o-99", value: "v" }));
    const results = await Promise.allSettled([...writes, dup, more]);
    expect(results.map((r) => r.status as string)).toEqual([...keys.map(() => "fulfilled"), "rejected", "fulfilled"]);
    expect((results[0] as PromiseFulfilledResult<unknown>).value).toEqual([{ key: "o-00" }]);
    expect(order).toEqual(keys);
    expect(await stored("o-")).toEqual([...keys, "o-99"]);
    const [five] = await store.db.select().from(meta()).where(eq(meta().key, "o-05"));
    expect(five?.value).toBe("v");
  });

  test("the steps of one write stand or fall together", async () => {
    const ins = insert();
    await store.write(ins.with({ key: "t-taken", value: "v" }));
    await expect(
      store.write(ins.with({ key: "t-first", value: "v" }), ins.with({ key: "t-taken", value: "v" })),
    ).rejects.toThrow();
    expect(await stored("t-")).toEqual(["t-taken"]);
    expect(await store.write(ins.with({ key: "t-a", value: "v" }), ins.with({ key: "t-b", value: "v" }))).toEqual([
      [{ key: "t-a" }],
      [{ key: "t-b" }],
    ]);
    expect(await stored("t-")).toEqual(["t-a", "t-b", "t-taken"]);
  });

  test("a prepared statement runs on its own with new values each time", async () => {
    const read = store.statement((db) =>
      db
        .select({ value: meta().value })
        .from(meta())
        .where(eq(meta().key, sql.placeholder("key"))),
    );
    expect(await read.run({ key: "t-a" })).toEqual([{ value: "v" }]);
    expect(await read.run({ key: "nothing" })).toEqual([]);
  });
});
