/** Runs the gateway as a real OS process (`bun <entry>`) on port 0 and finds its port in the logs. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "../..");
export const MAIN = join(ROOT, "src/main.ts");

const dirs: string[] = [];
export const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "switchboard-proc-"));
  dirs.push(d);
  return d;
};
export const removeTempDirs = () => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
};

/** Env without the developer's own settings, so the defaults are what is tested. */
export const cleanEnv = (extra: Record<string, string>) => ({
  PATH: process.env.PATH ?? "",
  HOME: process.env.HOME ?? "",
  ...extra,
});

/** `cmd` defaults to `bun <entry>`; pass another (e.g. a shell with ulimit) to wrap it. */
export async function startProcess(
  cwd: string,
  env: Record<string, string> = {},
  entry = MAIN,
  cmd: string[] = ["bun", entry],
) {
  const proc = Bun.spawn(cmd, { cwd, env: cleanEnv({ PORT: "0", ...env }), stdout: "pipe", stderr: "pipe" });
  const reader = proc.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 15000;
  while (!out.includes('"event":"listening"')) {
    if (Date.now() > deadline) throw new Error(`no listening line: ${out}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`exited early: ${out}${await new Response(proc.stderr).text()}`);
    out += new TextDecoder().decode(value);
  }
  const line = out.split("\n").find((l) => l.includes('"event":"listening"')) as string;
  const port = (JSON.parse(line) as { port: number }).port;
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return out;
      out += new TextDecoder().decode(value);
    }
  })();
  return {
    proc,
    url: `http://127.0.0.1:${port}`,
    stdout: () => rest,
    logsSoFar: () => out,
    stderr: () => new Response(proc.stderr).text(),
  };
}
