import { ManualClock, type TimerHandle } from '../../src/lib/clock.ts';
import type { Timers } from '../../web/src/backoff.ts';

/**
 * The web app's `Timers` on a `ManualClock`, with the randomness fixed (`random`, changeable) and
 * every wait that was scheduled recorded, so tests read the backoff's delays without waiting.
 */
export class FakeTimers implements Timers {
  readonly clock = new ManualClock(0);
  /** The delay of every timer set, in order. */
  readonly scheduled: number[] = [];
  /** How many timers are set and neither fired nor cleared. */
  pending = 0;
  random: () => number;

  constructor(random = 0) {
    this.random = () => random;
  }

  setTimeout(run: () => void, ms: number): unknown {
    this.scheduled.push(ms);
    this.pending++;
    return this.clock.setTimeout(() => {
      this.pending--;
      run();
    }, ms);
  }

  clearTimeout(handle: unknown): void {
    this.pending--;
    this.clock.clearTimeout(handle as TimerHandle);
  }

  now(): number {
    return this.clock.now();
  }
}
