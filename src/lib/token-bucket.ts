import type { Clock } from './clock.ts';

/** Rate-limit policy as data: `capacity` tokens, refilled continuously at `refillPerSecond`. */
export interface RateLimitPolicy {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

interface Bucket {
  tokens: number;
  updatedAtMs: number;
  /** When it last moved to the newest end of the eviction order. */
  movedAtMs: number;
}

/**
 * A bucket in use moves to the newest end of the eviction order at most this often: moving it on
 * every take (a Map delete and insert) cost more than the rest of the take, on every request.
 */
const REORDER_AFTER_MS = 1000;
const TAKEN: TakeResult = Object.freeze({ ok: true });

export type TakeResult = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

/** A rate limiter: this process's buckets (`RateLimiter`), or buckets every node shares (cluster mode). */
export interface Limiter {
  take(key: string): TakeResult | Promise<TakeResult>;
}

/**
 * Token buckets keyed by client (account, address, token). Memory is bounded: past `maxKeys` the
 * least recently used buckets (to a second) are dropped, which can only make a limiter more lenient, never stuck.
 */
export class RateLimiter implements Limiter {
  readonly #policy: RateLimitPolicy;
  readonly #clock: Clock;
  readonly #maxKeys: number;
  #buckets = new Map<string, Bucket>();

  constructor(policy: RateLimitPolicy, clock: Clock, maxKeys = 100_000) {
    this.#policy = policy;
    this.#clock = clock;
    this.#maxKeys = maxKeys;
  }

  take(key: string, cost = 1): TakeResult {
    const now = this.#clock.now();
    const { capacity, refillPerSecond } = this.#policy;
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: capacity, updatedAtMs: now, movedAtMs: now };
      if (this.#buckets.size >= this.#maxKeys) {
        const oldest = this.#buckets.keys().next();
        if (oldest.done !== true) this.#buckets.delete(oldest.value);
      }
      this.#buckets.set(key, bucket);
    } else {
      if (now - bucket.movedAtMs >= REORDER_AFTER_MS) {
        // Re-inserted, so Map order stays least-recently-used first (to a second).
        this.#buckets.delete(key);
        this.#buckets.set(key, bucket);
        bucket.movedAtMs = now;
      }
      const elapsedMs = Math.max(0, now - bucket.updatedAtMs);
      bucket.tokens = Math.min(capacity, bucket.tokens + (elapsedMs / 1000) * refillPerSecond);
      bucket.updatedAtMs = now;
    }
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return TAKEN;
    }
    const missing = cost - bucket.tokens;
    const retryAfterMs = refillPerSecond > 0 ? Math.ceil((missing / refillPerSecond) * 1000) : Infinity;
    return { ok: false, retryAfterMs };
  }

  get size(): number {
    return this.#buckets.size;
  }
}
