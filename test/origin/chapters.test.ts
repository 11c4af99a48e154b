import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chaptersOf, EXCERPT_WORDS, MIN_CHAPTER_MS, mostHeard, withExcerpts } from '../../src/origin/chapters.ts';
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

describe('chapter excerpts from the transcript', () => {
  const two = [
    { startMs: 0, endMs: 10_000, speaker: 'a' },
    { startMs: 10_000, endMs: 20_000, speaker: 'b' },
  ];
  /** A line of these words, one every 300 ms from `startMs`. */
  const line = (startMs: number, text: string) => ({
    startMs,
    endMs: startMs + 2000,
    text,
    words: text.split(' ').map((word, i) => ({ word, startMs: startMs + i * 300, endMs: startMs + i * 300 + 250 })),
  });
  const excerpts = (lines: Parameters<typeof withExcerpts>[1], chapters = two) =>
    withExcerpts(chapters, lines).map((c) => c.excerpt);

  test(`the first ${EXCERPT_WORDS} words that start in a chapter, "…" when it says more`, () => {
    assert.deepEqual(
      excerpts([line(1000, 'the quick brown fox jumps over the lazy dog'), line(4000, 'and more'), line(12_000, 'short reply')]),
      ['the quick brown fox jumps over the lazy…', 'short reply'],
    );
    assert.deepEqual(
      excerpts([line(1000, 'one two three four'), line(3000, 'five six seven eight')]),
      ['one two three four five six seven eight', undefined],
      'exactly eight words: no ellipsis',
    );
  });

  test('a chapter in which nobody was transcribed has no excerpt; the chapters are otherwise unchanged', () => {
    const out = withExcerpts(two, [line(11_000, 'only the second')]);
    assert.deepEqual(out, [two[0], { ...two[1], excerpt: 'only the second' }]);
    assert.equal('excerpt' in out[0]!, false);
    assert.deepEqual(withExcerpts(two, []), two, 'no lines: the chapters as they were');
  });

  test("boundaries: a word starting at a chapter's start is its; at its end, the next one's", () => {
    const words = [
      { word: 'last', startMs: 9999, endMs: 10_200 },
      { word: 'first', startMs: 10_000, endMs: 10_300 },
    ];
    assert.deepEqual(excerpts([{ startMs: 9999, endMs: 10_300, text: 'last first', words }]), ['last', 'first']);
    assert.deepEqual(
      excerpts([line(20_000, 'after the end')]),
      [undefined, undefined],
      'a word at the last chapter’s end is in none',
    );
  });

  test('a line spanning two chapters gives each the words timed in it', () => {
    assert.deepEqual(excerpts([line(9400, 'so anyway over to you yes thanks')]), ['so anyway', 'over to you yes thanks']);
  });

  test('a line without word times counts its words at its start; lines out of order are read in time order', () => {
    assert.deepEqual(
      excerpts([
        { startMs: 12_000, endMs: 13_000, text: 'second  line', words: [] },
        { startMs: 9000, endMs: 11_000, text: 'first line' },
        { startMs: 500, endMs: 900, text: 'opening' },
      ]),
      ['opening first line', 'second line'],
    );
  });
});
