/**
 * CORS, as the app's request hook applies it (it replaced @elysiajs/cors, whose per-request work
 * showed in profiles: it listed every request header's name into `access-control-allow-headers`
 * on every answer). The answers keep the plugin's headers where they mean something:
 * - every answer: `access-control-allow-origin` and `vary` as the plugin set them (any origin: the
 *   caller's Origin, or `*`, with `Vary: *`; a list: the Origin when it is listed, `Vary: Origin`),
 *   `access-control-expose-headers` and, for a list, `access-control-allow-credentials`;
 * - a preflight (OPTIONS): 204 with `access-control-allow-methods` (the requested method),
 *   `access-control-allow-headers` (the requested headers) and `access-control-max-age`.
 * `access-control-allow-methods` and `-allow-headers` are read by browsers on preflights only, so
 * the other answers no longer carry them.
 */
export interface CorsOptions {
  /** `*`: any origin, without credentials; a list: those origins, with credentials. */
  origins: "*" | readonly string[];
  /** Response headers a browser script may read. */
  exposeHeaders: readonly string[];
}

type Headers = Record<string, string | number | undefined>;

/** How long a browser may keep a preflight's answer, in seconds (the plugin's default). */
const MAX_AGE = "5";

export function createCors({ origins, exposeHeaders }: CorsOptions) {
  const any = origins === "*";
  const listed = new Set(any ? [] : origins);
  const list = any ? [] : [...origins];
  const anyListed = list.includes("*");
  /** Headers that never change: set once on the app (`app.headers`). */
  const staticHeaders: Record<string, string> = { "access-control-expose-headers": exposeHeaders.join(", ") };
  if (!any) staticHeaders["access-control-allow-credentials"] = "true";

  /** A listed origin: as written, or written without its scheme (`app.example` allows `https://app.example`). */
  const isListed = (from: string) => {
    if (listed.has(from)) return true;
    const scheme = from.indexOf("://");
    const host = scheme === -1 ? from : from.slice(scheme + 3);
    return listed.has(host);
  };

  /** The origin headers of one answer. */
  function origin(headers: Headers, request: Request): void {
    if (any) {
      headers.vary = "*";
      headers["access-control-allow-origin"] = request.headers.get("origin") || "*";
      return;
    }
    if (anyListed) {
      headers.vary = "*";
      headers["access-control-allow-origin"] = "*";
      return;
    }
    if (list.length === 0) return;
    const from = request.headers.get("origin") ?? "";
    if (from !== "" && isListed(from)) {
      headers.vary = "Origin";
      headers["access-control-allow-origin"] = from;
      return;
    }
    headers.vary = "Origin";
  }

  /** A preflight's answer (its origin headers are already set). */
  function preflight(headers: Headers, request: Request): Response {
    const method = request.headers.get("access-control-request-method");
    if (method) headers["access-control-allow-methods"] = method;
    const requested = request.headers.get("access-control-request-headers");
    if (requested !== null) headers["access-control-allow-headers"] = requested;
    headers["access-control-max-age"] = MAX_AGE;
    return new Response(null, { status: 204 });
  }

  /** What `origin` sets for a request without an Origin header (servers, scripts: most API calls). */
  const withoutOrigin: Record<string, string> = {};
  origin(withoutOrigin as Headers, new Request("http://localhost/"));

  return { staticHeaders, withoutOrigin, origin, preflight };
}
