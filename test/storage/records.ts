import type { SpaceRecord } from '../../src/storage/store.ts';

/** The storage suites' clock: every record is made at this instant unless a test says otherwise. */
export const T0 = Date.UTC(2026, 10, 1, 12);

/** A scheduled Space row as `createSpace` takes it, with `overrides` on top. */
export function spaceRecord(id: string, hostId: string, overrides: Partial<SpaceRecord> = {}): SpaceRecord {
  return {
    id,
    hostId,
    title: 'A Space',
    state: 'scheduled',
    allowAnonymous: true,
    scheduledStart: null,
    startedAt: null,
    endedAt: null,
    createdAt: T0,
    pinnedLink: null,
    replayDeletedAt: null,
    tags: [],
    cohostsMayEnd: false,
    version: 1,
    ...overrides,
  };
}
