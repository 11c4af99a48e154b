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

  /** `pollMs` is read on every wait: under overload it grows (room state is shed before audio). */
  constructor(source: RoomStateSource, clock: Clock, pollMs: () => number = () => 250) {
    this.#source = source;
    this.#clock = clock;
    this.#pollMs = pollMs;
  }

  /** The current document; with `after`, waits (polling the source) until its version is newer. */
  async get(spaceId: string, after: number | undefined, timeoutMs: number): Promise<{ version: number; json: string }> {
    const deadline = this.#clock.now() + timeoutMs;
    let current = await this.#refresh(spaceId);
    while (after !== undefined && current.version <= after && this.#clock.now() < deadline) {
      await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, this.#pollMs()));
      current = await this.#refresh(spaceId);
    }
    return current;
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
