import { request, type IncomingHttpHeaders } from 'node:http';

/** Opens a held stream (`live.mp4`), reads its status, headers and first chunk, then hangs up. */
export function streamHead(url: string): Promise<{ status: number | undefined; headers: IncomingHttpHeaders; first: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      res.once('data', (first: Buffer) => {
        resolve({ status: res.statusCode, headers: res.headers, first });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.end();
  });
}
