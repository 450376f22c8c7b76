/**
 * Which methods a path answers, from the app's own routes: a known path called with the wrong
 * method gets 405 with `Allow` rather than 404. OPTIONS routes (CORS preflight, `/*`) do not
 * make a path known.
 */
interface RouteLike {
  method: string;
  path: string;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function patternOf(path: string): RegExp {
  const segments = path.split("/").map((s) => (s === "*" ? ".*" : s.startsWith(":") ? "[^/]+" : escapeRegExp(s)));
  return new RegExp(`^${segments.join("/")}/?$`);
}

export function createAllowedMethods(routes: () => readonly RouteLike[]) {
  let table: { pattern: RegExp; method: string }[] | undefined;
  return (path: string): string[] => {
    // Built on first use: every route is registered once the server listens.
    table ??= routes()
      .filter((r) => r.method !== "OPTIONS")
      .map((r) => ({ pattern: patternOf(r.path), method: r.method }));
    const methods = new Set<string>();
    for (const { pattern, method } of table) {
      if (!pattern.test(path)) continue;
      methods.add(method);
      if (method === "GET") methods.add("HEAD");
    }
    return [...methods];
  };
}
