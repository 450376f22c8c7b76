/**
 * Published contracts: the admin API's OpenAPI document (generated/openapi.json) with a docs UI at
 * /docs, and the real-time contract as YAML, JSON and (once `bun run docs` has built it) HTML.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { openapi } from "@elysiajs/openapi";
import type { AnyElysia } from "elysia";
import openapiDocument from "../../generated/openapi.json";
import { AppError } from "../domain/errors";

const ROOT = join(import.meta.dir, "../..");

export const docPaths = {
  ui: "/docs",
  openapi: "/openapi.json",
  asyncapiHtml: "/asyncapi",
  asyncapiYaml: "/asyncapi.yaml",
  asyncapiJson: "/asyncapi.json",
} as const;
/** HTML pages that run their renderer's scripts (they get no deny-all CSP). */
export const docPages: ReadonlySet<string> = new Set([docPaths.ui, docPaths.asyncapiHtml]);
export const ASYNCAPI_HTML = join(ROOT, "docs-build/asyncapi/index.html");

export const docsRoutes = () => (app: AnyElysia) => {
  const yaml = readFileSync(join(ROOT, "asyncapi.yaml"), "utf8");
  const json = JSON.stringify(Bun.YAML.parse(yaml));
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
      }),
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
