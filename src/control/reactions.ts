import { AmphiError, rateLimited } from '../errors.ts';
import type { Limiter } from '../lib/token-bucket.ts';
import type { Account } from '../storage/store.ts';
import type { Spaces } from './spaces.ts';

/** Where reaction counts live: this process (`MemoryTally`), or Redis for every node (cluster mode). */
export interface ReactionTally {
  add(spaceId: string, emoji: string, count: number): void;
  counts(spaceId: string): { emoji: string; count: number }[];
  forget(spaceId: string): void;
}

/** Counts in this process's memory: reset when it restarts. */
export class MemoryTally implements ReactionTally {
  #counts = new Map<string, Map<string, number>>();

  add(spaceId: string, emoji: string, count: number): void {
    let counts = this.#counts.get(spaceId);
    if (counts === undefined) {
      counts = new Map<string, number>();
      this.#counts.set(spaceId, counts);
    }
    counts.set(emoji, (counts.get(emoji) ?? 0) + count);
  }

  counts(spaceId: string): { emoji: string; count: number }[] {
    return [...(this.#counts.get(spaceId) ?? [])].map(([emoji, count]) => ({ emoji, count }));
  }

  forget(spaceId: string): void {
    this.#counts.delete(spaceId);
  }
}

/**
 * Emoji reactions: rate-limited per account and counted in a tally. They are ephemeral by design
 * (never written to the database).
 */
export class Reactions {
  readonly #spaces: Spaces;
  readonly #limiter: Limiter;
  readonly #tally: ReactionTally;

  constructor(spaces: Spaces, limiter: Limiter, tally: ReactionTally = new MemoryTally()) {
    this.#spaces = spaces;
    this.#limiter = limiter;
    this.#tally = tally;
  }

  /** `weight` > 1 when reactions are sampled under load (one kept in `weight`, counted `weight` times). */
  async react(actor: Account, spaceId: string, emoji: string, weight = 1): Promise<void> {
    const { space } = await this.#spaces.context(spaceId, actor);
    if (space.state === 'ended') throw new AmphiError('SPACE_ENDED');
    if (space.state !== 'live') throw new AmphiError('SPACE_NOT_LIVE');
    const taken = await this.#limiter.take(actor.id);
    if (!taken.ok) {
      throw rateLimited(taken.retryAfterMs);
    }
    this.#tally.add(spaceId, emoji, weight);
  }

  counts(spaceId: string): { emoji: string; count: number }[] {
    return this.#tally.counts(spaceId);
  }

  forget(spaceId: string): void {
    this.#tally.forget(spaceId);
  }
}
