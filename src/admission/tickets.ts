import { randomBytes } from 'node:crypto';
import type { Clock } from '../lib/clock.ts';
import type { TokenSigner } from '../lib/signed-token.ts';
import { EwmaRate, etaSeconds } from './eta.ts';
import { checkSigned, subjectTag } from './signed.ts';

/**
 * The waiting room: past capacity, `join` hands out a signed number from a FIFO counter per Space.
 * Everyone polls one cacheable value, "now serving N", and exchanges their ticket for a listener
 * token once their number is at or below it.
 *
 * Now-serving is a leaky bucket: it moves forward at the admission rate (the join service's joins/s,
 * read on every step so it follows `Capacity`) while anyone is waiting, and jumps when capacity frees
 * (`release`). It never waits for the holder of a number: a number that came up and was not exchanged
 * within `ticketTtlMs` expires, and the line has long moved on.
 */

/** Hands out numbers. In-memory here; cluster mode backs it with Redis INCR. */
export interface TicketCounter {
  /** The next number for a Space: dense (1, 2, 3, ...) and never handed out twice. */
  next(spaceId: string): Promise<number> | number;
  /** Forgets a Space (it ended); its room is gone too. */
  delete(spaceId: string): void;
}

export class MemoryTicketCounter implements TicketCounter {
  #counters = new Map<string, number>();

  next(spaceId: string): number {
    const n = (this.#counters.get(spaceId) ?? 0) + 1;
    this.#counters.set(spaceId, n);
    return n;
  }

  delete(spaceId: string): void {
    this.#counters.delete(spaceId);
  }
}

/** Claims of a waiting-room ticket. */
export interface TicketClaims {
  readonly t: 'w';
  /** Space id. */
  readonly s: string;
  /** The number in the line. */
  readonly n: number;
  /** The subject it was issued to, as `subjectTag(subject)`. */
  readonly u: string;
  /** The room's epoch: a ticket from a room that no longer exists (restart, Space re-opened) is refused. */
  readonly i: string;
}

export interface TicketPolicy {
  /** How long a number stays good after it comes up; past that the holder joins again. */
  readonly ticketTtlMs: number;
  /** The signed lifetime of a ticket: the longest anyone may wait in the line. */
  readonly ticketMaxWaitMs: number;
  /** Half-life of the admission-rate estimate behind the ETA. */
  readonly etaHalfLifeMs: number;
}

export interface WaitingRoomOptions {
  readonly spaceId: string;
  readonly clock: Clock;
  readonly signer: TokenSigner;
  readonly counter: TicketCounter;
  readonly policy: TicketPolicy;
  /** This line's admission rate in joins/s, read on every step (e.g. `Capacity.releasePerSecond`). */
  readonly releasePerSecond: () => number;
}

export interface IssuedTicket {
  readonly ticket: string;
  readonly number: number;
  /** How many numbers are ahead: `number - nowServing` (0: exchange it now). */
  readonly position: number;
  readonly etaSeconds: number;
  readonly nowServing: number;
  /** When the signed ticket expires (ms since epoch), however long the line. */
  readonly expiresAt: number;
}

export type TicketRefusal = 'forged' | 'expired' | 'not_yet' | 'reused' | 'other_space' | 'wrong_subject';

export type ExchangeResult =
  | { readonly ok: true; readonly number: number }
  | { readonly ok: false; readonly reason: 'not_yet'; readonly position: number; readonly etaSeconds: number }
  | { readonly ok: false; readonly reason: Exclude<TicketRefusal, 'not_yet'> };

/** The one cacheable value everyone in the line polls. */
export interface LineStatus {
  readonly nowServing: number;
  readonly lastIssued: number;
  /** The admission-rate estimate (numbers per second): a client's ETA is `(number - nowServing) / this`. */
  readonly perSecond: number;
}

interface Checkpoint {
  readonly t: number;
  readonly s: number;
}

/** Checkpoints of now-serving closer than this are merged: come-up times are exact to within it. */
const CHECKPOINT_GRANULARITY_MS = 250;

export class WaitingRoom {
  readonly spaceId: string;
  readonly #o: WaitingRoomOptions;
  readonly #epoch = randomBytes(6).toString('base64url');
  readonly #eta: EwmaRate;
  readonly #used = new DenseNumberSet();
  /** Now-serving as a real number: the line moves continuously; `nowServing()` is its floor. */
  #served = 0;
  #lastIssued = 0;
  #started = false;
  #updatedAtMs: number;
  /** (time, served) points, oldest first, back to `ticketTtlMs` ago: when did number n come up? */
  #checkpoints: Checkpoint[];

  constructor(options: WaitingRoomOptions) {
    const p = options.policy;
    if (!(p.ticketTtlMs > 0) || !(p.ticketMaxWaitMs > 0))
      throw new Error('WaitingRoom needs ticketTtlMs and ticketMaxWaitMs > 0');
    this.spaceId = options.spaceId;
    this.#o = options;
    this.#updatedAtMs = options.clock.now();
    this.#checkpoints = [{ t: this.#updatedAtMs, s: 0 }];
    this.#eta = new EwmaRate({
      initialPerSecond: Math.max(0, options.releasePerSecond()),
      halfLifeMs: p.etaHalfLifeMs,
      sampleMs: Math.min(1000, p.etaHalfLifeMs / 4),
    });
  }

  /** Takes a number for `subject` (an account id, or the random id an anonymous client keeps). */
  async issue(subject: string): Promise<IssuedTicket> {
    if (subject === '') throw new Error('a ticket needs a subject');
    const n = await this.#o.counter.next(this.spaceId);
    this.#advance();
    const now = this.#o.clock.now();
    if (!this.#started) {
      // The line starts at this room's first number; earlier numbers belong to a room that is gone.
      this.#started = true;
      this.#served = n - 1;
      this.#checkpoints = [{ t: now, s: n - 1 }];
      this.#used.dropBelow(n);
    }
    this.#lastIssued = Math.max(this.#lastIssued, n);
    const expiresAt = now + this.#o.policy.ticketMaxWaitMs;
    const claims: TicketClaims = { t: 'w', s: this.spaceId, n, u: subjectTag(subject), i: this.#epoch };
    const position = Math.max(0, n - Math.floor(this.#served));
    return {
      ticket: this.#o.signer.sign(claims, expiresAt),
      number: n,
      position,
      etaSeconds: etaSeconds(position, this.#eta.perSecond),
      nowServing: Math.floor(this.#served),
      expiresAt,
    };
  }

  /** The highest number admitted so far. */
  nowServing(): number {
    this.#advance();
    return Math.floor(this.#served);
  }

  /** Numbers issued and not yet come up. Non-zero means a direct join would jump the line. */
  get waiting(): number {
    this.#advance();
    return this.#lastIssued - Math.floor(this.#served);
  }

  /** Whether anyone was waiting at the last step, without stepping (for sharing a rate among rooms). */
  get hasLine(): boolean {
    this.#advance(); // a line that drained while nobody asked is no line
    return this.#lastIssued > this.#served;
  }

  status(): LineStatus {
    this.#advance();
    return { nowServing: Math.floor(this.#served), lastIssued: this.#lastIssued, perSecond: this.#eta.perSecond };
  }

  /** Roughly what the room remembers (used numbers, come-up times): bounded by rate x TTL, not by the line. */
  get footprintBytes(): number {
    return this.#used.bytes + this.#checkpoints.length * 16;
  }

  /** Capacity freed (listeners left, a slot opened): admit up to `count` more at once. */
  release(count: number): void {
    this.#advance();
    const moved = Math.max(0, Math.min(Math.floor(count), this.#lastIssued - this.#served));
    if (moved === 0) return;
    const now = this.#o.clock.now();
    this.#checkpoint(now, this.#served); // where the line stood, so the jump is dated now, not spread backwards
    this.#served += moved;
    this.#eta.add(moved, 0);
    this.#checkpoint(now, this.#served);
  }

  /**
   * Trades a ticket for the right to join: good only for its Space, its subject, once, and only once
   * its number has come up and for `ticketTtlMs` after. On `ok` the caller issues the listener token.
   */
  exchange(ticket: string, subject: string): ExchangeResult {
    const now = this.#o.clock.now();
    const checked = checkSigned<TicketClaims>(this.#o.signer, ticket, now, 'w');
    if (!checked.ok) return checked;
    const c = checked.claims;
    if (!Number.isSafeInteger(c.n) || c.n < 1 || typeof c.s !== 'string' || typeof c.u !== 'string') {
      return { ok: false, reason: 'forged' };
    }
    if (c.s !== this.spaceId) return { ok: false, reason: 'other_space' };
    if (c.u !== subjectTag(subject)) return { ok: false, reason: 'wrong_subject' };
    if (c.i !== this.#epoch) return { ok: false, reason: 'expired' };
    this.#advance();
    const serving = Math.floor(this.#served);
    if (c.n > serving) {
      const position = c.n - serving;
      return { ok: false, reason: 'not_yet', position, etaSeconds: etaSeconds(position, this.#eta.perSecond) };
    }
    const expiredThrough = this.#prune(now);
    if (c.n <= expiredThrough) return { ok: false, reason: 'expired' };
    if (this.#used.has(c.n)) return { ok: false, reason: 'reused' };
    this.#used.add(c.n);
    return { ok: true, number: c.n };
  }

  /** Moves now-serving forward for the time passed, at the current admission rate, never past the last number. */
  #advance(): void {
    const now = this.#o.clock.now();
    const from = this.#updatedAtMs;
    const elapsedMs = now - from;
    if (elapsedMs <= 0) return;
    this.#updatedAtMs = now;
    const gap = this.#lastIssued - this.#served;
    if (gap <= 0) return; // an empty line is not a slow line: idle time teaches the ETA nothing
    const rate = Math.max(0, this.#o.releasePerSecond());
    const possible = (rate * elapsedMs) / 1000;
    if (possible >= gap) {
      const busyMs = (gap / rate) * 1000;
      this.#served = this.#lastIssued;
      this.#eta.add(gap, busyMs);
      this.#checkpoint(from + busyMs, this.#served);
    } else {
      this.#served += possible;
      this.#eta.add(possible, elapsedMs);
      // Even when the line stood still (rate 0: the room is full): numbers that come up later must
      // not be dated back into the stop by the interpolation between checkpoints.
      this.#checkpoint(now, this.#served);
    }
  }

  #checkpoint(t: number, s: number): void {
    const cps = this.#checkpoints;
    const prev = cps.at(-2);
    if (prev !== undefined && t - prev.t < CHECKPOINT_GRANULARITY_MS) cps[cps.length - 1] = { t, s };
    else cps.push({ t, s });
  }

  /**
   * Forgets what is older than the ticket TTL and returns the highest expired number: every number
   * that had come up by `now - ticketTtlMs`.
   */
  #prune(now: number): number {
    const horizon = now - this.#o.policy.ticketTtlMs;
    const cps = this.#checkpoints;
    let drop = 0;
    while (drop + 1 < cps.length && cps[drop + 1]!.t <= horizon) drop++;
    if (drop > 0) cps.splice(0, drop);
    const expiredThrough = Math.floor(this.#servedAt(horizon));
    this.#used.dropBelow(expiredThrough + 1);
    return expiredThrough;
  }

  /** Now-serving as it was at time `t` (linear between checkpoints; it moves at a steady rate between steps). */
  #servedAt(t: number): number {
    const cps = this.#checkpoints;
    const first = cps[0]!;
    if (t <= first.t) return first.s;
    let lo = 0;
    let hi = cps.length - 1;
    if (cps[hi]!.t <= t) return cps[hi]!.s;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (cps[mid]!.t <= t) lo = mid;
      else hi = mid;
    }
    const a = cps[lo]!;
    const b = cps[hi]!;
    return a.s + ((b.s - a.s) * (t - a.t)) / (b.t - a.t);
  }
}

export type WaitingRoomsOptions = Omit<WaitingRoomOptions, 'spaceId'>;

/**
 * One waiting room per Space, sharing the join service's admission rate fairly among the Spaces that
 * have a line. Delete a Space's room when it ends.
 */
export class WaitingRooms {
  readonly #o: WaitingRoomsOptions;
  #rooms = new Map<string, WaitingRoom>();

  constructor(options: WaitingRoomsOptions) {
    this.#o = options;
  }

  room(spaceId: string): WaitingRoom {
    let room = this.#rooms.get(spaceId);
    if (room === undefined) {
      room = new WaitingRoom({ ...this.#o, spaceId, releasePerSecond: () => this.#share() });
      this.#rooms.set(spaceId, room);
    }
    return room;
  }

  get(spaceId: string): WaitingRoom | undefined {
    return this.#rooms.get(spaceId);
  }

  delete(spaceId: string): void {
    this.#rooms.delete(spaceId);
    this.#o.counter.delete(spaceId);
  }

  get size(): number {
    return this.#rooms.size;
  }

  #share(): number {
    let lines = 0;
    for (const room of this.#rooms.values()) if (room.hasLine) lines++;
    return this.#o.releasePerSecond() / Math.max(1, lines);
  }
}

/**
 * A set of dense positive integers above a moving floor: one bit per number in a sliding window, so
 * remembering every used ticket costs (numbers come up within the TTL) / 8 bytes.
 */
export class DenseNumberSet {
  /** The number held by bit 0 of word 0; a multiple of 32. */
  #base = 0;
  /** Numbers below this are forgotten (bits below it in the first word may linger; they do not count). */
  #floor = 0;
  #words = new Uint32Array(8);

  has(n: number): boolean {
    const i = n - this.#base;
    if (n < this.#floor) return false;
    const w = i >>> 5;
    return w < this.#words.length && (this.#words[w]! & (1 << (i & 31))) !== 0;
  }

  /** Adds `n`; numbers below the floor are ignored (they were forgotten on purpose). */
  add(n: number): void {
    const i = n - this.#base;
    if (n < this.#floor) return;
    const w = i >>> 5;
    if (w >= this.#words.length) {
      const grown = new Uint32Array(Math.max(this.#words.length * 2, w + 1));
      grown.set(this.#words);
      this.#words = grown;
    }
    this.#words[w] = this.#words[w]! | (1 << (i & 31));
  }

  /** Forgets every number below `floor`. */
  dropBelow(floor: number): void {
    if (floor <= this.#floor) return;
    this.#floor = floor;
    const whole = Math.floor((floor - this.#base) / 32);
    if (whole <= 0) return;
    if (whole >= this.#words.length) {
      this.#words.fill(0);
      this.#base = Math.floor(floor / 32) * 32;
      return;
    }
    this.#words.copyWithin(0, whole);
    this.#words.fill(0, this.#words.length - whole);
    this.#base += whole * 32;
  }

  /** Bytes held: bounded by the window, not by how many numbers were ever added. */
  get bytes(): number {
    return this.#words.byteLength;
  }
}
