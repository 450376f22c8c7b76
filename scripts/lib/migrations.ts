/**
 * Do the schemas (src/db/schema.ts for SQLite, src/db/schema.pg.ts for PostgreSQL) and their committed
 * migrations agree? One drizzle-kit config per dialect (DRIZZLE_CONFIGS). `drizzle-kit generate` is run against a
 * temporary copy of the migrations folder (the repository is never written): when it would write
 * a migration, the schema changed without `bun run db:generate`.
 */
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { listFiles } from "./pipeline";

export const DRIZZLE_CONFIG = "drizzle.config.ts";
/** Every dialect's drizzle-kit config: SQLite (the default), then PostgreSQL. */
export const DRIZZLE_CONFIGS = [DRIZZLE_CONFIG, "drizzle.pg.config.ts"] as const;

export interface MigrationDrift {
  /** The schema file(s), repo-relative (the config's `schema`). */
  schema: string;
  /** The migrations folder, repo-relative (the config's `out`). */
  folder: string;
  /** Files drizzle-kit wrote or changed in the copy; empty = in step. */
  written: string[];
  /** Set when drizzle-kit did not answer "no changes" (a prompt it cannot ask, a crash). */
  problem?: string;
}

/** Files under `dir` with their content, to see what a run changed. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = await listFiles(dir);
  return new Map(await Promise.all(files.map(async (f) => [f, await Bun.file(join(dir, f)).text()] as const)));
}

export async function migrationDrift(root: string, configName: string = DRIZZLE_CONFIG): Promise<MigrationDrift> {
  const config = (await import(join(root, configName))).default as Record<string, unknown>;
  if (typeof config.out !== "string") throw new Error(`${configName} has no \`out\` folder`);
  if (config.schema === undefined) throw new Error(`${configName} has no \`schema\``);
  const bin = join(root, "node_modules/drizzle-kit/bin.cjs");
  if (!(await Bun.file(bin).exists())) throw new Error("drizzle-kit is not installed (bun install)");

  const folder = relative(root, resolve(root, config.out));
  const temp = await mkdtemp(join(tmpdir(), "switchboard-migrations-"));
  try {
    // drizzle-kit reads `out` relative to its working directory: run it in the temp dir, with the
    // schema files named absolutely (they stay in the repository, next to their imports).
    const schemas = (Array.isArray(config.schema) ? config.schema : [config.schema]).map((s) => resolve(root, s));
    const out = join(temp, "migrations");
    await cp(resolve(root, config.out), out, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error; // no migrations yet: everything is new
    });
    const configFile = join(temp, "drizzle.config.json");
    await Bun.write(configFile, JSON.stringify({ ...config, schema: schemas, out: "./migrations" }));

    const before = await snapshot(out);
    const proc = Bun.spawn([process.execPath, bin, "generate", "--config", configFile], {
      cwd: temp,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    const after = await snapshot(out);
    const written = [...after].filter(([f, text]) => before.get(f) !== text).map(([f]) => `${folder}/${f}`);
    // drizzle-kit exits 0 even when it fails: only its "no changes" answer with nothing written passes.
    const output = `${stdout}\n${stderr}`.trim();
    const answeredNoChanges = code === 0 && /No schema changes/i.test(output);
    const problem =
      written.length === 0 && !answeredNoChanges
        ? /Interactive prompts require a TTY/.test(output)
          ? "drizzle-kit needs an answer (a renamed table or column?): run `bun run db:generate`"
          : `drizzle-kit generate did not finish (exit ${code}): ${lastLines(output)}`
        : undefined;
    const schema = schemas.map((f) => relative(root, f)).join(", ");
    return { schema, folder, written: written.sort(), ...(problem ? { problem } : {}) };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

const lastLines = (text: string) => text.split("\n").filter(Boolean).slice(-3).join(" | ");
