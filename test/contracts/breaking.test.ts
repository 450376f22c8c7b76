/**
 * The judgement behind contracts:check (c) and (d), without subprocesses: schema compatibility per
 * direction, OpenAPI operation comparison, version majors, handler coverage.
 */
import { describe, expect, test } from "bun:test";
import { majorOf, openApiBreakingChanges } from "../../scripts/lib/breaking";
import { checkHandlerCoverage } from "../../scripts/lib/handlers";
import { schemaBreakingChanges } from "../../scripts/lib/schema-compat";

const obj = (properties: Record<string, unknown>, required: string[] = [], extra: Record<string, unknown> = {}) => ({
  type: "object",
  properties,
  required,
  ...extra,
});
const str = { type: "string" };

describe("schema compatibility", () => {
  test("input (client -> server): narrowing breaks, widening does not", () => {
    const before = obj({ id: { type: "string", maxLength: 128 }, kind: { type: "string", enum: ["a", "b"] } }, ["id"]);
    expect(schemaBreakingChanges(before, before, "input", "p")).toEqual([]);
    const widened = obj(
      { id: { type: "string", maxLength: 256 }, kind: { type: "string", enum: ["a", "b", "c"] }, x: str },
      [],
    );
    expect(schemaBreakingChanges(before, widened, "input", "p")).toEqual([]);
    const narrowed = obj({ id: { type: "string", maxLength: 64 }, kind: { type: "string", enum: ["a"] }, x: str }, [
      "id",
      "x",
    ]);
    expect(schemaBreakingChanges(before, narrowed, "input", "p").sort()).toEqual([
      "p.id: maxLength 128 -> 64",
      'p.kind: no longer accepts "b"',
      "p.x: added as required",
    ]);
    expect(
      schemaBreakingChanges(obj({ n: { type: "number" } }), obj({ n: { type: "integer" } }), "input", "p"),
    ).toEqual(['p.n: no longer accepts type "number"']);
    expect(
      schemaBreakingChanges(obj({ a: str }), obj({ a: str }, [], { additionalProperties: false }), "input", "p"),
    ).toEqual(["p: no longer accepts unknown properties"]);
  });

  test("output (server -> client): removing or widening breaks, adding does not", () => {
    const before = obj({ id: str, at: { type: "string", format: "date-time" }, code: { enum: ["A", "B"] } }, [
      "id",
      "at",
    ]);
    const added = obj({ id: str, at: { type: "string", format: "date-time" }, code: { enum: ["A"] }, extra: str }, [
      "id",
      "at",
    ]);
    expect(schemaBreakingChanges(before, added, "output", "p")).toEqual([]);
    const broken = obj({ id: { type: ["string", "null"] }, code: { enum: ["A", "B", "C"] } }, []);
    expect(schemaBreakingChanges(before, broken, "output", "p").sort()).toEqual([
      "p.at: removed",
      'p.code: may now be "C"',
      'p.id: may now be of type "null"',
      "p.id: no longer always present",
    ]);
    // zod 4's nullable (anyOf [X, null]) is the same as a type array.
    const zodNullable = obj({ id: { anyOf: [str, { type: "null" }] } }, ["id"]);
    expect(schemaBreakingChanges(obj({ id: str }, ["id"]), zodNullable, "output", "p")).toEqual([
      'p.id: may now be of type "null"',
    ]);
    // Descriptions and examples are not the contract.
    expect(
      schemaBreakingChanges(
        obj({ id: { ...str, description: "a" } }),
        obj({ id: { ...str, description: "b", examples: ["x"] } }),
        "output",
        "p",
      ),
    ).toEqual([]);
  });

  test("$refs resolve, recursive schemas terminate", () => {
    const doc = (node: unknown) => ({
      components: {
        schemas: {
          Node: {
            type: "object",
            properties: { value: node, children: { type: "array", items: { $ref: "#/components/schemas/Node" } } },
          },
        },
      },
    });
    const base = doc({ type: "string" });
    const head = doc({ type: "integer" });
    const resolver = (d: ReturnType<typeof doc>) => (s: unknown) =>
      (typeof s === "object" && s !== null && "$ref" in s ? d.components.schemas.Node : s) as Record<string, unknown>;
    const out = schemaBreakingChanges(
      { $ref: "#/components/schemas/Node" },
      { $ref: "#/components/schemas/Node" },
      "output",
      "p",
      resolver(base),
      resolver(head),
    );
    expect(out).toContain('p.value: may now be of type "integer"');
  });
});

describe("OpenAPI comparison", () => {
  const api = (version: string, paths: Record<string, unknown>) => ({
    openapi: "3.1.0",
    info: { title: "t", version },
    paths,
  });
  const json = (schema: unknown) => ({ content: { "application/json": { schema } } });
  const base = api("1.0.0", {
    "/rooms/{id}": {
      get: { responses: { "200": json(obj({ id: str, name: str }, ["id", "name"])) } },
      post: {
        requestBody: { required: true, ...json(obj({ name: str }, ["name"])) },
        responses: { "200": json(obj({ id: str }, ["id"])) },
      },
    },
    "/old": { delete: { responses: { "204": { description: "gone" } } } },
  });

  test("no change, renamed path parameter, additions: not breaking", () => {
    const head = api("1.1.0", {
      "/rooms/{roomId}": {
        get: { responses: { "200": json(obj({ id: str, name: str, topic: str }, ["id", "name"])) } },
        post: {
          requestBody: { required: true, ...json(obj({ name: str, topic: str }, ["name"])) },
          responses: { "200": json(obj({ id: str }, ["id"])) },
        },
      },
      "/old": { delete: { responses: { "204": { description: "gone" } } } },
      "/new": { get: { responses: { "200": { description: "ok" } } } },
    });
    const r = openApiBreakingChanges(base, head);
    expect(r.breaking).toEqual([]);
    expect(r.majorRaised).toBe(false);
  });

  test("removed operation, removed response property, new required input: breaking", () => {
    const head = api("2.0.0", {
      "/rooms/{id}": {
        get: { responses: { "200": json(obj({ id: str }, ["id"])) } },
        post: {
          requestBody: { required: true, ...json(obj({ name: str, owner: str }, ["name", "owner"])) },
          responses: { "200": json(obj({ id: str }, ["id"])) },
        },
        parameters: [{ name: "x-tenant", in: "header", required: true, schema: str }],
      },
    });
    const r = openApiBreakingChanges(base, head);
    expect(r.breaking.sort()).toEqual([
      "DELETE /old: operation removed",
      "GET /rooms/{id} response 200.name: removed",
      "GET /rooms/{id}: parameter header:x-tenant added as required",
      "POST /rooms/{id} request body.owner: added as required",
      "POST /rooms/{id}: parameter header:x-tenant added as required",
    ]);
    expect(r.majorRaised).toBe(true);
  });

  test("majors", () => {
    expect(majorOf("0.1.0")).toBe(0);
    expect(majorOf("v12.0.1")).toBe(12);
    expect(majorOf("next")).toBeUndefined();
  });
});

describe("handler coverage", () => {
  const fn = () => undefined;
  test("exactly one handler per declared event", () => {
    expect(
      checkHandlerCoverage(
        { "/": ["ping", "room:join"] },
        { "/": { system: { ping: fn }, rooms: { "room:join": fn } } },
      ),
    ).toEqual([]);
  });
  test("missing, duplicate, undeclared, not a function, unknown namespace", () => {
    const problems = checkHandlerCoverage(
      { "/": ["ping", "room:join"], "/internal": ["broadcast"] },
      { "/": { a: { ping: fn, extra: fn }, b: { ping: fn, "room:join": "nope" } }, "/other": { t: { x: fn } } },
    );
    expect(problems).toEqual([
      "handlers for namespace /other, which asyncapi.yaml does not declare",
      '/ b["room:join"]: not a function',
      '/ "ping": more than one handler (tables a, b)',
      '/ "extra": handler in a for an undeclared event (not in asyncapi.yaml)',
      '/internal "broadcast": no handler (declared as a client -> server operation)',
    ]);
  });
});
