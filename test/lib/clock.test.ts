import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { every, ManualClock } from '../../src/lib/clock.ts';
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
