/**
 * Listeners removed from a Space, by Space: their tokens are refused at this edge. A removal is for
 * good while the Space lives (the control plane also refuses to renew them). Once the Space has
 * ended its revocations are kept only as long as a token issued before them could still be good
 * (its lifetime plus the edge's keep-alive), then dropped, so the set does not grow forever.
 *
 * They live in memory: a restarted edge is told them again (`revoke` for the banned subjects of the
 * Spaces that are live or ended within a token lifetime, then `spaceEnded` for the ended ones).
 */
export class Revocations {
  readonly #bySpace = new Map<string, Set<string>>();
  /** Ended Spaces whose revocations are still kept, and until when. */
  readonly #dropAt = new Map<string, number>();
  readonly #keepAfterEndMs: number;

  constructor(keepAfterEndMs: number) {
    this.#keepAfterEndMs = keepAfterEndMs;
  }

  add(spaceId: string, subject: string, nowMs: number): void {
    this.sweep(nowMs);
    let subjects = this.#bySpace.get(spaceId);
    if (subjects === undefined) {
      subjects = new Set();
      this.#bySpace.set(spaceId, subjects);
    }
    subjects.add(subject);
  }

  /** An unban (or a lifted host block): that subject's new tokens are good again here. */
  remove(spaceId: string, subject: string): void {
    this.#bySpace.get(spaceId)?.delete(subject);
  }

  has(spaceId: string, subject: string): boolean {
    return this.#bySpace.size > 0 && this.#bySpace.get(spaceId)?.has(subject) === true;
  }

  /** The Space ended: its revocations go once no token they refuse can still be good. */
  spaceEnded(spaceId: string, nowMs: number): void {
    this.sweep(nowMs);
    if (!this.#dropAt.has(spaceId)) this.#dropAt.set(spaceId, nowMs + this.#keepAfterEndMs);
  }

  /** Drops the revocations of ended Spaces whose time is up (called on each change; one look when none is due). */
  sweep(nowMs: number): void {
    // In order of ending, so in order of due time: the first not yet due ends the sweep.
    for (const [spaceId, at] of this.#dropAt) {
      if (at > nowMs) break;
      this.#dropAt.delete(spaceId);
      this.#bySpace.delete(spaceId);
    }
  }

  /** Spaces with revocations kept, and ended Spaces waiting for theirs to go. */
  get size(): { readonly spaces: number; readonly ending: number } {
    return { spaces: this.#bySpace.size, ending: this.#dropAt.size };
  }
}
