/**
 * The admin API's OpenAPI document, as committed (generated/openapi.json) and as built now, passes a
 * real OpenAPI 3.1 validator (@readme/openapi-parser), dereferences without cycles, and names real
 * schemas: no component is a reference to itself (what zod 4.6's root `$ref` produced), every error
 * response resolves to the error envelope, and every operation says which tRPC procedure it is.
 */
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { compileErrors, dereference, validate } from "@readme/openapi-parser";
import { operations } from "../../contracts/admin";
import { errorCodes } from "../../contracts/errors";
import { buildOpenApiDocument } from "../../contracts/openapi";

type Json = Record<string, unknown>;
type Doc = Parameters<typeof validate>[0];

const ROOT = resolve(import.meta.dir, "../..");
const METHODS = ["get", "put", "post", "delete", "patch"];

const documents: Record<string, () => Promise<Json>> = {
  "generated/openapi.json": () => Bun.file(`${ROOT}/generated/openapi.json`).json(),
  "buildOpenApiDocument()": async () => structuredClone(buildOpenApiDocument()) as Json,
};

/** [where, operation] for every operation of the document. */
function operationsOf(doc: Json): [string, Json][] {
  return Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => [`${m.toUpperCase()} ${path}`, item[m] as Json] as [string, Json]),
  );
}

for (const [name, load] of Object.entries(documents)) {
  describe(name, () => {
    test("is a valid OpenAPI 3.1 document", async () => {
      const doc = await load();
      const result = await validate(structuredClone(doc) as Doc);
      if (!result.valid) throw new Error(compileErrors(result));
      expect(result.specification).toBe("OpenAPI");
      expect(doc.openapi).toBe("3.1.0");
    });

    test("dereferences with no circular $ref (no schema of the contract is recursive)", async () => {
      const doc = await load();
      await dereference(structuredClone(doc) as Doc, { dereference: { circular: false } });
    });

    test("no component schema is a bare reference to itself", async () => {
      const schemas = ((await load()).components as Json).schemas as Record<string, Json>;
      expect(Object.keys(schemas)).toEqual(expect.arrayContaining(["Alive", "Health", "ErrorResponse", "Error"]));
      for (const [id, schema] of Object.entries(schemas)) {
        expect({ id, ref: schema.$ref }).not.toEqual({ id, ref: `#/components/schemas/${id}` });
        // A real schema, not a pointer: zod's objects, enums, unions all say what they are.
        expect({ id, keys: Object.keys(schema).some((k) => ["type", "anyOf", "oneOf", "enum"].includes(k)) }).toEqual({
          id,
          keys: true,
        });
      }
    });

    test("every error response resolves to the error envelope with every error code", async () => {
      const doc = (await dereference(structuredClone(await load()) as Doc)) as unknown as Json;
      let seen = 0;
      for (const [where, op] of operationsOf(doc)) {
        for (const [status, response] of Object.entries(op.responses as Record<string, Json>)) {
          if (!/^[45]/.test(status) || where.startsWith("GET /alive") || where.startsWith("GET /health")) continue;
          const schema = ((response.content as Json)?.["application/json"] as Json)?.schema as Json | undefined;
          const label = `${where} ${status}`;
          expect({ label, type: schema?.type }).toEqual({ label, type: "object" });
          const properties = schema?.properties as Record<string, Json>;
          expect(properties.success).toEqual({ type: "boolean", const: false });
          const error = properties.error as Json;
          const code = (error.properties as Record<string, Json>).code as Json;
          expect(code.enum).toEqual(Object.keys(errorCodes));
          expect(error.required).toEqual(["code", "message"]);
          seen++;
        }
      }
      expect(seen).toBeGreaterThan(operations.length);
    });

    test("the probes' responses resolve to their schemas", async () => {
      const doc = (await dereference(structuredClone(await load()) as Doc)) as unknown as Json;
      const paths = doc.paths as Record<string, { get: { responses: Record<string, Json> } }>;
      for (const [path, field] of [
        ["/alive", "status"],
        ["/health", "instanceId"],
      ] as const) {
        for (const status of ["200", "503"]) {
          const response = paths[path]?.get.responses[status] as Json;
          const schema = ((response.content as Json)["application/json"] as Json).schema as Json;
          expect(Object.keys(schema.properties as Json)).toContain(field);
        }
      }
    });

    test("every admin operation names its tRPC procedure: path = operationId, GET = query", async () => {
      const byId = new Map(operationsOf(await load()).map(([where, op]) => [op.operationId, { where, op }]));
      for (const o of operations) {
        const entry = byId.get(o.name);
        expect(entry?.where).toBe(`${o.method} ${o.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")}`);
        expect(entry?.op["x-trpc"]).toEqual({ path: o.name, type: o.method === "GET" ? "query" : "mutation" });
      }
      expect(byId.get("sockets.stats")?.op["x-trpc"]).toEqual({ path: "sockets.stats", type: "query" });
    });
  });
}
