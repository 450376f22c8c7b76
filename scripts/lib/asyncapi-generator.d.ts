// @asyncapi/generator ships no types; the part scripts/ uses.
declare module "@asyncapi/generator" {
  interface GeneratorOptions {
    templateParams?: Record<string, string | boolean>;
    forceWrite?: boolean;
    install?: boolean;
    debug?: boolean;
    output?: "fs" | "string";
    entrypoint?: string;
    compile?: boolean;
  }
  export default class Generator {
    constructor(templateNameOrPath: string, targetDir: string, options?: GeneratorOptions);
    /** `document`: a string, or a document parsed by @asyncapi/parser. */
    generate(document: unknown): Promise<void>;
    generateFromString(document: string, parseOptions?: Record<string, unknown>): Promise<void>;
  }
}
