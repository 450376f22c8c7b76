/**
 * Loads @asyncapi/generator. When it loads, it looks up the global npm (requireg) and crashes when it
 * finds none, as happens when bun was not installed next to npm (bun's own installer, another npm
 * prefix). It only needs npm to install templates, which we never do (`install: false`), so pointing
 * NODE_PATH at the npm on PATH is enough.
 */
import { existsSync, realpathSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";

function globalNodeModules(): string | undefined {
  const npm = Bun.which("npm");
  if (!npm) return undefined;
  for (let dir = dirname(realpathSync(npm)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json")) && dir.endsWith("/npm")) return dirname(dir);
  }
  return undefined;
}

export async function loadGenerator() {
  const modules = globalNodeModules();
  if (modules) process.env.NODE_PATH = [modules, process.env.NODE_PATH].filter(Boolean).join(delimiter);
  try {
    return (await import("@asyncapi/generator")).default;
  } catch (error) {
    throw new Error(`@asyncapi/generator did not load (it needs npm installed and on PATH): ${String(error)}`);
  }
}
