/**
 * .ci/run, with a stand-in `bun` first on PATH that records each call (and whether HEAD~1 is there
 * at that moment), in a shallow clone of main: the steps run in order (install, lint, typecheck,
 * contracts:check with CI=true and HEAD~1 fetched, tests), a failing step fails the run without
 * stopping the others, and the last line counts the tests.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmod, cp, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function git(dir: string, ...args: string[]) {
  const r = Bun.spawnSync(["git", "-c", "user.name=test", "-c", "user.email=test@localhost", "-C", dir, ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.toString()}`);
}

const FAKE_BUN = `#!/bin/sh
parent=$(git rev-parse --verify --quiet 'HEAD~1^{commit}' >/dev/null 2>&1 && echo yes || echo no)
echo "$* | CI=\${CI:-} | HEAD~1=$parent" >> "$CALLS"
case "$*" in
  "run lint") exit "\${LINT_EXIT:-0}" ;;
  test) echo " 7 pass"; echo " 0 fail" ;;
esac
exit 0
`;

/** A repository with two commits holding .ci/run, cloned with --depth 1; .ci/run runs in the clone. */
async function runCi(env: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-ci-"));
  dirs.push(dir);
  const origin = join(dir, "origin");
  await mkdir(join(origin, ".ci"), { recursive: true });
  git(origin, "init", "-q", "-b", "main");
  git(origin, "commit", "-q", "--allow-empty", "-m", "first");
  await cp(join(ROOT, ".ci/run"), join(origin, ".ci/run"));
  git(origin, "add", "-A");
  git(origin, "commit", "-q", "-m", "second");
  git(dir, "clone", "-q", "--depth", "1", `file://${origin}`, join(dir, "clone"));

  const bin = join(dir, "bin");
  await mkdir(bin);
  await Bun.write(join(bin, "bun"), FAKE_BUN);
  await chmod(join(bin, "bun"), 0o755);
  const calls = join(dir, "calls.log");
  const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => k !== "CI" && v !== undefined));
  const proc = Bun.spawn(["bash", join(dir, "clone/.ci/run")], {
    env: { ...baseEnv, ...env, PATH: `${bin}:${process.env.PATH}`, CALLS: calls } as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return { code, out, calls: (await Bun.file(calls).text()).trim().split("\n") };
}

describe(".ci/run", () => {
  test("install, lint, typecheck, contracts:check (CI=true, HEAD~1 fetched into the shallow clone), tests", async () => {
    const { code, out, calls } = await runCi();
    expect(calls).toEqual([
      "--version | CI=true | HEAD~1=no",
      "install | CI=true | HEAD~1=no",
      "run lint | CI=true | HEAD~1=no",
      "run typecheck | CI=true | HEAD~1=no",
      "run contracts:check | CI=true | HEAD~1=yes",
      "test | CI=true | HEAD~1=yes",
    ]);
    expect(out.trim().split("\n").at(-1)).toBe("tests: 7 passed, 0 failed");
    expect(code).toBe(0);
  });

  test("a failing lint fails the run, and the other steps still run", async () => {
    const { code, out, calls } = await runCi({ LINT_EXIT: "1" });
    expect(calls.map((c) => c.split(" | ")[0])).toEqual([
      "--version",
      "install",
      "run lint",
      "run typecheck",
      "run contracts:check",
      "test",
    ]);
    expect(out.trim().split("\n").at(-1)).toBe("tests: 7 passed, 0 failed");
    expect(code).toBe(1);
  });
});
