import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Captions } from '../../src/captions/captions.ts';
import { FakeRoom } from './fake-room.ts';
import { AmphiError } from '../../src/errors.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { FakeSession, quietRoom } from '../stage/fakes.ts';
import { rethrow } from '../helpers/events.ts';

const log = pino({ level: 'silent' });

const codeOf = (code: string) => (e: unknown) => e instanceof AmphiError && e.code === code;

test('the stage room hands its mixed program to PCM listeners as copies; one that throws is reported, not fatal', () => {
  const clock = new ManualClock(0);
  const { room } = quietRoom(clock, 'sp_pcm00000000');
  room.attach('ac_a', new FakeSession('ss_a'), false);
  const frames: { frame: Float32Array; sequence: number }[] = [];
  const stop = room.onProgramPcm((frame, sequence) => frames.push({ frame, sequence }));
  room.onProgramPcm(() => {
    throw new Error('a broken captioner');
  });
  assert.throws(() => clock.advance(60), /a broken captioner/, 'reported to onListenerError (rethrow in tests)');
  assert.ok(frames.length >= 1);
  assert.equal(frames[0]!.frame.length, 960);
  assert.equal(frames[0]!.sequence, 0);
  stop();
  room.close();
});

test('the toggle: off by config, no room, and maxSpaces are refused with their codes', () => {
  const base = {
    defaultOn: false,
    modelDir: '/nonexistent',
    clock: systemClock,
    log,
    onListenerError: rethrow,
    availability: () => ({ ok: true }) as const,
  };
  const off = new Captions({ ...base, enabled: false, maxSpaces: 1 });
  off.attach(new FakeRoom('sp_a'));
  assert.throws(() => off.set('sp_a', true), codeOf('CAPTIONS_UNAVAILABLE'));
  const captions = new Captions({ ...base, enabled: true, maxSpaces: 1 });
  try {
    assert.throws(() => captions.set('sp_none', true), codeOf('SPACE_NOT_LIVE'));
    captions.attach(new FakeRoom('sp_a'));
    captions.attach(new FakeRoom('sp_b'));
    assert.equal(captions.set('sp_a', true).on, true);
    assert.throws(() => captions.set('sp_b', true), codeOf('CAPTIONS_BUSY'));
    assert.equal(captions.refused, 1);
    assert.equal(captions.set('sp_a', false).on, false);
    assert.equal(captions.set('sp_b', true).on, true, 'room again once another stopped');
    captions.detach('sp_b');
    assert.equal(captions.activeSpaces, 0);
  } finally {
    captions.close();
  }
});

test("restore: the host's kept choice is applied to a room opening here, unless the host chose again since; never throws", () => {
  const base = {
    enabled: true,
    maxSpaces: 1,
    modelDir: '/nonexistent',
    clock: systemClock,
    log,
    onListenerError: rethrow,
    availability: () => ({ ok: true }) as const,
  };
  const captions = new Captions({ ...base, defaultOn: false });
  try {
    captions.restore('sp_none', true); // no room here: nothing, no throw
    assert.equal(captions.activeSpaces, 0);
    captions.attach(new FakeRoom('sp_a'));
    captions.restore('sp_a', true);
    assert.equal(captions.view('sp_a').on, true, 'captioned again, as the host last asked');
    captions.attach(new FakeRoom('sp_b'));
    captions.restore('sp_b', true);
    assert.equal(captions.view('sp_b').on, false, 'no room under maxSpaces: none, and no throw');
    assert.equal(captions.refused, 1, 'but counted');
    captions.set('sp_a', false);
    captions.restore('sp_a', true);
    assert.equal(
      captions.view('sp_a').on,
      false,
      'a choice made here since the room opened wins over the kept one (a late read)',
    );
  } finally {
    captions.close();
  }
  const byDefault = new Captions({ ...base, defaultOn: true });
  try {
    byDefault.attach(new FakeRoom('sp_c'));
    assert.equal(byDefault.view('sp_c').on, true, 'defaultOn');
    byDefault.restore('sp_c', false);
    assert.equal(byDefault.view('sp_c').on, false, 'the host turned them off: a restart does not turn them on again');
  } finally {
    byDefault.close();
  }
  const disabled = new Captions({ ...base, enabled: false, defaultOn: false });
  disabled.attach(new FakeRoom('sp_d'));
  disabled.restore('sp_d', true);
  assert.equal(disabled.view('sp_d').on, false, 'off by config: a kept choice does not turn them on');
  disabled.close();
});
