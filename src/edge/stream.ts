/**
 * The live stream: one held HTTP response per listener carrying the program as fragmented MP4 — the
 * init segment, the last few parts (a player's hold-back), then every new part as the origin
 * produces it. One request per listener per connection and one socket write per part, instead of
 * LL-HLS's two requests per part: the edge's cost per listener becomes that of a write (as with
 * Icecast) while the latency stays that of a part. Any MSE player, ffmpeg or VLC plays it.
 *
 * A fan-out per Space follows the origin with blocking playlist reloads through the edge's own cache
 * (so LL-HLS listeners and stream listeners share the same single origin fetch per object) and writes
 * each part to every subscriber: the same buffer, no copy per listener.
 */
import { AmphiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { OriginQuery } from '../origin/plane.ts';

/** Where a listener's bytes go: a socket in production, an array in tests. */
export interface StreamSink {
  write(chunk: Uint8Array): void;
  /** Bytes written but not yet taken by the kernel: a listener that cannot keep up is dropped. */
  readonly pendingBytes: number;
  end(): void;
}

export interface StreamPolicy {
  /** Parts sent at once to a new listener: the player's starting buffer. */
  readonly backlogParts: number;
  /** A listener further behind than this many bytes is disconnected (it reconnects at the live edge). */
  readonly maxPendingBytes: number;
  /**
   * Origin failures in a row before every listener of the Space is told the stream ended. With the
   * backoff below, 13 span about 11 s: longer than a media node's failover (its lease expires, another
   * node takes the Space over), so held streams ride it out.
   */
  readonly maxFailures: number;
  /** The wait after the first failure, doubling after each one in a row up to `maxRetryDelayMs`. */
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
  /**
   * Parts written to listeners at once (config `edge.streamPartsPerWrite`). A write costs the same
   * whatever its size (a syscall and a TCP segment per listener), so 2 halves the edge's CPU per
   * listener, and adds a part's duration to what players must buffer (to the ear).
   */
  readonly partsPerWrite: number;
}

export const defaultStreamPolicy: StreamPolicy = {
  backlogParts: 3,
  maxPendingBytes: 256 * 1024,
  maxFailures: 13,
  retryDelayMs: 250,
  maxRetryDelayMs: 1000,
  partsPerWrite: 1,
};

/** What a new listener receives before the live parts: the init segment and the recent parts. */
export interface StreamStart {
  /** Wall-clock time of media time 0 in this stream (for latency measurement). */
  readonly epochMs: number;
  readonly head: Uint8Array;
  /** How often listeners get bytes (the part duration times `partsPerWrite`): players buffer more than this. */
  readonly writeIntervalMs: number;
}

type Fetch = (file: string, query: OriginQuery) => Promise<Uint8Array>;

interface Subscriber {
  readonly sink: StreamSink;
  readonly expiresAtMs: number;
  readonly subject: string;
}

const HINT_RE = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p(\d+)\.(\d+)\.m4s"/;
const ENDED_RE = /#EXT-X-ENDLIST/;

/** One Space's fan-out at one edge. Runs while it has listeners; the edge creates it on demand. */
export class SpaceStream {
  readonly #fetch: Fetch;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #policy: StreamPolicy;
  readonly #onIdle: () => void;
  readonly #subscribers = new Set<Subscriber>();
  #start: Promise<StreamStart> | undefined;
  #init: Uint8Array | undefined;
  #recent: Uint8Array[] = [];
  /** Parts made since the last write (the newest of `#recent`): they go out together. */
  #pending: Uint8Array[] = [];
  #epochMs = 0;
  #closed = false;
  /** Listeners dropped for falling behind, for metrics. */
  dropped = 0;

  constructor(fetch: Fetch, clock: Clock, log: Logger, policy: StreamPolicy, onIdle: () => void) {
    this.#fetch = fetch;
    this.#clock = clock;
    this.#log = log;
    this.#policy = policy;
    this.#onIdle = onIdle;
  }

  get listeners(): number {
    return this.#subscribers.size;
  }

  /** Resolves once the stream is following the origin; rejects (with the origin's error) if it cannot. */
  ready(): Promise<StreamStart> {
    // A start that failed (the Space not live yet, an origin blip) closes this fan-out, so the
    // edge makes a fresh one for the next listener instead of repeating the old error forever.
    this.#start ??= this.#begin().catch((error: unknown) => {
      this.close();
      throw error;
    });
    return this.#start;
  }

  /**
   * Adds a listener: it gets the head now and every part from here on, until its token expires.
   * False when this fan-out has just stopped (the caller asks the edge for a fresh one).
   */
  subscribe(sink: StreamSink, expiresAtMs: number, subject: string): boolean {
    if (this.#closed) return false;
    sink.write(this.#head());
    this.#subscribers.add({ sink, expiresAtMs, subject });
    return true;
  }

  /** Ends the streams of one listener (removed from the Space). */
  drop(subject: string): void {
    for (const s of this.#subscribers) {
      if (s.subject !== subject) continue;
      this.#subscribers.delete(s);
      s.sink.end();
    }
  }

  /** Who is listening (token subjects), for the listener count. */
  *subjects(): Iterable<string> {
    for (const s of this.#subscribers) yield s.subject;
  }

  unsubscribe(sink: StreamSink): void {
    for (const s of this.#subscribers) if (s.sink === sink) this.#subscribers.delete(s);
  }

  /** Ends every listener's stream (they reconnect or learn the Space ended) and stops following. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const rest = this.#pending.splice(0);
    for (const s of this.#subscribers) {
      if (rest.length > 0) s.sink.write(Buffer.concat(rest));
      s.sink.end();
    }
    this.#subscribers.clear();
    this.#onIdle();
  }

  async #begin(): Promise<StreamStart> {
    const playlist = new TextDecoder().decode(await this.#fetch('media.m3u8', {}));
    const hint = HINT_RE.exec(playlist);
    if (hint === null || ENDED_RE.test(playlist)) throw new AmphiError('SPACE_ENDED');
    this.#init = await this.#fetch('init.mp4', {});
    const listed = [...playlist.matchAll(/#EXT-X-PART:[^\n]*URI="(p\d+\.\d+\.m4s)"/g)].map((m) => m[1]!);
    this.#recent = await Promise.all(listed.slice(-this.#policy.backlogParts).map((uri) => this.#fetch(uri, {})));
    // Media time 0 in wall-clock terms, from the newest segment's date and its first part's decode time.
    const pdts = [...playlist.matchAll(/#EXT-X-PROGRAM-DATE-TIME:(\S+)\n#EXT-X-PART:[^\n]*URI="(p\d+\.0\.m4s)"/g)];
    const newest = pdts[pdts.length - 1];
    if (newest !== undefined) {
      const first = await this.#fetch(newest[2]!, {});
      this.#epochMs = Date.parse(newest[1]!) - (decodeTime(first) / timescale(this.#init)) * 1000;
    }
    const partTarget = Number(/#EXT-X-PART-INF:PART-TARGET=([\d.]+)/.exec(playlist)?.[1] ?? 0.5);
    const writeIntervalMs = Math.round(partTarget * 1000 * this.#policy.partsPerWrite);
    void this.#follow(Number(hint[1]), Number(hint[2]));
    return { epochMs: this.#epochMs, head: this.#head(), writeIntervalMs };
  }

  #head(): Uint8Array {
    if (this.#init === undefined) return new Uint8Array(0);
    // Parts still waiting for their write are not in the head: the write brings them.
    return Buffer.concat([this.#init, ...this.#recent.slice(0, this.#recent.length - this.#pending.length)]);
  }

  async #follow(msn: number, part: number): Promise<void> {
    let failures = 0;
    // The first listener subscribes right after `ready()`; an empty fan-out stops only once someone
    // has listened (or after a couple of parts with nobody), so that first subscription is not raced.
    let emptyParts = 0;
    while (!this.#closed) {
      let playlist: string | undefined;
      try {
        playlist = new TextDecoder().decode(await this.#fetch('media.m3u8', { msn, part }));
        // The Space ended before this part was made: the stream is complete.
        if (ENDED_RE.test(playlist) && !playlist.includes(`URI="p${msn}.${part}.m4s"`)) break;
        const data = await this.#fetch(`p${msn}.${part}.m4s`, {});
        failures = 0;
        this.#broadcast(data);
        if (this.#subscribers.size === 0 && ++emptyParts >= 2) break;
        if (this.#subscribers.size > 0) emptyParts = 0;
        const next = HINT_RE.exec(playlist);
        if (next === null) break; // ended: no more parts will come
        [msn, part] = [Number(next[1]), Number(next[2])];
      } catch (error) {
        // A part that will never exist (lost when its media node died; the new owner lists its segment
        // as a gap and goes on after it): the stream moves on to the live edge, a gap in its timeline.
        const next = playlist === undefined ? null : HINT_RE.exec(playlist);
        if (error instanceof AmphiError && error.code === 'HLS_OBJECT_NOT_FOUND' && next !== null) {
          const [nextMsn, nextPart] = [Number(next[1]), Number(next[2])];
          if (nextMsn > msn || (nextMsn === msn && nextPart > part)) {
            this.#log.warn({ msn, part, nextMsn, nextPart }, 'live stream skipped parts that will never exist');
            [msn, part] = [nextMsn, nextPart];
            continue;
          }
        }
        if (++failures >= this.#policy.maxFailures) {
          this.#log.warn({ err: error, msn, part }, 'live stream lost the origin');
          break;
        }
        const delay = Math.min(this.#policy.maxRetryDelayMs, this.#policy.retryDelayMs * 2 ** (failures - 1));
        await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, delay));
      }
    }
    this.close();
  }

  #broadcast(data: Uint8Array): void {
    this.#recent.push(data);
    this.#pending.push(data);
    const due = this.#pending.length >= this.#policy.partsPerWrite;
    const chunk = !due ? undefined : this.#pending.length === 1 ? data : Buffer.concat(this.#pending);
    if (due) this.#pending = [];
    // The head's parts (written ones), and those waiting for their write.
    while (this.#recent.length > this.#policy.backlogParts + this.#pending.length) this.#recent.shift();
    if (chunk === undefined) return;
    const now = this.#clock.now();
    for (const s of this.#subscribers) {
      // An expired token ends the stream; the player renews it and reconnects without a gap.
      if (s.expiresAtMs <= now || s.sink.pendingBytes > this.#policy.maxPendingBytes) {
        if (s.expiresAtMs > now) this.dropped++;
        this.#subscribers.delete(s);
        s.sink.end();
        continue;
      }
      s.sink.write(chunk);
    }
  }
}

/** `tfdt` baseMediaDecodeTime of a fragment (moof > traf > tfdt). */
export function decodeTime(fragment: Uint8Array): number {
  const at = findBox(fragment, 'tfdt');
  const view = new DataView(fragment.buffer, fragment.byteOffset, fragment.byteLength);
  return fragment[at] === 1 ? Number(view.getBigUint64(at + 4)) : view.getUint32(at + 4);
}

/** `mdhd` timescale of an init segment. */
export function timescale(init: Uint8Array): number {
  const at = findBox(init, 'mdhd');
  const view = new DataView(init.buffer, init.byteOffset, init.byteLength);
  return view.getUint32(at + (init[at] === 1 ? 20 : 12));
}

/** Offset of a (full) box's payload, found by its four-character type. */
function findBox(data: Uint8Array, type: string): number {
  const code = Array.from({ length: 4 }, (_, i) => type.charCodeAt(i));
  for (let i = 4; i + 4 <= data.length; i++) {
    if (data[i] === code[0] && data[i + 1] === code[1] && data[i + 2] === code[2] && data[i + 3] === code[3]) return i + 4;
  }
  throw new Error(`no ${type} box`);
}
