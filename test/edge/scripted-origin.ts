import type { OriginClient } from '../../src/edge/edge.ts';
import type { StreamSink } from '../../src/edge/stream.ts';
import { AmphiError } from '../../src/errors.ts';
import type { OriginQuery } from '../../src/origin/plane.ts';

/**
 * A one-Space origin the test drives by hand: the first playlist is `start`, objects are their own
 * names in brackets (`[p10.3.m4s]`) unless set in `files`, and each blocking playlist reload waits
 * until the test answers it with `reload(...)` or `fail()`.
 */
export function scriptedOrigin(start: string) {
  const waiting: { query: OriginQuery; resolve: (b: Uint8Array) => void; reject: (e: Error) => void }[] = [];
  const fetches: string[] = [];
  const files = new Map<string, Uint8Array>();
  /** Objects the origin answers 404 for (a part lost with its media node). */
  const missing = new Set<string>();
  const state = { start };
  const fetch = (file: string, query: OriginQuery): Promise<Uint8Array> => {
    fetches.push(file);
    if (file === 'media.m3u8' && query.msn !== undefined) {
      return new Promise((resolve, reject) => waiting.push({ query, resolve, reject }));
    }
    if (file === 'media.m3u8') return Promise.resolve(new TextEncoder().encode(state.start));
    if (missing.has(file)) return Promise.reject(new AmphiError('HLS_OBJECT_NOT_FOUND'));
    return Promise.resolve(files.get(file) ?? new TextEncoder().encode(`[${file}]`));
  };
  const client: OriginClient = {
    get: async (_spaceId, file, query) => ({
      status: 200,
      contentType: 'application/octet-stream',
      cacheControl: file.endsWith('.m3u8') ? 'public, max-age=1' : 'public, max-age=31536000, immutable',
      body: await fetch(file, query),
    }),
  };
  const next = () => {
    const w = waiting.shift();
    if (w === undefined) throw new Error('no blocking reload is waiting');
    return w;
  };
  return {
    fetch,
    client,
    fetches,
    files,
    missing,
    state,
    /** The blocking reloads now waiting (msn and part of each). */
    waiting: () => waiting.map((w) => w.query),
    /** Answers the oldest waiting reload with this playlist. */
    reload: (playlist: string) => next().resolve(new TextEncoder().encode(playlist)),
    /** Fails the oldest waiting reload, as an unreachable origin would (or with the origin's answer). */
    fail: (error: Error = new Error('origin unreachable')) => next().reject(error),
  };
}

/** A media playlist from its lines (see `part`, `hint`, `date`, `ENDLIST`). */
export const playlist = (...lines: string[]) => ['#EXTM3U', '#EXT-X-MAP:URI="init.mp4"', ...lines, ''].join('\n');
export const part = (name: string) => `#EXT-X-PART:DURATION=0.500,URI="${name}.m4s",INDEPENDENT=YES`;
export const hint = (name: string) => `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${name}.m4s"`;
export const date = (iso: string) => `#EXT-X-PROGRAM-DATE-TIME:${iso}`;
export const ENDLIST = '#EXT-X-ENDLIST';

/** Collects what a listener's socket would receive, as text; `pendingBytes` simulates a slow reader. */
export function textSink(): StreamSink & { chunks: string[]; ended: number; pendingBytes: number } {
  return {
    chunks: [],
    ended: 0,
    pendingBytes: 0,
    write(chunk) {
      this.chunks.push(new TextDecoder().decode(chunk));
    },
    end() {
      this.ended++;
    },
  };
}
