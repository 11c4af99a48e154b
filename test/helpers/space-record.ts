import type { SpaceRecord } from '../../src/storage/store.ts';

/** A live Space `sp_1` as the store returns it, with `over` applied: for unit tests that stub the store. */
export function spaceRecord(over: Partial<SpaceRecord> = {}): SpaceRecord {
  return {
    id: 'sp_1',
    hostId: 'ac_host',
    title: 'T',
    state: 'live',
    allowAnonymous: true,
    scheduledStart: null,
    startedAt: 0,
    endedAt: null,
    createdAt: 0,
    pinnedLink: null,
    replayDeletedAt: null,
    tags: [],
    cohostsMayEnd: false,
    version: 1,
    ...over,
  };
}
