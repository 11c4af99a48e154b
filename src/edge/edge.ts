import type { ListenerClaims } from '../control/credentials.ts';
import { AmphiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { TokenSigner } from '../lib/signed-token.ts';
import type { OriginQuery, OriginResponse } from '../origin/plane.ts';
import { ByteLru } from './cache.ts';
import { cacheEntry, respond, type EdgeRequest, type EdgeResponse, type Entry } from './entries.ts';
import { defaultStreamLimits, HeldStreams, type StreamLimits } from './held-streams.ts';
import { Revocations } from './revocations.ts';
import { defaultStreamPolicy, SpaceStream, type StreamPolicy, type StreamSink } from './stream.ts';

export type { EdgeRequest, EdgeResponse };

/** How the edge reaches the origin: in-process in the embedded mode, HTTP for `amphi edge`. */
export interface OriginClient {
  get(spaceId: string, file: string, query: OriginQuery): Promise<OriginResponse>;
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
  /** Held streams per token subject and per address (config `edge.maxStreamsPer*`; default 3 and 200). */
  readonly streamLimits?: StreamLimits & { readonly streamPartsPerWrite?: number };
  /**
   * The longest a listener token lives (config `tokens.listenerTokenTtlSeconds`): an ended Space's
   * revocations are kept this long plus the keep-alive. Default: a day, the longest the config allows.
   */
  readonly listenerTokenTtlMs?: number;
}

/** A listener's live stream, opened: write the response head, then subscribe the socket. */
export interface OpenedStream {
  readonly epochMs: number;
  /** How often the listener gets bytes (`StreamStart.writeIntervalMs`). */
  readonly writeIntervalMs: number;
  subscribe(sink: StreamSink): void;
  /** The listener left (or never subscribed): leaves the stream and frees its slot. Idempotent. */
  close(): void;
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
  readonly #revoked: Revocations;
  readonly #held: HeldStreams;
  readonly #followsRemovals: boolean;
  #forgotAtMs = 0;
  originFetches = 0;
  /** Requests served (after the token check), for tests and metrics. */
  served = 0;

  constructor(deps: EdgeDeps) {
    this.#d = deps;
    this.#followsRemovals = deps.followsRemovals ?? true;
    this.#cache = new ByteLru(deps.cacheMaxBytes);
    this.#held = new HeldStreams(deps.streamLimits ?? defaultStreamLimits);
    this.#revoked = new Revocations((deps.listenerTokenTtlMs ?? 86_400_000) + this.#keepAliveMs);
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
   * lasts until the Space ends or the listener is removed (`revoke`), however long that is. Each open
   * stream holds a slot of its subject and of its client `address` until it ends or is closed;
   * past the limits, TOO_MANY_STREAMS.
   */
  async openStream(token: string, spaceId: string, address?: string): Promise<OpenedStream> {
    const known = this.#verify(token, spaceId);
    if (known === undefined) throw new AmphiError('LISTENER_TOKEN_INVALID');
    const release = this.#held.take(known.claims.u, address);
    let stream: SpaceStream;
    let epochMs: number;
    let writeIntervalMs: number;
    try {
      stream = this.#spaceStream(spaceId);
      ({ epochMs, writeIntervalMs } = await stream.ready());
    } catch (error) {
      release();
      throw error;
    }
    let joined: StreamSink | undefined;
    return {
      epochMs,
      writeIntervalMs,
      subscribe: (sink) => {
        // However the stream ends for this listener (removed, expired, too slow, the Space over), its slot is freed.
        joined = {
          write: (chunk) => sink.write(chunk),
          get pendingBytes() {
            return sink.pendingBytes;
          },
          end: () => {
            release();
            sink.end();
          },
        };
        // Checked once, at connect; a removal ends it through `revoke` (without removals: the token's expiry).
        const until = this.#followsRemovals ? Number.POSITIVE_INFINITY : known.expiresAtMs;
        if (!stream.subscribe(joined, until, known.claims.u)) joined.end(); // it stopped just now: the player reconnects
      },
      close: () => {
        release();
        if (joined !== undefined) stream.unsubscribe(joined);
      },
    };
  }

  /** The Space's fan-out, made on the first listener's demand. */
  #spaceStream(spaceId: string): SpaceStream {
    let stream = this.#streams.get(spaceId);
    if (stream === undefined) {
      const created = new SpaceStream(
        (file, query) => this.#lookup(spaceId, file, query, this.#d.clock.now()).then((e) => e.response.body),
        this.#d.clock,
        this.#d.log,
        this.#d.stream ?? { ...defaultStreamPolicy, partsPerWrite: this.#d.streamLimits?.streamPartsPerWrite ?? 1 },
        () => {
          if (this.#streams.get(spaceId) === created) this.#streams.delete(spaceId);
        },
      );
      this.#streams.set(spaceId, created);
      stream = created;
    }
    return stream;
  }

  /**
   * A listener removed from a Space loses it at once: their held stream ends and their tokens, still
   * unexpired, are refused from now on (the control plane refuses to renew them).
   */
  /** A removal lifted: the subject's tokens (new ones; the control plane refused to renew the old) are good again. */
  reinstate(spaceId: string, subject: string): void {
    this.#revoked.remove(spaceId, subject);
  }

  revoke(spaceId: string, subject: string): void {
    this.#revoked.add(spaceId, subject, this.#d.clock.now());
    this.#streams.get(spaceId)?.drop(subject);
  }

  /**
   * The Space ended: what this edge keeps per Space goes (its listener window now, its revocations
   * once no token they refuse can still be good), so memory follows the live Spaces, not all ever held.
   */
  spaceEnded(spaceId: string): void {
    this.#seen.delete(spaceId);
    this.#revoked.spaceEnded(spaceId, this.#d.clock.now());
  }

  /** Streams refused by the per-subject and per-address limits (metrics). */
  get streamsRefused(): { readonly subject: number; readonly address: number } {
    return this.#held.refused;
  }

  /** Entries of the per-Space and per-listener maps, for tests that check they shrink back. */
  get retained(): Record<string, number> {
    const { spaces, ending } = this.#revoked.size;
    const { subjects, addresses } = this.#held.size;
    return {
      seenSpaces: this.#seen.size,
      streams: this.#streams.size,
      revokedSpaces: spaces,
      endingSpaces: ending,
      heldSubjects: subjects,
      heldAddresses: addresses,
    };
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
    for (const count of Object.values(this.listenersBySpace())) n += count;
    return n;
  }

  /** Distinct listeners per Space with any (the edge's report to the cluster's registry). */
  listenersBySpace(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const spaceId of new Set([...this.#seen.keys(), ...this.#streams.keys()])) {
      const count = this.listeners(spaceId);
      if (count > 0) out[spaceId] = count;
    }
    return out;
  }

  /**
   * Whether this subject listens to the Space now: a request in the listener window, or a held
   * stream (any Space's: streams are counted per subject). Admission lets such renewals through.
   */
  listening(spaceId: string, subject: string): boolean {
    const at = this.#seen.get(spaceId)?.get(subject);
    return (at !== undefined && at >= this.#d.clock.now() - this.#windowMs) || this.#held.holds(subject);
  }

  /** Distinct listeners: those seen in the window (any request) and those holding a live stream. */
  listeners(spaceId: string): number {
    const seen = this.#seen.get(spaceId);
    let count = this.#forgetIdle(spaceId, this.#d.clock.now() - this.#windowMs);
    for (const subject of this.#streams.get(spaceId)?.subjects() ?? []) if (seen?.has(subject) !== true) count++;
    return count;
  }

  #verify(token: string, spaceId: string): VerifiedToken | undefined {
    const now = this.#d.clock.now();
    let known = this.#verified.get(token);
    if (known === undefined) {
      // Expired, another type, another Space: refused as written, before any HMAC (refusing sooner only).
      const verified = this.#d.signer.verify<ListenerClaims>(
        token,
        now,
        (claims) => claims.e * 1000 <= now || claims.t !== 'l' || claims.s !== spaceId,
      );
      if (!verified.ok || verified.claims.t !== 'l') return undefined;
      known = { claims: verified.claims, expiresAtMs: verified.claims.e * 1000, lastUsedMs: now };
      if (this.#verified.size >= VERIFIED_TOKENS_MAX) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(token, known);
    }
    // The signature was checked once; expiry (extended by use) and Space are checked on every request.
    if (known.claims.s !== spaceId) return undefined;
    if (known.expiresAtMs <= now && known.lastUsedMs + this.#keepAliveMs <= now) return undefined;
    if (this.#revoked.has(spaceId, known.claims.u)) return undefined;
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
          const entry = cacheEntry(response, key, this.#d.clock.now());
          this.#cache.set(key, entry);
          return entry;
        })
        .finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  get #keepAliveMs(): number {
    return this.#followsRemovals ? (this.#d.tokenKeepAliveMs ?? DEFAULT_TOKEN_KEEP_ALIVE_MS) : 0;
  }

  get #windowMs(): number {
    return this.#d.listenerWindowMs ?? 30_000;
  }

  /** Forgets the Space's listeners last seen before `since` (and the Space, once none is left); counts the others. */
  #forgetIdle(spaceId: string, since: number): number {
    const seen = this.#seen.get(spaceId);
    if (seen === undefined) return 0;
    for (const [subject, at] of seen) if (at < since) seen.delete(subject);
    if (seen.size === 0) this.#seen.delete(spaceId);
    return seen.size;
  }

  #count(spaceId: string, subject: string, now: number): void {
    // Once a window, idle listeners are forgotten everywhere, even where nobody asks for counts (`amphi edge`).
    if (now - this.#forgotAtMs >= this.#windowMs) {
      this.#forgotAtMs = now;
      for (const id of [...this.#seen.keys()]) this.#forgetIdle(id, now - this.#windowMs);
    }
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
