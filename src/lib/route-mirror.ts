import FindMyWay, { type HTTPMethod } from 'find-my-way';

/** The router options the framework is given (`createHttpApp`'s `routerOptions`), so both routers read a path alike. */
export interface MirrorOptions {
  readonly maxParamLength: number;
}

const NOTHING = () => {};
/** A dot-dot segment (either slash) or a NUL in a decoded wildcard rest: no file of ours is named so. */
const CLIMBS = /(?:^|[/\\])\.\.(?:[/\\]|$)|\0/;

/**
 * A copy of the framework's routing table, made by the framework's own router library (find-my-way,
 * the one Fastify routes with, on the same options): a request no route matches is answered 404
 * before the framework — scanners' `/wp-login.php`, `/.env`, `/admin/config.php`, a flood's commonest
 * junk — at the cost of one lookup instead of Fastify's whole not-found pipeline.
 *
 * Every doubt goes to the framework: a URL the router cannot decode (Fastify answers 400), both
 * spellings of a route with and without its trailing slash, and HEAD wherever GET is routed.
 */
export class RouteMirror {
  readonly #router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;

  constructor(options: MirrorOptions) {
    this.#router = FindMyWay({
      maxParamLength: options.maxParamLength,
      // A URL it cannot decode is the framework's to refuse (with its 400): "routable" here.
      onBadUrl: NOTHING,
    });
  }

  /** A route as registered (`onRoute`): its method(s) and URL (plugins' prefixes included). */
  add(method: string | readonly string[], url: string): void {
    const methods = new Set(typeof method === 'string' ? [method] : method);
    if (methods.has('GET')) methods.add('HEAD');
    const spellings = url.endsWith('*') || url === '/' ? [url] : url.endsWith('/') ? [url, url.slice(0, -1)] : [url, `${url}/`];
    for (const m of methods) {
      for (const path of spellings) {
        if (this.#router.hasRoute(m as HTTPMethod, path)) continue;
        this.#router.on(m as HTTPMethod, path, NOTHING);
      }
    }
  }

  /**
   * False when no route matches `method` and `url` (a request target: path and query), or when the
   * route is a wildcard (the static files under `/assets/*`) and its rest climbs out of it (`..`,
   * encoded or not): the static file server would refuse it too, after the framework's whole pipeline.
   */
  routable(method: string, url: string): boolean {
    try {
      const found = this.#router.find(method as HTTPMethod, url);
      if (found === null) return false;
      const rest = (found.params as Record<string, string | undefined>)['*'];
      return rest === undefined || !CLIMBS.test(rest);
    } catch {
      return true;
    }
  }
}
