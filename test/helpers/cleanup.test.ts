import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { Cleanup } from './cleanup.ts';

test('cleanup runs every step once, last added first, and throws the failures after all ran', { timeout: 10_000 }, async () => {
  const ran: string[] = [];
  const cleanup = new Cleanup({ stepLimitMs: 200 });
  cleanup.add('a', () => void ran.push('a'));
  cleanup.add('broken', () => {
    ran.push('broken');
    throw new Error('close failed');
  });
  cleanup.add('hung', () => {
    ran.push('hung');
    return new Promise(() => {});
  });
  assert.equal(
    cleanup.use('c', 'value', (v) => void ran.push(v)),
    'value',
  );
  await assert.rejects(cleanup.run(), (e: AggregateError) => {
    assert.match(e.message, /cleanup of hung failed: still closing after 200 ms; cleanup of broken failed: close failed/);
    return e.errors.length === 2;
  });
  assert.deepEqual(ran, ['value', 'hung', 'broken', 'a']);
  await cleanup.run();
  assert.equal(ran.length, 4, 'a second run has nothing left to do');
});

test('cleanup stops a child process, and one that exited already', { timeout: 10_000 }, async () => {
  const cleanup = new Cleanup();
  const child = cleanup.child('sleep', spawn('sleep', ['60']));
  const done = cleanup.child('true', spawn('true'));
  await new Promise((resolve) => done.once('exit', resolve));
  await cleanup.run();
  assert.equal(child.signalCode, 'SIGTERM');
});
