import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Capacity,
  checkCapacityPolicy,
  levelOf,
  type CapacityPolicy,
  type OverloadPolicy,
} from '../../src/admission/capacity.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { capacityPolicy } from './policies.ts';

const policy: CapacityPolicy = { ...capacityPolicy, joinBurst: 10 };

const withOverload = (o: Partial<OverloadPolicy>): CapacityPolicy => ({ ...policy, overload: { ...policy.overload, ...o } });

describe('capacity policy checks', () => {
  test('each unworkable setting is refused with its name', () => {
    const refusals: [CapacityPolicy, RegExp][] = [
      [
        withOverload({ queueDepthLevels: [100, 100] }),
        /queueDepthLevels must be strictly ascending \(level 1 first\), got \[100, 100\]/,
      ],
      [withOverload({ eventLoopDelayLevelsMs: [100, 50] }), /eventLoopDelayLevelsMs must be strictly ascending.*got \[100, 50\]/],
      [withOverload({ decreaseFactor: 0 }), /decreaseFactor must be in \(0, 1\)/],
      [withOverload({ decreaseFactor: 1 }), /decreaseFactor must be in \(0, 1\)/],
      [withOverload({ decreaseFactor: Number.NaN }), /decreaseFactor must be in \(0, 1\)/],
      [withOverload({ minCapacityFactor: 0 }), /minCapacityFactor must be in \(0, 1\]/],
      [withOverload({ minCapacityFactor: 1.5 }), /minCapacityFactor must be in \(0, 1\]/],
      [{ ...policy, joinsPerSecond: 0 }, /joinsPerSecond, maxListeners and joinBurst must be positive/],
      [{ ...policy, maxListeners: 0.5 }, /joinsPerSecond, maxListeners and joinBurst must be positive/],
      [{ ...policy, joinBurst: 0 }, /joinsPerSecond, maxListeners and joinBurst must be positive/],
      [{ ...policy, joinBurst: Number.NaN }, /joinsPerSecond, maxListeners and joinBurst must be positive/],
    ];
    for (const [bad, message] of refusals) assert.throws(() => checkCapacityPolicy(bad), message, JSON.stringify(bad));
  });

  test('the edges of each range are accepted', () => {
    checkCapacityPolicy({ ...withOverload({ minCapacityFactor: 1, decreaseFactor: 0.99 }), maxListeners: 1, joinBurst: 1 });
    checkCapacityPolicy(withOverload({ cpuShareLevels: [0.5], queueDepthLevels: [] }));
    checkCapacityPolicy({ ...policy, joinsPerSecond: 0.001 });
  });

  test('a level starts at its threshold, not above it', () => {
    assert.equal(levelOf(0.8, [0.8, 0.9, 0.97]), 1);
    assert.equal(levelOf(0.79, [0.8, 0.9, 0.97]), 0);
    assert.equal(levelOf(0.97, [0.8, 0.9, 0.97]), 3);
  });
});

describe('capacity under overload', () => {
  test('the burst shrinks with the AIMD factor', () => {
    const clock = new ManualClock(0);
    const cap = new Capacity(policy, clock);
    cap.observeCpuShare(0.85); // factor 0.5: a burst of 5
    let admitted = 0;
    while (cap.admitNow().ok) admitted++;
    assert.equal(admitted, 5);
  });

  test('a decrease is allowed again exactly decreaseIntervalMs after the last', () => {
    const clock = new ManualClock(0);
    const cap = new Capacity(policy, clock);
    cap.observeEventLoopDelay(150);
    assert.equal(cap.factor, 0.5);
    clock.advance(999);
    cap.observeEventLoopDelay(150);
    assert.equal(cap.factor, 0.5);
    clock.advance(1);
    cap.observeEventLoopDelay(150);
    assert.equal(cap.factor, 0.25);
  });

  test('the hold counts from when the signal fell, not from when the level was first reached', () => {
    const clock = new ManualClock(0);
    const cap = new Capacity(policy, clock);
    cap.observeEventLoopDelay(450);
    clock.advance(20_000); // still overloaded: no new sample says otherwise
    assert.equal(cap.level, 3);
    cap.observeEventLoopDelay(0);
    assert.equal(cap.level, 3, 'held, though the level was reached 20 s ago');
    clock.advance(4999);
    assert.equal(cap.level, 3);
    clock.advance(1);
    assert.equal(cap.level, 2);
  });

  test('stepping down stops at the level the signals still show', () => {
    const clock = new ManualClock(0);
    const cap = new Capacity(policy, clock);
    cap.observeQueueDepth(1000);
    assert.equal(cap.level, 3);
    cap.observeQueueDepth(150); // still level 1
    clock.advance(60_000);
    assert.equal(cap.level, 1);
  });
});
