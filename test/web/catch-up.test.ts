import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CAUGHT_UP_S, catchUpStep, LONG_SILENCE_MS, SILENCE_RATE, type CatchUp } from '../../web/src/catch-up.ts';

const start: CatchUp = { behindS: Number.POSITIVE_INFINITY, playbackRate: 1.5, live: false, silentMs: 0 };
const run = (samples: { behindS: number; silent: boolean }[], rate = 1.5) => {
  const states: CatchUp[] = [];
  let state = start;
  for (const s of samples) states.push((state = catchUpStep(state, { ...s, dtMs: 250 }, rate)));
  return states;
};

describe('catching up to live', () => {
  test('plays at the chosen speed while behind; live (speed 1) once within CAUGHT_UP_S, and stays live', () => {
    const states = run([
      { behindS: 120, silent: false },
      { behindS: CAUGHT_UP_S + 0.1, silent: false },
      { behindS: CAUGHT_UP_S, silent: false },
      { behindS: CAUGHT_UP_S + 3, silent: false }, // a stall after reaching live does not start catching up again
    ]);
    assert.deepEqual(
      states.map((s) => [s.playbackRate, s.live]),
      [
        [1.5, false],
        [1.5, false],
        [1, true],
        [1, true],
      ],
    );
  });

  test('a silence longer than LONG_SILENCE_MS is sped through; sound brings the chosen speed back', () => {
    const quiet = Array.from({ length: LONG_SILENCE_MS / 250 + 1 }, () => ({ behindS: 60, silent: true }));
    const states = run([...quiet, { behindS: 58, silent: false }], 2);
    assert.deepEqual(
      states.map((s) => s.playbackRate),
      [2, 2, 2, SILENCE_RATE, SILENCE_RATE, 2],
    );
    assert.equal(states.at(-1)!.silentMs, 0);
  });

  test('once live, silence is played at normal speed (nothing ahead to skip to)', () => {
    const states = run([{ behindS: 2, silent: false }, ...Array.from({ length: 8 }, () => ({ behindS: 2, silent: true }))]);
    assert.ok(states.every((s) => s.playbackRate === 1));
  });
});
