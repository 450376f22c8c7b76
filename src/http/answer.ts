/**
 * JSON answers with the headers the request hook set (`set.headers`), built from a Headers object
 * made once. Bun builds a Response's headers from a plain object one validated entry at a time,
 * and an API answer carries ~20 (security, CORS, request id, rate limit): in profiles of the admin
 * API that was most of the cost of `Response.json`. The headers that are the same on every API
 * answer are cloned from a prepared `Headers`, and only the others are set one by one.
 */
type SetHeaders = Record<string, unknown>;

export interface JsonAnswerOptions {
  /** Headers (name: value) that API answers usually carry unchanged. */
  usual: Record<string, string>;
}

export function createJsonAnswer({ usual }: JsonAnswerOptions) {
  const prepared = new Headers(usual);
  const usualCount = Object.keys(usual).length;
  /**
   * `value` as JSON with `set`'s status and exactly `set.headers` (plus Bun's JSON content type
   * unless set), or undefined when a header is not a plain string (left to Elysia). On success
   * `set.headers` is emptied: Elysia would otherwise copy every header into the answer again.
   */
  return (set: { headers: SetHeaders; status?: unknown }, value: unknown): Response | undefined => {
    const from = set.headers;
    const headers = new Headers(prepared);
    let same = 0;
    for (const name in from) {
      const v = from[name];
      if (typeof v !== "string") return undefined;
      if (usual[name] === v) same++;
      else headers.set(name, v);
    }
    // A usual header this answer does not carry (none do today): removed from the clone.
    if (same !== usualCount) for (const name in usual) if (!(name in from)) headers.delete(name);
    const status = typeof set.status === "number" ? set.status : 200;
    set.headers = {};
    return Response.json(value, { status, headers });
  };
}
