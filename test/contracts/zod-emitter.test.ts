/**
 * The JSON Schema -> zod emitter of the generator template: the emitted code is evaluated and must
 * accept and reject what the JSON Schema accepts and rejects; unsupported keywords fail loudly.
 */
import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { emitZod, referencedNames, SchemaError } from "../../contracts/asyncapi-template/lib/zod-emitter.js";

/** Emits `schema` and evaluates the code; `scope` provides referenced named schemas. */
function compile(schema: unknown, scope: Record<string, z.ZodType> = {}): z.ZodType {
  const code = emitZod(schema, { refName: (ref) => /^#\/components\/schemas\/(\w+)$/.exec(ref)?.[1] });
  const names = Object.keys(scope);
  return new Function("z", ...names, `return ${code};`)(z, ...names.map((n) => scope[n])) as z.ZodType;
}

const ok = (schema: z.ZodType, value: unknown) => expect(schema.safeParse(value).success).toBe(true);
const bad = (schema: z.ZodType, value: unknown) => expect(schema.safeParse(value).success).toBe(false);

describe("zod emitter", () => {
  test("objects: required, optional, additionalProperties false/true/schema/absent", () => {
    const strict = compile({
      type: "object",
      additionalProperties: false,
      required: ["a"],
      properties: { a: { type: "string" }, "b-c": { type: "integer" } },
    });
    ok(strict, { a: "x" });
    ok(strict, { a: "x", "b-c": 2 });
    bad(strict, { "b-c": 2 });
    bad(strict, { a: "x", extra: 1 });
    bad(strict, { a: "x", "b-c": 1.5 });

    const open = compile({ type: "object", properties: { a: { type: "string" } } });
    ok(open, { extra: 1 });
    const loose = compile({ type: "object", additionalProperties: true, properties: { a: { type: "string" } } });
    expect(loose.parse({ a: "x", extra: 1 })).toEqual({ a: "x", extra: 1 });
    const typed = compile({
      type: "object",
      additionalProperties: { type: "number" },
      properties: { a: { type: "string" } },
    });
    ok(typed, { a: "x", n: 1 });
    bad(typed, { a: "x", n: "1" });
    const record = compile({ type: "object", additionalProperties: { type: "boolean" } });
    ok(record, { x: true });
    bad(record, { x: 1 });
    const empty = compile({ type: "object", additionalProperties: false });
    ok(empty, {});
    bad(empty, { a: 1 });
    const any = compile({ type: "object" });
    ok(any, { a: 1 });
    bad(any, "x");
  });

  test("strings: lengths, pattern, enum, const, formats", () => {
    const s = compile({ type: "string", minLength: 2, maxLength: 4, pattern: "^[a-z]+$" });
    ok(s, "ab");
    bad(s, "a");
    bad(s, "abcde");
    bad(s, "AB");
    const e = compile({ type: "string", enum: ["a", "b"] });
    ok(e, "a");
    bad(e, "c");
    const c = compile({ const: "only" });
    ok(c, "only");
    bad(c, "other");
    const dt = compile({ type: "string", format: "date-time" });
    ok(dt, "2025-01-01T12:00:00.000Z");
    ok(dt, "2025-01-01T12:00:00+02:00");
    bad(dt, "yesterday");
    const uuid = compile({ type: "string", format: "uuid" });
    ok(uuid, "0190a3b2-7c1d-7abc-8def-0123456789ab");
    bad(uuid, "nope");
    ok(compile({ type: "string", format: "email" }), "a@b.example");
    bad(compile({ type: "string", format: "email" }), "a@");
    ok(compile({ type: "string", format: "uri" }), "https://example.com/x");
    bad(compile({ type: "string", format: "uri" }), "not a url");
  });

  test("numbers, integers, booleans, null, arrays", () => {
    const n = compile({ type: "number", minimum: 0, exclusiveMaximum: 10, multipleOf: 0.5 });
    ok(n, 0);
    ok(n, 9.5);
    bad(n, 10);
    bad(n, -1);
    bad(n, 0.3);
    const i = compile({ type: "integer", exclusiveMinimum: 0, maximum: 3 });
    ok(i, 3);
    bad(i, 0);
    bad(i, 1.5);
    ok(compile({ type: "boolean" }), false);
    bad(compile({ type: "boolean" }), "false");
    ok(compile({ type: "null" }), null);
    const a = compile({ type: "array", items: { type: "string" }, minItems: 1, maxItems: 2 });
    ok(a, ["x"]);
    bad(a, []);
    bad(a, ["x", "y", "z"]);
    bad(a, [1]);
    ok(compile({ type: "array" }), [1, "x"]);
  });

  test("nullable type arrays, unions, unknown", () => {
    const ns = compile({ type: ["string", "null"], maxLength: 2 });
    ok(ns, null);
    ok(ns, "ab");
    bad(ns, "abc");
    bad(ns, 1);
    const sn = compile({ type: ["string", "integer"] });
    ok(sn, "x");
    ok(sn, 1);
    bad(sn, true);
    const enumNull = compile({ enum: ["a", null] });
    ok(enumNull, null);
    bad(enumNull, "b");
    const anyOf = compile({ anyOf: [{ type: "string" }, { type: "number", minimum: 5 }] });
    ok(anyOf, "x");
    ok(anyOf, 6);
    bad(anyOf, 1);
    // oneOf: exactly one, so a value matching both fails.
    const oneOf = compile({
      oneOf: [
        { type: "number", minimum: 0 },
        { type: "number", maximum: 10 },
      ],
    });
    ok(oneOf, -5);
    ok(oneOf, 50);
    bad(oneOf, 5);
    const unknown = compile({ description: "anything" });
    ok(unknown, undefined);
    ok(unknown, { a: [1] });
    expect(compile(true).safeParse(1).success).toBe(true);
    expect(compile(false).safeParse(1).success).toBe(false);
  });

  test("$ref and named sub-schemas reference the named const; the root is never replaced", () => {
    const Inner = z.object({ id: z.string() });
    const outer = compile(
      { type: "object", properties: { inner: { $ref: "#/components/schemas/Inner" } }, required: ["inner"] },
      { Inner },
    );
    ok(outer, { inner: { id: "x" } });
    bad(outer, { inner: { id: 1 } });

    const inner = { type: "object", properties: { id: { type: "string" } } };
    const root = { type: "object", properties: { a: inner, b: { type: "array", items: inner } } };
    const nameOf = (node: object) => (node === inner ? "Inner" : undefined);
    const code = emitZod(root, { nameOf });
    expect(code).toContain("a: Inner.optional()");
    expect(code).toContain("z.array(Inner)");
    expect(emitZod(inner, { nameOf })).toStartWith("z.object(");
    expect(referencedNames(root, { nameOf })).toEqual(["Inner"]);
    // A property named like an annotation keyword is still a property.
    expect(referencedNames({ type: "object", properties: { description: inner } }, { nameOf })).toEqual(["Inner"]);
  });

  test("descriptions become .describe()", () => {
    const s = compile({
      type: "object",
      description: "outer",
      properties: { a: { type: "string", description: "inner" } },
    });
    expect(s.description).toBe("outer");
    expect((s as z.ZodObject).shape.a?.unwrap().description).toBe("inner");
  });

  test("unsupported keywords and impossible schemas fail with the path", () => {
    const fails = (schema: unknown, message: RegExp) => {
      let error: unknown;
      try {
        emitZod(schema, { path: "components.schemas.X" });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SchemaError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toStartWith("components.schemas.X");
    };
    fails({ allOf: [{ type: "string" }] }, /unsupported keyword "allOf"/);
    fails(
      { type: "object", properties: { a: { type: "string", format: "ipv4" } } },
      /\/properties\/a: unsupported format "ipv4"/,
    );
    fails({ type: "array", items: { type: "string" }, uniqueItems: true }, /uniqueItems/);
    fails({ type: "object", patternProperties: { "^x": {} } }, /unsupported keyword "patternProperties"/);
    fails({ type: "string", minimum: 1 }, /"minimum" does not apply to type "string"/);
    fails({ type: "object", required: ["a"] }, /required property "a" is not declared/);
    fails({ properties: { a: { type: "string" } } }, /"type" is required/);
    fails({ type: "string", pattern: "(" }, /invalid pattern/);
    fails({ type: "date" }, /unsupported type "date"/);
    fails({ $ref: "#/definitions/Other" }, /unsupported \$ref/);
    fails({ type: "string", enum: ["a", 1] }, /does not match type/);
    fails({ type: "string", enum: ["a"], maxLength: 3 }, /"enum" next to other constraints/);
  });

  test("output is deterministic and laid out within 120 columns", () => {
    const schema = {
      type: "object",
      required: ["code"],
      properties: {
        code: {
          type: "string",
          description: "A stable, machine-readable code, one of a fairly long list of values.",
          enum: [
            "BAD_REQUEST",
            "UNAUTHORIZED",
            "FORBIDDEN",
            "NOT_FOUND",
            "CONFLICT",
            "PAYLOAD_TOO_LARGE",
            "RATE_LIMITED",
          ],
        },
        note: { type: "string", maxLength: 10, description: "x".repeat(100) },
      },
    };
    const a = emitZod(schema, { column: "export const X = ".length, trailing: 1 });
    expect(emitZod(structuredClone(schema), { column: "export const X = ".length, trailing: 1 })).toBe(a);
    const lines = `export const X = ${a};`.split("\n");
    expect(lines.filter((l) => l.length > 120 && !l.includes('.describe("xxx'))).toEqual([]);
    expect(lines.some((l) => l.trim() === '"RATE_LIMITED",')).toBe(true);
    // still valid code
    const s = new Function("z", `return ${a};`)(z) as z.ZodType;
    ok(s, { code: "CONFLICT" });
    bad(s, { code: "NOPE" });
  });
});
