import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KeyedMutex } from '../../src/lib/keyed-mutex.ts';
import { settle } from '../helpers/settle.ts';

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

  test('a task arriving while the queue drains still waits for the one running', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const gate = () => {
      let open!: () => void;
      const opened = new Promise<void>((r) => (open = r));
      return { open, opened };
    };
    const a = gate();
    const b = gate();
    const first = mutex.run('k', async () => {
      await a.opened;
      log.push('a done');
    });
    const second = mutex.run('k', async () => {
      log.push('b start');
      await b.opened;
      log.push('b done');
    });
    a.open();
    await first;
    await settle();
    assert.deepEqual(log, ['a done', 'b start']);
    const third = mutex.run('k', () => Promise.resolve(log.push('c')));
    await settle();
    assert.deepEqual(log, ['a done', 'b start'], 'c waits for b');
    b.open();
    await Promise.all([second, third]);
    assert.deepEqual(log, ['a done', 'b start', 'b done', 'c']);
  });
});
