import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  FRAME_SAMPLES,
  int16ToMono,
  monoToInt16,
  peak,
  rmsDbfs,
  SAMPLE_RATE,
  silentFrame,
  toneFrame,
  toneShare,
} from '../../src/stage/audio.ts';

const near = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected}`);

describe('levels', () => {
  test('rmsDbfs: a full-scale sine is -3 dBFS, a constant 0.5 is -6 dBFS, silence is -Infinity', () => {
    near(rmsDbfs(toneFrame(1000, 1, 0)), -3.0103, 1e-3, 'full-scale sine');
    near(rmsDbfs(new Float32Array(FRAME_SAMPLES).fill(0.5)), -6.0206, 1e-3, 'constant 0.5');
    assert.equal(rmsDbfs(silentFrame()), -Infinity);
  });

  test('peak is the largest magnitude, negative samples included', () => {
    assert.equal(peak(Float32Array.from([0.25, -0.75, 0.5])), 0.75);
    assert.equal(peak(silentFrame()), 0);
  });
});

describe('PCM conversion', () => {
  test('int16 mono to float: full scale is -1..1', () => {
    assert.deepEqual([...int16ToMono(Int16Array.from([16384, -32768, 0, -8192]), 1)], [0.5, -1, 0, -0.25]);
  });

  test('int16 stereo to float mono: each pair is averaged', () => {
    const mono = int16ToMono(Int16Array.from([16384, 16384, 32767, -32768, 8192, 0]), 2);
    assert.equal(mono.length, 3);
    near(mono[0]!, 0.5, 1e-9, 'equal channels');
    near(mono[1]!, -0.5 / 32768, 1e-6, 'opposite channels cancel');
    near(mono[2]!, 0.125, 1e-9, 'one channel silent');
  });

  test('float mono to int16 mono: scaled to 32767 and clamped', () => {
    assert.deepEqual(
      [...monoToInt16(Float32Array.from([0.5, -0.25, 1, -1, 2, -2]), 1)],
      [16384, -8192, 32767, -32767, 32767, -32768],
    );
  });

  test('float mono to int16 stereo: every sample on both channels', () => {
    assert.deepEqual([...monoToInt16(Float32Array.from([0.5, -0.25, 0]), 2)], [16384, 16384, -8192, -8192, 0, 0]);
  });

  test('a frame survives the round trip through int16 to within one step', () => {
    const frame = toneFrame(440, 0.7, 123);
    const back = int16ToMono(monoToInt16(frame, 2), 2);
    for (let i = 0; i < FRAME_SAMPLES; i++) near(back[i]!, frame[i]!, 2 / 32768, `sample ${i}`);
  });
});

describe('toneShare', () => {
  const tone = (frequencyHz: number, ms: number, startSample = 0) => {
    const samples = new Float32Array((SAMPLE_RATE * ms) / 1000);
    for (let i = 0; i < samples.length; i++) samples[i] = Math.sin((2 * Math.PI * frequencyHz * (startSample + i)) / SAMPLE_RATE);
    return samples;
  };
  const join = (...parts: Float32Array[]) => {
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };

  test('a pure tone is all at its frequency and nothing at another', () => {
    near(toneShare(tone(440, 200), 440), 1, 0.02, '440 Hz at 440 Hz');
    near(toneShare(tone(440, 200), 1000), 0, 0.02, '440 Hz at 1000 Hz');
  });

  test('a phase jump between 100 ms blocks (a dropped frame) does not hide the tone', () => {
    // Half a period apart: measured as one block, the two halves would cancel out.
    const halfPeriod = SAMPLE_RATE / 440 / 2;
    const signal = join(tone(440, 100), tone(440, 100, SAMPLE_RATE / 10 + halfPeriod));
    near(toneShare(signal, 440), 1, 0.05, 'share');
  });

  test('silent blocks weigh nothing: silence then a tone is all tone; silence alone and nothing are 0', () => {
    near(toneShare(join(new Float32Array(SAMPLE_RATE / 10), tone(440, 100)), 440), 1, 0.02, 'silence, then a tone');
    assert.equal(toneShare(new Float32Array(SAMPLE_RATE / 5), 440), 0);
    assert.equal(toneShare(new Float32Array(0), 440), 0);
  });

  test('a signal shorter than one block is measured as one block', () => {
    near(toneShare(tone(440, 40), 440), 1, 0.1, '40 ms of 440 Hz');
  });
});
