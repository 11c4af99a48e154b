import type { Clock } from '../lib/clock.ts';
import { RateLimiter, type RateLimitPolicy } from '../lib/token-bucket.ts';

/**
 * What this join service can take, as data, lowered while the process shows distress.
 *
 * Configured: `maxListeners` admitted at once and `joinsPerSecond` (a token bucket of `joinBurst`).
 * Live signals fed in by methods (event-loop delay p99, CPU share, queue depth) set an overload level
 * (how many of each signal's thresholds are passed; the highest signal wins) and drive an AIMD factor
 * applied to both capacities: while any signal is at level 1 or more, multiply by `decreaseFactor`
 * (at most once per `decreaseIntervalMs`, never below `minCapacityFactor`); while all are at level 0,
 * add `recoveryPerSecond` of the configured capacity back per second. The level rises at once and
 * steps down one level per `levelHoldMs` spent below it, so shedding does not flap.
 */
export interface OverloadPolicy {
  /** Ascending p99 event-loop delays at which levels 1, 2, ... start. */
  readonly eventLoopDelayLevelsMs: readonly number[];
  /** Ascending shares of one core (0..1) busy on this process at which levels start. */
  readonly cpuShareLevels: readonly number[];
  /** Ascending depths of pending work (queued joins, held requests) at which levels start. */
  readonly queueDepthLevels: readonly number[];
  readonly levelHoldMs: number;
  readonly decreaseFactor: number;
  readonly decreaseIntervalMs: number;
  readonly recoveryPerSecond: number;
  readonly minCapacityFactor: number;
}

export interface CapacityPolicy {
  readonly maxListeners: number;
  readonly joinsPerSecond: number;
  readonly joinBurst: number;
  readonly overload: OverloadPolicy;
}

export type AdmitDecision =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'full' }
  | { readonly ok: false; readonly reason: 'rate'; readonly retryAfterMs: number };

export interface Signals {
  readonly eventLoopDelayP99Ms: number;
  readonly cpuShare: number;
  readonly queueDepth: number;
}

export class Capacity {
  readonly #policy: CapacityPolicy;
  readonly #clock: Clock;
  readonly #joins: RateLimiter;
  #signals: Signals = { eventLoopDelayP99Ms: 0, cpuShare: 0, queueDepth: 0 };
  #rawLevel = 0;
  #level = 0;
  #levelSinceMs: number;
  #factor = 1;
  #lastDecreaseMs = -Infinity;
  #settledAtMs: number;
  #measuredListeners = 0;
  #admittedSinceMeasure = 0;

  /** `share`: this node's part of a cluster's joins/s and burst (see `AdmissionDeps.share`); 1 alone. */
  constructor(policy: CapacityPolicy, clock: Clock, share: () => number = () => 1) {
    checkCapacityPolicy(policy);
    this.#policy = policy;
    this.#clock = clock;
    this.#settledAtMs = this.#levelSinceMs = clock.now();
    // The one token bucket, reading a live policy: its burst and refill follow the AIMD factor and the share.
    const factor = () => this.#factor * Math.min(1, Math.max(0, share()));
    const live: RateLimitPolicy = {
      get capacity() {
        return Math.max(1, Math.round(policy.joinBurst * factor()));
      },
      get refillPerSecond() {
        return policy.joinsPerSecond * factor();
      },
    };
    this.#joins = new RateLimiter(live, clock, 1);
  }

  observeEventLoopDelay(p99Ms: number): void {
    this.#observe({ ...this.#signals, eventLoopDelayP99Ms: p99Ms });
  }

  /** Busy share of one core, 0..1 (process CPU time over wall time for the last interval). */
  observeCpuShare(share: number): void {
    this.#observe({ ...this.#signals, cpuShare: share });
  }

  observeQueueDepth(depth: number): void {
    this.#observe({ ...this.#signals, queueDepth: depth });
  }

  /** The measured count of admitted listeners (from the edges); admissions since then are added to it. */
  setListeners(count: number): void {
    this.#measuredListeners = Math.max(0, count);
    this.#admittedSinceMeasure = 0;
  }

  /** Should this join be admitted now? Takes a token from the joins/s bucket when it is. */
  admitNow(): AdmitDecision {
    this.#settle();
    if (this.listeners >= this.maxListeners) return { ok: false, reason: 'full' };
    const taken = this.#joins.take('joins');
    if (!taken.ok) return { ok: false, reason: 'rate', retryAfterMs: taken.retryAfterMs };
    this.#admittedSinceMeasure++;
    return { ok: true };
  }

  /** Counts admissions paced elsewhere (a waiting-room ticket exchanged): no token is taken for them. */
  noteAdmitted(count = 1): void {
    this.#admittedSinceMeasure += count;
  }

  /** The waiting room's release rate: joins/s while there is room for listeners, else nothing. */
  releasePerSecond(): number {
    this.#settle();
    return this.listeners < this.maxListeners ? this.joinsPerSecond : 0;
  }

  /** 0 = healthy; 1.. = how far past the thresholds, held on the way down (see the class comment). */
  get level(): number {
    this.#settle();
    return this.#level;
  }

  /** The AIMD multiplier on the configured capacity, `minCapacityFactor`..1. */
  get factor(): number {
    this.#settle();
    return this.#factor;
  }

  get joinsPerSecond(): number {
    return this.#policy.joinsPerSecond * this.factor;
  }

  get maxListeners(): number {
    return Math.max(1, Math.floor(this.#policy.maxListeners * this.factor));
  }

  get listeners(): number {
    return this.#measuredListeners + this.#admittedSinceMeasure;
  }

  get freeSlots(): number {
    return Math.max(0, this.maxListeners - this.listeners);
  }

  get signals(): Signals {
    return this.#signals;
  }

  #observe(signals: Signals): void {
    this.#settle();
    const o = this.#policy.overload;
    this.#signals = signals;
    this.#rawLevel = Math.max(
      levelOf(signals.eventLoopDelayP99Ms, o.eventLoopDelayLevelsMs),
      levelOf(signals.cpuShare, o.cpuShareLevels),
      levelOf(signals.queueDepth, o.queueDepthLevels),
    );
    const now = this.#clock.now();
    if (this.#rawLevel >= this.#level) {
      this.#level = this.#rawLevel;
      this.#levelSinceMs = now;
    }
    if (this.#rawLevel >= 1 && now - this.#lastDecreaseMs >= o.decreaseIntervalMs) {
      this.#factor = Math.max(o.minCapacityFactor, this.#factor * o.decreaseFactor);
      this.#lastDecreaseMs = now;
    }
  }

  /** Applies what time did since the last look: additive recovery, and the level stepping down. */
  #settle(): void {
    const now = this.#clock.now();
    const o = this.#policy.overload;
    const elapsedMs = Math.max(0, now - this.#settledAtMs);
    this.#settledAtMs = now;
    if (this.#rawLevel === 0 && this.#factor < 1) {
      this.#factor = Math.min(1, this.#factor + (o.recoveryPerSecond * elapsedMs) / 1000);
    }
    if (this.#rawLevel >= this.#level) {
      this.#levelSinceMs = now;
      return;
    }
    while (this.#level > this.#rawLevel && now - this.#levelSinceMs >= o.levelHoldMs) {
      this.#level--;
      this.#levelSinceMs += o.levelHoldMs;
    }
  }
}

/** How many of the ascending thresholds `value` has reached. */
export function levelOf(value: number, thresholds: readonly number[]): number {
  let level = 0;
  for (const t of thresholds) if (value >= t) level++;
  return level;
}

/** Throws with the setting's name when the policy cannot work (the schema checks single values). */
export function checkCapacityPolicy(p: CapacityPolicy): void {
  const o = p.overload;
  for (const [name, levels] of [
    ['eventLoopDelayLevelsMs', o.eventLoopDelayLevelsMs],
    ['cpuShareLevels', o.cpuShareLevels],
    ['queueDepthLevels', o.queueDepthLevels],
  ] as const) {
    for (let i = 1; i < levels.length; i++) {
      if (!(levels[i]! > levels[i - 1]!)) {
        throw new Error(`admission.overload.${name} must be strictly ascending (level 1 first), got [${levels.join(', ')}]`);
      }
    }
  }
  if (!(o.decreaseFactor > 0 && o.decreaseFactor < 1)) throw new Error('admission.overload.decreaseFactor must be in (0, 1)');
  if (!(o.minCapacityFactor > 0 && o.minCapacityFactor <= 1)) {
    throw new Error('admission.overload.minCapacityFactor must be in (0, 1]');
  }
  if (!(p.joinsPerSecond > 0) || !(p.maxListeners >= 1) || !(p.joinBurst >= 1)) {
    throw new Error('admission: joinsPerSecond, maxListeners and joinBurst must be positive');
  }
}
