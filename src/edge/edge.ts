import { createHash } from 'node:crypto';
import type { ListenerClaims } from '../control/credentials.ts';
import { AmphiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { TokenSigner } from '../lib/signed-token.ts';
import type { OriginQuery, OriginResponse } from '../origin/plane.ts';
import { ByteLru } from './cache.ts';

/** How the edge reaches the origin: in-process in the embedded mode, HTTP for `amphi edge`. */
export interface OriginClient {
  get(spaceId: string, file: string, query: OriginQuery): Promise<OriginResponse>;
}

export interface EdgeRequest {
  readonly token: string;
  readonly spaceId: string;
  readonly file: string;
  readonly msn?: number | undefined;
  readonly part?: number | undefined;
  /** Room state: answer once the version passes this. */
  readonly v?: number | undefined;
  readonly ifNoneMatch?: string | undefined;
  readonly range?: string | undefined;
}

export interface EdgeResponse {
  readonly status: 200 | 206 | 304 | 416;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | undefined;
}

interface Entry {
  readonly response: OriginResponse;
  readonly etag: string;
  readonly expiresAtMs: number;
  readonly size: number;
}

export interface EdgeDeps {
  readonly signer: TokenSigner;
  readonly clock: Clock;
  readonly origin: OriginClient;
  readonly log: Logger;
  readonly cacheMaxBytes: number;
  /** A listener counts as present for this long after their last request. */
  readonly listenerWindowMs?: number;
}

/**
 * The only thing listeners touch. Checks the listener token with the key (no database, no origin
 * call), then serves from a cache keyed without the token, so every listener shares one copy of each
 * object. Concurrent requests for the same object, blocking playlist reloads included, wait on one
 * origin fetch: exactly one origin request per object per edge.
 */
export class Edge {
  readonly #d: EdgeDeps;
  readonly #cache: ByteLru<Entry>;
  readonly #inflight = new Map<string, Promise<Entry>>();
  readonly #seen = new Map<string, Map<string, number>>();
  originFetches = 0;
  /** Requests served (after the token check), for tests and metrics. */
  served = 0;

  constructor(deps: EdgeDeps) {
    this.#d = deps;
    this.#cache = new ByteLru(deps.cacheMaxBytes);
  }

  /** Whether a listener token is good for this Space right now (and counts the listener). */
  accepts(token: string, spaceId: string): boolean {
    const now = this.#d.clock.now();
    const verified = this.#d.signer.verify<ListenerClaims>(token, now);
    if (!verified.ok || verified.claims.t !== 'l' || verified.claims.s !== spaceId) return false;
    this.#count(spaceId, verified.claims.u, now);
    return true;
  }

  async serve(req: EdgeRequest): Promise<EdgeResponse> {
    const now = this.#d.clock.now();
    if (!this.accepts(req.token, req.spaceId)) throw new AmphiError('LISTENER_TOKEN_INVALID');
    this.served++;
    const key = `${req.spaceId}/${req.file}${req.msn === undefined ? '' : `?m=${req.msn}&p=${req.part ?? ''}`}${req.v === undefined ? '' : `?v=${req.v}`}`;
    const entry = await this.#lookup(key, req, now);
    const headers: Record<string, string> = {
      'content-type': entry.response.contentType,
      'cache-control': entry.response.cacheControl,
      etag: entry.etag,
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'etag, content-length, content-range',
      'accept-ranges': 'bytes',
    };
    if (req.ifNoneMatch === entry.etag) return { status: 304, headers, body: undefined };
    if (req.range !== undefined) return ranged(entry.response.body, req.range, headers);
    return { status: 200, headers, body: entry.response.body };
  }

  /** Distinct listeners seen in the window (active tokens' subjects). */
  listeners(spaceId: string): number {
    const seen = this.#seen.get(spaceId);
    if (seen === undefined) return 0;
    const since = this.#d.clock.now() - (this.#d.listenerWindowMs ?? 30_000);
    let count = 0;
    for (const [subject, at] of seen) {
      if (at >= since) count++;
      else seen.delete(subject);
    }
    return count;
  }

  async #lookup(key: string, req: EdgeRequest, now: number): Promise<Entry> {
    const cached = this.#cache.get(key);
    if (cached !== undefined && cached.expiresAtMs > now) return cached;
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      this.originFetches++;
      pending = this.#d.origin
        .get(req.spaceId, req.file, { msn: req.msn, part: req.part, v: req.v })
        .then((response) => {
          const entry: Entry = {
            response,
            etag: `"${createHash('sha1').update(response.body).digest('base64url').slice(0, 20)}"`,
            expiresAtMs: this.#d.clock.now() + maxAgeMs(response.cacheControl),
            size: response.body.length + key.length + 200,
          };
          this.#cache.set(key, entry);
          return entry;
        })
        .finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  #count(spaceId: string, subject: string, now: number): void {
    let seen = this.#seen.get(spaceId);
    if (seen === undefined) {
      seen = new Map();
      this.#seen.set(spaceId, seen);
    }
    seen.set(subject, now);
  }
}

function maxAgeMs(cacheControl: string): number {
  const match = /max-age=(\d+)/.exec(cacheControl);
  return match === null ? 0 : Number(match[1]) * 1000;
}

function ranged(body: Uint8Array, range: string, headers: Record<string, string>): EdgeResponse {
  const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  const size = body.length;
  if (match === null || (match[1] === '' && match[2] === ''))
    return { status: 416, headers: { ...headers, 'content-range': `bytes */${size}` }, body: undefined };
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(size - 1, Number(match[2]));
  }
  if (start > end || start >= size)
    return { status: 416, headers: { ...headers, 'content-range': `bytes */${size}` }, body: undefined };
  return {
    status: 206,
    headers: { ...headers, 'content-range': `bytes ${start}-${end}/${size}` },
    body: body.subarray(start, end + 1),
  };
}
