import type { SegmentInfo } from './playlist.ts';
import type { TranscriptLine } from './transcript.ts';

/** One stretch of a replay and who spoke in it (an account id). Times on the replay's timeline, gaps included. */
export interface Chapter {
  readonly startMs: number;
  readonly endMs: number;
  readonly speaker: string;
  /** Where the replay has a transcript: the first words said in the chapter (`withExcerpts`). */
  readonly excerpt?: string;
}

/** A turn shorter than this (a "yes", a laugh) stays in the chapter around it. */
export const MIN_CHAPTER_MS = 3000;

interface Run {
  startMs: number;
  endMs: number;
  speaker: string | null;
}

/**
 * Chapters by speaker from a recording's segments: each part says who was heard most in it
 * (`SegmentInfo.speakers`, written by the track from the stage's speaking flags). Consecutive parts of
 * one speaker make a chapter; silence (and a gap) belongs to whoever spoke before it (the start, to the
 * first speaker); turns under `MIN_CHAPTER_MS` are folded into the chapter before them. Empty when
 * nobody was ever heard.
 */
export function chaptersOf(segments: readonly SegmentInfo[], partTargetMs: number): Chapter[] {
  const runs: Run[] = [];
  const add = (speaker: string | null, startMs: number, endMs: number) => {
    const last = runs.at(-1);
    if (last === undefined) runs.push({ startMs, endMs, speaker });
    else if (speaker === null || speaker === last.speaker) last.endMs = endMs;
    else if (last.speaker === null)
      Object.assign(last, { endMs, speaker }); // the silence before the first word
    else runs.push({ startMs, endMs, speaker });
  };
  let t = 0;
  for (const segment of segments) {
    const end = t + segment.durationMs;
    const speakers = segment.speakers ?? [];
    if (speakers.length === 0) add(null, t, end);
    speakers.forEach((speaker, i) => add(speaker, t + i * partTargetMs, Math.min(end, t + (i + 1) * partTargetMs)));
    t = end;
  }
  const folded: Run[] = [];
  for (const run of runs) {
    const last = folded.at(-1);
    if (last !== undefined && (run.endMs - run.startMs < MIN_CHAPTER_MS || run.speaker === last.speaker)) last.endMs = run.endMs;
    else folded.push({ ...run });
  }
  // A short first turn goes to the chapter after it.
  const [first, second] = folded;
  if (first !== undefined && second !== undefined && first.endMs - first.startMs < MIN_CHAPTER_MS) {
    second.startMs = first.startMs;
    folded.shift();
  }
  return folded.flatMap((r) => (r.speaker === null ? [] : [{ startMs: r.startMs, endMs: r.endMs, speaker: r.speaker }]));
}

/** Who a part is of: the speaker heard in most of its frames, if in a quarter of them at least; else nobody. */
export function mostHeard(heard: ReadonlyMap<string, number>, frames: number): string | null {
  let best: string | null = null;
  let most = Math.max(1, Math.ceil(frames / 4)) - 1;
  for (const [speaker, count] of heard) {
    if (count <= most) continue;
    best = speaker;
    most = count;
  }
  return best;
}

/** Words in a chapter's excerpt: the start of what was said, about a short sentence. */
export const EXCERPT_WORDS = 8;

/** A transcript line as `withExcerpts` reads it (times in ms on the replay's timeline), its words maybe untimed. */
type SpokenLine = Omit<TranscriptLine, 'words'> & { readonly words?: TranscriptLine['words'] };

/**
 * Each chapter with what was said at its start, from the replay's transcript: the first
 * `EXCERPT_WORDS` words that start in it (`startMs` included, `endMs` not), with "…" when it says
 * more. Words are timed one by one where the line has them; else each word of a line is counted at
 * the line's start. A chapter in which no word starts has no excerpt.
 */
export function withExcerpts(chapters: readonly Chapter[], lines: readonly SpokenLine[]): Chapter[] {
  const words = lines
    .flatMap((l): { word: string; startMs: number }[] =>
      l.words !== undefined && l.words.length > 0
        ? l.words.map((w) => ({ word: w.word, startMs: w.startMs }))
        : l.text.split(/\s+/).flatMap((word) => (word === '' ? [] : [{ word, startMs: l.startMs }])),
    )
    .sort((a, b) => a.startMs - b.startMs);
  let next = 0; // chapters are in order and do not overlap: one pass over the words
  return chapters.map((chapter) => {
    while (next < words.length && words[next]!.startMs < chapter.startMs) next++;
    const said: string[] = [];
    while (next < words.length && words[next]!.startMs < chapter.endMs) said.push(words[next++]!.word);
    if (said.length === 0) return chapter;
    const excerpt = said.slice(0, EXCERPT_WORDS).join(' ') + (said.length > EXCERPT_WORDS ? '…' : '');
    return { ...chapter, excerpt };
  });
}
