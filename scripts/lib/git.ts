/** The few git reads contracts:check needs; every function degrades to `undefined` without git. */

function git(root: string, args: string[]): { ok: boolean; stdout: string; stderr: string } {
  if (!Bun.which("git")) return { ok: false, stdout: "", stderr: "git is not installed" };
  const result = Bun.spawnSync(["git", "-C", root, ...args], { stdout: "pipe", stderr: "pipe" });
  return { ok: result.exitCode === 0, stdout: result.stdout.toString(), stderr: result.stderr.toString().trim() };
}

/** The commit `rev` names, or undefined. */
const commitOf = (root: string, rev: string) => {
  const r = git(root, ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`]);
  return r.ok ? r.stdout.trim() : undefined;
};

export interface Base {
  ref?: string;
  /** How the base was chosen ("HEAD~1 (on main)", "merge-base of HEAD and main", the --base value). */
  label?: string;
  /** Why there is none. */
  reason?: string;
}

/**
 * The revision to compare with:
 * - `explicit` (--base) when given;
 * - on main (the branch is main, or HEAD is the tip of main / origin/main, as in a detached CI
 *   checkout): HEAD~1, the change the last commit made (the merge-base would be HEAD itself);
 * - elsewhere: the merge-base of HEAD with main (or origin/main).
 * `reason` says why there is none (a shallow clone without HEAD~1, no main, a first commit).
 */
export function resolveBase(root: string, explicit?: string): Base {
  if (!Bun.which("git")) return { reason: "git is not installed" };
  if (!git(root, ["rev-parse", "--is-inside-work-tree"]).ok) return { reason: "not a git repository" };
  if (explicit) {
    const ref = commitOf(root, explicit);
    return ref ? { ref, label: explicit } : { reason: `--base ${explicit}: no such revision` };
  }
  const head = commitOf(root, "HEAD");
  if (!head) return { reason: "no commits yet" };

  const branch = git(root, ["symbolic-ref", "--quiet", "--short", "HEAD"]);
  const mains = ["main", "origin/main"].filter((b) => commitOf(root, b) !== undefined);
  if ((branch.ok && branch.stdout.trim() === "main") || mains.some((b) => commitOf(root, b) === head)) {
    const parent = commitOf(root, "HEAD~1");
    if (parent) return { ref: parent, label: "HEAD~1 (on main)" };
    const shallow = git(root, ["rev-parse", "--is-shallow-repository"]).stdout.trim() === "true";
    return {
      reason: shallow
        ? "on main, but HEAD~1 is not in this shallow clone (git fetch --deepen=1)"
        : "on main, and HEAD is the first commit",
    };
  }
  for (const b of mains) {
    const r = git(root, ["merge-base", "HEAD", b]);
    if (r.ok && r.stdout.trim() !== "") return { ref: r.stdout.trim(), label: `merge-base of HEAD and ${b}` };
  }
  return {
    reason:
      mains.length === 0
        ? "no branch main (or origin/main)"
        : `HEAD has no common ancestor with ${mains.join(" or ")} (a shallow clone?)`,
  };
}

/** The content of `path` at `ref`, or undefined when it does not exist there. */
export function showFile(root: string, ref: string, path: string): string | undefined {
  const r = git(root, ["show", `${ref}:${path}`]);
  return r.ok ? r.stdout : undefined;
}
