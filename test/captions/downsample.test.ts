import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Downsampler48to16 } from '../../src/captions/downsample.ts';

function tone(hz: number, samples: number, rate: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: samples }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate));
}

function rms(signal: Int16Array, from = 0): number {
  let sum = 0;
  for (let i = from; i < signal.length; i++) sum += (signal[i]! / 32768) ** 2;
  return Math.sqrt(sum / (signal.length - from));
}

test('a third of the samples come out, whatever the chunk sizes', () => {
  const d = new Downsampler48to16();
  let out = 0;
  for (const size of [960, 961, 959, 1, 2, 4800, 3]) out += d.push(new Float32Array(size)).length;
  assert.equal(out, (960 + 961 + 959 + 1 + 2 + 4800 + 3) / 3);
});

test('speech-band tones pass at their level; tones above 8 kHz are filtered out, not folded back', () => {
  const input = tone(1000, 48_000, 48_000);
  const chunked = new Downsampler48to16();
  const parts: Int16Array[] = [];
  for (let i = 0; i < input.length; i += 960) parts.push(chunked.push(input.subarray(i, i + 960)));
  const joined = Int16Array.from(parts.flatMap((p) => [...p]));
  const whole = new Downsampler48to16().push(input);
  assert.deepEqual(joined, whole, 'chunks join up exactly');
  assert.ok(Math.abs(rms(whole, 100) - 0.5 / Math.SQRT2) < 0.01, `1 kHz at its level (${rms(whole, 100)})`);
  // 13 kHz would alias to 3 kHz if kept: the filter must take it out.
  const high = new Downsampler48to16().push(tone(13_000, 48_000, 48_000));
  assert.ok(rms(high, 100) < 0.01, `13 kHz removed (${rms(high, 100)})`);
});

test('loud input is clipped to int16, not wrapped', () => {
  const out = new Downsampler48to16().push(new Float32Array(300).fill(2));
  assert.equal(out.at(-1), 32767);
});
