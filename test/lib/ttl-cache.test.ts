import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/lib/clock.ts';
import { TtlCache } from '../../src/lib/ttl-cache.ts';
import { settle } from '../helpers/settle.ts';

describe('TtlCache', () => {
  test('shares one load among concurrent misses and expires on the clock', async () => {
    const clock = new ManualClock(0);
    const cache = new TtlCache<string, number>(clock, 1000);
    let loads = 0;
    const load = () => Promise.resolve(++loads);
    const results = await Promise.all([cache.getOrLoad('a', load), cache.getOrLoad('a', load), cache.getOrLoad('a', load)]);
    assert.deepEqual(results, [1, 1, 1]);
    clock.advance(999);
    assert.equal(await cache.getOrLoad('a', load), 1);
    clock.advance(1);
    assert.equal(await cache.getOrLoad('a', load), 2);
    cache.delete('a');
    assert.equal(await cache.getOrLoad('a', load), 3);
  });

  test('does not keep a failed load', async () => {
    const cache = new TtlCache<string, number>(new ManualClock(0), 1000);
    await assert.rejects(cache.getOrLoad('a', () => Promise.reject(new Error('db down'))));
    assert.equal(await cache.getOrLoad('a', () => Promise.resolve(7)), 7);
  });

  test('past maxEntries the oldest entry goes first', async () => {
    const cache = new TtlCache<number, number>(new ManualClock(0), 1000, 3);
    for (const k of [1, 2, 3, 4]) await cache.getOrLoad(k, () => Promise.resolve(k));
    assert.equal(cache.size, 3);
    let reloaded = false;
    await cache.getOrLoad(1, () => ((reloaded = true), Promise.resolve(1)));
    assert.equal(reloaded, true, 'key 1 was evicted');
    assert.equal(await cache.getOrLoad(4, () => Promise.resolve(-1)), 4, 'key 4 was kept');
  });

  test('a zero TTL shares nothing and keeps no entries', async () => {
    const cache = new TtlCache<string, number>(new ManualClock(0), 0);
    let loads = 0;
    await cache.getOrLoad('a', () => Promise.resolve(++loads));
    assert.equal(await cache.getOrLoad('a', () => Promise.resolve(++loads)), 2);
    assert.equal(cache.size, 0);
  });

  test('an old load failing late does not evict the newer value', async () => {
    const clock = new ManualClock(0);
    const cache = new TtlCache<string, number>(clock, 1000);
    let fail!: (e: Error) => void;
    const old = cache.getOrLoad('a', () => new Promise<number>((_resolve, reject) => (fail = reject)));
    clock.advance(1000);
    assert.equal(await cache.getOrLoad('a', () => Promise.resolve(2)), 2);
    fail(new Error('late'));
    await assert.rejects(old, /late/);
    assert.equal(await cache.getOrLoad('a', () => Promise.resolve(3)), 2);
  });

  test('a load failing after its key was deleted is handled quietly', async () => {
    const cache = new TtlCache<string, number>(new ManualClock(0), 1000);
    let fail!: (e: Error) => void;
    const pending = cache.getOrLoad('a', () => new Promise<number>((_resolve, reject) => (fail = reject)));
    cache.delete('a');
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      fail(new Error('gone'));
      await assert.rejects(pending, /gone/);
      await settle();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    assert.deepEqual(unhandled, []);
    assert.equal(cache.size, 0);
  });
});
