import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/lib/clock.ts';
import { TtlCache } from '../../src/lib/ttl-cache.ts';

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
});
