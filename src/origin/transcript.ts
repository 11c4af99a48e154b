import type { Logger } from '../lib/logger.ts';
import type { MediaStorage } from './storage.ts';

/** One word of a transcript line, timed on the replay's timeline (ms). */
export interface TranscriptWord {
  readonly word: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** One caption line of a replay's transcript (ms on the replay's timeline). */
export interface TranscriptLine {
  readonly startMs: number;
  readonly endMs: number;
  readonly text: string;
  readonly words: readonly TranscriptWord[];
}

/** `transcript.json`, kept beside `recording.json` (and so deleted with the replay, and uploaded with it). */
export interface Transcript {
  readonly version: 1;
  /** Machine-made (the live captions' recogniser): players say so. */
  readonly automatic: true;
  readonly lines: readonly TranscriptLine[];
}

export const TRANSCRIPT_FILE = 'transcript.json';

/**
 * Writes a Space's transcript beside its recording, from the live captions' final lines (program
 * timeline: a recording that started with the program, as every fresh one does, shares it). Nothing is
 * written where there is no recording (never recorded, or deleted while the recogniser flushed): a
 * transcript never outlives its replay. Returns the transcript written, or undefined.
 */
export function saveTranscript(
  storage: MediaStorage,
  log: Logger,
  spaceId: string,
  lines: readonly { startMs: number; endMs: number; text: string; words?: readonly TranscriptWord[] | undefined }[],
): Transcript | undefined {
  if (storage.size(spaceId, 'recording.json') === undefined) {
    log.info({ spaceId }, 'no transcript written: the Space has no recording here');
    return undefined;
  }
  const transcript: Transcript = {
    version: 1,
    automatic: true,
    lines: lines
      .filter((l) => l.text.trim() !== '')
      .map((l) => ({
        startMs: Math.round(l.startMs),
        endMs: Math.round(Math.max(l.endMs, l.startMs)),
        text: l.text,
        words: (l.words ?? []).map((w) => ({ word: w.word, startMs: Math.round(w.startMs), endMs: Math.round(w.endMs) })),
      })),
  };
  try {
    storage.write(spaceId, TRANSCRIPT_FILE, JSON.stringify(transcript));
  } catch (error) {
    log.error({ spaceId, file: TRANSCRIPT_FILE, err: error }, 'transcript write failed: the replay has none');
    return undefined;
  }
  log.info({ spaceId, lines: transcript.lines.length }, 'transcript written');
  return transcript;
}

/** A Space's stored transcript (local disk or, cluster mode, the bucket); undefined when there is none. */
export async function loadTranscript(storage: MediaStorage, spaceId: string): Promise<Transcript | undefined> {
  const raw = await storage.load(spaceId, TRANSCRIPT_FILE);
  return raw === undefined ? undefined : (JSON.parse(new TextDecoder().decode(raw)) as Transcript);
}
