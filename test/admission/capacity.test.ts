import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Capacity, levelOf, type CapacityPolicy } from '../../src/admission/capacity.ts';
import { defaultConfig } from '../../src/config/defaults.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { capacityPolicy } from './policies.ts';

const policy: CapacityPolicy = capacityPolicy;

describe('Capacity', () => {
  test('a node of a cluster admits its share of the joins/s and burst; the waiting room moves at the whole rate', () => {
    const clock = new ManualClock(0);
    let share = 0.4;
    const cap = new Capacity(policy, clock, () => share);
    for (let i = 0; i < 2; i++) assert.deepEqual(cap.admitNow(), { ok: true }, 'a burst of 5 x 0.4');
    assert.deepEqual(cap.admitNow(), { ok: false, reason: 'rate', retryAfterMs: 250 }, '10/s x 0.4 = one every 250 ms');
    assert.equal(cap.releasePerSecond(), 10, 'every node steps the one line at the cluster rate');
    share = 1; // the other nodes left: this one takes the whole door
    clock.advance(60_000);
    for (let i = 0; i < 5; i++) assert.equal(cap.admitNow().ok, true);
    assert.equal(cap.admitNow().ok, false);
  });

  test('joins/s is a token bucket: a burst, then the refill rate', () => {
    const clock = new ManualClock(0);
    const cap = new Capacity(policy, clock);
    for (let i = 0; i < 5; i++) assert.deepEqual(cap.admitNow(), { ok: true });
    assert.deepEqual(cap.admitNow(), { ok: false, reason: 'rate', retryAfterMs: 100 });
    clock.advance(100);
    assert.deepEqual(cap.admitNow(), { ok: true });
    assert.equal(cap.admitNow().ok, false);
    clock.advance(60_000);
    for (let i = 0; i < 5; i++) assert.equal(cap.admitNow().ok, true, 'refill caps at the burst');
    assert.equal(cap.admitNow().ok, false);
  });

  test('admitted listeners are capped; the measured count resets the estimate', () => {
    const clock = new ManualClock(0);
    const cap = new Capacity({ ...policy, maxListeners: 3 }, clock);
    for (let i = 0; i < 3; i++) assert.equal(cap.admitNow().ok, true);
    assert.deepEqual(cap.admitNow(), { ok: false, reason: 'full' });
    assert.equal(cap.releasePerSecond(), 0, 'a full house moves no line');
    cap.setListeners(1); // two left
    assert.equal(cap.freeSlots, 2);
    assert.equal(cap.releasePerSecond(), 10);
    clock.advance(1000);
    assert.equal(cap.admitNow().ok, true);
    cap.noteAdmitted(); // a ticket exchanged
    assert.deepEqual(cap.admitNow(), { ok: false, reason: 'full' });
  });

  test('AIMD: multiplicative decrease on event-loop delay, at most once per interval, then slow recovery', () => {
    const clock = new ManualClock(0);
    const cap = new Capacity(policy, clock);
    cap.observeEventLoopDelay(150);
    assert.equal(cap.factor, 0.5);
    assert.equal(cap.joinsPerSecond, 5);
    assert.equal(cap.maxListeners, 500);
    cap.observeEventLoopDelay(150);
    assert.equal(cap.factor, 0.5, 'one decrease per decreaseIntervalMs');
    for (let i = 0; i < 10; i++) {
      clock.advance(1000);
      cap.observeEventLoopDelay(150);
    }
    assert.equal(cap.factor, 0.1, 'never below minCapacityFactor');
    cap.observeEventLoopDelay(20);
    clock.advance(4000);
    const recovered: number = cap.factor; // (assert.equal narrowed the getter to its old value)
    assert.ok(Math.abs(recovered - 0.5) < 1e-9, `additive: +0.1 per second, ${recovered}`);
    clock.advance(60_000);
    assert.equal(cap.factor, 1);
    assert.equal(cap.joinsPerSecond, 10);
  });

  test('the bucket follows the lowered rate', () => {
    const clock = new ManualClock(0);
    const cap = new Capacity({ ...policy, joinBurst: 1 }, clock);
    assert.equal(cap.admitNow().ok, true);
    cap.observeCpuShare(0.85); // factor 0.5: 5 joins/s
    const refused = cap.admitNow();
    assert.deepEqual(refused, { ok: false, reason: 'rate', retryAfterMs: 200 });
  });

  test('the overload level is the worst signal, rises at once and steps down per levelHoldMs', () => {
    const clock = new ManualClock(0);
    const cap = new Capacity(policy, clock);
    assert.equal(cap.level, 0);
    cap.observeQueueDepth(600);
    assert.equal(cap.level, 2);
    cap.observeEventLoopDelay(450);
    assert.equal(cap.level, 3);
    cap.observeEventLoopDelay(0);
    assert.equal(cap.level, 3, 'held');
    assert.deepEqual(cap.signals, { eventLoopDelayP99Ms: 0, cpuShare: 0, queueDepth: 600 });
    cap.observeQueueDepth(0);
    clock.advance(4999);
    assert.equal(cap.level, 3);
    clock.advance(1);
    assert.equal(cap.level, 2);
    clock.advance(10_000);
    assert.equal(cap.level, 0);
    assert.equal(levelOf(0.95, [0.8, 0.9, 0.97]), 2);
  });

  test('bad policies are refused with the setting named; the defaults work', () => {
    const clock = new ManualClock(0);
    assert.throws(
      () => new Capacity({ ...policy, overload: { ...policy.overload, cpuShareLevels: [0.9, 0.8] } }, clock),
      /admission\.overload\.cpuShareLevels must be strictly ascending/,
    );
    const cap = new Capacity(defaultConfig.admission, clock);
    assert.equal(cap.admitNow().ok, true);
    assert.equal(cap.maxListeners, defaultConfig.admission.maxListeners);
  });
});
