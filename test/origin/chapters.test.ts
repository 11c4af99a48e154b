import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chaptersOf, MIN_CHAPTER_MS, mostHeard } from '../../src/origin/chapters.ts';
import type { SegmentInfo } from '../../src/origin/playlist.ts';

/** Segments of four 500 ms parts, each part's speaker given by one letter ('.' for nobody, 'g' for a gap segment). */
function segments(...parts: string[]): SegmentInfo[] {
  return parts.map((p, msn) => {
    const base = { msn, durationMs: 2000, programDateTimeMs: msn * 2000 };
    if (p === 'g') return { ...base, gap: true as const };
    const speakers = Array.from(p, (c) => (c === '.' ? null : c));
    return speakers.some((s) => s !== null) ? { ...base, speakers } : base;
  });
}
const chapters = (...parts: string[]) =>
  chaptersOf(segments(...parts), 500).map((c) => `${c.speaker} ${c.startMs / 1000}-${c.endMs / 1000}`);

describe('chapters by speaker', () => {
  test('turns make chapters; silence belongs to whoever spoke before it (the start, to the first speaker)', () => {
    assert.deepEqual(chapters('..aa', 'aaaa', '....', 'bbbb', 'bb..'), ['a 0-6', 'b 6-10']);
  });

  test(`a turn under ${MIN_CHAPTER_MS} ms stays in the chapter before it; a short first turn goes to the next`, () => {
    assert.deepEqual(chapters('aaaa', 'aabb', 'bbaa', 'aaaa'), ['a 0-8'], '2 s of b inside a');
    assert.deepEqual(chapters('aaaa', 'aabb', 'bbbb', 'aaaa'), ['a 0-3', 'b 3-8'], "a's closing 2 s stay in b's chapter");
    assert.deepEqual(chapters('a...', 'bbbb', 'bbbb'), ['b 0-6'], 'half a second of a at the start');
  });

  test('gaps (an outage) keep the timeline: they count in the times, and belong to the chapter they fall in', () => {
    assert.deepEqual(chapters('aaaa', 'g', 'bbbb', 'bbbb'), ['a 0-4', 'b 4-8']);
  });

  test('nobody heard: no chapters', () => {
    assert.deepEqual(chapters('....', 'g', '....'), []);
    assert.deepEqual(chaptersOf([], 500), []);
  });

  test('a part is of the speaker heard in most of its frames, if in a quarter of them at least', () => {
    assert.equal(
      mostHeard(
        new Map([
          ['a', 7],
          ['b', 10],
        ]),
        25,
      ),
      'b',
    );
    assert.equal(mostHeard(new Map([['a', 7]]), 25), 'a', '7 of 25 frames: over a quarter');
    assert.equal(mostHeard(new Map([['a', 6]]), 25), null, '6 of 25: under a quarter');
    assert.equal(mostHeard(new Map(), 25), null);
  });
});
