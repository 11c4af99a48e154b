import fastifyStatic from '@fastify/static';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from '../lib/http-app.ts';
import type { PageHead } from '../control/http/share.ts';
import type { Logger } from '../lib/logger.ts';

/** The app's pages: every one is the same built index.html; the client routes. */
const PAGES = [
  '/',
  '/new',
  '/signin',
  '/signup',
  '/settings',
  '/notices',
  '/admin',
  '/@:handle',
  '/s/:id',
  '/r/:id',
  '/c/:id',
  '/embed/:id',
];
/** The one page other sites may frame: the embeddable player. */
const EMBED_PAGE = '/embed/:id';

/** On every page and asset: no MIME sniffing, and no Referer (listener URLs carry a token). */
const EVERY_ANSWER = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' } as const;

/** Where the app's pages may connect and play from, besides their own origin. */
export interface WebOrigins {
  /** The stage's WHIP URL (another port: another origin). */
  readonly stage: string;
  /** Cluster mode: every media node's stage (a Space's publishers connect to the one producing it). */
  readonly stages?: readonly string[];
  /** Where listeners' streams and playlists come from (cluster mode: every edge the fleet knows). */
  readonly edges: readonly string[];
}

/**
 * The pages' Content-Security-Policy: scripts and styles from this origin only (no inline script, so
 * an injected `<script>` or `onerror=` does nothing), fetches and media to this origin, the stage and
 * the edge, workers from this origin or blob: (hls.js), never framed (clickjacking), no plugins.
 */
export function contentSecurityPolicy(origins: WebOrigins, framedBy: 'none' | 'any' = 'none'): string {
  const others = [
    ...new Set([origins.stage, ...(origins.stages ?? []), ...origins.edges].map((url) => new URL(url).origin)),
  ].join(' ');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    `media-src 'self' blob: ${others}`,
    `connect-src 'self' ${others}`,
    "worker-src 'self' blob:",
    framedBy === 'any' ? 'frame-ancestors *' : "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ].join('; ');
}

/**
 * Serves the built web app (`npm run build`, which `npm start` runs first) from `web/dist`:
 * hashed assets as immutable, pages as index.html that is always revalidated. Pages and assets are
 * `nosniff` and send no Referer; pages also carry the CSP and refuse frames. (The API's JSON needs
 * neither, and the join path pays for no extra hook.)
 */
export interface WebOptions {
  /** The built app (`web/dist`). */
  readonly distDir: string;
  readonly origins: () => WebOrigins;
  readonly log: Logger;
  /** The head of a shared page (title, Open Graph, Twitter, oEmbed link); absent: the plain one. */
  readonly pageHead?: PageHead;
  /** `server.publicUrl`: the absolute base of links in shared pages (else the request's own). */
  readonly publicUrl: string | null;
}

export async function webRoutes(app: App, { distDir, origins, log, pageHead, publicUrl }: WebOptions): Promise<void> {
  const index = join(distDir, 'index.html');
  if (!existsSync(index)) {
    log.warn({ distDir }, 'web app not built: run npm run build (npm start does); serving the API only');
    return;
  }
  const html = readFileSync(index, 'utf8');
  // Read per page (the stage's URL is known once its port is bound; a cluster's edges come and go),
  // built again only when they changed.
  let csp = { key: '', value: '', embed: '' };
  const policy = (embed: boolean) => {
    const current = origins();
    const key = JSON.stringify(current);
    if (key !== csp.key) csp = { key, value: contentSecurityPolicy(current), embed: contentSecurityPolicy(current, 'any') };
    return embed ? csp.embed : csp.value;
  };
  /** The page with the shared Space's head, when it names one (a crawler reads no script). */
  const page = async (url: string, base: string): Promise<string> => {
    const head = await pageHead?.(url.split('?')[0]!, base).catch(() => undefined);
    // A function, not a string: `$'` or `$&` in a Space's title must not be read as replacement patterns.
    return head === undefined ? html : html.replace('<title>Amphi</title>', () => head);
  };
  await app.register(fastifyStatic, {
    root: join(distDir, 'assets'),
    prefix: '/assets/',
    immutable: true,
    maxAge: '365d',
    index: false,
    wildcard: true,
    setHeaders: (res) => {
      for (const [name, value] of Object.entries(EVERY_ANSWER)) res.setHeader(name, value);
    },
  });
  /** A file of `web/dist` at the root, when the build made it, read once. */
  const rootFile = (name: string, type: string, cacheControl: string) => {
    const file = join(distDir, name);
    if (!existsSync(file)) return;
    const body = readFileSync(file);
    app.get(`/${name}`, { schema: { hide: true } }, (_request, reply) =>
      reply
        .type(type)
        .headers({ ...EVERY_ANSWER, 'cache-control': cacheControl })
        .send(body),
    );
  };
  // The service worker (web/public/sw.js) at the root, so its scope is the whole app; never cached long.
  rootFile('sw.js', 'text/javascript; charset=utf-8', 'no-cache');
  // The preview image of shared links (og:image): a fixed file, cached for a day.
  rootFile('og.png', 'image/png', 'public, max-age=86400');
  for (const path of PAGES) {
    const embed = path === EMBED_PAGE;
    app.get(path, { schema: { hide: true } }, async (request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .headers({
          ...EVERY_ANSWER,
          'cache-control': 'no-cache',
          'content-security-policy': policy(embed),
          // Every page refuses frames (clickjacking) but the embeddable player, made to be framed.
          ...(embed ? {} : { 'x-frame-options': 'DENY' }),
        })
        .send(await page(request.url, publicUrl ?? `${request.protocol}://${request.host}`)),
    );
  }
}
