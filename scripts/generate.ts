/**
 * `bun run generate`: validates asyncapi.yaml, then writes everything rendered from the sources of
 * truth: generated/events.ts (through contracts/asyncapi-template) and the files of
 * scripts/artifacts.ts (generated/openapi.json, .env.example, ...). Deterministic: running it twice
 * changes nothing. Files in generated/ that are no longer rendered are deleted.
 */
import { ROOT, renderAll, since, validateAsyncApi, writeRendered } from "./lib/pipeline";

process.chdir(ROOT);
const start = performance.now();

const validation = await validateAsyncApi();
for (const line of validation.warnings) console.warn(line);
if (!validation.ok || !validation.document) {
  for (const line of validation.errors) console.error(line);
  console.error(`asyncapi.yaml is invalid (${validation.errors.length} error(s)): nothing generated.`);
  process.exit(1);
}
console.log(`asyncapi.yaml is valid (${since(start)})`);

let rendered: Record<string, string>;
try {
  rendered = await renderAll(validation.document);
} catch (error) {
  console.error(`generation failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
const { written, unchanged, deleted } = await writeRendered(rendered);
for (const path of written) console.log(`wrote   ${path}`);
for (const path of unchanged) console.log(`same    ${path}`);
for (const path of deleted) console.log(`deleted ${path} (no longer rendered)`);
console.log(`generated ${Object.keys(rendered).length} file(s), ${written.length} changed (${since(start)})`);
process.exit(0);
