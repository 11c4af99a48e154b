import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FRAME_SAMPLES } from '../../src/stage/audio.ts';
import { JitterBuffer } from '../../src/stage/jitter-buffer.ts';

/** A frame whose samples all hold `v`, so the frame that comes out says which one went in. */
const frame = (v: number) => new Float32Array(FRAME_SAMPLES).fill(v);
/** The RTP timestamp of frame `n`. */
const ts = (n: number) => n * FRAME_SAMPLES;
/** Pulls `count` frames and returns what each held (undefined while buffering or after an underrun). */
const pullValues = (jb: JitterBuffer, count: number) => Array.from({ length: count }, () => jb.pull()?.[0]);

describe('JitterBuffer', () => {
  test('holds at most 10 frames by default, dropping the oldest, and plays on from the oldest kept', () => {
    const jb = new JitterBuffer();
    for (let n = 0; n < 12; n++) jb.push(ts(n), frame(n));
    assert.equal(jb.depth, 10);
    assert.deepEqual(pullValues(jb, 3), [2, 3, 4], 'frames 0 and 1 were dropped, and nothing plays as a gap');
  });

  test('a buffer at exactly its maximum keeps every frame', () => {
    const jb = new JitterBuffer({ targetFrames: 1, maxFrames: 3 });
    for (let n = 0; n < 3; n++) jb.push(ts(n), frame(n + 1));
    assert.equal(jb.depth, 3);
    assert.deepEqual(pullValues(jb, 3), [1, 2, 3]);
  });

  test('overflow while playing drops the oldest frames and skips the timeline past them', () => {
    const jb = new JitterBuffer({ targetFrames: 1, maxFrames: 3 });
    jb.push(ts(0), frame(1));
    assert.equal(jb.pull()![0], 1);
    for (let n = 1; n <= 5; n++) jb.push(ts(n), frame(n + 1)); // a burst after a stall
    assert.equal(jb.depth, 3);
    assert.deepEqual(pullValues(jb, 3), [4, 5, 6]);
  });

  test('before playout, a later frame does not move the start; an earlier one does', () => {
    const jb = new JitterBuffer({ targetFrames: 3 });
    jb.push(ts(1), frame(2));
    jb.push(ts(2), frame(3));
    jb.push(ts(0), frame(1));
    assert.deepEqual(pullValues(jb, 3), [1, 2, 3]);
  });

  test('once playing, a frame older than the playout point is dropped as too late', () => {
    const jb = new JitterBuffer({ targetFrames: 2 });
    jb.push(ts(5), frame(6));
    jb.push(ts(6), frame(7));
    assert.equal(jb.pull()![0], 6);
    jb.push(ts(4), frame(5)); // arrives after frame 5 already played
    jb.push(ts(5), frame(99)); // a duplicate of the frame just played
    assert.equal(jb.depth, 1, 'neither late frame is kept');
    assert.deepEqual(pullValues(jb, 1), [7]);
  });

  test('a frame that arrives in time for its turn replaces nothing and plays in order', () => {
    const jb = new JitterBuffer({ targetFrames: 1 });
    jb.push(ts(0), frame(1));
    assert.equal(jb.pull()![0], 1);
    jb.push(ts(1), frame(2)); // exactly the next frame due
    assert.equal(jb.depth, 1);
    assert.equal(jb.pull()![0], 2);
  });

  test('two lost frames play as two frames of silence, so the timing is kept', () => {
    const jb = new JitterBuffer({ targetFrames: 1 });
    jb.push(ts(0), frame(1));
    assert.equal(jb.pull()![0], 1);
    jb.push(ts(3), frame(4)); // frames 1 and 2 are lost
    assert.deepEqual(pullValues(jb, 3), [0, 0, 4]);
  });

  test('a jump of three frames or more is a new timeline: it plays at once, without silence', () => {
    const jb = new JitterBuffer({ targetFrames: 1 });
    jb.push(ts(0), frame(1));
    assert.equal(jb.pull()![0], 1);
    jb.push(ts(4), frame(5));
    assert.deepEqual(pullValues(jb, 1), [5]);
  });

  test('after an underrun it goes quiet, then waits for its target depth again before playing', () => {
    const jb = new JitterBuffer({ targetFrames: 2 });
    assert.equal(jb.pull(), undefined, 'nothing pushed yet');
    jb.push(ts(0), frame(1));
    jb.push(ts(1), frame(2));
    assert.deepEqual(pullValues(jb, 3), [1, 2, undefined], 'the speaker went quiet: nothing, not silence');
    assert.equal(jb.pull(), undefined);
    jb.push(ts(50), frame(51));
    assert.equal(jb.pull(), undefined, 'refilling: one frame is below the target');
    jb.push(ts(51), frame(52));
    assert.deepEqual(pullValues(jb, 2), [51, 52]);
  });

  test('RTP timestamps wrap around 2^32 without a resync or a drop', () => {
    const jb = new JitterBuffer({ targetFrames: 2 });
    const start = 2 ** 32 - FRAME_SAMPLES;
    jb.push(start, frame(1));
    jb.push(start + FRAME_SAMPLES, frame(2)); // wraps to 0
    jb.push(start + 2 * FRAME_SAMPLES, frame(3));
    assert.deepEqual(pullValues(jb, 3), [1, 2, 3]);
  });
});
