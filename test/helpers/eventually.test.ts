import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from './eventually.ts';

test('eventually resolves with the first truthy answer, trying again after falsy answers and errors', async () => {
  let tries = 0;
  const value = await eventually(
    'the third try',
    () => {
      tries++;
      if (tries === 1) throw new Error('not up yet');
      return tries === 3 && { tries };
    },
    { intervalMs: 0 },
  );
  assert.deepEqual(value, { tries: 3 });
});

test('past the deadline it says what it waited for and the last value or error seen', async () => {
  await assert.rejects(
    eventually('two segments', () => 1 > 2, { timeoutMs: 50, intervalMs: 10 }),
    (e: Error) => {
      assert.match(e.message, /^timed out after 50 ms waiting for two segments \(\d+ tries\); last value: false$/);
      return true;
    },
  );
  const refused = new Error('connect ECONNREFUSED');
  await assert.rejects(
    eventually('nginx to answer', () => Promise.reject(refused), { timeoutMs: 50, intervalMs: 10 }),
    (e: Error) => {
      assert.match(e.message, /waiting for nginx to answer .*; last error: connect ECONNREFUSED$/);
      assert.equal(e.cause, refused);
      return true;
    },
  );
});

test('a probe that hangs does not hold the deadline', async () => {
  const started = performance.now();
  await assert.rejects(
    eventually('a hung probe', () => new Promise(() => undefined), { timeoutMs: 50 }),
    /no try had answered/,
  );
  assert.ok(performance.now() - started < 1000);
});
