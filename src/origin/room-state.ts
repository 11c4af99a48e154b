import { AmphiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';

/** Builds a Space's room state now (who is on stage and speaking, listeners, reactions, status). */
export type RoomStateSource = (spaceId: string) => Promise<object>;

/** Documents held at most (a few hundred bytes each). */
const MAX_DOCS = 100_000;

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
  /**
   * Versions come from one counter for all Spaces, so a document forgotten and built again (a Space
   * ended, then polled) gets a version newer than any a client holds, and never looks unchanged.
   */
  #lastVersion = 0;
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

  /** The Space ended: its document leaves memory (a later poll builds it again, with a newer version). */
  forget(spaceId: string): void {
    this.#docs.delete(spaceId);
  }

  /** Documents held. */
  get size(): number {
    return this.#docs.size;
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
    const next = { json, version: ++this.#lastVersion };
    if (previous === undefined && this.#docs.size >= MAX_DOCS) {
      // Bounded (a Space polled after it ended builds its document again): the oldest goes first.
      const oldest = this.#docs.keys().next();
      if (oldest.done !== true) this.#docs.delete(oldest.value);
    }
    this.#docs.set(spaceId, next);
    return next;
  }
}
