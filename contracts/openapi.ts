/**
 * The admin API's OpenAPI 3.1 document, built from the operations table (and the public probes).
 * `bun run generate` writes it to generated/openapi.json; the server serves that document at
 * /openapi.json, and contracts:check diffs it against a base revision for breaking changes.
 */
import { z } from "zod";
import { adminApi, operations } from "./admin";
import { ErrorResponse, errorCodes } from "./errors";
import { type AnyOperation, isQuery, pathParams } from "./operation";
import { systemEndpoints } from "./system";

type JsonSchema = Record<string, unknown>;
type Components = Record<string, JsonSchema>;

const componentRef = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/**
 * zod -> JSON Schema, with named sub-schemas (`.meta({ id })`) hoisted into components. zod 4.6
 * answers a schema that has an id itself with a root `$ref` into `$defs`: that root is the
 * reference to return, never the component's body (it would be a reference to itself).
 */
function toSchema(schema: z.ZodType, io: "input" | "output", components: Components): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema;
  const { $schema: _, $defs, ...root } = json;
  for (const [name, def] of Object.entries(($defs ?? {}) as Components)) addComponent(components, name, def);
  const body = rewriteRefs(root) as JsonSchema;
  const id = z.globalRegistry.get(schema)?.id;
  if (!id || canonicalJson(body) === canonicalJson(componentRef(id))) return body;
  // A zod that inlines the root instead (before 4.6): hoist it ourselves.
  addComponent(components, id, root);
  return componentRef(id);
}

/** Components are shared by every operation: one id must render the same everywhere (input and output). */
function addComponent(components: Components, name: string, def: JsonSchema) {
  const body = rewriteRefs(def) as JsonSchema;
  const existing = components[name];
  if (existing && canonicalJson(existing) !== canonicalJson(body)) {
    throw new Error(`schema id "${name}" renders two different JSON Schemas (input vs output?): give each its own id`);
  }
  components[name] = body;
}

const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        k === "$ref" && typeof v === "string" ? v.replace("#/$defs/", "#/components/schemas/") : rewriteRefs(v),
      ]),
    );
  }
  return value;
}

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorResponse" } } },
});

function operationObject(op: AnyOperation, components: Components) {
  const params = pathParams(op.path);
  const shape = op.input.shape as Record<string, z.ZodType>;
  const exampleInput = op.example.input as Record<string, unknown>;
  /** The documented value of one input field, for its parameter. */
  const exampleOf = (name: string) => (name in exampleInput ? { example: exampleInput[name] } : {});
  const parameters: JsonSchema[] = params.map((name) => ({
    name,
    in: "path",
    required: true,
    schema: shape[name] ? toSchema(shape[name], "input", components) : { type: "string" },
    ...exampleOf(name),
  }));
  const rest = op.input.omit(Object.fromEntries(params.map((p) => [p, true])) as never) as z.ZodObject;
  let requestBody: JsonSchema | undefined;
  if (isQuery(op) || op.method === "DELETE") {
    for (const [name, field] of Object.entries(rest.shape as Record<string, z.ZodType>)) {
      parameters.push({
        name,
        in: "query",
        required: !field.safeParse(undefined).success,
        schema: toSchema(field, "input", components),
        ...exampleOf(name),
      });
    }
  } else if (Object.keys(rest.shape).length > 0) {
    requestBody = {
      required: true,
      content: {
        "application/json": {
          schema: toSchema(rest, "input", components),
          example: Object.fromEntries(Object.entries(exampleInput).filter(([k]) => !params.includes(k))),
        },
      },
    };
  }
  return {
    operationId: op.name,
    // The tRPC procedure this route is served as too: contracts:check compares procedures by it.
    "x-trpc": { path: op.name, type: isQuery(op) ? "query" : "mutation" },
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.name.split(".")[0]],
    security: op.auth === "admin" ? [{ apiToken: [] }] : op.auth === "user" ? [{ userJwt: [] }] : [],
    ...(parameters.length ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: {
      "200": {
        description: "Success",
        content: {
          "application/json": { schema: toSchema(op.output, "output", components), example: op.example.output },
        },
      },
      "400": errorResponse("Invalid input: `error.details.issues` lists each field and its rule"),
      ...(op.auth === "admin"
        ? {
            "401": errorResponse("Missing or wrong credential"),
            "403": errorResponse("A valid user JWT without role admin"),
          }
        : {}),
      ...(op.auth === "user" ? { "401": errorResponse("Missing, invalid or expired user JWT") } : {}),
      "429": errorResponse("Rate limited (403 once banned for the rest of the window)"),
      "500": errorResponse("Internal error"),
    },
  };
}

export function buildOpenApiDocument() {
  const components: Components = {};
  const paths: Record<string, Record<string, unknown>> = {};
  const add = (path: string, method: string, body: unknown) => {
    const key = path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    paths[key] = { ...paths[key], [method.toLowerCase()]: body };
  };
  for (const op of operations) add(op.path, op.method, operationObject(op, components));
  for (const ep of systemEndpoints) {
    add(ep.path, "GET", {
      operationId: ep.name,
      summary: ep.summary,
      tags: ["system"],
      security: [],
      responses: Object.fromEntries(
        Object.entries(ep.responses).map(([status, r]) => [
          status,
          r.schema
            ? {
                description: r.description,
                content: { [ep.contentType]: { schema: toSchema(r.schema, "output", components) } },
              }
            : { description: r.description, content: { [ep.contentType]: { schema: { type: "string" } } } },
        ]),
      ),
    });
  }
  toSchema(ErrorResponse, "output", components);

  return {
    openapi: "3.1.0",
    info: {
      title: adminApi.title,
      version: adminApi.version,
      description: adminApi.description,
    },
    tags: [...new Set([...operations.map((o) => o.name.split(".")[0] as string), "system"])].map((name) => ({ name })),
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      securitySchemes: {
        apiToken: {
          type: "http",
          scheme: "bearer",
          description:
            "The API_TOKEN (the bare token without `Bearer ` is accepted too), or a JWT signed with JWT_SECRET whose `role` claim is `admin`.",
        },
        userJwt: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "The caller's own end-user JWT: the operation acts for its user.",
        },
      },
      schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
    },
    "x-error-codes": Object.fromEntries(Object.entries(errorCodes).map(([code, m]) => [code, m.http])),
  };
}
