import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { ListenerClaims } from '../control/credentials.ts';
import { AmphiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { TokenSigner } from '../lib/signed-token.ts';
import type { OriginQuery, OriginResponse } from '../origin/plane.ts';
import { byteRange } from '../lib/byte-range.ts';
import { ByteLru } from './cache.ts';
import { defaultStreamPolicy, SpaceStream, type StreamPolicy, type StreamSink } from './stream.ts';

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
  /** A playlist delta update (`_HLS_skip=YES`). */
  readonly skip?: boolean | undefined;
  /** The client takes gzip: playlists are then sent compressed. */
  readonly gzip?: boolean | undefined;
  /** Room state: answer once the version passes this. */
  readonly v?: number | undefined;
  readonly ifNoneMatch?: string | undefined;
  readonly range?: string | undefined;
}

export interface EdgeResponse {
  readonly status: 200 | 206 | 304 | 416;
  readonly headers: Record<string, string>;
  /** For a full 200: the same headers with content-length, flat, ready for `writeHead`. */
  readonly rawHeaders?: readonly string[];
  readonly body: Uint8Array | undefined;
}

interface Entry {
  readonly response: OriginResponse;
  readonly etag: string;
  /** Response headers, built once per object rather than once per request. */
  readonly headers: Record<string, string>;
  readonly rawHeaders: readonly string[];
  /** Playlists only: the same, gzipped once per object for clients that take it. */
  readonly gzipped?: {
    readonly body: Uint8Array;
    readonly etag: string;
    readonly headers: Record<string, string>;
    readonly rawHeaders: readonly string[];
  };
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
  /**
   * A listener token stays good past its expiry while its player keeps using it: every accepted
   * request extends it by this much. Players that cannot renew (ffmpeg, VLC, GStreamer) then play
   * a whole Space on the URL they were given; a removed listener is still cut off at once.
   */
  readonly tokenKeepAliveMs?: number;
  /**
   * Whether removals reach this edge (`revoke`, from the control bus). Only then may a token outlive
   * its expiry (keep-alive, held streams); an edge that hears of no removal (`amphi edge` until
   * cluster mode) holds streams only until the token expires and keeps no token alive past it.
   */
  readonly followsRemovals?: boolean;
  readonly stream?: StreamPolicy;
}

/** A listener's live stream, opened: write the response head, then subscribe the socket. */
export interface OpenedStream {
  readonly epochMs: number;
  subscribe(sink: StreamSink): void;
  unsubscribe(sink: StreamSink): void;
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
  readonly #streams = new Map<string, SpaceStream>();
  /**
   * Tokens already verified (a listener sends the same one several times a second): HMAC once
   * each. Kept in order of last use, so the oldest idle one is forgotten first.
   */
  readonly #verified = new Map<string, VerifiedToken>();
  /** `space/subject` of listeners removed from a Space; a removal is for good. */
  readonly #revoked = new Set<string>();
  readonly #followsRemovals: boolean;
  originFetches = 0;
  /** Requests served (after the token check), for tests and metrics. */
  served = 0;

  constructor(deps: EdgeDeps) {
    this.#d = deps;
    this.#followsRemovals = deps.followsRemovals ?? true;
    this.#cache = new ByteLru(deps.cacheMaxBytes);
  }

  /** Whether a listener token is good for this Space right now (and counts the listener). */
  accepts(token: string, spaceId: string): boolean {
    return this.#verify(token, spaceId) !== undefined;
  }

  async serve(req: EdgeRequest): Promise<EdgeResponse> {
    const now = this.#d.clock.now();
    if (!this.accepts(req.token, req.spaceId)) throw new AmphiError('LISTENER_TOKEN_INVALID');
    this.served++;
    return respond(await this.#lookup(req.spaceId, req.file, req, now), req);
  }

  /**
   * The same answer without a promise when the object is cached and fresh (the common case): most
   * listener requests then cost no microtask. Undefined means "use serve()".
   */
  serveCached(req: EdgeRequest): EdgeResponse | undefined {
    const now = this.#d.clock.now();
    const entry = this.#cache.get(cacheKey(req.spaceId, req.file, req));
    if (entry === undefined || entry.expiresAtMs <= now || !this.accepts(req.token, req.spaceId)) return undefined;
    this.served++;
    return respond(entry, req);
  }

  /**
   * Opens a listener's live stream (`live.mp4`): the token is checked once, here; the stream then
   * lasts until the Space ends or the listener is removed (`revoke`), however long that is.
   */
  async openStream(token: string, spaceId: string): Promise<OpenedStream> {
    const known = this.#verify(token, spaceId);
    if (known === undefined) throw new AmphiError('LISTENER_TOKEN_INVALID');
    let stream = this.#streams.get(spaceId);
    if (stream === undefined) {
      const created = new SpaceStream(
        (file, query) => this.#lookup(spaceId, file, query, this.#d.clock.now()).then((e) => e.response.body),
        this.#d.clock,
        this.#d.log,
        this.#d.stream ?? defaultStreamPolicy,
        () => {
          if (this.#streams.get(spaceId) === created) this.#streams.delete(spaceId);
        },
      );
      this.#streams.set(spaceId, created);
      stream = created;
    }
    const { epochMs } = await stream.ready();
    return {
      epochMs,
      subscribe: (sink) => {
        // Checked once, at connect; a removal ends it through `revoke` (without removals: the token's expiry).
        const until = this.#followsRemovals ? Number.POSITIVE_INFINITY : known.expiresAtMs;
        if (!stream.subscribe(sink, until, known.claims.u)) sink.end(); // it stopped just now: the player reconnects
      },
      unsubscribe: (sink) => stream.unsubscribe(sink),
    };
  }

  /**
   * A listener removed from a Space loses it at once: their held stream ends and their tokens, still
   * unexpired, are refused from now on (the control plane refuses to renew them).
   */
  revoke(spaceId: string, subject: string): void {
    this.#revoked.add(`${spaceId}/${subject}`);
    this.#streams.get(spaceId)?.drop(subject);
  }

  /** Ends every held stream (shutdown); listeners reconnect to another edge. */
  close(): void {
    for (const stream of [...this.#streams.values()]) stream.close();
  }

  /** Listeners holding a live stream at this edge, over all Spaces. */
  get streaming(): number {
    let n = 0;
    for (const s of this.#streams.values()) n += s.listeners;
    return n;
  }

  /** Distinct listeners over all Spaces (admission's listener capacity reads it once a second). */
  allListeners(): number {
    let n = 0;
    for (const spaceId of new Set([...this.#seen.keys(), ...this.#streams.keys()])) n += this.listeners(spaceId);
    return n;
  }

  /** Distinct listeners: those seen in the window (any request) and those holding a live stream. */
  listeners(spaceId: string): number {
    const seen = this.#seen.get(spaceId);
    const since = this.#d.clock.now() - (this.#d.listenerWindowMs ?? 30_000);
    let count = 0;
    if (seen !== undefined) {
      for (const [subject, at] of seen) {
        if (at >= since) count++;
        else seen.delete(subject);
      }
    }
    for (const subject of this.#streams.get(spaceId)?.subjects() ?? []) if (seen?.has(subject) !== true) count++;
    return count;
  }

  #verify(token: string, spaceId: string): VerifiedToken | undefined {
    const now = this.#d.clock.now();
    let known = this.#verified.get(token);
    if (known === undefined) {
      const verified = this.#d.signer.verify<ListenerClaims>(token, now);
      if (!verified.ok || verified.claims.t !== 'l') return undefined;
      known = { claims: verified.claims, expiresAtMs: verified.claims.e * 1000, lastUsedMs: now };
      if (this.#verified.size >= VERIFIED_TOKENS_MAX) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(token, known);
    }
    // The signature was checked once; expiry (extended by use) and Space are checked on every request.
    const keepAliveMs = this.#followsRemovals ? (this.#d.tokenKeepAliveMs ?? DEFAULT_TOKEN_KEEP_ALIVE_MS) : 0;
    if (known.claims.s !== spaceId) return undefined;
    if (known.expiresAtMs <= now && known.lastUsedMs + keepAliveMs <= now) return undefined;
    if (this.#revoked.size > 0 && this.#revoked.has(`${spaceId}/${known.claims.u}`)) return undefined;
    if (now - known.lastUsedMs >= REORDER_AFTER_MS) {
      // Move it to the newest end, so that eviction forgets idle tokens, never one in use.
      this.#verified.delete(token);
      this.#verified.set(token, known);
    }
    known.lastUsedMs = now;
    this.#count(spaceId, known.claims.u, now);
    return known;
  }

  async #lookup(spaceId: string, file: string, query: OriginQuery, now: number): Promise<Entry> {
    const key = cacheKey(spaceId, file, query);
    const cached = this.#cache.get(key);
    if (cached !== undefined && cached.expiresAtMs > now) return cached;
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      this.originFetches++;
      pending = this.#d.origin
        .get(spaceId, file, { msn: query.msn, part: query.part, skip: query.skip, v: query.v })
        .then((response) => {
          const etag = `"${createHash('sha1').update(response.body).digest('base64url').slice(0, 20)}"`;
          const playlist = response.contentType === M3U8;
          const headers = {
            'content-type': response.contentType,
            'cache-control': response.cacheControl,
            etag,
            'access-control-allow-origin': '*',
            'access-control-expose-headers': 'etag, content-length, content-range',
            'accept-ranges': 'bytes',
            ...(playlist ? { vary: 'accept-encoding' } : {}),
          };
          const gzipped = playlist ? gzipVariant(response.body, headers) : undefined;
          const entry: Entry = {
            response,
            etag,
            headers,
            rawHeaders: [...Object.entries(headers).flat(), 'content-length', String(response.body.length)],
            ...(gzipped === undefined ? {} : { gzipped }),
            expiresAtMs: this.#d.clock.now() + maxAgeMs(response.cacheControl),
            size: response.body.length + (gzipped?.body.length ?? 0) + key.length + 200,
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

/** Verified tokens remembered (~300 bytes each): one per listener of this edge, with room to spare. */
const VERIFIED_TOKENS_MAX = 200_000;
const DEFAULT_TOKEN_KEEP_ALIVE_MS = 60_000;
/** A token in use moves to the newest end of the verified map at most this often (a delete and a set). */
const REORDER_AFTER_MS = 5_000;

interface VerifiedToken {
  readonly claims: ListenerClaims;
  readonly expiresAtMs: number;
  /** The last accepted request with this token: it stays good `tokenKeepAliveMs` past this, even expired. */
  lastUsedMs: number;
}

/** The cache key: the object, never the token, so every listener shares one copy. */
function cacheKey(spaceId: string, file: string, query: OriginQuery): string {
  const blocking = query.msn === undefined ? '' : `?m=${query.msn}&p=${query.part ?? ''}`;
  return `${spaceId}/${file}${blocking}${query.skip === true ? '&skip' : ''}${query.v === undefined ? '' : `?v=${query.v}`}`;
}

const M3U8 = 'application/vnd.apple.mpegurl';

/** A gzipped copy of a playlist with its own ETag (another representation), or none when it would not pay. */
function gzipVariant(body: Uint8Array, headers: Record<string, string>): Entry['gzipped'] {
  if (body.length < 512) return undefined;
  const gz = gzipSync(body, { level: 6 });
  const etag = `${headers.etag!.slice(0, -1)}-gz"`;
  const gzHeaders = { ...headers, etag, 'content-encoding': 'gzip' };
  return {
    body: gz,
    etag,
    headers: gzHeaders,
    rawHeaders: [...Object.entries(gzHeaders).flat(), 'content-length', String(gz.length)],
  };
}

function respond(entry: Entry, req: EdgeRequest): EdgeResponse {
  const gz = entry.gzipped;
  if (gz !== undefined && req.gzip === true && req.range === undefined) {
    if (req.ifNoneMatch === gz.etag) return { status: 304, headers: gz.headers, body: undefined };
    return { status: 200, headers: gz.headers, rawHeaders: gz.rawHeaders, body: gz.body };
  }
  const headers = entry.headers;
  if (req.ifNoneMatch === entry.etag) return { status: 304, headers, body: undefined };
  if (req.range !== undefined) return ranged(entry, req.range);
  return { status: 200, headers, rawHeaders: entry.rawHeaders, body: entry.response.body };
}

function maxAgeMs(cacheControl: string): number {
  const match = /max-age=(\d+)/.exec(cacheControl);
  return match === null ? 0 : Number(match[1]) * 1000;
}

function ranged(entry: Entry, range: string): EdgeResponse {
  const body = entry.response.body;
  const size = body.length;
  const asked = byteRange(range, size);
  if (asked.kind === 'whole') return { status: 200, headers: entry.headers, rawHeaders: entry.rawHeaders, body };
  if (asked.kind === 'unsatisfiable')
    return { status: 416, headers: { ...entry.headers, 'content-range': `bytes */${size}` }, body: undefined };
  const { start, end } = asked;
  return {
    status: 206,
    headers: { ...entry.headers, 'content-range': `bytes ${start}-${end}/${size}` },
    body: body.subarray(start, end + 1),
  };
}
