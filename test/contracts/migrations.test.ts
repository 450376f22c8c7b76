/**
 * contracts:check (e), in-process on a small copy (drizzle.config.ts, the schema, the migrations):
 * drizzle-kit generate runs on a temporary copy of the migrations, and what it would write, or the
 * question it would ask, is the answer. The end-to-end failure is in contracts-check.test.ts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cp, mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { migrationDrift } from "../../scripts/lib/migrations";

const ROOT = resolve(import.meta.dir, "../..");
const SCHEMA = "src/db/schema.ts";
const PG_SCHEMA = "src/db/schema.pg.ts";
const PG_CONFIG = "drizzle.pg.config.ts";
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** The repository's database files in a temp dir; `edit` changes the schema's text. */
async function project(edit?: (schema: string) => string, withMigrations = true) {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-drizzle-"));
  dirs.push(dir);
  await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
  await cp(join(ROOT, "drizzle.config.ts"), join(dir, "drizzle.config.ts"));
  await cp(join(ROOT, PG_CONFIG), join(dir, PG_CONFIG));
  await cp(join(ROOT, PG_SCHEMA), join(dir, PG_SCHEMA));
  await cp(join(ROOT, "src/db/migrations-pg"), join(dir, "src/db/migrations-pg"), { recursive: true });
  if (withMigrations) await cp(join(ROOT, "src/db/migrations"), join(dir, "src/db/migrations"), { recursive: true });
  const schema = await Bun.file(join(ROOT, SCHEMA)).text();
  const edited = edit ? edit(schema) : schema;
  if (edit && edited === schema) throw new Error(`the edit changed nothing in ${SCHEMA}`);
  await Bun.write(join(dir, SCHEMA), edited);
  return dir;
}
const files = async (dir: string) => (await readdir(dir, { recursive: true }).catch(() => [])).sort();

/** The first text column of the first table, renamed: drizzle-kit must ask "renamed or new?". */
const renameFirstColumn = (schema: string) => schema.replace(/(\w+): text\("(\w+)"\)/, '$1Renamed: text("$2_renamed")');

describe("migrationDrift", () => {
  test("the repository's schema and migrations agree", async () => {
    const dir = await project();
    const before = await files(join(dir, "src/db/migrations"));
    expect(await migrationDrift(dir)).toEqual({ schema: SCHEMA, folder: "src/db/migrations", written: [] });
    expect(await files(join(dir, "src/db/migrations"))).toEqual(before);
  });

  test("PostgreSQL: the repository's twin schema and its migrations agree", async () => {
    const dir = await project();
    expect(await migrationDrift(dir, PG_CONFIG)).toEqual({
      schema: PG_SCHEMA,
      folder: "src/db/migrations-pg",
      written: [],
    });
  });

  test("PostgreSQL: a column added to the twin schema without a migration is found", async () => {
    const dir = await project();
    const pg = await Bun.file(join(dir, PG_SCHEMA)).text();
    const edited = pg.replace('readAt: text("read_at"),', 'readAt: text("read_at"),\n    seenAt: text("seen_at"),');
    expect(edited).not.toBe(pg);
    await Bun.write(join(dir, PG_SCHEMA), edited);
    const drift = await migrationDrift(dir, PG_CONFIG);
    expect(drift.written).toEqual(expect.arrayContaining(["src/db/migrations-pg/meta/_journal.json"]));
    expect(drift.written.some((f) => /^src\/db\/migrations-pg\/0001_\w+\.sql$/.test(f))).toBe(true);
    // The SQLite side is untouched by it.
    expect((await migrationDrift(dir)).written).toEqual([]);
  });

  test("a renamed column: drizzle-kit would ask, which a check cannot answer", async () => {
    const dir = await project(renameFirstColumn);
    const drift = await migrationDrift(dir);
    expect(drift.written).toEqual([]);
    expect(drift.problem).toBe("drizzle-kit needs an answer (a renamed table or column?): run `bun run db:generate`");
  });

  test("no migrations committed yet: the first one would be written", async () => {
    const dir = await project(undefined, false);
    const drift = await migrationDrift(dir);
    expect(drift.written).toEqual(expect.arrayContaining(["src/db/migrations/meta/_journal.json"]));
    expect(drift.written.some((f) => /^src\/db\/migrations\/0000_\w+\.sql$/.test(f))).toBe(true);
    expect(await files(join(dir, "src/db"))).not.toContain("migrations");
  });
});
