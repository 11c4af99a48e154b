import { createServer } from 'node:net';

/** A loopback port nothing listens on now (for a server that cannot pick its own, like redis-server or nginx). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
  });
}
