/**
 * What the edge caches per object and the responses it makes from it: headers built once per object,
 * an ETag from the bytes, a gzipped variant for playlists, conditional and ranged answers.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { byteRange } from '../lib/byte-range.ts';
import type { OriginResponse } from '../origin/plane.ts';

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

export interface Entry {
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

/** The cache entry for an origin response fetched at `nowMs` under `key`. */
export function cacheEntry(response: OriginResponse, key: string, nowMs: number): Entry {
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
  return {
    response,
    etag,
    headers,
    rawHeaders: [...Object.entries(headers).flat(), 'content-length', String(response.body.length)],
    ...(gzipped === undefined ? {} : { gzipped }),
    expiresAtMs: nowMs + maxAgeMs(response.cacheControl),
    size: response.body.length + (gzipped?.body.length ?? 0) + key.length + 200,
  };
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

export function respond(entry: Entry, req: EdgeRequest): EdgeResponse {
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
