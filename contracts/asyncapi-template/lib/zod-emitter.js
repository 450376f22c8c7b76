/**
 * JSON Schema (the subset the contract uses) -> zod 4 source code.
 *
 * Every keyword is either translated, ignored because it is an annotation (description is kept as
 * `.describe()`), or rejected: an unsupported keyword makes generation fail with the schema path,
 * so a constraint is never dropped silently.
 *
 * Plain JavaScript on purpose: the generator transpiles the template with Babel (no TypeScript),
 * and scripts/ and tests import this file directly. Types are in zod-emitter.d.ts.
 */

export class SchemaError extends Error {
  constructor(path, message) {
    super(`${path}: ${message}`);
    this.name = "SchemaError";
    this.path = path;
  }
}

/** Keywords that carry no validation; `description` becomes `.describe()`. */
export const ANNOTATIONS = new Set([
  "title",
  "description",
  "examples",
  "example",
  "default",
  "deprecated",
  "readOnly",
  "writeOnly",
  "$comment",
  "$schema",
  "$id",
]);

const TYPE_KEYWORDS = {
  string: ["minLength", "maxLength", "pattern", "format"],
  number: ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"],
  integer: ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"],
  boolean: [],
  null: [],
  array: ["items", "minItems", "maxItems", "uniqueItems"],
  object: ["properties", "required", "additionalProperties"],
};
const TYPES = Object.keys(TYPE_KEYWORDS);
const GENERAL_KEYWORDS = ["type", "enum", "const", "oneOf", "anyOf", "$ref"];

const STRING_FORMATS = {
  "date-time": "z.iso.datetime({ offset: true })",
  uuid: "z.uuid()",
  email: "z.email()",
  uri: "z.url()",
};

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A property key as it must appear in an object literal. */
export function propertyKey(key) {
  return IDENTIFIER.test(key) ? key : JSON.stringify(key);
}

const literal = (value) => JSON.stringify(value);

function isPlainObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkNumber(path, node, keyword, { integer = false, positive = false } = {}) {
  const value = node[keyword];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new SchemaError(path, `"${keyword}" must be a finite number`);
  }
  if (integer && (!Number.isInteger(value) || value < 0)) {
    throw new SchemaError(path, `"${keyword}" must be a non-negative integer`);
  }
  if (positive && value <= 0) throw new SchemaError(path, `"${keyword}" must be greater than 0`);
  return value;
}

const LINE_WIDTH = 120;
const pad = (indent) => "  ".repeat(indent);

/**
 * An expression under construction: `head` (may span lines, its continuation lines already
 * indented) followed by method `calls` (".max(3)", ".describe(...)"), laid out by `layout`.
 */
const expr = (head, calls = []) => ({ head, calls });

/**
 * Lays out an expression whose first line starts at column `column` and whose last line is followed
 * by `trailing` characters (",", ";"): calls stay on the head's last line when it fits in
 * LINE_WIDTH, otherwise each call goes on its own line, one level deeper than `indent`.
 */
function layout(e, indent, column, trailing = 0) {
  const headLines = e.head.split("\n");
  const last = headLines[headLines.length - 1];
  const lastColumn = headLines.length === 1 ? column + last.length : last.length;
  const inline = e.calls.join("");
  if (e.calls.length === 0 || lastColumn + inline.length + trailing <= LINE_WIDTH) return e.head + inline;
  return e.head + e.calls.map((c) => `\n${pad(indent + 1)}${c}`).join("");
}

/**
 * Emits the zod expression for `schema`.
 *
 * @param {unknown} schema a JSON Schema (draft-07 subset, as used by AsyncAPI 3.0)
 * @param {object} [options]
 * @param {string} [options.path] where the schema is, for error messages
 * @param {(node: object) => string | undefined} [options.nameOf] the exported const a (dereferenced)
 *   sub-schema is declared as, if any; the root itself is never replaced by its name
 * @param {(ref: string) => string | undefined} [options.refName] the const a `$ref` string points to
 * @param {number} [options.indent] indentation level (2 spaces each) of the line the expression starts on
 * @param {number} [options.column] column the expression starts at (default: after the indentation)
 * @param {number} [options.trailing] characters that follow the expression on its last line (";")
 * @returns {string} zod source, e.g. `z.object({ ... }).strict()`
 */
export function emitZod(schema, options = {}) {
  const ctx = {
    nameOf: options.nameOf ?? (() => undefined),
    refName: options.refName ?? defaultRefName,
    stack: new Set(),
  };
  const indent = options.indent ?? 0;
  const column = options.column ?? indent * 2;
  const e = emit(schema, options.path ?? "#", indent, column, ctx, true);
  return layout(e, indent, column, options.trailing ?? 0);
}

function defaultRefName(ref) {
  const match = /^#\/components\/schemas\/([^/]+)$/.exec(ref);
  return match ? match[1] : undefined;
}

/** A nested schema laid out as a string (an argument of z.array(), z.union([...]), ...). */
function nested(node, path, indent, column, ctx) {
  return layout(emit(node, path, indent, column, ctx), indent, column, 2);
}

function emit(node, path, indent, column, ctx, isRoot = false) {
  if (node === true) return expr("z.unknown()");
  if (node === false) return expr("z.never()");
  if (!isPlainObject(node)) throw new SchemaError(path, "a schema must be an object or a boolean");

  if (!isRoot) {
    const name = ctx.nameOf(node);
    if (name) return expr(name);
  }
  if (ctx.stack.has(node)) {
    throw new SchemaError(path, "recursive schema: declare it in components.schemas and reference it");
  }
  ctx.stack.add(node);
  try {
    const e = emitBody(node, path, indent, column, ctx);
    if (node.description !== undefined) {
      if (typeof node.description !== "string") throw new SchemaError(path, '"description" must be a string');
      e.calls.push(`.describe(${literal(node.description)})`);
    }
    return e;
  } finally {
    ctx.stack.delete(node);
  }
}

function keywordsOf(node) {
  return Object.keys(node).filter((k) => !ANNOTATIONS.has(k) && !k.startsWith("x-"));
}

function emitBody(node, path, indent, column, ctx) {
  const keywords = keywordsOf(node);

  if (node.$ref !== undefined) {
    const others = keywords.filter((k) => k !== "$ref");
    if (others.length > 0) throw new SchemaError(path, `"$ref" next to ${others.map((k) => `"${k}"`).join(", ")}`);
    const name = typeof node.$ref === "string" ? ctx.refName(node.$ref) : undefined;
    if (!name) throw new SchemaError(path, `unsupported $ref ${literal(node.$ref)}`);
    return expr(name);
  }

  const types = typeList(node, path);
  const allowed = new Set(GENERAL_KEYWORDS);
  for (const type of types.length > 0 ? types : TYPES) for (const k of TYPE_KEYWORDS[type]) allowed.add(k);
  for (const k of keywords) {
    if (!allowed.has(k)) {
      const why = Object.values(TYPE_KEYWORDS).some((ks) => ks.includes(k))
        ? `keyword "${k}" does not apply to type ${literal(node.type)}`
        : `unsupported keyword "${k}"`;
      throw new SchemaError(path, why);
    }
  }

  for (const combinator of ["oneOf", "anyOf"]) {
    if (node[combinator] === undefined) continue;
    const others = keywords.filter((k) => k !== combinator);
    if (others.length > 0) {
      throw new SchemaError(path, `"${combinator}" next to ${others.map((k) => `"${k}"`).join(", ")} is not supported`);
    }
    const members = node[combinator];
    if (!Array.isArray(members) || members.length === 0) {
      throw new SchemaError(path, `"${combinator}" must be a non-empty array`);
    }
    if (members.length === 1) return emit(members[0], `${path}/${combinator}/0`, indent, column, ctx);
    // oneOf: exactly one member must match (z.xor); anyOf: at least one (z.union).
    const fn = combinator === "oneOf" ? "z.xor" : "z.union";
    return expr(
      list(
        `${fn}([`,
        "])",
        indent,
        column,
        (i, c) => nested(members[i], `${path}/${combinator}/${i}`, indent + 1, c, ctx),
        members.length,
      ),
    );
  }

  if (node.const !== undefined) {
    if (keywords.some((k) => k !== "const" && k !== "type")) {
      throw new SchemaError(path, '"const" next to other constraints is not supported');
    }
    return emitLiterals([node.const], path, types, indent, column);
  }
  if (node.enum !== undefined) {
    if (keywords.some((k) => k !== "enum" && k !== "type")) {
      throw new SchemaError(path, '"enum" next to other constraints is not supported');
    }
    if (!Array.isArray(node.enum) || node.enum.length === 0)
      throw new SchemaError(path, '"enum" must be a non-empty array');
    return emitLiterals(node.enum, path, types, indent, column);
  }

  if (types.length === 0) {
    if (keywords.length > 0)
      throw new SchemaError(path, `"type" is required next to ${keywords.map((k) => `"${k}"`).join(", ")}`);
    return expr("z.unknown()");
  }
  const nullable = types.includes("null");
  const concrete = types.filter((t) => t !== "null");
  if (concrete.length === 0) return expr("z.null()");
  let e;
  if (concrete.length === 1) e = emitTyped(concrete[0], node, path, indent, column, ctx);
  else {
    const inner = (i, c) => layout(emitTyped(concrete[i], node, path, indent + 1, c, ctx), indent + 1, c, 2);
    e = expr(list("z.union([", "])", indent, column, inner, concrete.length));
  }
  if (nullable) e.calls.push(".nullable()");
  return e;
}

/**
 * `open item, item close` on one line when it fits, else one item per line. `item(i, column)`
 * renders item i starting at `column`.
 */
function list(open, close, indent, column, item, count) {
  const flat = Array.from({ length: count }, (_, i) => item(i, 0));
  const oneLine = `${open}${flat.join(", ")}${close}`;
  if (!oneLine.includes("\n") && column + oneLine.length <= LINE_WIDTH) return oneLine;
  const inner = pad(indent + 1);
  const lines = Array.from({ length: count }, (_, i) => `${inner}${item(i, inner.length)},`);
  return `${open}\n${lines.join("\n")}\n${pad(indent)}${close}`;
}

function typeList(node, path) {
  if (node.type === undefined) return [];
  const list = Array.isArray(node.type) ? node.type : [node.type];
  if (list.length === 0) throw new SchemaError(path, '"type" must not be empty');
  for (const t of list) {
    if (!TYPES.includes(t)) throw new SchemaError(path, `unsupported type ${literal(t)}`);
  }
  if (new Set(list).size !== list.length) throw new SchemaError(path, '"type" lists a type twice');
  return list;
}

function emitLiterals(values, path, types, indent, column) {
  for (const v of values) {
    if (v !== null && !["string", "number", "boolean"].includes(typeof v)) {
      throw new SchemaError(path, `enum/const value ${literal(v)} is not a primitive`);
    }
    const t = v === null ? "null" : typeof v === "number" ? (Number.isInteger(v) ? "integer" : "number") : typeof v;
    const fits = types.length === 0 || types.includes(t) || (t === "integer" && types.includes("number"));
    if (!fits)
      throw new SchemaError(path, `enum/const value ${literal(v)} does not match type ${literal(typeLabel(types))}`);
  }
  if (new Set(values.map((v) => literal(v))).size !== values.length) {
    throw new SchemaError(path, '"enum" lists a value twice');
  }
  const nullable = values.includes(null);
  const rest = values.filter((v) => v !== null);
  let e;
  if (rest.length === 0) return expr("z.null()");
  if (rest.length === 1) e = expr(`z.literal(${literal(rest[0])})`);
  else if (rest.every((v) => typeof v === "string")) {
    e = expr(list("z.enum([", "])", indent, column, (i) => literal(rest[i]), rest.length));
  } else {
    e = expr(list("z.union([", "])", indent, column, (i) => `z.literal(${literal(rest[i])})`, rest.length));
  }
  if (nullable) e.calls.push(".nullable()");
  return e;
}

const typeLabel = (types) => (types.length === 1 ? types[0] : types);

function emitTyped(type, node, path, indent, column, ctx) {
  switch (type) {
    case "string":
      return emitString(node, path);
    case "number":
    case "integer":
      return emitNumber(type, node, path);
    case "boolean":
      return expr("z.boolean()");
    case "array":
      return emitArray(node, path, indent, column, ctx);
    case "object":
      return emitObject(node, path, indent, column, ctx);
    default:
      throw new SchemaError(path, `unsupported type ${literal(type)}`);
  }
}

function emitString(node, path) {
  let head = "z.string()";
  const calls = [];
  if (node.format !== undefined) {
    const format = STRING_FORMATS[node.format];
    if (!format) {
      throw new SchemaError(
        path,
        `unsupported format ${literal(node.format)} (supported: ${Object.keys(STRING_FORMATS).join(", ")})`,
      );
    }
    head = format;
  }
  const min = node.minLength !== undefined ? checkNumber(path, node, "minLength", { integer: true }) : undefined;
  const max = node.maxLength !== undefined ? checkNumber(path, node, "maxLength", { integer: true }) : undefined;
  if (min !== undefined && max !== undefined && min > max) throw new SchemaError(path, "minLength > maxLength");
  if (min !== undefined && min > 0) calls.push(`.min(${min})`);
  if (max !== undefined) calls.push(`.max(${max})`);
  if (node.pattern !== undefined) {
    if (typeof node.pattern !== "string") throw new SchemaError(path, '"pattern" must be a string');
    try {
      new RegExp(node.pattern, "u");
    } catch (e) {
      throw new SchemaError(path, `invalid pattern ${literal(node.pattern)}: ${e.message}`);
    }
    calls.push(`.regex(new RegExp(${literal(node.pattern)}, "u"))`);
  }
  return expr(head, calls);
}

function emitNumber(type, node, path) {
  const calls = [];
  if (node.minimum !== undefined) calls.push(`.gte(${checkNumber(path, node, "minimum")})`);
  if (node.exclusiveMinimum !== undefined) calls.push(`.gt(${checkNumber(path, node, "exclusiveMinimum")})`);
  if (node.maximum !== undefined) calls.push(`.lte(${checkNumber(path, node, "maximum")})`);
  if (node.exclusiveMaximum !== undefined) calls.push(`.lt(${checkNumber(path, node, "exclusiveMaximum")})`);
  if (node.multipleOf !== undefined) {
    calls.push(`.multipleOf(${checkNumber(path, node, "multipleOf", { positive: true })})`);
  }
  return expr(type === "integer" ? "z.int()" : "z.number()", calls);
}

function emitArray(node, path, indent, column, ctx) {
  if (Array.isArray(node.items)) throw new SchemaError(path, '"items" as an array (tuple) is not supported');
  if (node.uniqueItems !== undefined && node.uniqueItems !== false) {
    throw new SchemaError(path, 'unsupported keyword "uniqueItems"');
  }
  const items =
    node.items === undefined
      ? "z.unknown()"
      : nested(node.items, `${path}/items`, indent, column + "z.array(".length, ctx);
  const calls = [];
  const min = node.minItems !== undefined ? checkNumber(path, node, "minItems", { integer: true }) : undefined;
  const max = node.maxItems !== undefined ? checkNumber(path, node, "maxItems", { integer: true }) : undefined;
  if (min !== undefined && max !== undefined && min > max) throw new SchemaError(path, "minItems > maxItems");
  if (min !== undefined && min > 0) calls.push(`.min(${min})`);
  if (max !== undefined) calls.push(`.max(${max})`);
  return expr(`z.array(${items})`, calls);
}

function emitObject(node, path, indent, column, ctx) {
  const properties = node.properties ?? {};
  if (!isPlainObject(properties)) throw new SchemaError(path, '"properties" must be an object');
  const required = node.required ?? [];
  if (!Array.isArray(required) || required.some((r) => typeof r !== "string")) {
    throw new SchemaError(path, '"required" must be an array of strings');
  }
  for (const name of required) {
    if (!Object.hasOwn(properties, name)) {
      throw new SchemaError(path, `required property "${name}" is not declared in "properties"`);
    }
  }
  const extra = node.additionalProperties;
  const keys = Object.keys(properties);
  const extraSchema = (c) => nested(extra, `${path}/additionalProperties`, indent, c, ctx);

  if (keys.length === 0) {
    if (extra === false) return expr("z.object({})", [".strict()"]);
    if (extra === undefined || extra === true) return expr("z.record(z.string(), z.unknown())");
    const head = "z.record(z.string(), ";
    return expr(`${head}${extraSchema(column + head.length)})`);
  }

  const inner = pad(indent + 1);
  const lines = keys.map((key) => {
    const prefix = `${inner}${propertyKey(key)}: `;
    const value = emit(properties[key], `${path}/properties/${key}`, indent + 1, prefix.length, ctx);
    if (!required.includes(key)) value.calls.push(".optional()");
    return `${prefix}${layout(value, indent + 1, prefix.length, 1)},`;
  });
  const calls = [];
  if (extra === false) calls.push(".strict()");
  else if (extra === true) calls.push(".loose()");
  else if (extra !== undefined) calls.push(`.catchall(${extraSchema(indent * 2 + 4 + ".catchall(".length)})`);
  return expr(`z.object({\n${lines.join("\n")}\n${pad(indent)}})`, calls);
}

/**
 * The names of the schemas `schema` references (through `nameOf` or `$ref`), without descending
 * into them: the edges for ordering declarations. Follows the same keywords as `emitZod`.
 */
export function referencedNames(schema, options = {}) {
  const nameOf = options.nameOf ?? (() => undefined);
  const refName = options.refName ?? defaultRefName;
  const found = new Set();
  const seen = new Set();
  const walk = (node, isRoot) => {
    if (!isPlainObject(node) || seen.has(node)) return;
    seen.add(node);
    const name = isRoot ? undefined : nameOf(node);
    if (name) {
      found.add(name);
      return;
    }
    if (typeof node.$ref === "string") {
      const ref = refName(node.$ref);
      if (ref) found.add(ref);
    }
    if (isPlainObject(node.properties)) for (const value of Object.values(node.properties)) walk(value, false);
    walk(node.items, false);
    walk(node.additionalProperties, false);
    for (const key of ["oneOf", "anyOf"]) if (Array.isArray(node[key])) for (const m of node[key]) walk(m, false);
  };
  walk(schema, true);
  return [...found].sort();
}
