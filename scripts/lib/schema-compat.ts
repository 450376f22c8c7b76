/**
 * Is a JSON Schema change breaking? Direction decides:
 * - "input": what a client sends and the server validates (a client -> server payload, a request).
 *   Breaking = the new schema rejects something the old one accepted (narrowing).
 * - "output": what the server sends and a client consumes (a server -> client payload, an ack, a
 *   response). Breaking = the new schema allows something a client written against the old one
 *   does not expect (widening), or drops something it relied on.
 * Used for AsyncAPI payloads (draft-07) and OpenAPI 3.1 schemas (2020-12). Conservative: a change
 * it cannot judge (an unsupported keyword changed) is breaking.
 */

import { ANNOTATIONS } from "../../contracts/asyncapi-template/lib/zod-emitter.js";

export type Direction = "input" | "output";
type Schema = Record<string, unknown> | boolean;
type Resolver = (schema: Schema) => Schema;

/** Keywords whose value is a map of names to schemas (names are not filtered). */
const NAME_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);
const HANDLED = new Set([
  "type",
  "nullable",
  "enum",
  "const",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "anyOf",
  "oneOf",
  "format",
  "pattern",
  "multipleOf",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minItems",
  "maxItems",
  "$ref",
]);
const LOWER_BOUNDS = ["minLength", "minimum", "exclusiveMinimum", "minItems"] as const;
const UPPER_BOUNDS = ["maxLength", "maximum", "exclusiveMaximum", "maxItems"] as const;
const EXACT = ["format", "pattern", "multipleOf"] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** JSON with annotations and x-* extensions removed and keys sorted: equal = same validation. */
export function canonical(
  value: unknown,
  resolve: Resolver = (s) => s,
  seen = new Set<unknown>(),
  names = false,
): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, resolve, seen)).join(",")}]`;
  if (!isObject(value)) return JSON.stringify(value);
  if (names) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k], resolve, seen)}`).join(",")}}`;
  }
  const resolved = resolve(value);
  if (!isObject(resolved)) return JSON.stringify(resolved);
  if (seen.has(resolved)) return '"<recursive>"';
  seen.add(resolved);
  const keys = Object.keys(resolved)
    .filter((k) => !ANNOTATIONS.has(k) && !k.startsWith("x-") && k !== "$ref")
    .sort();
  const out = `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(resolved[k], resolve, seen, NAME_MAPS.has(k))}`).join(",")}}`;
  seen.delete(resolved);
  return out;
}

/** Types a schema allows (undefined = any), with `null` from type arrays, OpenAPI 3.0 nullable or anyOf [X, null]. */
function typesOf(s: Record<string, unknown>): Set<string> | undefined {
  const t = s.type;
  if (t === undefined) {
    if (s.enum !== undefined || s.const !== undefined) {
      const values = s.const !== undefined ? [s.const] : (s.enum as unknown[]);
      return new Set(values.map((v) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v)));
    }
    return undefined;
  }
  const set = new Set(Array.isArray(t) ? (t as string[]) : [t as string]);
  if (s.nullable === true) set.add("null");
  return set;
}

/** `anyOf: [X, { type: "null" }]` (zod's nullable) -> X with "null" added to its type. */
function normalize(schema: Record<string, unknown>, resolve: Resolver): Record<string, unknown> {
  for (const key of ["anyOf", "oneOf"]) {
    const members = schema[key];
    if (!Array.isArray(members) || members.length !== 2) continue;
    const resolved = members.map((m) => resolve(m as Schema));
    const nullIndex = resolved.findIndex((m) => isObject(m) && m.type === "null" && Object.keys(m).length === 1);
    if (nullIndex === -1) continue;
    const other = resolved[1 - nullIndex];
    if (!isObject(other)) continue;
    const rest = Object.fromEntries(Object.entries(schema).filter(([k]) => k !== key));
    const merged: Record<string, unknown> = { ...other, ...rest };
    const types = typesOf(other);
    if (types) merged.type = [...types, "null"];
    return merged;
  }
  return schema;
}

const allowsType = (types: Set<string> | undefined, t: string) =>
  types === undefined || types.has(t) || (t === "integer" && types.has("number"));

function enumOf(s: Record<string, unknown>): unknown[] | undefined {
  if (s.const !== undefined) return [s.const];
  return Array.isArray(s.enum) ? s.enum : undefined;
}

const show = (v: unknown) => JSON.stringify(v);

/**
 * The breaking differences between two schemas, as "path: what" lines.
 * `resolveBefore` / `resolveAfter` resolve `$ref`s (OpenAPI components); identity by default.
 */
export function schemaBreakingChanges(
  before: unknown,
  after: unknown,
  direction: Direction,
  path: string,
  resolveBefore: Resolver = (s) => s,
  resolveAfter: Resolver = (s) => s,
): string[] {
  const out: string[] = [];
  // Pairs being compared, so recursive schemas ($ref cycles) terminate.
  const active = new Map<unknown, Set<unknown>>();
  const cmp = (b0: unknown, a0: unknown, p: string) => {
    const b1 = typeof b0 === "boolean" ? b0 : isObject(b0) ? resolveBefore(b0) : true;
    const a1 = typeof a0 === "boolean" ? a0 : isObject(a0) ? resolveAfter(a0) : true;
    if (active.get(b1)?.has(a1)) return;
    if (canonical(b1, resolveBefore) === canonical(a1, resolveAfter)) return;
    const partners = active.get(b1) ?? new Set<unknown>();
    active.set(b1, partners);
    partners.add(a1);
    try {
      compare(b1, a1, p);
    } finally {
      partners.delete(a1);
    }
  };
  const add = (p: string, what: string) => out.push(`${p}: ${what}`);

  const compare = (b0: Schema, a0: Schema, p: string) => {
    const anyB = b0 === true || (isObject(b0) && canonical(b0, resolveBefore) === "{}");
    const anyA = a0 === true || (isObject(a0) && canonical(a0, resolveAfter) === "{}");
    if (b0 === false || a0 === false) {
      add(p, `changed from ${show(b0)} to ${show(a0)}`);
      return;
    }
    if (anyB || anyA) {
      if (anyB && direction === "input") add(p, "was unconstrained, now constrained");
      if (anyA && direction === "output") add(p, "was constrained, now anything");
      return;
    }
    const b = normalize(b0 as Record<string, unknown>, resolveBefore);
    const a = normalize(a0 as Record<string, unknown>, resolveAfter);

    for (const k of new Set([...Object.keys(b), ...Object.keys(a)])) {
      if (ANNOTATIONS.has(k) || k.startsWith("x-") || HANDLED.has(k)) continue;
      if (canonical(b[k], resolveBefore) !== canonical(a[k], resolveAfter))
        add(p, `"${k}" changed (not judged: breaking)`);
    }

    // Types.
    const tb = typesOf(b);
    const ta = typesOf(a);
    if (direction === "input") {
      if (tb === undefined && ta !== undefined) add(p, `now only accepts type ${show([...ta])}`);
      for (const t of tb ?? []) if (!allowsType(ta, t)) add(p, `no longer accepts type "${t}"`);
    } else {
      if (ta === undefined && tb !== undefined) add(p, "may now be of any type");
      for (const t of ta ?? []) if (!allowsType(tb, t)) add(p, `may now be of type "${t}"`);
    }

    // Enumerations.
    const eb = enumOf(b);
    const ea = enumOf(a);
    const has = (list: unknown[], v: unknown) => list.some((x) => show(x) === show(v));
    if (direction === "input") {
      if (ea && !eb) add(p, `now restricted to ${show(ea)}`);
      if (ea && eb) for (const v of eb) if (!has(ea, v)) add(p, `no longer accepts ${show(v)}`);
    } else {
      if (eb && !ea) add(p, `no longer restricted to ${show(eb)}`);
      if (ea && eb) for (const v of ea) if (!has(eb, v)) add(p, `may now be ${show(v)}`);
    }

    // Bounds and exact constraints.
    for (const k of LOWER_BOUNDS) {
      const [vb, va] = [b[k] as number | undefined, a[k] as number | undefined];
      if (vb === va) continue;
      if (direction === "input" && va !== undefined && (vb === undefined || va > vb))
        add(p, `${k} ${vb ?? "none"} -> ${va}`);
      if (direction === "output" && vb !== undefined && (va === undefined || va < vb))
        add(p, `${k} ${vb} -> ${va ?? "none"}`);
    }
    for (const k of UPPER_BOUNDS) {
      const [vb, va] = [b[k] as number | undefined, a[k] as number | undefined];
      if (vb === va) continue;
      if (direction === "input" && va !== undefined && (vb === undefined || va < vb))
        add(p, `${k} ${vb ?? "none"} -> ${va}`);
      if (direction === "output" && vb !== undefined && (va === undefined || va > vb))
        add(p, `${k} ${vb} -> ${va ?? "none"}`);
    }
    for (const k of EXACT) {
      const [vb, va] = [b[k], a[k]];
      if (show(vb) === show(va)) continue;
      const added = vb === undefined;
      const removed = va === undefined;
      if ((!added && !removed) || (added && direction === "input") || (removed && direction === "output")) {
        add(p, `${k} ${show(vb) ?? "none"} -> ${show(va) ?? "none"}`);
      }
    }

    // Objects.
    const pb = isObject(b.properties) ? b.properties : {};
    const pa = isObject(a.properties) ? a.properties : {};
    const rb = new Set(Array.isArray(b.required) ? (b.required as string[]) : []);
    const ra = new Set(Array.isArray(a.required) ? (a.required as string[]) : []);
    const closedB = b.additionalProperties === false;
    const closedA = a.additionalProperties === false;
    if (direction === "input") {
      for (const name of ra)
        if (!rb.has(name)) add(`${p}.${name}`, name in pb ? "became required" : "added as required");
      if (closedA) {
        for (const name of Object.keys(pb))
          if (!(name in pa)) add(`${p}.${name}`, "removed (unknown properties are rejected)");
        if (!closedB) add(p, "no longer accepts unknown properties");
      }
    } else {
      for (const name of rb)
        if (!ra.has(name)) add(`${p}.${name}`, name in pa ? "no longer always present" : "removed");
      for (const name of Object.keys(pb)) if (!(name in pa) && !rb.has(name)) add(`${p}.${name}`, "removed");
      if (closedB) {
        for (const name of Object.keys(pa)) if (!(name in pb)) add(`${p}.${name}`, "added to a closed object");
        if (!closedA) add(p, "may now have unknown properties");
      }
    }
    for (const name of Object.keys(pb)) if (name in pa) cmp(pb[name], pa[name], `${p}.${name}`);
    if (isObject(b.additionalProperties) || isObject(a.additionalProperties)) {
      cmp(b.additionalProperties ?? true, a.additionalProperties ?? true, `${p}[*]`);
    }

    // Arrays.
    if (b.items !== undefined || a.items !== undefined) cmp(b.items ?? true, a.items ?? true, `${p}[]`);

    // Unions: variants matched by canonical form, else by position.
    for (const k of ["anyOf", "oneOf"] as const) {
      const vb = Array.isArray(b[k]) ? (b[k] as unknown[]) : undefined;
      const va = Array.isArray(a[k]) ? (a[k] as unknown[]) : undefined;
      if (!vb && !va) continue;
      if (!vb || !va) {
        add(p, `${k} ${vb ? "removed" : "added"} (not judged: breaking)`);
        continue;
      }
      const cb = vb.map((v) => canonical(v, resolveBefore));
      const ca = va.map((v) => canonical(v, resolveAfter));
      if (vb.length === va.length) {
        vb.forEach((v, i) => {
          cmp(v, va[i], `${p}.${k}[${i}]`);
        });
      } else if (direction === "input") {
        cb.forEach((c, i) => {
          if (!ca.includes(c)) add(`${p}.${k}[${i}]`, "variant removed or changed");
        });
      } else {
        ca.forEach((c, i) => {
          if (!cb.includes(c)) add(`${p}.${k}[${i}]`, "variant added or changed");
        });
      }
    }
  };

  cmp(before, after, path);
  return [...new Set(out)];
}
