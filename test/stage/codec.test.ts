import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Encoder } from '@evan/opus';
import { FRAME_SAMPLES, peak, SAMPLE_RATE, toneFrame, toneShare } from '../../src/stage/audio.ts';
import { OpusDecoderMono, OpusEncoderMono } from '../../src/stage/codec.ts';
import { programEncoder } from '../../src/stage/room.ts';

describe('Opus codec', () => {
  test('a 20 ms frame encodes and decodes back to a 20 ms mono frame of the same tone', () => {
    const encoder = new OpusEncoderMono({ bitrateBps: 48_000 });
    const decoder = new OpusDecoderMono();
    const decoded: Float32Array[] = [];
    for (let n = 0; n < 10; n++) decoded.push(decoder.decode(encoder.encode(toneFrame(440, 0.5, n * FRAME_SAMPLES)))!);
    assert.ok(decoded.every((f) => f.length === FRAME_SAMPLES));
    assert.ok(toneShare(decoded.at(-1)!, 440) > 0.9);
  });

  test('a stereo packet decodes to the mean of its channels: both sides heard, each at half level', () => {
    const stereo = new Encoder({ channels: 2, sample_rate: SAMPLE_RATE, application: 'audio' });
    stereo.bitrate = 96_000;
    const decoder = new OpusDecoderMono();
    let last: Float32Array | undefined;
    for (let n = 0; n < 10; n++) {
      const [left, right] = [toneFrame(440, 0.4, n * FRAME_SAMPLES), toneFrame(660, 0.4, n * FRAME_SAMPLES)];
      const pcm = new Int16Array(2 * FRAME_SAMPLES);
      for (let i = 0; i < FRAME_SAMPLES; i++) [pcm[2 * i], pcm[2 * i + 1]] = [left[i]! * 32767, right[i]! * 32767];
      last = decoder.decode(stereo.encode(pcm));
    }
    assert.equal(last?.length, FRAME_SAMPLES);
    const [l, r] = [toneShare(last, 440), toneShare(last, 660)];
    assert.ok(l > 0.35 && l < 0.65 && r > 0.35 && r < 0.65, `left ${l.toFixed(2)}, right ${r.toFixed(2)} of the energy`);
    assert.ok(peak(last) > 0.3 && peak(last) < 0.5, `peak ${peak(last).toFixed(2)}: the mean, not the sum`);
  });

  test('frames encoded one after another each come out as themselves (the PCM buffer is reused)', () => {
    const encoder = new OpusEncoderMono({ bitrateBps: 48_000 });
    const decoder = new OpusDecoderMono();
    const peaks: number[] = [];
    for (let n = 0; n < 30; n++) {
      const quiet = Math.floor(n / 5) % 2 === 1; // 5 frames of tone, 5 of silence, ...
      const frame = quiet ? new Float32Array(FRAME_SAMPLES) : toneFrame(440, 0.5, n * FRAME_SAMPLES);
      peaks.push(peak(decoder.decode(encoder.encode(frame))!));
    }
    for (const n of [14, 24]) assert.ok(peaks[n]! > 0.4, `tone frame ${n} peaks at ${peaks[n]}`);
    for (const n of [9, 19, 29]) assert.ok(peaks[n]! < 0.01, `silent frame ${n} peaks at ${peaks[n]}`);
  });

  test('a packet that is not 20 ms, or does not decode, gives no frame', () => {
    const decoder = new OpusDecoderMono();
    assert.equal(decoder.decode(Uint8Array.from([0xf0])), undefined, 'a valid 10 ms CELT packet');
    assert.equal(decoder.decode(new Uint8Array(0)), undefined, 'an empty packet');
    assert.equal(decoder.decode(Uint8Array.from([0xf8]))?.length, FRAME_SAMPLES, 'while a 20 ms one decodes');
  });

  test('the lookahead (pre-skip) is known: 6.5 ms for voice and program, 2.5 ms for the low-delay return', () => {
    assert.equal(new OpusEncoderMono({ bitrateBps: 32_000 }).lookahead, 312);
    assert.equal(programEncoder(64_000).lookahead, 312);
    assert.equal(new OpusEncoderMono({ bitrateBps: 32_000, application: 'restricted_lowdelay' }).lookahead, 120);
  });
});
