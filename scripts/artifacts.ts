/**
 * Files rendered from the TypeScript sources of truth (the admin contract and the env schema),
 * path -> content. `bun run generate` writes them; contracts:check fails when they drift.
 */
import { buildOpenApiDocument } from "../contracts/openapi";
import { renderConfigTable, renderEnvExample } from "./lib/config-docs";

export async function renderArtifacts(): Promise<Record<string, string>> {
  return {
    "generated/openapi.json": `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`,
    ".env.example": renderEnvExample(),
    "README.md": await renderConfigTable("README.md"),
  };
}
