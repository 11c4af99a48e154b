import { AmphiError, retryLater } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import { RateLimiter, type RateLimitPolicy } from '../lib/token-bucket.ts';
import type { Store } from '../storage/store.ts';

export interface QuotaLimits {
  /** Spaces one account may create: a token bucket (`spaces.createPerAccount`). */
  readonly createPerAccount: RateLimitPolicy;
  /** Spaces one account may host live at once (`spaces.maxLivePerAccount`). */
  readonly maxLivePerAccount: number;
}

/**
 * Per-account quotas on Spaces, so one account cannot tie up the stage: each live Space holds a
 * room that mixes and records until it ends. Creation is paced by a token bucket; going live is
 * refused past a number of live Spaces, counted under the host's row lock (any node) so that two starts at once
 * cannot both take the last place.
 */
export class SpaceQuotas {
  readonly #limits: QuotaLimits;
  readonly #creations: RateLimiter;

  constructor(clock: Clock, limits: QuotaLimits) {
    this.#limits = limits;
    this.#creations = new RateLimiter(limits.createPerAccount, clock);
  }

  /** Takes one creation from the account's bucket; SPACE_QUOTA_EXCEEDED (with Retry-After) when empty. */
  takeCreation(accountId: string): void {
    const taken = this.#creations.take(accountId);
    if (!taken.ok) throw retryLater('SPACE_QUOTA_EXCEEDED', taken.retryAfterMs);
  }

  /** LIVE_SPACES_LIMIT when the host already has the most live Spaces one account may have (read through `store`: the mutation's transaction). */
  async requireLivePlace(store: Store, hostId: string): Promise<void> {
    // The host's row lock, held to COMMIT: two starts of this host's Spaces (on any nodes) count in turn.
    await store.lockAccount(hostId);
    const max = this.#limits.maxLivePerAccount;
    const live = await store.listSpaces({ state: 'live', hostId, limit: max, offset: 0 });
    if (live.length >= max) throw new AmphiError('LIVE_SPACES_LIMIT');
  }
}
