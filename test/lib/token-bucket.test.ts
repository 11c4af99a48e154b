import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/lib/clock.ts';
import { RateLimiter } from '../../src/lib/token-bucket.ts';

describe('RateLimiter (token bucket)', () => {
  test('allows a burst up to capacity, then refills at the configured rate', () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter({ capacity: 3, refillPerSecond: 2 }, clock);
    for (let i = 0; i < 3; i++) assert.equal(limiter.take('a').ok, true);
    const refused = limiter.take('a');
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.retryAfterMs, 500);
    assert.equal(limiter.take('b').ok, true, 'buckets are per key');
    clock.advance(499);
    assert.equal(limiter.take('a').ok, false);
    clock.advance(1);
    assert.equal(limiter.take('a').ok, true);
    clock.advance(60_000);
    for (let i = 0; i < 3; i++) assert.equal(limiter.take('a').ok, true, 'refill caps at capacity');
    assert.equal(limiter.take('a').ok, false);
  });

  test('memory stays bounded by maxKeys', () => {
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 1 }, new ManualClock(0), 100);
    for (let i = 0; i < 1000; i++) limiter.take(`k${i}`);
    assert.equal(limiter.size, 100);
  });

  test('Retry-After counts only the tokens still missing', () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter({ capacity: 3, refillPerSecond: 2 }, clock);
    for (let i = 0; i < 3; i++) limiter.take('a');
    clock.advance(250); // half a token back
    assert.deepEqual(limiter.take('a'), { ok: false, retryAfterMs: 250 });
    assert.deepEqual(limiter.take('a', 2), { ok: false, retryAfterMs: 750 });
  });

  test('past maxKeys the least recently used bucket goes first: a bucket in use moves up (to a second)', () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 0.001 }, clock, 2);
    assert.equal(limiter.take('a').ok, true);
    assert.equal(limiter.take('b').ok, true);
    clock.advance(1000);
    assert.equal(limiter.take('a').ok, false, 'a is used again (and empty): now the most recent');
    assert.equal(limiter.take('c').ok, true, 'a third key evicts the oldest, b');
    assert.equal(limiter.take('a').ok, false, 'a kept its bucket');
    assert.equal(limiter.take('b').ok, true, 'b was dropped: a new, full bucket');
  });
});
