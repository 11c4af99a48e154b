import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KeyedMutex } from '../../src/lib/keyed-mutex.ts';

describe('KeyedMutex', () => {
  test('serialises work per key and not across keys', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    let releaseFirst!: () => void;
    const gate = new Promise<void>((r) => (releaseFirst = r));
    const first = mutex.run('a', async () => {
      log.push('a1 start');
      await gate;
      log.push('a1 end');
    });
    const second = mutex.run('a', () => Promise.resolve(log.push('a2')));
    const other = mutex.run('b', () => Promise.resolve(log.push('b1')));
    await other;
    assert.deepEqual(log, ['a1 start', 'b1']);
    releaseFirst();
    await Promise.all([first, second]);
    assert.deepEqual(log, ['a1 start', 'b1', 'a1 end', 'a2']);
  });

  test('a failing task does not wedge the key', async () => {
    const mutex = new KeyedMutex();
    await assert.rejects(mutex.run('a', () => Promise.reject(new Error('x'))));
    assert.equal(await mutex.run('a', () => Promise.resolve(1)), 1);
  });
});
