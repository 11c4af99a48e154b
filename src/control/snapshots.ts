import { AmphiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import { TtlCache } from '../lib/ttl-cache.ts';
import type { MemberWithHandle, SpaceRecord, Store } from '../storage/store.ts';

/**
 * Everything the public view of one Space needs, read together and cached for a short TTL, so the
 * public GET and the join path cost no database work in a burst. Writes drop the entry at once, on
 * every node (the bus); a node that missed the notice sees the change within the TTL.
 */
export interface SpaceSnapshot {
  readonly space: SpaceRecord;
  readonly hostHandle: string;
  readonly members: readonly MemberWithHandle[];
  readonly banned: ReadonlySet<string>;
  readonly requestCount: number;
  readonly reminderCount: number;
}

/**
 * How long a snapshot may stand in for the database while the database is unreachable: joins and the
 * public view go on from it (the waiting room and the edges need no database), writes answer 503.
 */
export const STALE_SNAPSHOT_MAX_MS = 300_000;

export class SnapshotCache {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #cache: TtlCache<string, SpaceSnapshot | undefined>;
  /** The last snapshot read of each Space and when; dropped when a change makes it wrong. */
  readonly #lastRead = new Map<string, { snap: SpaceSnapshot; atMs: number }>();
  /** Reads answered from `#lastRead` because the database was unreachable. */
  staleServed = 0;

  constructor(store: Store, clock: Clock, ttlMs: number) {
    this.#store = store;
    this.#clock = clock;
    this.#cache = new TtlCache(clock, ttlMs);
  }

  /** The snapshot, or SPACE_NOT_FOUND; the last one read (up to 5 minutes old) while the database is away. */
  async get(spaceId: string): Promise<SpaceSnapshot> {
    let snap: SpaceSnapshot | undefined;
    try {
      snap = await this.#cache.getOrLoad(spaceId, () => this.#load(spaceId));
    } catch (error) {
      const last = this.#lastRead.get(spaceId);
      if (error instanceof AmphiError || last === undefined || this.#clock.now() - last.atMs > STALE_SNAPSHOT_MAX_MS) throw error;
      this.staleServed++;
      snap = last.snap;
    }
    if (snap === undefined) throw new AmphiError('SPACE_NOT_FOUND');
    return snap;
  }

  invalidate(spaceId: string): void {
    this.#cache.delete(spaceId);
    this.#lastRead.delete(spaceId);
  }

  async #load(spaceId: string): Promise<SpaceSnapshot | undefined> {
    const snap = await loadSnapshot(this.#store, spaceId);
    this.#lastRead.delete(spaceId); // re-inserted last: the oldest read is the first one dropped
    if (snap !== undefined) this.#lastRead.set(spaceId, { snap, atMs: this.#clock.now() });
    if (this.#lastRead.size > LAST_READ_MAX) this.#lastRead.delete(this.#lastRead.keys().next().value!);
    return snap;
  }
}

/** Spaces whose last snapshot is kept for an outage (the most recently read). */
const LAST_READ_MAX = 10_000;

/** Reads one Space's snapshot from `store` (the database, or a transaction that holds the Space's lock). */
export async function loadSnapshot(store: Store, spaceId: string): Promise<SpaceSnapshot | undefined> {
  const space = await store.getSpace(spaceId);
  if (space === undefined) return undefined;
  const [members, banned, requestCount, reminderCount] = await Promise.all([
    store.listMembers(spaceId),
    store.listBanned(spaceId),
    store.countRelation('speak_requests', spaceId),
    store.countRelation('reminders', spaceId),
  ]);
  const hostHandle = members.find((m) => m.role === 'host')?.handle ?? '';
  return { space, hostHandle, members, banned: new Set(banned), requestCount, reminderCount };
}
