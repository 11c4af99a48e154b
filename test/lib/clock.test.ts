import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { every, ManualClock, systemClock } from '../../src/lib/clock.ts';
import { settle } from '../helpers/settle.ts';

describe('ManualClock', () => {
  test('fires timers in time order, only when advanced past them', () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@300'), 300);
    clock.setTimeout(() => fired.push('a@100'), 100);
    const c = clock.setTimeout(() => fired.push('c'), 200);
    clock.clearTimeout(c);
    clock.advance(99);
    assert.deepEqual(fired, []);
    clock.advance(250);
    assert.deepEqual(fired, ['a@100', 'b@300']);
    assert.equal(clock.now(), 1349);
  });

  test('timers due at the same moment fire in the order they were set', () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('first@100'), 100);
    clock.setTimeout(() => fired.push('second@200'), 200);
    clock.setTimeout(() => fired.push('third@200'), 200);
    clock.advance(1000);
    assert.deepEqual(fired, ['first@100', 'second@200', 'third@200']);
  });
});

describe('every', () => {
  test('repeats on the clock, survives a failing run, and stops when cancelled', async () => {
    const clock = new ManualClock(0);
    const errors: unknown[] = [];
    let runs = 0;
    const stop = every(
      clock,
      1000,
      () => {
        runs++;
        return runs === 2 ? Promise.reject(new Error('transient')) : Promise.resolve();
      },
      (e) => errors.push(e),
    );
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await settle();
    }
    assert.equal(runs, 3);
    assert.equal(errors.length, 1);
    stop();
    clock.advance(5000);
    await settle();
    assert.equal(runs, 3);
  });
});

describe('every, with a run that throws before it awaits', () => {
  test('the throw is reported like a rejection and the schedule goes on', async () => {
    const clock = new ManualClock(0);
    const errors: unknown[] = [];
    let runs = 0;
    const stop = every(
      clock,
      1000,
      () => {
        runs++;
        if (runs === 1) throw new Error('sync failure');
        return Promise.resolve();
      },
      (e) => errors.push(e),
    );
    assert.doesNotThrow(() => clock.advance(1000));
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /sync failure/);
    clock.advance(1000);
    assert.equal(runs, 2, 'sampling goes on after a failed run');
    stop();
  });
});

describe('every, stopped mid-run', () => {
  test('a run still in flight when stopped schedules no further run', async () => {
    const clock = new ManualClock(0);
    let runs = 0;
    let finish!: () => void;
    const stop = every(
      clock,
      1000,
      () => {
        runs++;
        return new Promise<void>((resolve) => (finish = resolve));
      },
      () => undefined,
    );
    clock.advance(1000);
    assert.equal(runs, 1);
    stop();
    finish();
    await settle();
    clock.advance(10_000);
    await settle();
    assert.equal(runs, 1);
  });
});

describe('systemClock', () => {
  test('reads the wall clock, fires timers and cancels them', async () => {
    const before = Date.now();
    const now = systemClock.now();
    assert.ok(now >= before && now <= Date.now());
    const fired: string[] = [];
    const cancelled = systemClock.setTimeout(() => fired.push('cancelled'), 1);
    systemClock.clearTimeout(cancelled);
    // Waits for a timer event, not for a length of time: the later timer fires after the cancelled one would have.
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 2));
    assert.deepEqual(fired, []);
  });
});
