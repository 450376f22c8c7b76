/**
 * Which base contracts:check (d) compares with, on small throwaway repositories: --base wins; on main
 * (or at its tip) HEAD~1; elsewhere the merge-base with main or origin/main; in a shallow clone
 * HEAD~1 appears after `git fetch --deepen=1` (what .ci/run does).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveBase } from "../../scripts/lib/git";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function git(dir: string, ...args: string[]): string {
  const r = Bun.spawnSync(["git", "-c", "user.name=test", "-c", "user.email=test@localhost", "-C", dir, ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
}

async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-git-"));
  dirs.push(dir);
  return dir;
}

/** A repository on main with `n` commits; returns it and the commit ids, oldest first. */
async function repo(n: number): Promise<{ dir: string; commits: string[] }> {
  const dir = await tempDir();
  git(dir, "init", "-q", "-b", "main");
  const commits: string[] = [];
  for (let i = 0; i < n; i++) {
    await Bun.write(join(dir, "file.txt"), `${i}\n`);
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", `c${i}`);
    commits.push(git(dir, "rev-parse", "HEAD"));
  }
  return { dir, commits };
}

describe("resolveBase", () => {
  test("on main: HEAD~1 (the merge-base with main would be HEAD itself)", async () => {
    const { dir, commits } = await repo(3);
    expect(resolveBase(dir)).toEqual({ ref: commits[1], label: "HEAD~1 (on main)" });
  });

  test("at main's tip without being on it (a detached CI checkout, a branch just created): HEAD~1", async () => {
    const { dir, commits } = await repo(2);
    git(dir, "checkout", "-q", "--detach");
    expect(resolveBase(dir)).toEqual({ ref: commits[0], label: "HEAD~1 (on main)" });
    git(dir, "checkout", "-q", "-b", "feature");
    expect(resolveBase(dir).ref).toBe(commits[0]);
  });

  test("on another branch: the merge-base with main", async () => {
    const { dir, commits } = await repo(2);
    git(dir, "checkout", "-q", "-b", "feature");
    await Bun.write(join(dir, "file.txt"), "feature\n");
    git(dir, "commit", "-q", "-am", "feature work");
    git(dir, "checkout", "-q", "main");
    await Bun.write(join(dir, "other.txt"), "main moved on\n");
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", "main work");
    git(dir, "checkout", "-q", "feature");
    expect(resolveBase(dir)).toEqual({ ref: commits[1], label: "merge-base of HEAD and main" });
  });

  test("--base wins, and must name a commit", async () => {
    const { dir, commits } = await repo(3);
    expect(resolveBase(dir, "HEAD")).toEqual({ ref: commits[2], label: "HEAD" });
    expect(resolveBase(dir, commits[0])).toEqual({ ref: commits[0], label: commits[0] });
    expect(resolveBase(dir, "no-such-ref")).toEqual({ reason: "--base no-such-ref: no such revision" });
  });

  test("no base: the first commit on main, no main at all, not a repository", async () => {
    const { dir } = await repo(1);
    expect(resolveBase(dir)).toEqual({ reason: "on main, and HEAD is the first commit" });
    git(dir, "branch", "-q", "-m", "trunk");
    expect(resolveBase(dir)).toEqual({ reason: "no branch main (or origin/main)" });
    expect(resolveBase(await tempDir()).reason).toBe("not a git repository");
  });

  test("a fresh clone of main: HEAD~1; a shallow one gets it with git fetch --deepen=1", async () => {
    const { dir: origin, commits } = await repo(3);
    const full = join(await tempDir(), "clone");
    git(origin, "clone", "-q", `file://${origin}`, full);
    expect(resolveBase(full)).toEqual({ ref: commits[1], label: "HEAD~1 (on main)" });

    const shallow = join(await tempDir(), "clone");
    git(origin, "clone", "-q", "--depth", "1", `file://${origin}`, shallow);
    expect(resolveBase(shallow).reason).toBe("on main, but HEAD~1 is not in this shallow clone (git fetch --deepen=1)");
    git(shallow, "fetch", "-q", "--deepen=1");
    expect(resolveBase(shallow)).toEqual({ ref: commits[1], label: "HEAD~1 (on main)" });
  });

  test("a branch in a clone without a local main: the merge-base with origin/main", async () => {
    const { dir: origin, commits } = await repo(2);
    git(origin, "checkout", "-q", "-b", "feature");
    await Bun.write(join(origin, "file.txt"), "feature\n");
    git(origin, "commit", "-q", "-am", "feature work");
    const clone = join(await tempDir(), "clone");
    git(origin, "clone", "-q", "--branch", "feature", `file://${origin}`, clone);
    expect(resolveBase(clone)).toEqual({ ref: commits[1], label: "merge-base of HEAD and origin/main" });
  });
});
