import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { judge, returnDelivery } from '../../bench/stage.ts';
import { SequenceCount, type ReturnSequence } from '../../bench/lib/whip-tone.ts';

/** How the stage bench counts return audio and judges a run: what makes `npm run bench:stage` fail. */
describe('stage bench: return audio counted by sequence number', () => {
  test('sequence numbers extend past 65535; duplicates and reordered packets count once', () => {
    const seq = new SequenceCount();
    for (const s of [65533, 65534, 65535, 0, 1, 1, 3, 2, 4]) seq.add(s);
    assert.deepEqual(seq.now(), { lowest: 65533, highest: 65540, distinct: 8 });
  });

  test('a lost packet is a gap: highest - lowest + 1 is more than distinct', () => {
    const seq = new SequenceCount();
    for (const s of [10, 11, 13, 14]) seq.add(s);
    const { lowest, highest, distinct } = seq.now();
    assert.equal(highest - lowest + 1 - distinct, 1);
  });

  const at = (highest: number, distinct: number): ReturnSequence => ({ lowest: 0, highest, distinct });

  test('every frame of a 10 s window arrived: 100% delivered', () => {
    const r = returnDelivery([at(99, 100), at(99, 100)], [at(599, 600), at(599, 600)], 10);
    assert.equal(r.delivered, 1);
    assert.equal(r.short, 0);
  });

  test('frames lost in sequence gaps are missing', () => {
    const r = returnDelivery([at(99, 100)], [at(599, 597)], 10);
    assert.equal(r.owed - r.received, 3);
    assert.equal(r.gaps, 3);
    assert.ok(r.delivered < 1);
  });

  test('a return stream that stopped, or runs slow, is missing the frames its 50 a second owe', () => {
    const stopped = returnDelivery([at(99, 100)], [at(99, 100)], 10); // nothing after the window began
    assert.equal(stopped.received, 0);
    assert.equal(stopped.owed, 498);
    const slow = returnDelivery([at(99, 100)], [at(499, 500)], 10); // 40 a second, no gaps
    assert.equal(slow.gaps, 0);
    assert.ok(slow.delivered < 0.81, `slow: ${slow.delivered}`);
  });
});

describe('stage bench: the judgement', () => {
  const run = {
    spaces: 40,
    serverCpuUtilisation: 0.85,
    cpu0Busy: 0.9,
    cpuMicrosPerSpaceSecond: 21_000,
    spacesPerCore: 47,
    returnFramesReceived: 1000,
    returnFramesOwed: 1000,
    returnAudioDelivered: 1,
    speakersShort: 0,
    returnSequenceGaps: 0,
    speakersNotConnected: 0,
    generatorCpuUtilisation: 0.5,
  };

  test('a loaded core, every frame delivered, over the goal: no failure', () => {
    assert.deepEqual(judge(run), []);
  });

  test('a core under 80% busy fails: the figure would be extrapolated', () => {
    assert.match(judge({ ...run, serverCpuUtilisation: 0.79 }).join(), /79% busy, under 80%/);
  });

  test('one missing return frame fails', () => {
    assert.match(judge({ ...run, returnFramesReceived: 999, returnAudioDelivered: 0.999 }).join(), /not 100%: 1 frames missing/);
  });

  test('under 40 Spaces per core fails', () => {
    assert.match(judge({ ...run, spacesPerCore: 39 }).join(), /39 Spaces per stage core, under the goal of 40/);
  });
});
