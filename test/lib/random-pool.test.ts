import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pooledRandom } from '../../src/lib/random-pool.ts';

test('pooledRandom: base64url of the asked bytes, never the same value twice, across pool refills', () => {
  const seen = new Set<string>();
  // 6 bytes each: 4096 / 6 values per pool, so this crosses several refills (and a pool's unused tail).
  for (let i = 0; i < 5000; i++) {
    const value = pooledRandom(6);
    assert.match(value, /^[A-Za-z0-9_-]{8}$/);
    assert.ok(!seen.has(value), `repeated: ${value}`);
    seen.add(value);
  }
  assert.match(pooledRandom(1), /^[A-Za-z0-9_-]{2}$/);
  assert.throws(() => pooledRandom(0), RangeError);
  assert.throws(() => pooledRandom(4097), RangeError);
});
