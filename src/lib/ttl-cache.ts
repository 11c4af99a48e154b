import type { Clock } from './clock.ts';

/**
 * A bounded cache whose entries expire on an injected clock. `getOrLoad` shares one in-flight load
 * among concurrent callers, so a burst of misses for one key costs one load. A failed load is not
 * cached.
 */
export class TtlCache<K, V> {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  #entries = new Map<K, { value: Promise<V>; expiresAtMs: number }>();

  constructor(clock: Clock, ttlMs: number, maxEntries = 10_000) {
    this.#clock = clock;
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  getOrLoad(key: K, load: () => Promise<V>): Promise<V> {
    const now = this.#clock.now();
    const hit = this.#entries.get(key);
    if (hit !== undefined && hit.expiresAtMs > now) return hit.value;
    const value = load();
    if (this.#ttlMs > 0) {
      this.#entries.delete(key); // re-insert at the end: Map order stays oldest-first
      if (this.#entries.size >= this.#maxEntries) this.#evictOldest();
      this.#entries.set(key, { value, expiresAtMs: now + this.#ttlMs });
      value.catch(() => {
        if (this.#entries.get(key)?.value === value) this.#entries.delete(key);
      });
    }
    return value;
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  /** Drops every entry (a change that may make any of them wrong). */
  clear(): void {
    this.#entries.clear();
  }

  /** Entries share one TTL and are kept in insertion order, so the first is the oldest: O(1). */
  #evictOldest(): void {
    const oldest = this.#entries.keys().next();
    if (oldest.done !== true) this.#entries.delete(oldest.value);
  }

  get size(): number {
    return this.#entries.size;
  }
}
