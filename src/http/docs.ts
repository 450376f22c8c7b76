/**
 * Published contracts: the admin API's OpenAPI document (generated/openapi.json) with a docs UI at
 * /docs, and the real-time contract as YAML, JSON and (once `bun run docs` has built it) HTML. The
 * served YAML and JSON add the dynamic events registered right now (seed 000's subscribers) as
 * operations of the `{eventName}` channel; the committed asyncapi.yaml documents the mechanism.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { openapi } from "@elysiajs/openapi";
import type { AnyElysia } from "elysia";
import openapiDocument from "../../generated/openapi.json";
import { AppError } from "../domain/errors";
import type { Subscriber, Subscribers } from "../domain/subscribers";

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

/** The `{eventName}` channel of asyncapi.yaml and the operations every registered name repeats. */
const DYNAMIC = {
  channel: "dynamicEvent",
  receive: "receiveDynamicEvent",
  send: "sendDynamicEvent",
} as const;

type AsyncApiDoc = { operations: Record<string, Record<string, unknown>> } & Record<string, unknown>;

/**
 * The committed document plus, per registered name, a `receive` operation (and a `send` one when it
 * is replicable) on the `{eventName}` channel, named by `x-event-name`, described by `x-subscriber`.
 * Keys use the subscriber id: operation ids allow no `:`, event names do.
 */
export function withDynamicEvents(base: AsyncApiDoc, subscribers: readonly Subscriber[]): AsyncApiDoc {
  const receive = base.operations[DYNAMIC.receive];
  const send = base.operations[DYNAMIC.send];
  if (!receive || !send) throw new Error(`asyncapi.yaml: operations.${DYNAMIC.receive} / ${DYNAMIC.send} are missing`);
  const operations = { ...base.operations };
  for (const s of subscribers) {
    const kind = s.replicable
      ? "replicable: the others in the sender's room get it"
      : "not replicable: never sent to another client";
    const about = {
      "x-event-name": s.eventListener,
      "x-subscriber": {
        id: s.id,
        eventListener: s.eventListener,
        replicable: s.replicable,
        description: s.description,
        updatedAt: s.updatedAt,
      },
    };
    operations[`${DYNAMIC.receive}-${s.id}`] = {
      ...receive,
      title: `Emit ${s.eventListener}`,
      summary: s.description ?? `A client emits the registered dynamic event "${s.eventListener}".`,
      description: `Registered dynamic event \`${s.eventListener}\` (${kind}). ${receive.description ?? ""}`,
      ...about,
    };
    if (s.replicable) {
      operations[`${DYNAMIC.send}-${s.id}`] = {
        ...send,
        title: `Receive ${s.eventListener}`,
        summary: `"${s.eventListener}" replicated from another member of the room.`,
        ...about,
      };
    }
  }
  return { ...base, operations };
}

export interface DocsDeps {
  /** The registry the served AsyncAPI document lists; none: the committed document as it is. */
  subscribers?: Pick<Subscribers, "version" | "snapshot">;
}

export const docsRoutes =
  (deps: DocsDeps = {}) =>
  (app: AnyElysia) => {
    const committedYaml = readFileSync(join(ROOT, "asyncapi.yaml"), "utf8");
    const committed = Bun.YAML.parse(committedYaml) as AsyncApiDoc;
    withDynamicEvents(committed, []); // fails at start-up, not per request, if the channel is gone
    /** Rendered once per registry version, on the first request that needs it. */
    let served: { version: number; yaml: string; json: string } | undefined;
    const asyncapi = () => {
      const registry = deps.subscribers;
      const version = registry?.version ?? 0;
      if (served?.version !== version) {
        const { subscribers } = registry?.snapshot() ?? { subscribers: [] };
        const doc = withDynamicEvents(committed, subscribers);
        served = {
          version,
          // With no registered name, the committed file as it is (comments and layout included).
          yaml: subscribers.length === 0 ? committedYaml : Bun.YAML.stringify(doc, null, 2),
          json: JSON.stringify(doc),
        };
      }
      return served;
    };
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
        () => new Response(asyncapi().yaml, { headers: { "content-type": "application/yaml; charset=utf-8" } }),
        {
          detail: { hide: true },
        },
      )
      .get(
        docPaths.asyncapiJson,
        () => new Response(asyncapi().json, { headers: { "content-type": "application/json; charset=utf-8" } }),
        {
          detail: { hide: true },
        },
      )
      .get(
        docPaths.asyncapiHtml,
        () => {
          if (!existsSync(ASYNCAPI_HTML)) {
            throw new AppError(
              "NOT_FOUND",
              "HTML event docs are not built: run `bun run docs` (or read /asyncapi.yaml)",
            );
          }
          return new Response(Bun.file(ASYNCAPI_HTML), { headers: { "content-type": "text/html; charset=utf-8" } });
        },
        { detail: { hide: true } },
      );
  };
