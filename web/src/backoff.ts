/**
 * The web app's retry waits as data: how long a client waits before trying again after a failure
 * (a server restart, a lost network), growing exponentially to a cap, with jitter so that a
 * million players cut off at the same moment never come back in step. Plain TypeScript with the
 * timers injected (`Timers`), so tests drive it without waiting.
 */
export interface BackoffPolicy {
  /** The wait before the first retry. */
  readonly firstDelayMs: number;
  /** No wait is longer than this, however many retries came before. */
  readonly maxDelayMs: number;
  /** The share of each wait (0..1) that may be taken off at random. */
  readonly jitter: number;
}

/** Reconnecting a speaker or a player: 0.5 s, 1, 2, 4, 8, then 10 s for ever, each up to 30% shorter. */
export const reconnectPolicy: BackoffPolicy = { firstDelayMs: 500, maxDelayMs: 10_000, jitter: 0.3 };

/** The wait before retry number `attempt` (0 for the first); `random` is in [0, 1). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: number): number {
  // The exponent is bounded so that a client retrying for days never computes Infinity.
  const base = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  return base * (1 - policy.jitter * random);
}

/** The timers and randomness a backoff reads: the browser's, or a test's. */
export interface Timers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** A number in [0, 1). */
  random(): number;
}

export const realTimers: Timers = {
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => performance.now(),
  random: () => Math.random(),
};

/**
 * The waits of one retrying client: each `wait()` is longer than the one before until `reset()`
 * (after a success); `cancel()` ends any wait under way and every later one at once (the user left).
 */
export class Backoff {
  readonly #policy: BackoffPolicy;
  readonly #timers: Timers;
  readonly #pending = new Map<unknown, (waited: boolean) => void>();
  #attempt = 0;
  #cancelled = false;

  constructor(policy: BackoffPolicy = reconnectPolicy, timers: Timers = realTimers) {
    this.#policy = policy;
    this.#timers = timers;
  }

  /** How many waits since the last reset (the retry about to be made, counting from 1, is this plus one). */
  get attempt(): number {
    return this.#attempt;
  }

  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Waits before the next retry: true once the wait is over, false if cancelled before or during it. */
  wait(): Promise<boolean> {
    if (this.#cancelled) return Promise.resolve(false);
    const ms = backoffDelay(this.#policy, this.#attempt++, this.#timers.random());
    return new Promise((resolve) => {
      const handle = this.#timers.setTimeout(() => {
        this.#pending.delete(handle);
        resolve(true);
      }, ms);
      this.#pending.set(handle, resolve);
    });
  }

  /** The next wait is the first one again. */
  reset(): void {
    this.#attempt = 0;
  }

  /** Ends every wait now (each resolves false) and every later one at once. Idempotent. */
  cancel(): void {
    this.#cancelled = true;
    for (const [handle, resolve] of this.#pending) {
      this.#timers.clearTimeout(handle);
      resolve(false);
    }
    this.#pending.clear();
  }
}
