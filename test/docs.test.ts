/**
 * Published docs: `bun run docs` renders the HTML event docs (the server serves them at /asyncapi),
 * /docs runs Scalar from our own server, and /asyncapi.json is a valid AsyncAPI document.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { prepareHtmlTemplate } from "../scripts/lib/html-template";
import { parseAsyncApi } from "../scripts/lib/pipeline";
import { docPaths } from "../src/http/docs";
import { startTestServer, type TestServer } from "./helpers/server";

const ROOT = join(import.meta.dir, "..");

async function run(cmd: string[]): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: `$ ${cmd.join(" ")}\n${stdout}${stderr}` };
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe("HTML event docs", () => {
  test(
    "bun run docs, then GET /asyncapi",
    async () => {
      const { code, output } = await run(["bun", "scripts/docs.ts"]);
      expect(code, output).toBe(0);
      const res = await server.api(docPaths.asyncapiHtml, { auth: false });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      const html = await res.text();
      expect(html).toContain("Switchboard real-time API");
      expect(html).toContain("ping");
      // The docs page runs its own scripts: it must not get the API's deny-all CSP.
      expect(res.headers.get("content-security-policy")).toBeNull();
    },
    { timeout: 60_000 },
  );

  test("the HTML template compiles into a folder of ours and loads from anywhere", async () => {
    // A fresh cache outside the repository: the copy must resolve everything through its own links.
    const cache = mkdtempSync(join(tmpdir(), "switchboard-html-template-"));
    try {
      const first = await prepareHtmlTemplate(cache);
      expect(first.compiled).toBe(true);
      expect(first.dir.startsWith(cache)).toBe(true);
      const entry = join(first.dir, "__transpiled/index.html.js");
      const { code, output } = await run(["bun", "-e", `require(${JSON.stringify(entry)})`]);
      expect(code, output).toBe(0);
      expect(await prepareHtmlTemplate(cache)).toEqual({ dir: first.dir, compiled: false });
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

describe("/docs", () => {
  const scriptSources = (html: string) => [...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1] as string);

  test("loads Scalar from our server, and nothing from another host", async () => {
    const page = await server.api(docPaths.ui, { auth: false });
    expect(page.status).toBe(200);
    const html = await page.text();
    const base = new URL(docPaths.ui, server.url);
    const scripts = scriptSources(html).map((src) => new URL(src, base));
    expect(scripts.map((u) => u.pathname)).toEqual([docPaths.uiScript]);
    for (const u of scripts) expect(u.origin).toBe(base.origin);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);

    const script = await fetch(scripts[0] as URL);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toStartWith("text/javascript");
    expect(script.headers.get("cache-control")).toContain("max-age=31536000");
    expect(script.headers.get("vary")).not.toContain("*"); // `Vary: *` would defeat the cache
    // The installed package's browser bundle, byte for byte.
    const pkg = Bun.resolveSync("@scalar/api-reference/package.json", ROOT);
    const bundle = await Bun.file(join(dirname(pkg), "dist/browser/standalone.js")).text();
    expect((await script.text()) === bundle).toBe(true);
  });

  test("DOCS_PUBLIC=false gates the script like the page", async () => {
    const gated = await startTestServer({ DOCS_PUBLIC: "false" });
    try {
      for (const path of [docPaths.ui, docPaths.uiScript]) {
        expect((await gated.api(path, { auth: false })).status, path).toBe(401);
        expect((await gated.api(path)).status, path).toBe(200);
      }
    } finally {
      await gated.close();
    }
  });
});

test("/asyncapi.json is a valid AsyncAPI document", async () => {
  const res = await server.api(docPaths.asyncapiJson, { auth: false });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/json");
  const result = await parseAsyncApi(await res.text(), docPaths.asyncapiJson);
  expect(result.errors).toEqual([]);
  expect(result.document?.info().title()).toBe("Switchboard real-time API");
});
