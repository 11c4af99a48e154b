import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quantile, quantiles } from '../../bench/lib/quantiles.ts';

test('nearest-rank quantiles, rounded down, 0 without samples', () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  assert.equal(quantile(sorted, 0.5), 51);
  assert.equal(quantile(sorted, 0.95), 96);
  assert.equal(quantile(sorted, 0.99), 100);
  assert.equal(quantile(sorted, 1), 100);
  assert.equal(quantile([7], 0.5), 7);
  assert.equal(quantile([], 0.5), 0);
});

test('quantiles sort their values and round to the digits asked', () => {
  assert.deepEqual(quantiles([3.14159, 1.23456, 2.5], 2), { p50: 2.5, p95: 3.14, max: 3.14, samples: 3 });
  assert.deepEqual(quantiles([3.6, 1.2], 0), { p50: 4, p95: 4, max: 4, samples: 2 });
  assert.deepEqual(quantiles([]), { p50: 0, p95: 0, max: 0, samples: 0 });
});
