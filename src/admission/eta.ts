import type { Clock } from '../lib/clock.ts';

export interface RatePolicy {
  /** The rate reported before anything is measured (for the waiting room: the configured joins/s). */
  readonly initialPerSecond: number;
  /** How fast old measurements fade: a sample this old weighs half. */
  readonly halfLifeMs: number;
  /** Counts are pooled until this much time is covered, so one burst is not read as a huge rate. */
  readonly sampleMs: number;
}

/**
 * An exponentially weighted rate over time spans the caller supplies. Each sample (events over a
 * span) moves the estimate by a weight that depends on the span's length, not on how often `add` is
 * called, so a steady rate reads as itself whether it is fed every millisecond or every second.
 * The spans are the caller's: the waiting room feeds only the time its line was actually waiting, so
 * an empty line does not read as "the line is not moving".
 */
export class EwmaRate {
  readonly #policy: RatePolicy;
  #perSecond: number;
  #pendingCount = 0;
  #pendingMs = 0;

  constructor(policy: RatePolicy) {
    if (!(policy.halfLifeMs > 0) || !(policy.sampleMs > 0) || !(policy.initialPerSecond >= 0)) {
      throw new Error('EwmaRate needs halfLifeMs > 0, sampleMs > 0 and initialPerSecond >= 0');
    }
    this.#policy = policy;
    this.#perSecond = policy.initialPerSecond;
  }

  /** `count` events happened over `elapsedMs` (0 for an instant burst: it joins the next span). */
  add(count: number, elapsedMs: number): void {
    this.#pendingCount += Math.max(0, count);
    this.#pendingMs += Math.max(0, elapsedMs);
    if (this.#pendingMs < this.#policy.sampleMs) return;
    const sample = this.#pendingCount / (this.#pendingMs / 1000);
    const weight = 1 - Math.pow(2, -this.#pendingMs / this.#policy.halfLifeMs);
    this.#perSecond += weight * (sample - this.#perSecond);
    this.#pendingCount = 0;
    this.#pendingMs = 0;
  }

  get perSecond(): number {
    return this.#perSecond;
  }
}

/** Events per second on the injected clock, e.g. join attempts (the load that sets PoW difficulty). */
export class RateMeter {
  readonly #clock: Clock;
  readonly #rate: EwmaRate;
  #lastMs: number;

  constructor(clock: Clock, policy: RatePolicy) {
    this.#clock = clock;
    this.#rate = new EwmaRate(policy);
    this.#lastMs = clock.now();
  }

  mark(count = 1): void {
    this.#fold(count);
  }

  /** The rate now: quiet time since the last event counts as time with no events. */
  perSecond(): number {
    this.#fold(0);
    return this.#rate.perSecond;
  }

  #fold(count: number): void {
    const now = this.#clock.now();
    this.#rate.add(count, now - this.#lastMs);
    this.#lastMs = now;
  }
}

/** Below this the line is treated as crawling, not stopped: the ETA stays a (large) number. */
const MIN_RATE_PER_SECOND = 0.001;

/** How long the now-serving value may be cached (`Cache-Control: max-age`), by browsers and CDNs alike. */
export const LINE_MAX_AGE_SECONDS = 1;

/**
 * How long after a number comes up its holder notices, on average: the cached value it reads is half a
 * max-age old, and a client polling once per max-age (as the web app does near its turn) asks half an
 * interval late. Part of the ETA, because a person waits until they are let in, not until the server moves.
 */
export const LINE_NOTICE_SECONDS = LINE_MAX_AGE_SECONDS;

/**
 * Honest waiting time, in seconds to a tenth, for someone `ahead` numbers behind now-serving at
 * `perSecond` admissions: until the number comes up, plus the time to notice it.
 */
export function etaSeconds(ahead: number, perSecond: number): number {
  if (!(ahead > 0)) return 0;
  const raw = ahead / Math.max(perSecond, MIN_RATE_PER_SECOND) + LINE_NOTICE_SECONDS;
  return Math.round(raw * 10) / 10;
}
