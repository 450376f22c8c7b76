/**
 * The judgement behind contracts:check (c) and (d), without subprocesses: schema compatibility per
 * direction, OpenAPI operation and tRPC procedure comparison, versions, handler coverage.
 */
import { describe, expect, test } from "bun:test";
import { breakingAllowedBy, majorOf, openApiBreakingChanges } from "../../scripts/lib/breaking";
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
    expect(r.allowedBy).toBeUndefined();
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
    expect(r.allowedBy).toBe("major raised");
  });

  test("majors", () => {
    expect(majorOf("0.1.0")).toBe(0);
    expect(majorOf("v12.0.1")).toBe(12);
    expect(majorOf("next")).toBeUndefined();
  });

  test("semver: a raised major allows breaking changes, and so does a raised minor while the major is 0", () => {
    expect(breakingAllowedBy("1.4.2", "2.0.0")).toBe("major raised");
    expect(breakingAllowedBy("0.9.0", "1.0.0")).toBe("major raised");
    expect(breakingAllowedBy("0.1.0", "0.2.0")).toBe("minor raised while the major is 0");
    expect(breakingAllowedBy("v0.1.3", "v0.10.0")).toBe("minor raised while the major is 0");
    for (const [b, h] of [
      ["0.1.0", "0.1.1"], // a patch never breaks
      ["0.2.0", "0.1.0"],
      ["1.0.0", "1.1.0"], // from 1.0.0 on, only the major
      ["1.0.0", "1.0.0"],
      ["0.1.0", "next"],
    ]) {
      expect(breakingAllowedBy(b, h)).toBeUndefined();
    }
    // The report carries it: an output enum widened (a new error code) between 0.1.0 and 0.2.0.
    const codes = (version: string, values: string[]) =>
      api(version, { "/x": { post: { responses: { "400": json({ type: "string", enum: values }) } } } });
    const widened = openApiBreakingChanges(codes("0.1.0", ["A"]), codes("0.2.0", ["A", "B"]));
    expect(widened.breaking).toEqual(['POST /x response 400: may now be "B"']);
    expect(widened.allowedBy).toBe("minor raised while the major is 0");
    expect(openApiBreakingChanges(codes("0.1.0", ["A"]), codes("0.1.1", ["A", "B"])).allowedBy).toBeUndefined();
  });
});

describe("tRPC procedures (x-trpc)", () => {
  const api = (ops: Record<string, Record<string, { id: string; type?: string }>>) => ({
    openapi: "3.1.0",
    info: { title: "t", version: "1.0.0" },
    paths: Object.fromEntries(
      Object.entries(ops).map(([path, methods]) => [
        path,
        Object.fromEntries(
          Object.entries(methods).map(([method, { id, type }]) => [
            method,
            {
              operationId: id,
              ...(type ? { "x-trpc": { path: id, type } } : {}),
              responses: { "200": { description: "ok" } },
            },
          ]),
        ),
      ]),
    ),
  });
  const base = api({ "/jwt/create": { post: { id: "jwt.create", type: "mutation" } } });

  test("the same procedure on the same route: not breaking", () => {
    expect(openApiBreakingChanges(base, base).breaking).toEqual([]);
  });

  test("a renamed operation on the same REST path breaks tRPC (and generated REST) clients", () => {
    const head = api({ "/jwt/create": { post: { id: "jwt.issue", type: "mutation" } } });
    expect(openApiBreakingChanges(base, head).breaking.sort()).toEqual([
      'POST /jwt/create: operationId "jwt.create" -> "jwt.issue"',
      "tRPC procedure jwt.create (mutation, POST /jwt/create): removed or renamed",
    ]);
  });

  test("query <-> mutation breaks: clients call .query() or .mutate()", () => {
    // Same REST route, same name: only the procedure type differs.
    const head = api({ "/jwt/create": { post: { id: "jwt.create", type: "query" } } });
    expect(openApiBreakingChanges(base, head).breaking).toEqual(["tRPC procedure jwt.create: mutation -> query"]);
  });

  test("a procedure served from another route is the same procedure (the REST route is judged on its own)", () => {
    const head = api({ "/tokens": { post: { id: "jwt.create", type: "mutation" } } });
    expect(openApiBreakingChanges(base, head).breaking).toEqual(["POST /jwt/create: operation removed"]);
  });
});

describe("$refs the comparison cannot follow", () => {
  const withSchema = (schema: unknown, schemas: Record<string, unknown> = {}) => ({
    openapi: "3.1.0",
    info: { title: "t", version: "1.0.0" },
    paths: { "/x": { get: { responses: { "200": { content: { "application/json": { schema } } } } } } },
    components: { schemas },
  });
  const ok = withSchema({ $ref: "#/components/schemas/A" }, { A: obj({ id: str }, ["id"]) });

  test("an unresolved $ref is an error, not 'anything'", () => {
    const broken = withSchema({ $ref: "#/components/schemas/Missing" }, { A: obj({ id: str }, ["id"]) });
    expect(() => openApiBreakingChanges(ok, broken)).toThrow(
      'head: unresolved $ref "#/components/schemas/Missing" (no such target)',
    );
    expect(() => openApiBreakingChanges(broken, ok)).toThrow('base: unresolved $ref "#/components/schemas/Missing"');
    const nested = withSchema(obj({ a: { $ref: "#/components/schemas/Gone" } }));
    expect(() => openApiBreakingChanges(nested, nested)).toThrow('unresolved $ref "#/components/schemas/Gone"');
  });

  test("an external or circular $ref is an error", () => {
    expect(() => openApiBreakingChanges(ok, withSchema({ $ref: "other.json#/A" }))).toThrow(
      'head: $ref "other.json#/A" is not local to the document',
    );
    const loop = withSchema(
      { $ref: "#/components/schemas/A" },
      { A: { $ref: "#/components/schemas/B" }, B: { $ref: "#/components/schemas/A" } },
    );
    expect(() => openApiBreakingChanges(ok, loop)).toThrow("is circular and never reaches a schema");
  });

  test("a head component that is a bare self-reference is an error", () => {
    const self = withSchema({ $ref: "#/components/schemas/A" }, { A: { $ref: "#/components/schemas/A" } });
    expect(() => openApiBreakingChanges(ok, self)).toThrow('head: $ref "#/components/schemas/A" is circular');
  });

  test("a base with bare self-references (zod 4.6 before the fix) reads them as anything, and says so", () => {
    const legacy = withSchema({ $ref: "#/components/schemas/A" }, { A: { $ref: "#/components/schemas/A" } });
    const r = openApiBreakingChanges(legacy, ok);
    expect(r.breaking).toEqual([]); // an output that was "anything" may narrow
    expect(r.notes).toEqual(['base: components.schemas.A is a bare self-reference, read as "anything"']);
    // As an input, the real schema now constrains what was "anything": still reported.
    const asInput = (doc: ReturnType<typeof withSchema>) => ({
      ...doc,
      paths: {
        "/x": {
          post: {
            requestBody: { content: { "application/json": { schema: { $ref: "#/components/schemas/A" } } } },
            responses: {},
          },
        },
      },
    });
    expect(openApiBreakingChanges(asInput(legacy), asInput(ok)).breaking).toEqual([
      "POST /x request body: was unconstrained, now constrained",
    ]);
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
  test("per namespace: a handler bound in another namespace does not count", () => {
    expect(
      checkHandlerCoverage(
        { "/": ["ping"], "/internal": ["broadcast"] },
        { "/": { system: { ping: fn, broadcast: fn } }, "/internal": {} },
      ),
    ).toEqual([
      '/ "broadcast": handler in system for an undeclared event (not in asyncapi.yaml)',
      '/internal "broadcast": no handler (declared as a client -> server operation)',
    ]);
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
