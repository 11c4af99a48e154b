import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SnapshotCache, STALE_SNAPSHOT_MAX_MS } from '../../src/control/snapshots.ts';
import { AmphiError } from '../../src/errors.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import type { SpaceRecord, Store } from '../../src/storage/store.ts';
import { spaceRecord } from '../helpers/space-record.ts';

/** A store holding one Space whose reads fail while `down` (the database unreachable). */
function flakyStore() {
  const state = { down: false, title: 'First', reads: 0 };
  const space = (): SpaceRecord => spaceRecord({ title: state.title });
  const read = <T>(value: () => T) => {
    state.reads++;
    return state.down
      ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
      : Promise.resolve(value());
  };
  const store = {
    getSpace: (id: string) => read(() => (id === 'sp_1' ? space() : undefined)),
    listMembers: () => read(() => []),
    listBanned: () => read(() => []),
    countRelation: () => read(() => 0),
  } as unknown as Store;
  return { store, state };
}

describe('SnapshotCache while the database is away', () => {
  test('the last snapshot read answers for up to 5 minutes; then the outage shows', async () => {
    const clock = new ManualClock(0);
    const { store, state } = flakyStore();
    const cache = new SnapshotCache(store, clock, 1000);
    assert.equal((await cache.get('sp_1')).space.title, 'First');
    state.down = true;
    clock.advance(2000); // past the TTL: a read is due, and fails
    assert.equal((await cache.get('sp_1')).space.title, 'First', 'the last read stands in');
    assert.equal(cache.staleServed, 1);
    clock.advance(STALE_SNAPSHOT_MAX_MS);
    await assert.rejects(cache.get('sp_1'), /ECONNREFUSED/, 'too old to stand in');
    state.down = false;
    state.title = 'Second';
    assert.equal((await cache.get('sp_1')).space.title, 'Second', 'back to the database');
  });

  test('a change the bus announced makes the last read wrong: it never stands in after that', async () => {
    const clock = new ManualClock(0);
    const { store, state } = flakyStore();
    const cache = new SnapshotCache(store, clock, 1000);
    await cache.get('sp_1');
    cache.invalidate('sp_1');
    state.down = true;
    await assert.rejects(cache.get('sp_1'), /ECONNREFUSED/);
  });

  test('a Space that does not exist is not found, never stood in for', async () => {
    const clock = new ManualClock(0);
    const { store } = flakyStore();
    const cache = new SnapshotCache(store, clock, 1000);
    await assert.rejects(
      cache.get('sp_missing'),
      (error: unknown) => error instanceof AmphiError && error.code === 'SPACE_NOT_FOUND',
    );
  });
});
