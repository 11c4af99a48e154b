import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FRAME_SAMPLES, peak, toneFrame, type Frame } from '../../src/stage/audio.ts';
import { Limiter } from '../../src/stage/limiter.ts';

const CEILING = 0.8;

/** Runs `frames` frames of `signal(n)` through a fresh limiter; returns inputs, outputs and the gain after each. */
function run(frames: number, signal: (n: number) => Frame, limiter = new Limiter()) {
  const inputs: Frame[] = [];
  const outputs: Frame[] = [];
  const gains: number[] = [];
  for (let n = 0; n < frames; n++) {
    const input = signal(n);
    inputs.push(Float32Array.from(input));
    outputs.push(limiter.process(input));
    gains.push(limiter.gain);
  }
  return { inputs, outputs, gains };
}

/** Share of samples at the ceiling: what a hard clamp leaves behind when it flattens a waveform. */
function atCeilingShare(frames: readonly Frame[]): number {
  let at = 0;
  let total = 0;
  for (const frame of frames) {
    for (const v of frame) if (Math.abs(v) >= CEILING - 1e-6) at++;
    total += frame.length;
  }
  return at / total;
}

const steady = (frequencyHz: number, amplitude: number) => (n: number) => toneFrame(frequencyHz, amplitude, n * FRAME_SAMPLES);

describe('Limiter', () => {
  for (const amplitude of [1, 0.9]) {
    test(`a steady ${amplitude} tone is scaled under the ceiling, not clipped`, () => {
      const { inputs, outputs } = run(100, steady(440, amplitude));
      const share = atCeilingShare(outputs);
      assert.ok(share < 0.02, `${(share * 100).toFixed(2)}% of samples at the ceiling`);
      // After the first frame (the attack), the output is the input times one gain: the waveform keeps its shape.
      const gain = CEILING / amplitude;
      for (let n = 1; n < outputs.length; n++) {
        for (let i = 0; i < FRAME_SAMPLES; i++) {
          const want = inputs[n]![i]! * gain;
          assert.ok(Math.abs(outputs[n]![i]! - want) < 1e-4, `frame ${n} sample ${i}: ${outputs[n]![i]} instead of ${want}`);
        }
      }
    });
  }

  test('no pumping: over a steady loud signal the gain holds within 0.1% after the attack', () => {
    const signals: Record<string, (n: number) => Frame> = {
      'full-scale 440 Hz': steady(440, 1),
      '0.9 at 100 Hz': steady(100, 0.9),
      'two full-scale tones (440 + 550 Hz) beating': (n) => {
        const a = toneFrame(440, 1, n * FRAME_SAMPLES);
        const b = toneFrame(550, 1, n * FRAME_SAMPLES);
        return a.map((v, i) => v + b[i]!);
      },
    };
    for (const [name, signal] of Object.entries(signals)) {
      const { gains } = run(101, signal);
      const held = gains.slice(10);
      const ripple = Math.max(...held) / Math.min(...held);
      assert.ok(ripple < 1.001, `${name}: gain between ${Math.min(...held)} and ${Math.max(...held)}`);
    }
  });

  test('the peak never passes the ceiling: summed speakers, a loud onset in mid-frame, bursts of noise', () => {
    const signals: Record<string, (n: number) => Frame> = {
      'four full-scale speakers summed': (n) => {
        const a = toneFrame(440, 1, n * FRAME_SAMPLES);
        const b = toneFrame(550, 1, n * FRAME_SAMPLES);
        return a.map((v, i) => v + b[i]! + 0.9 * Math.sign(v));
      },
      'a loud onset in mid-frame': (n) =>
        toneFrame(440, n % 10 === 5 ? 3 : 0.2, n * FRAME_SAMPLES).map((v, i) => (i < 700 ? v / 10 : v)),
      'bursts of noise': (n) => {
        let seed = n * 7919 + 1;
        const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647) * 2 - 1;
        const level = [0.1, 4, 0.5, 1.5][n % 4]!;
        return new Float32Array(FRAME_SAMPLES).map(() => level * random());
      },
    };
    for (const [name, signal] of Object.entries(signals)) {
      const { outputs } = run(60, signal);
      const maxPeak = Math.max(...outputs.map(peak));
      assert.ok(maxPeak <= CEILING + 1e-6, `${name}: peak ${maxPeak}`);
    }
  });

  test('a loud onset in mid-frame: the gain comes down before it, smoothly, not at the frame start', () => {
    const limiter = new Limiter();
    const input = toneFrame(440, 1, 0).map((v, i) => (i < FRAME_SAMPLES / 2 ? v / 10 : v));
    const output = limiter.process(Float32Array.from(input));
    const gainAt = (i: number) => output[i]! / input[i]!;
    const samples = [...Array(FRAME_SAMPLES).keys()].filter((i) => Math.abs(input[i]!) > 1e-3);
    assert.ok(gainAt(samples[0]!) > 0.99, `the quiet start is barely touched: gain ${gainAt(samples[0]!)}`);
    let previous = 1;
    for (const i of samples) {
      assert.ok(gainAt(i) <= previous + 1e-5, `the gain only goes down during the attack (sample ${i})`);
      previous = gainAt(i);
    }
    const loudest = samples.reduce((a, b) => (Math.abs(input[b]!) > Math.abs(input[a]!) ? b : a));
    assert.ok(Math.abs(gainAt(loudest) - CEILING) < 1e-4, `the target gain by the loud part: ${gainAt(loudest)}`);
    assert.ok(atCeilingShare([output]) < 0.02, 'and nothing flattened');
  });

  test('quiet signals pass unchanged, up to the ceiling itself', () => {
    for (const amplitude of [0.1, 0.5, CEILING]) {
      const { inputs, outputs } = run(20, steady(440, amplitude));
      assert.deepEqual(outputs, inputs, `amplitude ${amplitude}`);
    }
  });

  test('a negative peak is held at minus the ceiling, never flipped to plus', () => {
    // Loud negative half-waves over many levels: where rounding lands a sample past the ceiling, the
    // hard clamp must keep its sign.
    for (let k = 0; k < 50; k++) {
      const amplitude = 0.9 + k * 0.037;
      const { inputs, outputs } = run(20, (n) =>
        toneFrame(440 + k, amplitude, n * FRAME_SAMPLES).map((v) => (v < 0 ? 1.5 * v : v)),
      );
      for (let n = 0; n < outputs.length; n++) {
        for (let i = 0; i < FRAME_SAMPLES; i++) {
          const [x, y] = [inputs[n]![i]!, outputs[n]![i]!];
          assert.ok(
            Math.sign(y) === Math.sign(x) && Math.abs(y) <= CEILING + 1e-6,
            `amplitude ${amplitude}: ${x} came out as ${y}`,
          );
        }
      }
    }
  });

  test('the attack starts at the first sample that would pass the ceiling, one exactly at it included', () => {
    // A ceiling of 0.5 is exact in float32, so a sample of 0.5 is exactly at it and may pass untouched.
    const limiter = new Limiter({ ceiling: 0.5 });
    const input = new Float32Array(FRAME_SAMPLES);
    input[100] = 0.5;
    input[600] = 1;
    const output = limiter.process(Float32Array.from(input));
    assert.ok(output[100]! > 0.45, `the sample at the ceiling, early in the ramp, is barely turned down: ${output[100]}`);
    assert.equal(output[600], 0.5);
  });

  test('from a held gain, the quiet start of a louder frame keeps that gain and the ramp is a raised cosine', () => {
    const limiter = new Limiter({ ceiling: 0.5 });
    run(5, steady(440, 1), limiter);
    assert.ok(Math.abs(limiter.gain - 0.5) < 1e-9, `held at 0.5: ${limiter.gain}`);
    // 0.6 at the held gain is 0.3, under the ceiling; then a loud part at 2 from sample 481.
    const due = 481;
    const input = new Float32Array(FRAME_SAMPLES).map((_, i) => (i < due ? 0.6 : 2) * (i % 2 === 0 ? 1 : -1));
    const output = limiter.process(Float32Array.from(input));
    const gainAt = (i: number) => output[i]! / input[i]!;
    assert.ok(Math.abs(gainAt(0) - 0.5) < 1e-3, `the quiet start keeps the held gain: ${gainAt(0)}`);
    // From 0.5 down to the target 0.25: halfway (0.375) at the middle of the ramp, the target from `due` on.
    assert.ok(Math.abs(gainAt((due - 1) / 2) - 0.375) < 1e-3, `halfway at mid-ramp: ${gainAt((due - 1) / 2)}`);
    assert.ok(Math.abs(gainAt(due) - 0.25) < 1e-6, `the target by the loud part: ${gainAt(due)}`);
  });

  test('the release recovers 99% of the gain reduction in the release time', () => {
    const limiter = new Limiter({ releaseMs: 20 }); // one frame
    run(3, steady(440, 2), limiter);
    const reduction = 1 - limiter.gain;
    assert.ok(Math.abs(reduction - 0.6) < 1e-9);
    limiter.process(new Float32Array(FRAME_SAMPLES));
    const left = 1 - limiter.gain;
    assert.ok(Math.abs(left - 0.01 * reduction) < 1e-6, `1% of the reduction left after 20 ms: ${left / reduction}`);
  });

  test('after a loud burst the gain recovers over the release time, smoothly', () => {
    const limiter = new Limiter({ releaseMs: 150 });
    run(10, steady(440, 2), limiter);
    assert.ok(Math.abs(limiter.gain - 0.4) < 1e-6, `the burst is held at the ceiling: gain ${limiter.gain}`);
    const { inputs, outputs, gains } = run(30, (n) => toneFrame(440, 0.2, (n + 10) * FRAME_SAMPLES), limiter);
    assert.ok(gains[0]! > 0.4 && gains[0]! < 0.8, `not all at once: gain ${gains[0]} 20 ms after the burst`);
    for (let n = 1; n < gains.length; n++) assert.ok(gains[n]! >= gains[n - 1]!, 'the gain only goes up during the release');
    assert.ok(gains[7]! > 0.98, `recovered within about 150 ms: gain ${gains[7]}`);
    const last = outputs.length - 1;
    for (let i = 0; i < FRAME_SAMPLES; i++) assert.ok(Math.abs(outputs[last]![i]! - inputs[last]![i]!) < 1e-5);
  });
});
