import { AmphiError, rateLimited } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import { RateLimiter, type RateLimitPolicy } from '../lib/token-bucket.ts';
import type { Account } from '../storage/store.ts';
import type { Spaces } from './spaces.ts';

/**
 * Emoji reactions: rate-limited per account and counted in memory. They are ephemeral by design
 * (never written to the database); the counts reset when the process restarts.
 */
export class Reactions {
  readonly #spaces: Spaces;
  readonly #limiter: RateLimiter;
  #counts = new Map<string, Map<string, number>>();

  constructor(spaces: Spaces, clock: Clock, policy: RateLimitPolicy) {
    this.#spaces = spaces;
    this.#limiter = new RateLimiter(policy, clock);
  }

  /** `weight` > 1 when reactions are sampled under load (one kept in `weight`, counted `weight` times). */
  async react(actor: Account, spaceId: string, emoji: string, weight = 1): Promise<void> {
    const { space } = await this.#spaces.context(spaceId, actor);
    if (space.state === 'ended') throw new AmphiError('SPACE_ENDED');
    if (space.state !== 'live') throw new AmphiError('SPACE_NOT_LIVE');
    const taken = this.#limiter.take(actor.id);
    if (!taken.ok) {
      throw rateLimited(taken.retryAfterMs);
    }
    let counts = this.#counts.get(spaceId);
    if (counts === undefined) {
      counts = new Map<string, number>();
      this.#counts.set(spaceId, counts);
    }
    counts.set(emoji, (counts.get(emoji) ?? 0) + weight);
  }

  counts(spaceId: string): { emoji: string; count: number }[] {
    return [...(this.#counts.get(spaceId) ?? [])].map(([emoji, count]) => ({ emoji, count }));
  }

  forget(spaceId: string): void {
    this.#counts.delete(spaceId);
  }
}
