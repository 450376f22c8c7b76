/**
 * `bun run contracts:check [--base REF]` (CI): the contract, the generated files and the code agree,
 * and nothing breaks clients.
 *   (a) asyncapi.yaml validates with no errors;
 *   (b) regenerating changes nothing (generated/ and every other rendered file), and generated/
 *       holds nothing the pipeline does not render;
 *   (c) every client -> server operation of each namespace has exactly one handler in that
 *       namespace's tables (`namespaceHandlers`, the object the server binds), and no handler exists
 *       for an event the namespace does not declare;
 *   (d) against a base revision, no breaking change to the events or the admin API (its OpenAPI,
 *       routes and tRPC procedures) unless that contract's info.version allows one: a raised major,
 *       or, while the major is 0, a raised minor (semver: 0.y.z may break on any minor, so
 *       0.1.0 -> 0.2.0 counts like 1.0.0 -> 2.0.0; a patch never does).
 *       The base: --base REF; on main (or at main's tip), HEAD~1; elsewhere the merge-base of HEAD
 *       and main (or origin/main). Without one (a shallow or detached clone): FAIL when CI=true, so
 *       CI never passes without comparing; SKIP otherwise;
 *   (e) src/db/schema.ts (SQLite) and src/db/schema.pg.ts (PostgreSQL) agree with their committed
 *       migrations: `drizzle-kit generate`, run on a temporary copy of each, would write nothing.
 * Prints one PASS / FAIL / SKIP line per check, with reasons; exits 1 when any check fails.
 */
import type { AsyncAPIDocumentInterface } from "@asyncapi/parser";
import { buildEventsModel, receiveEventsByNamespace } from "../contracts/asyncapi-template/lib/events-model.js";
import { asyncApiBreakingChanges, type BreakingReport, openApiBreakingChanges } from "./lib/breaking";
import { resolveBase, showFile } from "./lib/git";
import { checkHandlerCoverage, loadHandlers } from "./lib/handlers";
import { DRIZZLE_CONFIGS, migrationDrift } from "./lib/migrations";
import { ASYNCAPI_FILE, findDrift, parseAsyncApi, ROOT, renderAll, since, validateAsyncApi } from "./lib/pipeline";

const OPENAPI_FILE = "generated/openapi.json";

type Status = "PASS" | "FAIL" | "SKIP";
interface Result {
  status: Status;
  summary: string;
  details: string[];
}

function parseArgs(argv: string[]): { base?: string } {
  const out: { base?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--base") {
      const value = argv[++i];
      if (!value) usage("--base needs a revision");
      out.base = value;
    } else if (arg.startsWith("--base=")) out.base = arg.slice("--base=".length);
    else if (arg === "--help" || arg === "-h") usage();
    else usage(`unknown argument ${arg}`);
  }
  return out;
}

function usage(error?: string): never {
  if (error) console.error(error);
  console.error("usage: bun run contracts:check [--base REF]");
  process.exit(error ? 2 : 0);
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

function print(label: string, result: Result, started: number) {
  console.log(`${result.status} (${label}) ${result.summary} [${since(started)}]`);
  for (const line of result.details) console.log(`       ${line}`);
}

async function checkValid(): Promise<Result & { document?: AsyncAPIDocumentInterface }> {
  const v = await validateAsyncApi();
  const details = [...v.errors, ...v.warnings];
  if (!v.ok) return { status: "FAIL", summary: `${ASYNCAPI_FILE} is invalid (${v.errors.length} error(s))`, details };
  const note = v.warnings.length > 0 ? ` (${v.warnings.length} warning(s))` : "";
  return { status: "PASS", summary: `${ASYNCAPI_FILE} validates with no errors${note}`, details, document: v.document };
}

async function checkDrift(document: AsyncAPIDocumentInterface | undefined): Promise<Result> {
  if (!document)
    return { status: "FAIL", summary: `cannot regenerate: ${ASYNCAPI_FILE} is invalid (see a)`, details: [] };
  let rendered: Record<string, string>;
  try {
    rendered = await renderAll(document);
  } catch (error) {
    return { status: "FAIL", summary: "regenerating failed", details: message(error).split("\n") };
  }
  const drift = await findDrift(rendered);
  const details = [
    ...drift.changed.map((p) => `changed by hand or stale: ${p}`),
    ...drift.missing.map((p) => `missing: ${p}`),
    ...drift.extra.map((p) => `not rendered by the pipeline: ${p}`),
  ];
  if (details.length > 0) {
    return {
      status: "FAIL",
      summary: `${details.length} file(s) differ from what \`bun run generate\` renders (run it, and commit the result)`,
      details,
    };
  }
  return { status: "PASS", summary: `${Object.keys(rendered).length} rendered file(s) are up to date`, details: [] };
}

async function checkHandlers(document: AsyncAPIDocumentInterface | undefined): Promise<Result> {
  if (!document)
    return { status: "FAIL", summary: `cannot list the declared events: ${ASYNCAPI_FILE} is invalid`, details: [] };
  let declared: Record<string, string[]>;
  try {
    declared = receiveEventsByNamespace(buildEventsModel(document));
  } catch (error) {
    return { status: "FAIL", summary: "the events model could not be built", details: [message(error)] };
  }
  let problems: string[];
  try {
    problems = checkHandlerCoverage(declared, await loadHandlers(ROOT));
  } catch (error) {
    return { status: "FAIL", summary: "handlers could not be loaded", details: message(error).split("\n") };
  }
  const count = Object.values(declared).reduce((n, events) => n + events.length, 0);
  if (problems.length > 0) {
    return { status: "FAIL", summary: `${problems.length} handler problem(s)`, details: problems };
  }
  const namespaces = Object.keys(declared).length;
  return {
    status: "PASS",
    summary: `${count} client -> server event(s) in ${namespaces} namespace(s), each with exactly one handler`,
    details: [],
  };
}

function judge(what: string, r: BreakingReport): { failed: boolean; lines: string[] } {
  const notes = r.notes.map((n) => `  (${n})`);
  if (r.breaking.length === 0) return { failed: false, lines: [`${what}: no breaking change`, ...notes] };
  const versions = `${r.baseVersion ?? "?"} -> ${r.headVersion ?? "?"}`;
  const list = r.breaking.map((b) => `  - ${b}`);
  if (r.allowedBy) {
    return {
      failed: false,
      lines: [
        `${what}: ${r.breaking.length} breaking change(s), allowed: ${r.allowedBy} (${versions})`,
        ...list,
        ...notes,
      ],
    };
  }
  return {
    failed: true,
    lines: [
      `${what}: ${r.breaking.length} breaking change(s) without a version that allows them (${versions}; ` +
        "raise the major, or the minor while the major is 0):",
      ...list,
      ...notes,
    ],
  };
}

const inCi = () => ["true", "1"].includes((process.env.CI ?? "").toLowerCase());

async function checkBreaking(document: AsyncAPIDocumentInterface | undefined, baseArg?: string): Promise<Result> {
  const base = resolveBase(ROOT, baseArg);
  if (!base.ref) {
    if (baseArg) return { status: "FAIL", summary: base.reason ?? "no base", details: [] };
    const hint = "name one with --base REF (a commit, tag or branch with the contract clients use)";
    // CI must compare with something: a silent skip there would let any breaking change through.
    if (inCi()) return { status: "FAIL", summary: `no base revision (CI=true): ${base.reason}`, details: [hint] };
    return { status: "SKIP", summary: `no base revision to compare with: ${base.reason}`, details: [hint] };
  }
  const label = `${base.label} = ${base.ref.slice(0, 12)}`;
  const details: string[] = [];
  let failed = false;
  let compared = 0;

  // Events.
  const baseYaml = showFile(ROOT, base.ref, ASYNCAPI_FILE);
  if (baseYaml === undefined) details.push(`events: skipped, ${ASYNCAPI_FILE} does not exist in the base`);
  else if (!document) details.push(`events: skipped, the current ${ASYNCAPI_FILE} is invalid (see a)`);
  else {
    const parsed = await parseAsyncApi(baseYaml, `${base.ref.slice(0, 12)}:${ASYNCAPI_FILE}`);
    if (!parsed.document) details.push(`events: skipped, the base ${ASYNCAPI_FILE} does not parse`);
    else {
      try {
        const j = judge("events", asyncApiBreakingChanges(parsed.document, document));
        failed ||= j.failed;
        details.push(...j.lines);
        compared++;
      } catch (error) {
        failed = true;
        details.push(`events: the comparison failed: ${message(error)}`);
      }
    }
  }

  // Admin API.
  const baseOpenApi = showFile(ROOT, base.ref, OPENAPI_FILE);
  const headFile = Bun.file(`${ROOT}/${OPENAPI_FILE}`);
  if (baseOpenApi === undefined) details.push(`admin API: skipped, ${OPENAPI_FILE} does not exist in the base`);
  else if (!(await headFile.exists())) {
    failed = true;
    details.push(`admin API: ${OPENAPI_FILE} was removed`);
  } else {
    try {
      const j = judge("admin API", openApiBreakingChanges(JSON.parse(baseOpenApi), await headFile.json()));
      failed ||= j.failed;
      details.push(...j.lines);
      compared++;
    } catch (error) {
      failed = true;
      details.push(`admin API: the comparison failed: ${message(error)}`);
    }
  }

  if (failed) return { status: "FAIL", summary: `breaking changes against ${label}`, details };
  if (compared === 0) return { status: "SKIP", summary: `nothing to compare in ${label}`, details };
  return { status: "PASS", summary: `no unannounced breaking change against ${label}`, details };
}

async function checkMigrations(): Promise<Result> {
  const passed: string[] = [];
  for (const configName of DRIZZLE_CONFIGS) {
    let drift: Awaited<ReturnType<typeof migrationDrift>>;
    try {
      drift = await migrationDrift(ROOT, configName);
    } catch (error) {
      return {
        status: "FAIL",
        summary: `the migrations of ${configName} could not be checked`,
        details: message(error).split("\n"),
      };
    }
    if (drift.written.length > 0) {
      return {
        status: "FAIL",
        summary: `${drift.schema} changed without a migration: run \`bun run db:generate\` and commit ${drift.folder}`,
        details: drift.written.map((f) => `drizzle-kit generate would write ${f}`),
      };
    }
    if (drift.problem) return { status: "FAIL", summary: `${drift.schema}: ${drift.problem}`, details: [] };
    passed.push(`${drift.schema} and ${drift.folder} agree`);
  }
  return { status: "PASS", summary: passed.join("; "), details: [] };
}

process.chdir(ROOT);
const args = parseArgs(process.argv.slice(2));
const start = performance.now();
const statuses: Record<string, Status> = {};

let t = performance.now();
const a = await checkValid();
print("a", a, t);
statuses.a = a.status;

t = performance.now();
const b = await checkDrift(a.document);
print("b", b, t);
statuses.b = b.status;

t = performance.now();
const c = await checkHandlers(a.document);
print("c", c, t);
statuses.c = c.status;

t = performance.now();
const d = await checkBreaking(a.document, args.base);
print("d", d, t);
statuses.d = d.status;

t = performance.now();
const e = await checkMigrations();
print("e", e, t);
statuses.e = e.status;

const failed = Object.entries(statuses)
  .filter(([, s]) => s === "FAIL")
  .map(([k]) => k);
if (failed.length > 0) {
  console.log(`contracts:check FAILED: ${failed.join(", ")} (${since(start)})`);
  process.exit(1);
}
console.log(`contracts:check passed (${since(start)})`);
process.exit(0);
