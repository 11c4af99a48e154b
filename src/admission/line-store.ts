import { AmphiError, retryLater } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { EwmaRate } from './eta.ts';

/**
 * Where a waiting room's shared state lives: the counter that hands out numbers, now-serving (a leaky
 * bucket moving at the admission rate), when each number came up (for its TTL), the numbers already
 * redeemed, and the room's epoch. Every call is one atomic step on one Space's line, so any number of
 * control processes can share a line: `MemoryLineStore` for one process (embedded mode),
 * `RedisLineStore` for a cluster. The store keeps no policy: the rules come with every call.
 */
export interface LineStore {
  /**
   * Takes the next number (1, 2, 3, ... per room: dense, never twice). The room is made on first use
   * with `epoch` (a fresh random id from the caller). With `onlyIfWaiting`, only when someone waits
   * already: otherwise nothing is taken or made, and `issued` is undefined.
   */
  issue(spaceId: string, rules: LineRules, options: { readonly epoch: string; readonly onlyIfWaiting: boolean }): Promise<Issued>;
  /** Redeems a number of the room with `epoch`: exactly once, only once it has come up and within the TTL after. */
  redeem(spaceId: string, number: number, epoch: string, rules: LineRules): Promise<Redemption>;
  /** Moves the line for the time passed and reads it (a line nobody joined reads as empty). */
  status(spaceId: string, rules: LineRules): Promise<LineState>;
  /** Capacity freed: now-serving jumps by up to `count` at once, never past the last number. */
  release(spaceId: string, count: number, rules: LineRules): Promise<LineState>;
  /** Forgets a Space's room (it ended): its tickets are refused from now on, and numbers start at 1 again. */
  delete(spaceId: string): Promise<void>;
}

/** How soon a caller refused for an unreachable line store should try again. */
const SHARED_STATE_RETRY_MS = 2000;

/**
 * A shared line store (Redis) that answers honestly when its engine is away: any step that fails for
 * a reason other than the catalogue's becomes SHARED_STATE_UNAVAILABLE (503, Retry-After 2 s), logged
 * once per outage, never a 500. The store's own connection recovers by itself.
 */
export function honestLineStore(inner: LineStore, log: Logger): LineStore {
  let failing = false;
  const guard = async <T>(step: () => Promise<T>): Promise<T> => {
    try {
      const result = await step();
      if (failing) log.info('admission: the shared line store answers again');
      failing = false;
      return result;
    } catch (error) {
      if (error instanceof AmphiError) throw error;
      if (!failing)
        log.warn({ err: error }, 'admission: the shared line store is unreachable; joins answer 503 until it is back');
      failing = true;
      throw retryLater('SHARED_STATE_UNAVAILABLE', SHARED_STATE_RETRY_MS);
    }
  };
  return {
    issue: (spaceId, rules, options) => guard(() => inner.issue(spaceId, rules, options)),
    redeem: (spaceId, number, epoch, rules) => guard(() => inner.redeem(spaceId, number, epoch, rules)),
    status: (spaceId, rules) => guard(() => inner.status(spaceId, rules)),
    release: (spaceId, count, rules) => guard(() => inner.release(spaceId, count, rules)),
    delete: (spaceId) => guard(() => inner.delete(spaceId)),
  };
}

/** How a line moves, sent with every step. */
export interface LineRules {
  /** This line's admission rate now (joins/s): now-serving moves at it while anyone waits. */
  readonly perSecond: number;
  /** How long a number stays good after it comes up. */
  readonly ticketTtlMs: number;
  /** Half-life of the measured admission rate behind the ETA. */
  readonly etaHalfLifeMs: number;
  /** How long a room outlives its last step: the signed lifetime of a ticket, so no good ticket is lost. */
  readonly keepMs: number;
}

/** A line after a step. */
export interface LineState {
  /** Now-serving as a real number: the line moves continuously; the number now serving is its floor. */
  readonly served: number;
  readonly lastIssued: number;
  /** The measured admission rate (numbers/s): the ETA is `(number - nowServing) / this`. */
  readonly perSecond: number;
}

export interface Issued {
  readonly issued: { readonly number: number; readonly epoch: string } | undefined;
  readonly line: LineState;
}

export type Redemption =
  | { readonly kind: 'ok' }
  | { readonly kind: 'not_yet'; readonly line: LineState }
  /** The number came up more than the TTL ago. */
  | { readonly kind: 'expired' }
  | { readonly kind: 'reused' }
  /** No room with this epoch (the Space ended, or its room was forgotten). */
  | { readonly kind: 'gone' };

/** Checkpoints of now-serving closer than this are merged: come-up times are exact to within it. */
export const CHECKPOINT_GRANULARITY_MS = 250;

/** The EWMA's pooling span for a half-life (as `EwmaRate` samples it). */
export function etaSampleMs(halfLifeMs: number): number {
  return Math.min(1000, halfLifeMs / 4);
}

interface Checkpoint {
  readonly t: number;
  readonly s: number;
}

interface MemoryLine {
  readonly epoch: string;
  lastIssued: number;
  served: number;
  atMs: number;
  readonly eta: EwmaRate;
  /** (time, served) points, oldest first, back to the TTL: when did number n come up? */
  readonly checkpoints: Checkpoint[];
  readonly used: DenseNumberSet;
}

/**
 * The line in this process's memory, on the injected clock: the embedded mode's store. The Redis
 * store runs the same steps in Lua (redis-line-store.ts); a change here is a change there.
 */
export class MemoryLineStore implements LineStore {
  readonly #clock: Clock;
  readonly #lines = new Map<string, MemoryLine>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  issue(
    spaceId: string,
    rules: LineRules,
    options: { readonly epoch: string; readonly onlyIfWaiting: boolean },
  ): Promise<Issued> {
    let line = this.#lines.get(spaceId);
    if (line === undefined) {
      if (options.onlyIfWaiting) return Promise.resolve({ issued: undefined, line: emptyLine(rules) });
      line = newLine(options.epoch, this.#clock.now(), rules);
      this.#lines.set(spaceId, line);
    }
    const now = this.#step(line, rules);
    if (line.lastIssued <= line.served) {
      if (options.onlyIfWaiting) return Promise.resolve({ issued: undefined, line: stateOf(line) });
      // The line starts (again) now: the time it stood empty is not spread over the numbers to come.
      checkpoint(line.checkpoints, now, line.served);
    }
    line.lastIssued++;
    return Promise.resolve({ issued: { number: line.lastIssued, epoch: line.epoch }, line: stateOf(line) });
  }

  redeem(spaceId: string, number: number, epoch: string, rules: LineRules): Promise<Redemption> {
    const line = this.#lines.get(spaceId);
    if (line === undefined || line.epoch !== epoch) return Promise.resolve({ kind: 'gone' });
    const now = this.#step(line, rules);
    if (number > Math.floor(line.served)) return Promise.resolve({ kind: 'not_yet', line: stateOf(line) });
    const expiredThrough = Math.floor(servedAt(line.checkpoints, now - rules.ticketTtlMs));
    line.used.dropBelow(expiredThrough + 1);
    if (number <= expiredThrough) return Promise.resolve({ kind: 'expired' });
    if (line.used.has(number)) return Promise.resolve({ kind: 'reused' });
    line.used.add(number);
    return Promise.resolve({ kind: 'ok' });
  }

  status(spaceId: string, rules: LineRules): Promise<LineState> {
    const line = this.#lines.get(spaceId);
    if (line === undefined) return Promise.resolve(emptyLine(rules));
    this.#step(line, rules);
    return Promise.resolve(stateOf(line));
  }

  release(spaceId: string, count: number, rules: LineRules): Promise<LineState> {
    const line = this.#lines.get(spaceId);
    if (line === undefined) return Promise.resolve(emptyLine(rules));
    const now = this.#step(line, rules);
    const moved = Math.max(0, Math.min(Math.floor(count), line.lastIssued - line.served));
    if (moved > 0) {
      checkpoint(line.checkpoints, now, line.served); // where the line stood, so the jump is dated now, not spread backwards
      line.served += moved;
      line.eta.add(moved, 0);
      checkpoint(line.checkpoints, now, line.served);
    }
    return Promise.resolve(stateOf(line));
  }

  delete(spaceId: string): Promise<void> {
    this.#lines.delete(spaceId);
    return Promise.resolve();
  }

  /** Roughly what a room remembers (used numbers, come-up times): bounded by rate x TTL, not by the line. */
  footprintBytes(spaceId: string): number {
    const line = this.#lines.get(spaceId);
    return line === undefined ? 0 : line.used.bytes + line.checkpoints.length * 16;
  }

  /** Moves the line to now and forgets come-up times older than the TTL; returns now. */
  #step(line: MemoryLine, rules: LineRules): number {
    const now = this.#clock.now();
    advance(line, now, rules.perSecond);
    trim(line.checkpoints, now - rules.ticketTtlMs);
    return now;
  }
}

function newLine(epoch: string, now: number, rules: LineRules): MemoryLine {
  return {
    epoch,
    lastIssued: 0,
    served: 0,
    atMs: now,
    eta: new EwmaRate({
      initialPerSecond: Math.max(0, rules.perSecond),
      halfLifeMs: rules.etaHalfLifeMs,
      sampleMs: etaSampleMs(rules.etaHalfLifeMs),
    }),
    checkpoints: [],
    used: new DenseNumberSet(),
  };
}

function emptyLine(rules: LineRules): LineState {
  return { served: 0, lastIssued: 0, perSecond: Math.max(0, rules.perSecond) };
}

function stateOf(line: MemoryLine): LineState {
  return { served: line.served, lastIssued: line.lastIssued, perSecond: line.eta.perSecond };
}

/** Moves now-serving forward for the time passed, at `perSecond`, never past the last number. */
function advance(line: MemoryLine, now: number, perSecond: number): void {
  const from = line.atMs;
  const elapsedMs = now - from;
  if (elapsedMs < 0) line.atMs = now; // the clock stepped back (e.g. a failover): go on from here, do not stall
  if (elapsedMs <= 0) return;
  line.atMs = now;
  const gap = line.lastIssued - line.served;
  if (gap <= 0) return; // an empty line is not a slow line: idle time teaches the ETA nothing
  const rate = Math.max(0, perSecond);
  const possible = (rate * elapsedMs) / 1000;
  if (possible >= gap) {
    const busyMs = (gap / rate) * 1000;
    line.served = line.lastIssued;
    line.eta.add(gap, busyMs);
    checkpoint(line.checkpoints, from + busyMs, line.served);
  } else {
    line.served += possible;
    line.eta.add(possible, elapsedMs);
    // Even when the line stood still (rate 0: the room is full): numbers that come up later must
    // not be dated back into the stop by the interpolation between checkpoints.
    checkpoint(line.checkpoints, now, line.served);
  }
}

function checkpoint(cps: Checkpoint[], t: number, s: number): void {
  const prev = cps.at(-2);
  if (prev !== undefined && t - prev.t < CHECKPOINT_GRANULARITY_MS) cps[cps.length - 1] = { t, s };
  else cps.push({ t, s });
}

/** Drops the points older than `horizon` that `servedAt(horizon)` (or any later time) no longer needs. */
function trim(cps: Checkpoint[], horizon: number): void {
  let drop = 0;
  while (drop + 1 < cps.length && cps[drop + 1]!.t <= horizon) drop++;
  if (drop > 0) cps.splice(0, drop);
}

/**
 * Now-serving as it was at `t`, for a trimmed list (so `t` falls before the second point): linear
 * between the first two points, since the line moves at a steady rate between steps.
 */
function servedAt(cps: readonly Checkpoint[], t: number): number {
  const a = cps[0];
  const b = cps[1];
  if (a === undefined) return 0;
  if (t <= a.t || b === undefined) return a.s;
  return a.s + ((b.s - a.s) * (t - a.t)) / (b.t - a.t);
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
