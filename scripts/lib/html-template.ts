/**
 * @asyncapi/html-template, compiled in a folder of the project's own. The `__transpiled/` code the
 * package ships requires a file on its publisher's build machine, and compiling it in place would
 * write into node_modules. So the package's files (not its node_modules nor __transpiled) are copied
 * to docs-build/.html-template/<version>-<key>/, whose node_modules links each dependency to the
 * package it resolves to from the installed template (its own nested react 18 and react-component,
 * the rest hoisted), and compiled there once; later runs reuse it.
 */
import { existsSync, realpathSync } from "node:fs";
import { cp, mkdir, readdir, rename, rm, symlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ROOT } from "./pipeline";

const TEMPLATE = "@asyncapi/html-template";
const GENERATOR = "@asyncapi/generator";
const SDK = "@asyncapi/generator-react-sdk";
export const HTML_TEMPLATE_CACHE = join(ROOT, "docs-build/.html-template");
/** Where the generator loads a compiled template from when run with `compile: false`. */
const TRANSPILED = "__transpiled";

interface PackageJson {
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  generator?: { nonRenderableFiles?: string[] };
}

const readPackage = (dir: string) => Bun.file(join(dir, "package.json")).json() as Promise<PackageJson>;
const packageDir = (name: string, from = ROOT) => realpathSync(dirname(Bun.resolveSync(`${name}/package.json`, from)));

/** Where `name` resolves from `from`: the nearest node_modules/<name> going up (Node's lookup). */
function resolvePackageFrom(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dir === dirname(dir)) return undefined;
  }
}

interface Sources {
  template: string;
  pkg: PackageJson;
  /** The SDK the generator uses: it compiles the template and adds a require of source-map-support. */
  sdk: string;
}

/**
 * Links into `dir`/node_modules what the compiled code requires: the template's dependencies, as
 * they resolve from the installed template, and source-map-support, as it resolves from the SDK.
 * The copy then works wherever it lives, whatever the install layout.
 */
async function linkDependencies(dir: string, { template, pkg, sdk }: Sources): Promise<void> {
  const optional = new Set(Object.keys(pkg.optionalDependencies ?? {}));
  const wanted: [string, string][] = [...Object.keys(pkg.dependencies ?? {}), ...optional].map((n) => [n, template]);
  wanted.push(["source-map-support", sdk]);
  for (const [name, from] of wanted) {
    const target = resolvePackageFrom(name, from);
    if (!target) {
      if (optional.has(name)) continue;
      throw new Error(`${name} (needed by ${TEMPLATE}) is not installed: run \`bun install\``);
    }
    const link = join(dir, "node_modules", name);
    await mkdir(dirname(link), { recursive: true });
    // "junction": a directory link Windows allows without privileges; ignored elsewhere.
    await symlink(target, link, "junction");
  }
}

/**
 * Copies and compiles the template into `dir`. Compiled as the generator's `compile: true` does (the
 * same SDK function, into the same __transpiled/), but without the non-renderable files: they are
 * copied to the output, never required, and Babel takes ~14 s over the 2.5 MB bundle among them.
 */
async function build(dir: string, sources: Sources): Promise<void> {
  const { template, pkg, sdk } = sources;
  // Plain paths in html-template (the generator also allows globs: those would just be compiled).
  const nonRenderable = (pkg.generator?.nonRenderableFiles ?? []).filter((f) =>
    existsSync(join(template, "template", f)),
  );
  const skipped = new Set(nonRenderable.map((f) => join(template, "template", f)));
  for (const entry of await readdir(template)) {
    if (entry === "node_modules" || entry === TRANSPILED) continue;
    await cp(join(template, entry), join(dir, entry), { recursive: true, filter: (file) => !skipped.has(file) });
  }
  await linkDependencies(dir, sources);

  const { transpileFiles } = (await import(sdk)) as typeof import("@asyncapi/generator-react-sdk");
  // As the generator does: browserslist must not look for a config outside the template.
  const previous = process.env.BROWSERSLIST_ROOT_PATH;
  process.env.BROWSERSLIST_ROOT_PATH = dir;
  try {
    await transpileFiles(join(dir, "template"), join(dir, TRANSPILED), { recursive: true });
  } finally {
    if (previous === undefined) delete process.env.BROWSERSLIST_ROOT_PATH;
    else process.env.BROWSERSLIST_ROOT_PATH = previous;
  }
  for (const file of nonRenderable) await cp(join(template, "template", file), join(dir, "template", file));
}

/**
 * The compiled template folder to give the generator with `compile: false`; compiled first when
 * `cache` holds none for the installed versions. `compiled` tells whether it was.
 */
export async function prepareHtmlTemplate(cache = HTML_TEMPLATE_CACHE): Promise<{ dir: string; compiled: boolean }> {
  const template = packageDir(TEMPLATE);
  const pkg = await readPackage(template);
  const sdkDir = packageDir(SDK, packageDir(GENERATOR));
  const sdk = await readPackage(sdkDir);
  // The compiled code requires the JSX runtime by absolute path: the key says where things are.
  const key = Bun.hash(`${template}@${pkg.version}\n${sdkDir}@${sdk.version}`).toString(36);
  const dir = join(cache, `${pkg.version}-${key}`);
  if (existsSync(dir)) return { dir, compiled: false };

  // Built aside and renamed, so a concurrent run never sees half a template.
  const staging = `${dir}.${process.pid}.tmp`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    await build(staging, { template, pkg, sdk: sdkDir });
    await rename(staging, dir).catch((error) => {
      if (!existsSync(dir)) throw error; // else another run finished first: use its copy
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  for (const entry of await readdir(cache)) {
    if (entry !== basename(dir) && !entry.endsWith(".tmp"))
      await rm(join(cache, entry), { recursive: true, force: true });
  }
  return { dir, compiled: true };
}
