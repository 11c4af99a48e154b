import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Cleanup } from './cleanup.ts';

/**
 * Serves test/browser/player.html and the hls.js the web app ships (`/hls.js`) on loopback, closed by
 * `cleanup`; resolves with its base URL. The page plays what its URL names with hls.js in Chromium.
 */
export async function servePlayerPage(cleanup: Cleanup): Promise<string> {
  const html = readFileSync(new URL('../browser/player.html', import.meta.url));
  const hlsJs = readFileSync(new URL('../../node_modules/hls.js/dist/hls.min.js', import.meta.url));
  const pages = createServer((req, res) => {
    const js = req.url === '/hls.js';
    res.writeHead(200, { 'content-type': js ? 'text/javascript' : 'text/html' }).end(js ? hlsJs : html);
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  cleanup.add('page server', () => {
    pages.closeAllConnections();
    return new Promise((resolve) => pages.close(resolve));
  });
  return `http://127.0.0.1:${(pages.address() as { port: number }).port}`;
}
