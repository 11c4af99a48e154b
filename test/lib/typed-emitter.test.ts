import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TypedEmitter } from '../../src/lib/typed-emitter.ts';

describe('TypedEmitter', () => {
  test('a throwing listener is reported and does not stop the others', () => {
    const errors: unknown[] = [];
    const emitter = new TypedEmitter<{ ping: { n: number } }>((_event, error) => errors.push(error));
    const seen: number[] = [];
    emitter.on('ping', () => {
      throw new Error('boom');
    });
    const off = emitter.on('ping', ({ n }) => seen.push(n));
    emitter.emit('ping', { n: 1 });
    off();
    emitter.emit('ping', { n: 2 });
    assert.deepEqual(seen, [1]);
    assert.equal(errors.length, 2);
  });
});
