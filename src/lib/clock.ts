/**
 * The one source of time. Tokens, expiries, rate limits and schedules read `now()` from a Clock that
 * is passed in, so tests drive time with a ManualClock instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface TimerHandle {
  readonly id: number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, delayMs) {
    const t = globalThis.setTimeout(fn, delayMs);
    t.unref();
    return { id: Number(t) };
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle.id);
  },
};

/**
 * Runs `fn` every `intervalMs` on the clock until the returned function is called. A run that throws
 * or rejects is reported to `onError` and the schedule goes on.
 */
export function every(clock: Clock, intervalMs: number, fn: () => Promise<unknown>, onError: (e: unknown) => void): () => void {
  let handle: TimerHandle | undefined;
  let stopped = false;
  const tick = () => {
    let run: Promise<unknown>;
    try {
      run = fn();
    } catch (error) {
      run = Promise.reject(error instanceof Error ? error : new Error(String(error))); // a throw before the first await: reported the same way
    }
    run.catch(onError).finally(() => {
      if (!stopped) handle = clock.setTimeout(tick, intervalMs);
    });
  };
  handle = clock.setTimeout(tick, intervalMs);
  return () => {
    stopped = true;
    if (handle !== undefined) clock.clearTimeout(handle);
  };
}

interface PendingTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/** A clock that only moves when told to. Timers fire in time order during `advance`. */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers = new Map<number, PendingTimer>();

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, delayMs), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle.id);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: PendingTimer | undefined;
      for (const t of this.#timers.values()) {
        if (t.at <= target && (next === undefined || t.at < next.at)) next = t;
      }
      if (next === undefined) break;
      this.#timers.delete(next.id);
      this.#now = next.at;
      next.fn();
    }
    this.#now = target;
  }
}
