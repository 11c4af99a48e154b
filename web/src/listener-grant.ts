import type { Grant } from './api.ts';

/**
 * A listener's current grant, shared by everything that uses its token (the player, the room-state
 * loop): one renewal at a time, and whoever asks with a grant that was renewed meanwhile gets the
 * newer one instead of renewing it again.
 */
export class ListenerGrant {
  #grant: Grant;
  #renewing: Promise<Grant> | undefined;
  readonly #renew: (current: Grant) => Promise<Grant>;

  constructor(first: Grant, renew: (current: Grant) => Promise<Grant>) {
    this.#grant = first;
    this.#renew = renew;
  }

  get current(): Grant {
    return this.#grant;
  }

  /** A grant newer than `stale`: the one renewed since it was read, or a renewal (joined if under way). */
  renew(stale: Grant): Promise<Grant> {
    if (stale !== this.#grant) return Promise.resolve(this.#grant);
    this.#renewing ??= this.#renew(stale)
      .then((next) => (this.#grant = next))
      .finally(() => (this.#renewing = undefined));
    return this.#renewing;
  }
}
