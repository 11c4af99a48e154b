import { AmphiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';

/** Builds a Space's room state now (who is on stage and speaking, listeners, reactions, status). */
export type RoomStateSource = (spaceId: string) => Promise<object>;

interface Versioned {
  json: string;
  version: number;
}

/**
 * The small versioned document listeners poll instead of a per-listener push: `state.json?v=N`
 * answers as soon as the version passes N (or after the blocking timeout, unchanged), so a million
 * listeners cost the origin one computation per change, and the edge collapses their requests.
 */
export class RoomState {
  readonly #source: RoomStateSource;
  readonly #clock: Clock;
  readonly #pollMs: () => number;
  readonly #docs = new Map<string, Versioned>();
  /** Wakes each held request at once (shutdown). */
  readonly #sleepers = new Set<() => void>();
  #closed = false;

  /** `pollMs` is read on every wait: under overload it grows (room state is shed before audio). */
  constructor(source: RoomStateSource, clock: Clock, pollMs: () => number = () => 250) {
    this.#source = source;
    this.#clock = clock;
    this.#pollMs = pollMs;
  }

  /** The current document; with `after`, waits (polling the source) until its version is newer. */
  async get(spaceId: string, after: number | undefined, timeoutMs: number): Promise<{ version: number; json: string }> {
    if (this.#closed) throw new AmphiError('SERVICE_UNAVAILABLE', { headers: { 'retry-after': '1' } });
    const deadline = this.#clock.now() + timeoutMs;
    let current = await this.#refresh(spaceId);
    while (after !== undefined && current.version <= after && this.#clock.now() < deadline) {
      await this.#sleep(this.#pollMs());
      if (this.#closed) break; // shutting down: answer what we have, and read the source no more
      current = await this.#refresh(spaceId);
    }
    return current;
  }

  /** Shutdown: held requests are answered at once (unchanged), new ones refused; the source is read no more. */
  close(): void {
    this.#closed = true;
    for (const wake of this.#sleepers) wake();
    this.#sleepers.clear();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        this.#clock.clearTimeout(timer);
        this.#sleepers.delete(wake);
        resolve();
      };
      const timer = this.#clock.setTimeout(wake, ms);
      this.#sleepers.add(wake);
    });
  }

  async #refresh(spaceId: string): Promise<Versioned> {
    const doc = await this.#source(spaceId);
    const json = JSON.stringify(doc);
    const previous = this.#docs.get(spaceId);
    if (previous !== undefined && previous.json === json) return previous;
    const next = { json, version: (previous?.version ?? 0) + 1 };
    this.#docs.set(spaceId, next);
    return next;
  }
}
