import type { Grant } from './api.ts';

/**
 * A listener's current grant, shared by everything that uses its token (the player, the room-state
 * loop): one renewal at a time, and whoever asks with a grant that was renewed meanwhile gets the
 * newer one instead of renewing it again. It also knows which edge is in use: the grant's own, then,
 * each time that one fails (`failover`), its fallbacks in turn, with the same token (cluster mode: the
 * token is good on every edge, so a dead edge costs no new join and no place in line).
 */
export class ListenerGrant {
  #grant: Grant;
  #renewing: Promise<Grant> | undefined;
  /** Edges of the current grant given up on (0: its own edge in use). */
  #failed = 0;
  #failedOf: Grant | undefined;
  readonly #renew: (current: Grant) => Promise<Grant>;

  constructor(first: Grant, renew: (current: Grant) => Promise<Grant>) {
    this.#grant = first;
    this.#renew = renew;
  }

  get current(): Grant {
    return this.#grant;
  }

  /** The stream or playlist URL at the edge in use. */
  at(kind: 'streamUrl' | 'playlistUrl'): string {
    const all = this.#edges(kind);
    return all[this.#failures() % all.length]!;
  }

  /** The edge in use failed: the next `at` names the next edge. False once every edge was tried. */
  failover(): boolean {
    this.#failed = this.#failures() + 1;
    return this.#failed < this.#edges('streamUrl').length;
  }

  #edges(kind: 'streamUrl' | 'playlistUrl'): string[] {
    const g = this.#grant;
    return [g[kind], ...g.fallbacks.map((f) => f[kind])];
  }

  /** Failures counted for the current grant only: a renewed grant starts at its own edge. */
  #failures(): number {
    if (this.#failedOf !== this.#grant) {
      this.#failedOf = this.#grant;
      this.#failed = 0;
    }
    return this.#failed;
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

/** A listener URL (`/l/<token>/<space>/<file>`) with another token: a request made after a renewal uses the newest. */
export function withToken(url: string, token: string): string {
  return url.replace(/\/l\/[^/]+\//, `/l/${token}/`);
}
