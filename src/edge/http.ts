/**
 * The listener door: `/l/<token>/<space>/<file>`, `/l/.../live.mp4` and `/edge/auth`, answered on
 * Node's raw `http` request before any framework sees it. Listener requests are the audience's whole
 * traffic, so they skip Fastify's generic pipeline (routing, schema compilation, hooks, serialisers)
 * and cost a path match, a token check and a write. Junk — a malformed path or query, a bad token —
 * is refused here with the catalogue's JSON error before any cache or origin work.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/schema.ts';
import type { ErrorCode } from '../errors.ts';
import { clientAddress, type TrustProxy } from '../lib/client-address.ts';
import type { Door, RecordResponse } from '../lib/http-app.ts';
import type { RawDoor } from '../lib/raw-request.ts';
import { toAmphiError } from '../lib/http-errors.ts';
import type { Socket } from 'node:net';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { RateLimiter, type RateLimitPolicy } from '../lib/token-bucket.ts';
import { cannedRefusal, errorAnswer } from './canned.ts';
import type { Edge, EdgeResponse } from './edge.ts';
import { holdStream, rawStreamDoor } from './held-stream.ts';

const LISTENER_PATH = /^\/l\/([A-Za-z0-9_.-]{10,4096})\/(sp_[A-Za-z0-9_-]{12})\/([a-z0-9.]{5,40})(?:\?(.*))?$/;
const AUTH_URI = /^\/l\/([^/]{10,4096})\/(sp_[A-Za-z0-9_-]{12})\//;
const ROUTE = '/l/:token/:spaceId/:file';
const STREAM_ROUTE = '/l/:token/:spaceId/live.mp4';
const CORS_PREFLIGHT = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, OPTIONS',
  'access-control-allow-headers': 'range, if-none-match',
  'access-control-max-age': '86400',
};

/** Integer query values within bounds; anything else is a 400, as the schema would say. */
const QUERY_LIMITS: Record<string, number> = { _HLS_msn: 1e9, _HLS_part: 1000, v: 1e12 };

interface Query {
  msn?: number;
  part?: number;
  skip?: boolean;
  v?: number;
}

/**
 * Returns a request handler that answers listener paths and returns false for everything else (the
 * caller hands those to the control API).
 */
export interface DoorOptions {
  readonly log: Logger;
  readonly clock: Clock;
  /** Per-address and per-token token buckets (config `admission.limits`). */
  readonly limits: Pick<Config['admission']['limits'], 'perAddress' | 'perToken'>;
  readonly record?: RecordResponse;
  /** Behind a proxy (`server.trustProxy`): which X-Forwarded-For entries name the client, as for the API. */
  readonly trustProxy?: TrustProxy;
  /** `/edge/auth` checks per client address (config `edge.authPerAddress`; default 200, 100/s). */
  readonly authPerAddress?: RateLimitPolicy;
}

/** The door on Node's requests, and the raw door that holds `live.mp4` streams on a bare socket. */
export interface ListenerDoor {
  readonly door: Door;
  readonly rawDoor: RawDoor;
}

export function listenerDoor(edge: Edge, options: DoorOptions): ListenerDoor {
  const { log, clock, limits, record = () => {}, trustProxy = false } = options;
  const addressOf = clientAddress(trustProxy);
  const perAddress = new RateLimiter(limits.perAddress, clock);
  const perToken = new RateLimiter(limits.perToken, clock);
  // A token check answers whether a guessed or stolen token is good: never unthrottled.
  const authPerAddress = new RateLimiter(options.authPerAddress ?? { capacity: 200, refillPerSecond: 100 }, clock);
  /** Sockets carrying a held live.mp4 response. */
  const streaming = new WeakSet<Socket>();
  const replies = new Replies(record, log);
  const { refuse, fail, answer, send } = replies;
  /** A bucket per address, then per token, before any other work. */
  const limited = (res: ServerResponse, route: string, method: string, started: number, key: string, byToken: boolean) => {
    const taken = (byToken ? perToken : perAddress).take(key);
    if (taken.ok) return false;
    refuse(res, route, method, started, 'RATE_LIMITED', Math.ceil(taken.retryAfterMs / 1000));
    return true;
  };
  const rawDoor = rawStreamDoor(edge, {
    ...{ addressOf, perAddress, perToken, streaming, record, log },
    ...{ listenerPath: LISTENER_PATH, route: ROUTE, streamRoute: STREAM_ROUTE },
  });
  const door = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url ?? '';
    const method = req.method ?? 'GET';
    if (url.startsWith('/edge/auth')) {
      const started = performance.now();
      // Its own, roomier bucket per address: nginx asks on behalf of its listeners (caching each answer
      // 10 s per URL), so the address is nginx's unless it forwards the client's and `server.trustProxy` trusts it.
      const taken = authPerAddress.take(addressOf(req));
      if (!taken.ok) {
        refuse(res, '/edge/auth', method, started, 'RATE_LIMITED', Math.ceil(taken.retryAfterMs / 1000));
        return true;
      }
      const match = AUTH_URI.exec(String(req.headers['x-original-uri'] ?? ''));
      if (match === null || !edge.accepts(match[1]!, match[2]!))
        refuse(res, '/edge/auth', method, started, 'LISTENER_TOKEN_INVALID');
      else answer(res, 204, undefined, '/edge/auth', method, started);
      return true;
    }
    if (streaming.has(req.socket)) {
      req.socket.destroy(); // a request pipelined behind a held stream: the connection is not shared
      return true;
    }
    if (!url.startsWith('/l/')) return false;
    const started = performance.now();
    const address = addressOf(req);
    if (limited(res, ROUTE, method, started, address, false)) return true;
    const match = LISTENER_PATH.exec(url);
    if (match === null) {
      refuse(res, ROUTE, method, started, 'VALIDATION_FAILED');
      return true;
    }
    const [, token, spaceId, file, search] = match as unknown as [string, string, string, string, string | undefined];
    if (method === 'OPTIONS') {
      answer(res, 204, CORS_PREFLIGHT, ROUTE, method, started);
      return true;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      refuse(res, ROUTE, method, started, 'ROUTE_NOT_FOUND');
      return true;
    }
    const query = parseQuery(search);
    if (query === undefined) {
      refuse(res, ROUTE, method, started, 'VALIDATION_FAILED');
      return true;
    }
    // Bad, expired and other-Space tokens: refused here, before any cache or origin work.
    if (!edge.accepts(token, spaceId)) {
      refuse(res, ROUTE, method, started, 'LISTENER_TOKEN_INVALID');
      return true;
    }
    // Per token only once it is known good: junk tokens never get a bucket of their own.
    if (limited(res, ROUTE, method, started, token, true)) return true;
    if (file === 'live.mp4') {
      holdStream(edge, req.socket, method, { token, spaceId, address }, streaming).then(
        (written) => {
          if (written) record(STREAM_ROUTE, method, 200, (performance.now() - started) / 1000);
        },
        (error: unknown) => fail(res, STREAM_ROUTE, method, started, error),
      );
      return true;
    }
    const edgeRequest = {
      token,
      spaceId,
      file,
      msn: query.msn,
      part: query.msn === undefined ? undefined : query.part,
      skip: file.endsWith('.m3u8') && query.skip === true ? true : undefined,
      v: file === 'state.json' ? query.v : undefined,
      gzip: acceptsGzip(req.headers['accept-encoding']),
      ifNoneMatch: req.headers['if-none-match'],
      range: req.headers.range,
    };
    const cached = edge.serveCached(edgeRequest);
    if (cached !== undefined) send(res, method, started, cached);
    else
      edge.serve(edgeRequest).then(
        (r) => send(res, method, started, r),
        (error: unknown) => fail(res, ROUTE, method, started, error),
      );
    return true;
  };
  return { door, rawDoor };
}

/** Whether an Accept-Encoding header takes gzip (and does not refuse it with q=0). */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  const match = /(?:^|,)\s*(?:gzip|\*)\s*(?:;\s*q=([\d.]+))?\s*(?:,|$)/i.exec(header);
  return match !== null && (match[1] === undefined || Number(match[1]) > 0);
}

function parseQuery(search: string | undefined): Query | undefined {
  const query: Query = {};
  if (search === undefined || search === '') return query;
  for (const pair of search.split('&')) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const raw = eq < 0 ? '' : pair.slice(eq + 1);
    if (name === '_HLS_skip') {
      if (raw !== 'YES' && raw !== 'v2') return undefined;
      query.skip = true;
      continue;
    }
    const limit = QUERY_LIMITS[name];
    if (limit === undefined) continue; // other parameters (e.g. cache busters) are ignored
    if (!/^\d{1,13}$/.test(raw) || Number(raw) > limit) return undefined;
    if (name === '_HLS_msn') query.msn = Number(raw);
    else if (name === '_HLS_part') query.part = Number(raw);
    else query.v = Number(raw);
  }
  return query;
}

/** How the door answers: every reply is one write, and recorded for the HTTP metrics. */
class Replies {
  readonly #record: RecordResponse;
  readonly #log: Logger;

  constructor(record: RecordResponse, log: Logger) {
    this.#record = record;
    this.#log = log;
  }

  /**
   * Junk is refused with a canned answer: no Error object (its stack trace alone costs more than
   * serving a part), no JSON serialisation, one write.
   */
  readonly refuse = (
    res: ServerResponse,
    route: string,
    method: string,
    started: number,
    code: ErrorCode,
    retryAfterS?: number,
  ) => {
    const canned = cannedRefusal(code);
    res.writeHead(
      canned.status,
      retryAfterS === undefined ? canned.headers : [...canned.headers, 'retry-after', String(retryAfterS)],
    );
    res.end(canned.body);
    this.#record(route, method, canned.status, (performance.now() - started) / 1000);
  };
  readonly fail = (res: ServerResponse, route: string, method: string, started: number, error: unknown) => {
    const e = toAmphiError(error instanceof Error ? error : new Error(String(error)));
    if (e.code === 'INTERNAL') this.#log.error({ err: error, route }, 'listener request failed');
    if (!res.headersSent) {
      const answer = errorAnswer(e);
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    } else res.destroy();
    this.#record(route, method, e.status, (performance.now() - started) / 1000);
  };

  readonly answer = (
    res: ServerResponse,
    status: number,
    headers: Record<string, string> | undefined,
    route: string,
    method: string,
    started: number,
  ) => {
    res.writeHead(status, headers).end();
    this.#record(route, method, status, (performance.now() - started) / 1000);
  };
  readonly send = (res: ServerResponse, method: string, started: number, r: EdgeResponse) => {
    const body = r.body === undefined || method === 'HEAD' ? undefined : r.body;
    if (r.rawHeaders !== undefined) res.writeHead(r.status, r.rawHeaders as string[]);
    else {
      if (r.body !== undefined) res.setHeader('content-length', r.body.length);
      res.writeHead(r.status, r.headers);
    }
    res.end(body);
    this.#record(ROUTE, method, r.status, (performance.now() - started) / 1000);
  };
}
