/**
 * Which request paths could match a route, by their first segment alone: a path whose first segment no
 * route can match is answered 404 before the framework (scanners' `/wp-login.php`, `/.env`: a flood's
 * commonest junk), at the cost of a Set lookup instead of Fastify's whole not-found pipeline.
 *
 * Conservative by construction: a route whose first segment begins with a parameter or a wildcard
 * (`/:id`, `/*`) makes every path routable; a parametric first segment with a literal start
 * (`/@:handle`) makes every segment with that start routable; and a first segment that is
 * percent-encoded is left to the router, which decodes before matching.
 */
export class RoutePrefixes {
  readonly #literal = new Set<string>();
  readonly #starts: string[] = [];
  #everything = false;

  /** A route as registered (`/api/spaces/:id`, `/@:handle`, `/assets/*`, `/`). */
  add(routeUrl: string): void {
    const first = firstSegment(routeUrl);
    const param = first.search(/[:*]/);
    if (param === 0) this.#everything = true;
    else if (param > 0) this.#starts.push(first.slice(0, param));
    else this.#literal.add(first);
  }

  /** False only when no route could match `url` (a request target: path and query). */
  routable(url: string): boolean {
    if (this.#everything || url.charCodeAt(0) !== 47 /* / */) return true;
    const first = firstSegment(url);
    if (this.#literal.has(first) || first.includes('%')) return true;
    for (const start of this.#starts) if (first.startsWith(start)) return true;
    return false;
  }
}

/** `/api/spaces?x=1` → `api`; `/` → ``; `/sw.js` → `sw.js`. */
function firstSegment(path: string): string {
  let end = 1;
  while (end < path.length) {
    const c = path.charCodeAt(end);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break;
    end++;
  }
  return path.slice(1, end);
}
