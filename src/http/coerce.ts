/**
 * Query strings and path params carry text, but the contract's input says what each field is: a
 * value is converted by its field's schema (numbers, integers, booleans, literals, arrays from
 * repeated keys or comma lists) before validation, so `?limit=2` means what `{ limit: 2 }` means
 * over tRPC. A value that does not convert is left as given, and validation names the field.
 */
import type { z } from "zod";

/** One query or path value: a string, or every value of a repeated key. */
export type RawValue = string | string[];

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  getter?: () => z.ZodType;
  element?: z.ZodType;
  options?: readonly z.ZodType[];
  values?: readonly unknown[];
}

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Plain decimal numbers only: "", " 1", "0x10" and "Infinity" stay strings (Number() would take them). */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const INTEGER = /^[+-]?\d+$/;

/** The schema under optional / default / nullable / pipe (its input side) and similar wrappers. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (let depth = 0; depth < 16; depth++) {
    const def = defOf(current);
    const next = def.type === "pipe" ? def.in : def.type === "lazy" ? def.getter?.() : (def.innerType ?? undefined);
    if (!next) return current;
    current = next;
  }
  return current;
}

export function coerceValue(schema: z.ZodType, value: RawValue): unknown {
  const target = unwrap(schema);
  const def = defOf(target);
  if (def.type === "array" && def.element) {
    const items = Array.isArray(value) ? value : value === "" ? [] : value.split(",");
    return items.map((item) => coerceValue(def.element as z.ZodType, item));
  }
  if (def.type === "union" && def.options) {
    for (const option of def.options) {
      const converted = coerceValue(option, value);
      if (option.safeParse(converted).success) return converted;
    }
    return value;
  }
  // A repeated key for a single value: left as an array, so validation says so.
  if (Array.isArray(value)) return value;
  switch (def.type) {
    case "number":
      return NUMBER.test(value) ? Number(value) : value;
    case "bigint":
      return INTEGER.test(value) ? BigInt(value) : value;
    case "boolean":
      return value === "true" ? true : value === "false" ? false : value;
    case "literal": {
      const index = (def.values ?? []).findIndex(
        (v) => typeof v !== "string" && v !== undefined && String(v) === value,
      );
      return index === -1 ? value : def.values?.[index];
    }
    default:
      return value;
  }
}

/** Every known field converted by its schema; unknown keys are kept for the schema to judge. */
export function coerceInput(schema: z.ZodObject, raw: Record<string, RawValue>): Record<string, unknown> {
  const shape = schema.shape as Record<string, z.ZodType | undefined>;
  return Object.fromEntries(
    Object.entries(raw).map(([key, value]) => {
      const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
      return [key, field ? coerceValue(field, value) : value];
    }),
  );
}

/** The query string as one object: a repeated key gives an array. Own keys only (`__proto__` too). */
export function queryOf(url: string): Record<string, RawValue> {
  const values = new Map<string, RawValue>();
  for (const [key, value] of new URL(url).searchParams) {
    const seen = values.get(key);
    if (seen === undefined) values.set(key, value);
    else if (Array.isArray(seen)) seen.push(value);
    else values.set(key, [seen, value]);
  }
  return Object.fromEntries(values);
}
