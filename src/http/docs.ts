/**
 * Published contracts: the admin API's OpenAPI document (generated/openapi.json) with a docs UI at
 * /docs, and the real-time contract as YAML, JSON and (once `bun run docs` has built it) HTML.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { openapi } from "@elysiajs/openapi";
import type { AnyElysia } from "elysia";
import openapiDocument from "../../generated/openapi.json";
import { AppError } from "../domain/errors";

const ROOT = join(import.meta.dir, "../..");

export const docPaths = {
  ui: "/docs",
  /** The UI's script (Scalar), from the npm package: no CDN, version pinned by the lockfile. */
  uiScript: "/docs/scalar.js",
  openapi: "/openapi.json",
  asyncapiHtml: "/asyncapi",
  asyncapiYaml: "/asyncapi.yaml",
  asyncapiJson: "/asyncapi.json",
} as const;
/** HTML pages that run their renderer's scripts (they get no deny-all CSP). */
export const docPages: ReadonlySet<string> = new Set([docPaths.ui, docPaths.asyncapiHtml]);
export const ASYNCAPI_HTML = join(ROOT, "docs-build/asyncapi/index.html");

/** Scalar's browser bundle; its package exports no such path, but Bun resolves any package.json. */
function scalarBundle(): { path: string; version: string } {
  const pkg = Bun.resolveSync("@scalar/api-reference/package.json", import.meta.dir);
  const { version } = JSON.parse(readFileSync(pkg, "utf8")) as { version: string };
  return { path: join(dirname(pkg), "dist/browser/standalone.js"), version };
}

// The plugin types this as Scalar's parsed configuration, with every default required.
type ScalarConfig = NonNullable<NonNullable<Parameters<typeof openapi>[0]>["scalar"]>;

function scalarConfig(version: string): ScalarConfig {
  const config: Partial<ScalarConfig> = {
    // Relative like the plugin's spec URL (works behind a path prefix); the version in the query
    // busts the script's long cache on upgrades.
    cdn: `${docPaths.uiScript.slice(1)}?v=${version}`,
    // Nothing from Scalar's servers: no web fonts, no telemetry.
    withDefaultFonts: false,
    telemetry: false,
  };
  return config as ScalarConfig;
}

export const docsRoutes = () => (app: AnyElysia) => {
  const yaml = readFileSync(join(ROOT, "asyncapi.yaml"), "utf8");
  const json = JSON.stringify(Bun.YAML.parse(yaml));
  const scalar = scalarBundle();
  if (!existsSync(scalar.path)) throw new Error(`${scalar.path} is missing: reinstall @scalar/api-reference`);
  return app
    .use(
      // The plugin serves the UI and the spec; every route is hidden, so the spec it serves is
      // exactly the generated document.
      openapi({
        path: docPaths.ui,
        specPath: docPaths.openapi,
        provider: "scalar",
        openapiVersion: "3.1.0",
        documentation: openapiDocument as never,
        scalar: scalarConfig(scalar.version),
      }),
    )
    .get(
      docPaths.uiScript,
      ({ set }) => {
        set.headers["content-type"] = "text/javascript; charset=utf-8";
        set.headers["cache-control"] = "public, max-age=31536000, immutable";
        // CORS with any origin says `Vary: *`, which no cache can reuse; the answer varies by Origin only.
        set.headers.vary = "Origin";
        return Bun.file(scalar.path);
      },
      { detail: { hide: true } },
    )
    .get(
      docPaths.asyncapiYaml,
      () => new Response(yaml, { headers: { "content-type": "application/yaml; charset=utf-8" } }),
      {
        detail: { hide: true },
      },
    )
    .get(
      docPaths.asyncapiJson,
      () => new Response(json, { headers: { "content-type": "application/json; charset=utf-8" } }),
      {
        detail: { hide: true },
      },
    )
    .get(
      docPaths.asyncapiHtml,
      () => {
        if (!existsSync(ASYNCAPI_HTML)) {
          throw new AppError("NOT_FOUND", "HTML event docs are not built: run `bun run docs` (or read /asyncapi.yaml)");
        }
        return new Response(Bun.file(ASYNCAPI_HTML), { headers: { "content-type": "text/html; charset=utf-8" } });
      },
      { detail: { hide: true } },
    );
};
