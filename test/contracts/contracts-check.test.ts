/**
 * `bun run contracts:check` end to end: each of its checks passes on a clean copy of the repository
 * and fails on a copy mutated to break it. Every scenario is a copy of the working tree (tracked
 * and untracked, not ignored, files) in a temp dir with node_modules symlinked and a fresh git
 * repository on branch main: a "base" commit, then an empty "head" commit, so check (d) compares
 * with HEAD~1 = the base, as on main in CI. The check runs as a subprocess, without CI=true unless
 * a scenario sets it. Scenarios start at once, two at a time (the parser and the generator are
 * CPU-bound).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readdir, rename, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const HANDLERS = "src/realtime/handlers/index.ts";
const TIMEOUT = 90_000;

interface Run {
  code: number;
  out: string;
}

function git(dir: string, ...args: string[]) {
  const r = Bun.spawnSync(["git", "-c", "user.name=test", "-c", "user.email=test@localhost", "-C", dir, ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

const sourceFiles = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
  .split("\0")
  .filter((f) => f !== "" && !f.startsWith("node_modules/"));

const copies: string[] = [];
afterAll(async () => {
  await Promise.all(copies.map((d) => rm(d, { recursive: true, force: true })));
});

/**
 * A copy of the working tree; `beforeCommit` mutates what becomes the base commit. `commits: 1`
 * leaves only the base commit (on main with no HEAD~1: no base for check d).
 */
async function copyRepo(beforeCommit?: (dir: string) => Promise<void>, commits = 2): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-check-"));
  copies.push(dir);
  await Promise.all(
    sourceFiles.map(async (f) => {
      const src = Bun.file(join(ROOT, f));
      if (!(await src.exists())) return; // deleted but still in the index
      await mkdir(dirname(join(dir, f)), { recursive: true });
      await Bun.write(join(dir, f), src);
    }),
  );
  await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
  // The lead's handler module; a minimal stand-in when it does not exist yet.
  if (!(await Bun.file(join(dir, HANDLERS)).exists())) {
    await Bun.write(
      join(dir, HANDLERS),
      'export const namespaceHandlers = { "/": { system: { ping: () => ({}) } } };\n',
    );
  }
  await beforeCommit?.(dir);
  git(dir, "init", "-q", "-b", "main");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "--no-verify", "-m", "base");
  if (commits > 1) git(dir, "commit", "-q", "--no-verify", "--allow-empty", "-m", "head");
  return dir;
}

/** This process's environment without CI (the suite itself may run in CI), plus `extra`. */
const envWith = (extra: Record<string, string> = {}) => {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (k !== "CI" && v !== undefined) env[k] = v;
  return { ...env, ...extra };
};

async function run(dir: string, script: string, ...args: string[]): Promise<Run> {
  return runWith(envWith(), dir, script, ...args);
}

async function runWith(env: Record<string, string>, dir: string, script: string, ...args: string[]): Promise<Run> {
  const proc = Bun.spawn(["bun", script, ...args], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, out: out + err };
}
const check = (dir: string, ...args: string[]) => run(dir, "scripts/contracts-check.ts", ...args);

/** Runs jobs at most `n` at a time. */
function limiter(n: number) {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(job: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await job();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}
const limit = limiter(2);

interface Contract {
  info: { version: string };
  channels: Record<string, { address?: string }>;
  operations: Record<string, { channel: { $ref: string } }>;
  components: { messages: Record<string, { name?: string }> };
}

/** asyncapi.yaml as data; written back as JSON, which is YAML. */
async function editContract(dir: string, edit: (doc: Contract) => void) {
  const file = join(dir, "asyncapi.yaml");
  const doc = Bun.YAML.parse(await Bun.file(file).text()) as Contract;
  edit(doc);
  await Bun.write(file, `${JSON.stringify(doc, null, 2)}\n`);
}

/** Removes the `pong` event: its channel, its operation(s) and its component message. */
function removePong(doc: Contract) {
  const channelKey = Object.keys(doc.channels).find((k) => doc.channels[k]?.address === "pong");
  if (!channelKey) throw new Error("asyncapi.yaml has no pong channel");
  delete doc.channels[channelKey];
  for (const [id, op] of Object.entries(doc.operations)) {
    if (op.channel.$ref === `#/channels/${channelKey}`) delete doc.operations[id];
  }
  for (const [id, message] of Object.entries(doc.components.messages)) {
    if (message.name === "pong") delete doc.components.messages[id];
  }
}

/** Replaces the handler module with one built from the original (renamed index.original.ts). */
async function wrapHandlers(dir: string, body: string) {
  await rename(join(dir, HANDLERS), join(dir, dirname(HANDLERS), "index.original.ts"));
  await Bun.write(
    join(dir, HANDLERS),
    `import { namespaceHandlers as original } from "./index.original";\n` +
      `const main: Record<string, Record<string, unknown>> = original["/"];\n` +
      `/** The main namespace's tables without the one handling ping. */\n` +
      `const withoutPing = Object.fromEntries(Object.entries(main).filter(([, t]) => !("ping" in t)));\n` +
      `const pingTable = Object.values(main).find((t) => "ping" in t);\n${body}\n`,
  );
}

/** Adds a nullable column to src/db/schema.ts's first table. */
async function addColumn(dir: string) {
  const file = join(dir, "src/db/schema.ts");
  const text = await Bun.file(file).text();
  const changed = text.replace(/sqliteTable\(\s*"[^"]+",\s*\{/, (m) => `${m}\n  addedWithoutMigration: text("added"),`);
  if (changed === text) throw new Error("src/db/schema.ts has no sqliteTable(...) to change");
  await Bun.write(file, changed);
}

const scenarios = {
  clean: limit(async () => check(await copyRepo())),

  invalidContract: limit(async () => {
    const dir = await copyRepo();
    const text = await Bun.file(join(dir, "asyncapi.yaml")).text();
    // "subscribe" is not an AsyncAPI 3 action.
    await Bun.write(join(dir, "asyncapi.yaml"), text.replace(/^(\s+action:) receive$/m, "$1 subscribe"));
    return check(dir);
  }),

  handEdited: limit(async () => {
    const dir = await copyRepo();
    const file = join(dir, "generated/events.ts");
    await Bun.write(file, `${await Bun.file(file).text()}export const handEdited = true;\n`);
    await Bun.write(join(dir, "generated/stale.ts"), "export {};\n");
    return check(dir);
  }),

  undeclaredHandler: limit(async () => {
    const dir = await copyRepo();
    await wrapHandlers(
      dir,
      `export const namespaceHandlers = { "/": { ...main, extra: { "nope:undeclared": () => ({}), ping: () => ({}) } } };`,
    );
    return check(dir);
  }),

  missingHandler: limit(async () => {
    const dir = await copyRepo();
    // The ping table is still exported, under the old name, but the server does not bind it.
    await wrapHandlers(
      dir,
      `export const namespaceHandlers = { "/": withoutPing };\nexport const handlerTables = main;`,
    );
    return check(dir);
  }),

  otherNamespace: limit(async () => {
    const dir = await copyRepo();
    // ping's table bound in a namespace asyncapi.yaml does not declare (ping is declared in "/").
    await wrapHandlers(
      dir,
      `export const namespaceHandlers = { "/": withoutPing, "/elsewhere": { ping: pingTable } };`,
    );
    return check(dir);
  }),

  internalUnbound: limit(async () => {
    const dir = await copyRepo();
    // The main namespace complete, the /internal namespace's tables not bound.
    await wrapHandlers(dir, `void withoutPing, pingTable;\nexport const namespaceHandlers = { "/": main };`);
    return check(dir);
  }),

  oldExportOnly: limit(async () => {
    const dir = await copyRepo();
    await wrapHandlers(dir, `void withoutPing, pingTable;\nexport const handlerTables = main;`);
    return check(dir);
  }),

  pongRemoved: limit(async () => {
    const dir = await copyRepo();
    await editContract(dir, removePong);
    const generated = await run(dir, "scripts/generate.ts");
    if (generated.code !== 0) return generated;
    return check(dir);
  }),

  pongRemovedWithVersion: limit(async () => {
    const dir = await copyRepo();
    await editContract(dir, (doc) => {
      removePong(doc);
      // The version that allows it: the next minor while the major is 0 (semver), else the next major.
      const [major, minor] = String(doc.info.version).split(".").map(Number) as [number, number];
      doc.info.version = major === 0 ? `0.${minor + 1}.0` : `${major + 1}.0.0`;
    });
    const generated = await run(dir, "scripts/generate.ts");
    if (generated.code !== 0) return generated;
    return check(dir);
  }),

  openApiPathRemoved: limit(async () => {
    let original = "";
    const dir = await copyRepo(async (d) => {
      // The base has one more operation than the working tree.
      const file = join(d, "generated/openapi.json");
      original = await Bun.file(file).text();
      const doc = JSON.parse(original);
      doc.paths["/legacy/things"] = {
        get: { operationId: "legacy.list", responses: { "200": { description: "ok" } } },
      };
      await Bun.write(file, JSON.stringify(doc, null, 2));
    });
    await Bun.write(join(dir, "generated/openapi.json"), original);
    return check(dir, "--base", "main");
  }),

  procedureRenamed: limit(async () => {
    const dir = await copyRepo();
    // Same REST path and method, another operation name: the tRPC procedure jwt.decode is gone.
    const file = join(dir, "contracts/admin/jwt.ts");
    await Bun.write(file, (await Bun.file(file).text()).replace('name: "jwt.decode"', 'name: "jwt.read"'));
    const generated = await run(dir, "scripts/generate.ts");
    if (generated.code !== 0) return generated;
    return check(dir);
  }),

  unresolvedRef: limit(async () => {
    const dir = await copyRepo();
    const file = join(dir, "generated/openapi.json");
    const text = await Bun.file(file).text();
    await Bun.write(file, text.replace('"#/components/schemas/ErrorResponse"', '"#/components/schemas/Missing"'));
    return check(dir);
  }),

  noBase: limit(async () => {
    const dir = await copyRepo(undefined, 1); // on main, HEAD is the first commit
    return { local: await check(dir), ci: await runWith(envWith({ CI: "true" }), dir, "scripts/contracts-check.ts") };
  }),

  schemaWithoutMigration: limit(async () => {
    const dir = await copyRepo();
    const migrations = async () => (await readdir(join(dir, "src/db/migrations"), { recursive: true })).sort();
    const before = await migrations();
    await addColumn(dir);
    return {
      ...(await check(dir)),
      migrationsUntouched: JSON.stringify(await migrations()) === JSON.stringify(before),
    };
  }),
};

const line = (out: string, id: string) => out.split("\n").find((l) => l.includes(`(${id})`)) ?? "";

describe("contracts:check", () => {
  test(
    "passes on a clean copy of the repository",
    async () => {
      const { code, out } = await scenarios.clean;
      expect(out).toContain("PASS (a)");
      expect(out).toContain("PASS (b)");
      expect(out).toContain("PASS (c)");
      expect(out).toContain("PASS (d)");
      expect(code).toBe(0);
    },
    TIMEOUT,
  );

  test(
    "(a) fails on an invalid asyncapi.yaml",
    async () => {
      const { code, out } = await scenarios.invalidContract;
      expect(line(out, "a")).toStartWith("FAIL (a)");
      expect(out).toMatch(/asyncapi\.yaml:\d+:\d+ error/);
      expect(code).toBe(1);
    },
    TIMEOUT,
  );

  test(
    "(b) fails on a hand edit in generated/ and on a file the pipeline does not render",
    async () => {
      const { code, out } = await scenarios.handEdited;
      expect(line(out, "a")).toStartWith("PASS (a)");
      expect(line(out, "b")).toStartWith("FAIL (b)");
      expect(out).toContain("changed by hand or stale: generated/events.ts");
      expect(out).toContain("not rendered by the pipeline: generated/stale.ts");
      expect(code).toBe(1);
    },
    TIMEOUT,
  );

  test(
    "(c) fails on a handler for an undeclared event, and on two handlers for one event",
    async () => {
      const { code, out } = await scenarios.undeclaredHandler;
      expect(line(out, "c")).toStartWith("FAIL (c)");
      expect(out).toContain('"nope:undeclared": handler in extra for an undeclared event');
      expect(out).toMatch(/"ping": more than one handler \(tables .*extra/);
      expect(line(out, "b")).toStartWith("PASS (b)");
      expect(code).toBe(1);
    },
    TIMEOUT,
  );

  test(
    "(c) fails on a declared client -> server event without a handler in the tables the server binds",
    async () => {
      const { code, out } = await scenarios.missingHandler;
      expect(line(out, "c")).toStartWith("FAIL (c)");
      expect(out).toContain('/ "ping": no handler');
      expect(code).toBe(1);
    },
    TIMEOUT,
  );

  test(
    "(c) counts handlers per namespace: a table bound in an undeclared namespace does not cover /",
    async () => {
      const { code, out } = await scenarios.otherNamespace;
      expect(line(out, "c")).toStartWith("FAIL (c)");
      expect(out).toContain("handlers for namespace /elsewhere, which asyncapi.yaml does not declare");
      expect(out).toContain('/ "ping": no handler');
      expect(code).toBe(1);
    },
    TIMEOUT,
  );

  test(
    "(c) checks every namespace: an /internal operation without a bound handler fails",
    async () => {
      const { code, out } = await scenarios.internalUnbound;
      expect(line(out, "c")).toStartWith("FAIL (c)");
      expect(out).toContain('/internal "send_message": no handler');
      expect(out).not.toContain('/ "ping": no handler');
      expect(code).toBe(1);
    },
    TIMEOUT,
  );

  test(
    "(c) reads namespaceHandlers only: the old handlerTables export is not bound",
    async () => {
      const { code, out } = await scenarios.oldExportOnly;
      expect(line(out, "c")).toStartWith("FAIL (c) handlers could not be loaded");
      expect(out).toContain("src/realtime/handlers/index.ts does not export namespaceHandlers");
      expect(code).toBe(1);
    },
    TIMEOUT,
  );

  test(
    "(d) fails when an event is removed without a version that allows it",
    async () => {
      const { code, out } = await scenarios.pongRemoved;
      expect(line(out, "b")).toStartWith("PASS (b)");
      expect(line(out, "d")).toStartWith("FAIL (d)");
      expect(out).toContain("events: ");
      expect(out).toMatch(/without a version that allows them/);
      expect(out).toContain("/channels/pong: removed");
      expect(code).toBe(1);
    },
    TIMEOUT,
  );

  test(
    "(d) passes the same change when info.version allows it (0.x: a raised minor; else a raised major)",
    async () => {
      const { code, out } = await scenarios.pongRemovedWithVersion;
      expect(line(out, "d")).toStartWith("PASS (d)");
      expect(out).toMatch(
        /events: \d+ breaking change\(s\), allowed: (minor raised while the major is 0|major raised)/,
      );
      expect(out).toContain("/channels/pong: removed");
      expect(code).toBe(0);
    },
    TIMEOUT,
  );

  test(
    "(d) fails when an admin API operation disappears from generated/openapi.json",
    async () => {
      const { code, out } = await scenarios.openApiPathRemoved;
      expect(line(out, "b")).toStartWith("PASS (b)");
      expect(line(out, "d")).toStartWith("FAIL (d)");
      expect(out).toContain("GET /legacy/things: operation removed");
      expect(out).toContain("events: no breaking change");
      expect(code).toBe(1);
    },
    TIMEOUT,
  );

  test(
    "(d) fails when an operation is renamed on the same REST path (its tRPC procedure is gone)",
    async () => {
      const { code, out } = await scenarios.procedureRenamed;
      expect(line(out, "b")).toStartWith("PASS (b)");
      expect(line(out, "d")).toStartWith("FAIL (d)");
      expect(out).toContain("tRPC procedure jwt.decode (mutation, POST /jwt/decode): removed or renamed");
      expect(out).toContain('POST /jwt/decode: operationId "jwt.decode" -> "jwt.read"');
      expect(code).toBe(1);
    },
    TIMEOUT,
  );

  test(
    "(d) fails, naming it, on a $ref it cannot resolve (not read as anything)",
    async () => {
      const { code, out } = await scenarios.unresolvedRef;
      expect(line(out, "d")).toStartWith("FAIL (d)");
      expect(out).toContain('admin API: the comparison failed: head: unresolved $ref "#/components/schemas/Missing"');
      expect(code).toBe(1);
    },
    TIMEOUT,
  );

  test(
    "(d) without a base: SKIP with a hint locally, FAIL naming --base when CI=true",
    async () => {
      const { local, ci } = await scenarios.noBase;
      expect(line(local.out, "d")).toStartWith(
        "SKIP (d) no base revision to compare with: on main, and HEAD is the first",
      );
      expect(local.out).toContain("--base REF");
      expect(local.code).toBe(0);
      expect(line(ci.out, "d")).toStartWith("FAIL (d) no base revision (CI=true)");
      expect(ci.out).toContain("--base REF");
      expect(ci.code).toBe(1);
    },
    TIMEOUT,
  );

  test(
    "(e) fails when src/db/schema.ts changed without a migration, and writes nothing into the repository",
    async () => {
      const { code, out, migrationsUntouched } = await scenarios.schemaWithoutMigration;
      expect(line(out, "e")).toStartWith("FAIL (e) src/db/schema.ts changed without a migration");
      expect(out).toMatch(/drizzle-kit generate would write src\/db\/migrations\/\d{4}_\w+\.sql/);
      expect(out).toContain("drizzle-kit generate would write src/db/migrations/meta/_journal.json");
      expect(migrationsUntouched).toBe(true);
      expect(line(out, "b")).toStartWith("PASS (b)");
      expect(code).toBe(1);
    },
    TIMEOUT,
  );
});
