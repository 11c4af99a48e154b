import type { Clock, TimerHandle } from '../lib/clock.ts';

/** How long a connection said to have failed is kept while its media still arrives. */
export const FAILED_MEDIA_GRACE_MS = 2500;

/**
 * Whether a speaker whose connection says `failed` is really gone. werift declares a connection
 * failed when its ICE consent checks go unanswered for a while; on a saturated event loop those
 * checks (and their answers) run late, and a connection whose RTP still arrives is declared failed.
 * So `failed` ends a session only once no media arrived for `graceMs` either (at once if it has been
 * quiet that long); the connection coming back (`connected`) cancels it.
 */
export class FailedConnection {
  readonly #clock: Clock;
  readonly #graceMs: number;
  readonly #onGone: () => void;
  #lastMediaAt: number | undefined;
  #failed = false;
  #timer: TimerHandle | undefined;

  constructor(clock: Clock, graceMs: number, onGone: () => void) {
    this.#clock = clock;
    this.#graceMs = graceMs;
    this.#onGone = onGone;
  }

  /** A media packet arrived. */
  media(): void {
    this.#lastMediaAt = this.#clock.now();
  }

  /** The peer connection's state changed. */
  state(state: string): void {
    if (state === 'failed' && !this.#failed) {
      this.#failed = true;
      this.#check();
    } else if (state === 'connected') {
      this.stop();
    }
  }

  /** Nothing more to watch (the session closed, or the connection came back). */
  stop(): void {
    this.#failed = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    this.#timer = undefined;
    if (!this.#failed) return;
    const quietMs = this.#lastMediaAt === undefined ? Infinity : this.#clock.now() - this.#lastMediaAt;
    if (quietMs >= this.#graceMs) {
      this.#failed = false;
      this.#onGone();
      return;
    }
    this.#timer = this.#clock.setTimeout(() => this.#check(), this.#graceMs - quietMs);
  }
}
