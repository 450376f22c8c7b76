/**
 * The contract pipeline, shared by `bun run generate` (writes), `bun run contracts:check` (compares)
 * and `bun run docs`: validate asyncapi.yaml, render generated/events.ts through the project's
 * generator template, and render the other artifacts (scripts/artifacts.ts). Nothing here writes
 * to the repository except `writeRendered`.
 */
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { type AsyncAPIDocumentInterface, type Diagnostic, DiagnosticSeverity, Parser } from "@asyncapi/parser";
import { loadGenerator } from "./load-generator";

/** The repository root (scripts/lib/../..). */
export const ROOT = resolve(import.meta.dir, "../..");
export const ASYNCAPI_FILE = "asyncapi.yaml";
export const TEMPLATE_DIR = "contracts/asyncapi-template";
/** Owned by the pipeline: every file in it is rendered, nothing else may be there. */
export const GENERATED_DIR = "generated";

let parser: Parser | undefined;
function getParser(): Parser {
  // The document pins AsyncAPI 3.0.0 on purpose (@asyncapi/diff, the generator and the HTML template
  // are verified on 3.0); the "use the latest version" hint would only be noise.
  parser ??= new Parser({ ruleset: { rules: { "asyncapi-latest-version": "off" } } as never });
  return parser;
}

export interface ValidationResult {
  /** Undefined when the document could not be parsed at all. */
  document: AsyncAPIDocumentInterface | undefined;
  diagnostics: Diagnostic[];
  errors: string[];
  warnings: string[];
  /** Valid = parsed, and no error-severity diagnostic. */
  ok: boolean;
}

const SEVERITY: Record<number, string> = {
  [DiagnosticSeverity.Error]: "error",
  [DiagnosticSeverity.Warning]: "warning",
  [DiagnosticSeverity.Information]: "info",
  [DiagnosticSeverity.Hint]: "hint",
};

/** "asyncapi.yaml:12:5 error channels.ping.address: <message> (rule)" */
export function formatDiagnostic(d: Diagnostic, source: string): string {
  const where = `${source}:${d.range.start.line + 1}:${d.range.start.character + 1}`;
  const path = d.path.length > 0 ? ` ${d.path.join(".")}:` : "";
  const code = d.code !== undefined && d.code !== "" ? ` (${d.code})` : "";
  return `${where} ${SEVERITY[d.severity] ?? d.severity}${path} ${d.message}${code}`;
}

/** Parses and validates AsyncAPI text. `source` names it in messages. */
export async function parseAsyncApi(text: string, source = ASYNCAPI_FILE): Promise<ValidationResult> {
  const { document, diagnostics } = await getParser().parse(text, { source });
  const errors = diagnostics
    .filter((d) => d.severity === DiagnosticSeverity.Error)
    .map((d) => formatDiagnostic(d, source));
  const warnings = diagnostics
    .filter((d) => d.severity !== DiagnosticSeverity.Error)
    .map((d) => formatDiagnostic(d, source));
  if (!document && errors.length === 0) errors.push(`${source}: could not be parsed`);
  return { document, diagnostics, errors, warnings, ok: document !== undefined && errors.length === 0 };
}

/** Parses and validates a file (default: the repository's asyncapi.yaml). */
export async function validateAsyncApi(path = join(ROOT, ASYNCAPI_FILE)): Promise<ValidationResult> {
  const file = Bun.file(path);
  if (!(await file.exists())) {
    return { document: undefined, diagnostics: [], errors: [`${path}: not found`], warnings: [], ok: false };
  }
  return parseAsyncApi(await file.text(), relative(ROOT, path) || path);
}

/** Every file under `dir` (recursive), as paths relative to `dir` with "/" separators, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  let entries: { name: string; isDirectory(): boolean; isFile(): boolean; parentPath?: string }[];
  try {
    entries = (await readdir(dir, { recursive: true, withFileTypes: true })) as typeof entries;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return entries
    .filter((e) => e.isFile())
    .map((e) =>
      relative(dir, join(e.parentPath ?? dir, e.name))
        .split(sep)
        .join("/"),
    )
    .sort();
}

/**
 * Runs the project template through @asyncapi/generator into a temporary directory and returns
 * what it wrote, keyed by repo-relative path under generated/.
 */
export async function renderEvents(document: AsyncAPIDocumentInterface): Promise<Record<string, string>> {
  const out = await mkdtemp(join(tmpdir(), "switchboard-generate-"));
  try {
    const Generator = await loadGenerator();
    const generator = new Generator(join(ROOT, TEMPLATE_DIR), out, { forceWrite: true, install: false });
    await generator.generate(document);
    const files: Record<string, string> = {};
    for (const file of await listFiles(out)) {
      files[`${GENERATED_DIR}/${file}`] = await Bun.file(join(out, file)).text();
    }
    if (Object.keys(files).length === 0) throw new Error(`${TEMPLATE_DIR} rendered no files`);
    return files;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** The files scripts/artifacts.ts renders (generated/openapi.json, .env.example, ...). */
export async function renderArtifactFiles(): Promise<Record<string, string>> {
  const mod = (await import(join(ROOT, "scripts/artifacts.ts"))) as typeof import("../artifacts");
  return mod.renderArtifacts();
}

/**
 * Everything `bun run generate` writes, repo-relative path -> content, sorted by path.
 * `document`: the parsed asyncapi.yaml (parsed here when not given; throws when invalid).
 */
export async function renderAll(document?: AsyncAPIDocumentInterface): Promise<Record<string, string>> {
  let doc = document;
  if (!doc) {
    const result = await validateAsyncApi();
    if (!result.ok || !result.document) throw new Error(`asyncapi.yaml is invalid:\n${result.errors.join("\n")}`);
    doc = result.document;
  }
  const [events, artifacts] = await Promise.all([renderEvents(doc), renderArtifactFiles()]);
  const all: Record<string, string> = { ...artifacts };
  for (const [path, content] of Object.entries(events)) {
    if (path in all) throw new Error(`${path} is rendered both by the template and by scripts/artifacts.ts`);
    all[path] = content;
  }
  for (const path of Object.keys(all)) {
    if (path.startsWith("/") || path.split("/").includes(".."))
      throw new Error(`rendered path ${path} is not inside the repository`);
  }
  return Object.fromEntries(Object.entries(all).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export interface DriftReport {
  /** Rendered, but the file on disk differs. */
  changed: string[];
  /** Rendered, but not on disk. */
  missing: string[];
  /** In generated/, but not rendered. */
  extra: string[];
}

/** Compares rendered files with the working tree. */
export async function findDrift(rendered: Record<string, string>, root = ROOT): Promise<DriftReport> {
  const report: DriftReport = { changed: [], missing: [], extra: [] };
  for (const [path, content] of Object.entries(rendered)) {
    const file = Bun.file(join(root, path));
    if (!(await file.exists())) report.missing.push(path);
    else if ((await file.text()) !== content) report.changed.push(path);
  }
  for (const file of await listFiles(join(root, GENERATED_DIR))) {
    const path = `${GENERATED_DIR}/${file}`;
    if (!(path in rendered)) report.extra.push(path);
  }
  return report;
}

/** Writes rendered files that differ and deletes files in generated/ the pipeline no longer produces. */
export async function writeRendered(
  rendered: Record<string, string>,
  root = ROOT,
): Promise<{ written: string[]; unchanged: string[]; deleted: string[] }> {
  const drift = await findDrift(rendered, root);
  const written = [...drift.changed, ...drift.missing].sort();
  for (const path of written) {
    const target = join(root, path);
    await mkdir(dirname(target), { recursive: true });
    await Bun.write(target, rendered[path] as string);
  }
  for (const path of drift.extra) await rm(join(root, path));
  const unchanged = Object.keys(rendered).filter((p) => !written.includes(p));
  return { written, unchanged, deleted: drift.extra };
}

/** Milliseconds since `start`, for progress lines. */
export const since = (start: number) => `${Math.round(performance.now() - start)} ms`;
