import type { Clock } from './clock.ts';

/** Rate-limit policy as data: `capacity` tokens, refilled continuously at `refillPerSecond`. */
export interface RateLimitPolicy {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

export type TakeResult = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

/** A rate limiter: this process's buckets (`RateLimiter`), or buckets every node shares (cluster mode). */
export interface Limiter {
  take(key: string): TakeResult | Promise<TakeResult>;
}

/**
 * Token buckets keyed by client (account, address, token). Memory is bounded: past `maxKeys` the
 * least recently used buckets are dropped, which can only make a limiter more lenient, never stuck.
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
      bucket = { tokens: capacity, updatedAtMs: now };
      if (this.#buckets.size >= this.#maxKeys) {
        const oldest = this.#buckets.keys().next();
        if (oldest.done !== true) this.#buckets.delete(oldest.value);
      }
    } else {
      this.#buckets.delete(key); // re-inserted below, so Map order stays least-recently-used first
      const elapsedMs = Math.max(0, now - bucket.updatedAtMs);
      bucket.tokens = Math.min(capacity, bucket.tokens + (elapsedMs / 1000) * refillPerSecond);
      bucket.updatedAtMs = now;
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return { ok: true };
    }
    const missing = cost - bucket.tokens;
    const retryAfterMs = refillPerSecond > 0 ? Math.ceil((missing / refillPerSecond) * 1000) : Infinity;
    return { ok: false, retryAfterMs };
  }

  get size(): number {
    return this.#buckets.size;
  }
}
