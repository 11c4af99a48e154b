/** A small HTTP client for load generators: one request on a given agent (a source address), never throwing. */
import { type Agent, request } from 'node:http';

export interface Answer {
  /** HTTP status, or -1 for a socket error and -2 for a timeout (`error` says which). */
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly error?: string;
}

export function httpCall(
  base: URL,
  agent: Agent | undefined,
  method: string,
  path: string,
  body: string | undefined,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        path,
        method,
        agent,
        timeout: timeoutMs,
        headers:
          body === undefined
            ? headers
            : { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers });
        });
        res.on('error', (e: Error & { code?: string }) => {
          resolve({ status: -1, body: '', headers: {}, error: errorKind(e) });
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: Error & { code?: string }) => {
      resolve({ status: e.code === 'TIMEOUT' ? -2 : -1, body: '', headers: {}, error: errorKind(e) });
    });
    req.end(body);
  });
}

/** A socket error by kind, as the benches count them: `timeout`, `reset`, or its code in lower case. */
export function errorKind(e: Error & { code?: string }, otherwise = 'socket_error'): string {
  if (e.code === 'TIMEOUT') return 'timeout';
  if (e.code === 'ECONNRESET' || e.message === 'aborted') return 'reset';
  return e.code?.toLowerCase() ?? otherwise;
}

/** A JSON object body, or undefined for anything else. */
export function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A refusal that asks to come back later: 429 or 503 with Retry-After. */
export function asksToComeBack(a: Answer): boolean {
  return (a.status === 429 || a.status === 503) && a.headers['retry-after'] !== undefined;
}

/**
 * Makes a request again while its answer asks to come back later, after the time it names (8 times
 * at most, as the web app does); `onRetry` counts each. Never waits past `until` (a time in ms): a
 * bench's load ends at its deadline, not 8 x 30 s after it. Returns the last answer.
 */
export async function comingBack(
  request: () => Promise<Answer>,
  onRetry: () => void,
  tries = 8,
  until = Infinity,
): Promise<Answer> {
  let a = await request();
  for (let i = 0; i < tries && asksToComeBack(a); i++) {
    const afterS = Number(a.headers['retry-after']);
    const waitMs = Math.min(30_000, Math.max(250, (afterS || 1) * 1000));
    if (Date.now() + waitMs > until) break;
    onRetry();
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    a = await request();
  }
  return a;
}
