import { AmphiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import { TtlCache } from '../lib/ttl-cache.ts';
import type { MemberWithHandle, SpaceRecord, Store } from '../storage/store.ts';

/**
 * Everything the public view of one Space needs, read together and cached for a short TTL, so the
 * public GET and the join path cost no database work in a burst. Local writes drop the entry at once;
 * other nodes see a change within the TTL.
 */
export interface SpaceSnapshot {
  readonly space: SpaceRecord;
  readonly hostHandle: string;
  readonly members: readonly MemberWithHandle[];
  readonly banned: ReadonlySet<string>;
  readonly requestCount: number;
  readonly reminderCount: number;
}

export class SnapshotCache {
  readonly #store: Store;
  readonly #cache: TtlCache<string, SpaceSnapshot | undefined>;

  constructor(store: Store, clock: Clock, ttlMs: number) {
    this.#store = store;
    this.#cache = new TtlCache(clock, ttlMs);
  }

  /** The snapshot, or SPACE_NOT_FOUND. */
  async get(spaceId: string): Promise<SpaceSnapshot> {
    const snap = await this.#cache.getOrLoad(spaceId, () => this.#load(spaceId));
    if (snap === undefined) throw new AmphiError('SPACE_NOT_FOUND');
    return snap;
  }

  invalidate(spaceId: string): void {
    this.#cache.delete(spaceId);
  }

  #load(spaceId: string): Promise<SpaceSnapshot | undefined> {
    return loadSnapshot(this.#store, spaceId);
  }
}

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
