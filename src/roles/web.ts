import fastifyStatic from '@fastify/static';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from '../lib/http-app.ts';
import type { Logger } from '../lib/logger.ts';

/** The app's pages: every one is the same built index.html; the client routes. */
const PAGES = ['/', '/new', '/signin', '/signup', '/s/:id', '/r/:id'];

/**
 * Serves the built web app (`npm run build`, which `npm start` runs first) from `web/dist`:
 * hashed assets as immutable, pages as index.html that is always revalidated.
 */
export async function webRoutes(app: App, distDir: string, log: Logger): Promise<void> {
  const index = join(distDir, 'index.html');
  if (!existsSync(index)) {
    log.warn({ distDir }, 'web app not built: run npm run build (npm start does); serving the API only');
    return;
  }
  const html = readFileSync(index);
  await app.register(fastifyStatic, {
    root: join(distDir, 'assets'),
    prefix: '/assets/',
    immutable: true,
    maxAge: '365d',
    index: false,
    wildcard: true,
  });
  for (const path of PAGES) {
    app.get(path, { schema: { hide: true } }, (_request, reply) =>
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(html),
    );
  }
}
