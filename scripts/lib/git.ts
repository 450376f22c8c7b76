/** The few git reads contracts:check needs; every function degrades to `undefined` without git. */

function git(root: string, args: string[]): { ok: boolean; stdout: string; stderr: string } {
  if (!Bun.which("git")) return { ok: false, stdout: "", stderr: "git is not installed" };
  const result = Bun.spawnSync(["git", "-C", root, ...args], { stdout: "pipe", stderr: "pipe" });
  return { ok: result.exitCode === 0, stdout: result.stdout.toString(), stderr: result.stderr.toString().trim() };
}

/**
 * The base revision: `explicit` when given (verified), else the merge-base of HEAD with `main`
 * (or `origin/main`). `reason` says why there is none.
 */
export function resolveBase(root: string, explicit?: string): { ref?: string; label?: string; reason?: string } {
  if (!Bun.which("git")) return { reason: "git is not installed" };
  if (!git(root, ["rev-parse", "--is-inside-work-tree"]).ok) return { reason: "not a git repository" };
  if (explicit) {
    const r = git(root, ["rev-parse", "--verify", "--quiet", `${explicit}^{commit}`]);
    if (!r.ok) return { reason: `--base ${explicit}: no such revision` };
    return { ref: r.stdout.trim(), label: explicit };
  }
  if (!git(root, ["rev-parse", "--verify", "--quiet", "HEAD"]).ok) return { reason: "no commits yet" };
  for (const branch of ["main", "origin/main"]) {
    if (!git(root, ["rev-parse", "--verify", "--quiet", `${branch}^{commit}`]).ok) continue;
    const r = git(root, ["merge-base", "HEAD", branch]);
    if (r.ok && r.stdout.trim() !== "") return { ref: r.stdout.trim(), label: `merge-base of HEAD and ${branch}` };
  }
  return { reason: "no branch main (or origin/main) with a common ancestor of HEAD" };
}

/** The content of `path` at `ref`, or undefined when it does not exist there. */
export function showFile(root: string, ref: string, path: string): string | undefined {
  const r = git(root, ["show", `${ref}:${path}`]);
  return r.ok ? r.stdout : undefined;
}
