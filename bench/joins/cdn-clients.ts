/**
 * CDN line polls, modelled: the waiting clients each read one shared cache of the line once per
 * interval, at their own phase (counted from their ticket's arrival). A client sees its number come up
 * at its first read at or after the cache held an answer showing it (and after any pause a refused
 * exchange imposed). Pure: the cache's answers and the time come in as arguments.
 */
import { ByNumber } from './ticket-heap.ts';

export interface CdnClient {
  readonly number: number;
  /** When its ticket arrived (ms). */
  readonly issuedAt: number;
  /** Its reads fall at issuedAt + phase + k x interval. */
  readonly phase: number;
  /** No exchange before this (ms): after a refusal, the next interval. */
  notBefore: number;
  /** The read that will see (or saw) its number come up. */
  pollAt: number;
  seenAt: number | undefined;
}

export class CdnClients<T extends CdnClient> {
  readonly #interval: number;
  /** Waiting for the cache to show their number. */
  readonly #waiting = new ByNumber<T>();
  /** Shown it; their read that sees it is still to come. */
  #due: T[] = [];

  constructor(intervalMs: number) {
    this.#interval = intervalMs;
  }

  /** Clients still reading the cache (one read each per interval). */
  get size(): number {
    return this.#waiting.size + this.#due.length;
  }

  add(c: T): void {
    this.#waiting.push(c);
  }

  /**
   * With the cache holding `line` (nowServing, and when it arrived), the clients whose read by `now`
   * saw their number come up: their seenAt is that read's time. They leave; the caller exchanges them.
   */
  sweep(line: { readonly nowServing: number; readonly receivedAt: number } | undefined, now: number): T[] {
    if (line !== undefined) {
      for (let c = this.#waiting.peek(); c !== undefined && c.number <= line.nowServing; c = this.#waiting.peek()) {
        this.#waiting.pop();
        // The first read of this client at or after the cache held this answer (and after a refusal's pause).
        const from = Math.max(line.receivedAt, c.notBefore);
        const k = Math.max(0, Math.ceil((from - c.issuedAt - c.phase) / this.#interval));
        c.pollAt = c.issuedAt + c.phase + k * this.#interval;
        this.#due.push(c);
      }
    }
    const seen: T[] = [];
    const later: T[] = [];
    for (const c of this.#due) {
      if (c.pollAt > now) {
        later.push(c);
        continue;
      }
      c.seenAt = c.pollAt;
      seen.push(c);
    }
    this.#due = later;
    return seen;
  }
}
