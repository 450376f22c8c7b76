/** Types of zod-emitter.js (JSON Schema subset -> zod 4 source). */
export declare class SchemaError extends Error {
  readonly path: string;
  constructor(path: string, message: string);
}
export interface EmitOptions {
  /** Where the schema is, for error messages. Default "#". */
  path?: string;
  /** The exported const a (dereferenced) sub-schema is declared as; never applied to the root. */
  nameOf?: (node: object) => string | undefined;
  /** The const a `$ref` string points to. Default: `#/components/schemas/X` -> `X`. */
  refName?: (ref: string) => string | undefined;
  /** Indentation level (2 spaces each) of the line the expression starts on. */
  indent?: number;
  /** Column the expression starts at (default: after the indentation). */
  column?: number;
  /** Characters that follow the expression on its last line (";"). */
  trailing?: number;
}
/** The zod expression for `schema`; throws SchemaError on anything it cannot translate exactly. */
export declare function emitZod(schema: unknown, options?: EmitOptions): string;
/** The names `schema` references directly (not transitively). */
export declare function referencedNames(schema: unknown, options?: Pick<EmitOptions, "nameOf" | "refName">): string[];
export declare function propertyKey(key: string): string;
/** JSON Schema keywords that carry no validation. */
export declare const ANNOTATIONS: ReadonlySet<string>;
