import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { ListenerFailures, TypedEmitter } from '../../src/lib/typed-emitter.ts';

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

  test('listener failures are logged with emitter and event, and counted per emitter and event', () => {
    const lines: { level: number; msg: string; emitter: string; event: string; err: { message: string } }[] = [];
    const failures = new ListenerFailures(
      pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as (typeof lines)[number]) }),
    );
    const bus = new TypedEmitter<{ ended: null; started: null }>(failures.for('control.bus'));
    const program = new TypedEmitter<{ ended: null }>(failures.for('origin.program'));
    const broken = () => {
      throw new Error('listener broke');
    };
    bus.on('ended', broken);
    program.on('ended', broken);
    bus.on('started', broken);
    bus.emit('ended', null);
    bus.emit('ended', null);
    bus.emit('started', null);
    program.emit('ended', null);
    assert.deepEqual(failures.counts(), [
      { emitter: 'control.bus', event: 'ended', count: 2 },
      { emitter: 'control.bus', event: 'started', count: 1 },
      { emitter: 'origin.program', event: 'ended', count: 1 },
    ]);
    assert.equal(lines.length, 4);
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.emitter, l.event, l.err.message]),
      [
        [50, 'event listener failed', 'control.bus', 'ended', 'listener broke'],
        [50, 'event listener failed', 'control.bus', 'ended', 'listener broke'],
        [50, 'event listener failed', 'control.bus', 'started', 'listener broke'],
        [50, 'event listener failed', 'origin.program', 'ended', 'listener broke'],
      ],
    );
  });
});
