import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Backoff, backoffDelay, reconnectPolicy } from '../../web/src/backoff.ts';
import { settle } from '../helpers/settle.ts';
import { FakeTimers } from './timers.ts';

/** Whether a promise has settled by now, and with what. */
function peek<T>(promise: Promise<T>): { done: boolean; value?: T } {
  const state: { done: boolean; value?: T } = { done: false };
  void promise.then((value) => Object.assign(state, { done: true, value }));
  return state;
}

describe('backoffDelay', { timeout: 5000 }, () => {
  test('doubles from 0.5 s to the 10 s cap, and stays there however long it retries', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 40, 5000].map((attempt) => backoffDelay(reconnectPolicy, attempt, 0));
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000]);
  });

  test('jitter takes up to 30% off, never adds: no wait is over the cap', () => {
    assert.equal(backoffDelay(reconnectPolicy, 0, 0.5), 425);
    assert.equal(backoffDelay(reconnectPolicy, 9, 0.5), 8500);
    for (let attempt = 0; attempt < 12; attempt++) {
      const full = backoffDelay(reconnectPolicy, attempt, 0);
      for (const random of [0, 0.25, 0.5, 0.75, 0.999_999]) {
        const ms = backoffDelay(reconnectPolicy, attempt, random);
        assert.ok(
          ms <= full && ms > full * 0.7 && ms <= reconnectPolicy.maxDelayMs,
          `attempt ${attempt}, random ${random}: ${ms}`,
        );
      }
    }
  });

  test('a policy is data: another first delay, cap and jitter', () => {
    const policy = { firstDelayMs: 100, maxDelayMs: 250, jitter: 0 };
    assert.deepEqual(
      [0, 1, 2, 3].map((a) => backoffDelay(policy, a, 0.9)),
      [100, 200, 250, 250],
    );
  });
});

describe('Backoff', { timeout: 5000 }, () => {
  test('each wait lasts its delay on the injected timers, longer each time until reset', async () => {
    const timers = new FakeTimers();
    const backoff = new Backoff(reconnectPolicy, timers);
    const first = peek(backoff.wait());
    assert.equal(backoff.attempt, 1);
    timers.clock.advance(499);
    await settle();
    assert.equal(first.done, false, 'still waiting 1 ms before the first delay');
    timers.clock.advance(1);
    await settle();
    assert.deepEqual(first, { done: true, value: true });

    const second = peek(backoff.wait());
    timers.clock.advance(999);
    await settle();
    assert.equal(second.done, false);
    timers.clock.advance(1);
    await settle();
    assert.equal(second.value, true);

    backoff.reset();
    assert.equal(backoff.attempt, 0);
    void backoff.wait();
    assert.deepEqual(timers.scheduled, [500, 1000, 500]);
  });

  test('the jitter comes from the injected randomness', () => {
    const timers = new FakeTimers(0.5);
    const backoff = new Backoff(reconnectPolicy, timers);
    void backoff.wait();
    void backoff.wait();
    assert.deepEqual(timers.scheduled, [425, 850]);
  });

  test('cancel ends the wait under way (false) and every later one at once, with no timer left', async () => {
    const timers = new FakeTimers();
    const backoff = new Backoff(reconnectPolicy, timers);
    const waiting = peek(backoff.wait());
    assert.equal(timers.pending, 1);
    backoff.cancel();
    await settle();
    assert.deepEqual(waiting, { done: true, value: false });
    assert.equal(timers.pending, 0, 'the timer was cleared');
    assert.equal(backoff.cancelled, true);
    assert.equal(await backoff.wait(), false);
    assert.equal(timers.scheduled.length, 1, 'no timer for a wait after cancel');
    backoff.cancel(); // idempotent
    timers.clock.advance(60_000);
    await settle();
    assert.equal(waiting.value, false);
  });
});
