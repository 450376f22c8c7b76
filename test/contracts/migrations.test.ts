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
    expect(await migrationDrift(dir)).toEqual({ folder: "src/db/migrations", written: [] });
    expect(await files(join(dir, "src/db/migrations"))).toEqual(before);
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
