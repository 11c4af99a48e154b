import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/lib/clock.ts';
import { FRAME_SAMPLES, peak, rmsDbfs, toneFrame, toneShare } from '../../src/stage/audio.ts';
import { OpusDecoderMono, OpusEncoderMono } from '../../src/stage/codec.ts';
import { JitterBuffer } from '../../src/stage/jitter-buffer.ts';
import { Mixer } from '../../src/stage/mixer.ts';
import type { ProgramFrame } from '../../src/stage/program.ts';
import { quietRoom, FakeSession } from './fakes.ts';

describe('JitterBuffer', () => {
  test('reorders, waits for its target depth, fills a lost frame with silence, resyncs on a jump', () => {
    const jb = new JitterBuffer({ targetFrames: 2 });
    const frame = (v: number) => new Float32Array(FRAME_SAMPLES).fill(v);
    jb.push(960, frame(2));
    assert.equal(jb.pull(), undefined, 'buffering');
    jb.push(0, frame(1)); // late but before playout starts: reordered
    assert.equal(jb.pull()![0], 1);
    assert.equal(jb.pull()![0], 2);
    jb.push(3 * 960, frame(4)); // frame 3 (2880) is lost
    jb.push(4 * 960, frame(5));
    assert.equal(jb.pull()![0], 0, 'a lost frame plays as silence');
    assert.equal(jb.pull()![0], 4);
    jb.push(1_000_000 * 960, frame(9)); // a new timeline (the encoder restarted)
    jb.push(1_000_001 * 960, frame(10));
    assert.equal(jb.pull()![0], 5);
    assert.equal(jb.pull()![0], 9, 'resynchronised to the new timeline');
  });
});

describe('Mixer', () => {
  test('the program has everyone unmuted; each mix-minus leaves its own speaker out; mute applies on the next tick', () => {
    const mixer = new Mixer({ jitterTargetFrames: 1 });
    mixer.addSource('a');
    mixer.addSource('b');
    const feed = (n: number) => {
      mixer.push('a', n * FRAME_SAMPLES, toneFrame(440, 0.3, n * FRAME_SAMPLES));
      mixer.push('b', n * FRAME_SAMPLES, toneFrame(660, 0.3, n * FRAME_SAMPLES));
    };
    feed(0);
    const first = mixer.tick();
    assert.ok(toneShare(first.program, 440) > 0.3 && toneShare(first.program, 660) > 0.3);
    assert.ok(toneShare(first.mixMinus.get('a')!, 660) > 0.9, 'a hears b');
    assert.ok(toneShare(first.mixMinus.get('b')!, 440) > 0.9, 'b hears a');
    mixer.setMuted('b', true);
    feed(1);
    const muted = mixer.tick();
    assert.ok(toneShare(muted.program, 660) < 0.01, 'b is out of the program within one 20 ms tick');
    assert.ok(peak(muted.mixMinus.get('a')!) < 1e-6, 'and out of what a hears');
    assert.ok(mixer.levels().find((l) => l.id === 'a')!.speaking);
  });

  test('each tick mixes afresh: who speaks changes frame by frame, and nobody hears a stale mix or themselves', () => {
    const mixer = new Mixer({ jitterTargetFrames: 1 });
    for (const id of ['a', 'b', 'c']) mixer.addSource(id);
    const level = { a: 0.125, b: 0.25, c: 0.5 } as const; // exact in float32
    // Frame n: only the speaker n % 3 sends (the others' buffers underrun and contribute nothing).
    for (let n = 0; n < 6; n++) {
      const speaker = (['a', 'b', 'c'] as const)[n % 3]!;
      mixer.push(speaker, n * FRAME_SAMPLES, new Float32Array(FRAME_SAMPLES).fill(level[speaker]));
      const { program, mixMinus } = mixer.tick();
      assert.equal(program[0], level[speaker], `frame ${n}: the program is ${speaker}`);
      for (const id of ['a', 'b', 'c'] as const) {
        const expected = id === speaker ? 0 : level[speaker];
        assert.equal(mixMinus.get(id)![100], expected, `frame ${n}: ${id} hears ${expected}`);
      }
    }
  });

  test('after a loud passage and a pause with no packets (DTX), the next word is at full level', () => {
    const mixer = new Mixer({ jitterTargetFrames: 1 });
    mixer.addSource('a');
    let n = 0;
    const speak = (amplitude: number) => {
      mixer.push('a', n * FRAME_SAMPLES, toneFrame(440, amplitude, n * FRAME_SAMPLES));
      n++;
      return mixer.tick().program;
    };
    for (let i = 0; i < 10; i++) speak(2); // far over full scale: the limiter holds the gain down
    for (let i = 0; i < 100; i++) {
      n++; // 2 s in which the speaker sends nothing
      mixer.tick();
    }
    const after = [speak(0.5), speak(0.5), speak(0.5)];
    for (const [i, frame] of after.entries()) assert.ok(peak(frame) > 0.49, `frame ${i} after the pause peaks at ${peak(frame)}`);
  });

  test('speaking flags follow the level with a hold, updated every tick', () => {
    const mixer = new Mixer({ jitterTargetFrames: 1, speakingHoldMs: 100 });
    mixer.addSource('a');
    mixer.push('a', 0, toneFrame(440, 0.3, 0));
    mixer.tick();
    assert.equal(mixer.levels()[0]!.speaking, true);
    assert.ok(mixer.levels()[0]!.levelDbfs > -20);
    for (let i = 0; i < 4; i++) mixer.tick();
    assert.equal(mixer.levels()[0]!.speaking, true, 'held');
    mixer.tick();
    assert.equal(mixer.levels()[0]!.speaking, false, 'released after the hold');
  });
});

describe('Mixer sources', () => {
  const constant = (v: number) => new Float32Array(FRAME_SAMPLES).fill(v);

  test('a reconnecting source keeps its mute state', () => {
    const mixer = new Mixer({ jitterTargetFrames: 1 });
    mixer.addSource('a');
    mixer.setMuted('a', true);
    mixer.addSource('a', false); // the speaker reconnects
    mixer.push('a', 0, toneFrame(440, 0.3, 0));
    const { program } = mixer.tick();
    assert.equal(peak(program), 0);
    assert.equal(mixer.levels()[0]!.speaking, false);
  });

  test('a removed source leaves the mix, the mix-minus and the levels; calls for it are ignored', () => {
    const mixer = new Mixer({ jitterTargetFrames: 1 });
    mixer.addSource('a');
    mixer.addSource('b');
    mixer.removeSource('b');
    assert.equal(mixer.hasSource('b'), false);
    assert.equal(mixer.hasSource('a'), true);
    mixer.push('b', 0, toneFrame(660, 0.3, 0));
    mixer.setMuted('b', false);
    assert.equal(mixer.size, 1, 'neither push nor setMuted brings it back');
    mixer.push('a', 0, toneFrame(440, 0.3, 0));
    const { program, mixMinus } = mixer.tick();
    assert.deepEqual([...mixMinus.keys()], ['a']);
    assert.ok(toneShare(program, 660) < 0.01);
    assert.deepEqual(
      mixer.levels().map((l) => l.id),
      ['a'],
    );
  });

  test('the level rises at once and falls a tenth of the way to the floor (-100 dBFS) each tick', () => {
    const mixer = new Mixer({ jitterTargetFrames: 1 });
    mixer.addSource('a');
    mixer.push('a', 0, constant(0.5)); // -6.02 dBFS
    const levels: number[] = [];
    for (let n = 0; n < 3; n++) {
      mixer.tick();
      levels.push(mixer.levels()[0]!.levelDbfs);
    }
    // -6.02, then -6.02 * 0.9 - 10 = -15.42, then -15.42 * 0.9 - 10 = -23.88
    assert.deepEqual(levels, [-6, -15, -24]);
  });

  test('a source exactly at the speaking threshold counts as speaking', () => {
    const frame = constant(0.25);
    const mixer = new Mixer({ jitterTargetFrames: 1, speakingThresholdDbfs: rmsDbfs(frame) });
    mixer.addSource('a');
    mixer.push('a', 0, frame);
    mixer.tick();
    assert.equal(mixer.levels()[0]!.speaking, true);
  });
});

describe('StageRoom on an injected clock', () => {
  const make = (clock: ManualClock) => {
    const { room, closed } = quietRoom(clock, 'sp_test00000000');
    const frames: ProgramFrame[] = [];
    room.program.on('frame', (f) => frames.push(f));
    return { room, frames, closed };
  };

  test('ticks every 20 ms with a continuous timeline, silence included, and catches up after a stall', () => {
    const clock = new ManualClock(0);
    const { room, frames } = make(clock);
    clock.advance(1000);
    assert.equal(frames.length, 50);
    clock.advance(500); // one long advance stands for a stalled event loop
    assert.equal(frames.length, 75);
    assert.deepEqual(
      frames.map((f) => f.ptsSamples),
      frames.map((_, i) => i * FRAME_SAMPLES),
    );
    assert.equal(frames[10]!.wallClockMs, 200);
    room.close();
  });

  test('mute reaches the program within one tick; kick and close tear sessions down; close is idempotent', () => {
    const clock = new ManualClock(0);
    const { room, frames, closed } = make(clock);
    const session = new FakeSession('ss_1');
    room.attach('ac_a', session, false);
    const encoder = new OpusEncoderMono({ bitrateBps: 48_000 });
    const decoder = new OpusDecoderMono();
    let n = 0;
    const speak = (ms: number) => {
      for (let t = 0; t < ms; t += 20) {
        session.emit('audio', {
          rtpTimestamp: n * FRAME_SAMPLES,
          payload: Buffer.from(encoder.encode(toneFrame(440, 0.3, n * FRAME_SAMPLES))),
        });
        n++;
        clock.advance(20);
      }
    };
    speak(400);
    // Decode every frame in order, as a player would: a decoder that skips frames rings on.
    const decoded: Float32Array[] = frames.map((f) => decoder.decode(f.data)!);
    room.program.on('frame', (f) => decoded.push(decoder.decode(f.data)!));
    const heard = (from: number) => decoded.slice(from);
    const loud = heard(frames.length - 5);
    assert.ok(
      loud.every((f) => toneShare(f, 440) > 0.5),
      'the tone is in the program',
    );
    room.setMuted('ac_a', true);
    const mark = frames.length;
    speak(200);
    // The mixer drops the speaker on the very next tick; the codec's lookahead spills a few ms into
    // that frame, so from the second frame on the program is silent: 40 ms, well inside 200 ms.
    const after = heard(mark + 1);
    assert.ok(after.length >= 8 && after.every((f) => peak(f) < 0.01), `muted within 40 ms: ${after.map(peak).join(',')}`);
    assert.ok(session.sent.length > 0, 'the speaker receives their mix-minus');

    room.kick('ac_a', 'moved to the audience');
    assert.equal(session.closedWith, 'moved to the audience');
    assert.equal(room.speakerCount, 0);
    const second = new FakeSession('ss_2');
    room.attach('ac_b', second, false);
    room.close();
    room.close();
    assert.equal(second.closedWith, 'the Space has ended');
    assert.deepEqual(closed, ['sp_test00000000']);
    const count = frames.length;
    clock.advance(1000);
    assert.equal(frames.length, count, 'no frames after close');
  });
});
