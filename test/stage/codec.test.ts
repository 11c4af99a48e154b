import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FRAME_SAMPLES, toneFrame, toneShare } from '../../src/stage/audio.ts';
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
