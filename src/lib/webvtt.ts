/** WebVTT writing, shared by the live subtitle rendition (origin), chapters and transcripts (control API). */

/** A cue: times in ms, its text (plain text, one or more lines: `webVtt` escapes it). */
export interface VttCue {
  readonly startMs: number;
  readonly endMs: number;
  readonly text: string;
  /** An identifier line before the times (chapters number theirs). */
  readonly id?: string;
}

/** A WebVTT file of cues (times in ms), with an optional header line after `WEBVTT`. */
export function webVtt(cues: readonly VttCue[], header?: string): string {
  const blocks = cues.map(
    (c) =>
      `${c.id === undefined ? '' : `${c.id}\n`}${vttTime(c.startMs)} --> ${vttTime(Math.max(c.endMs, c.startMs + 1))}\n${cueText(c.text)}\n`,
  );
  return [`WEBVTT${header === undefined ? '' : `\n${header}`}\n`, ...blocks].join('\n');
}

/** `hh:mm:ss.ttt`, as WebVTT writes a time. */
export function vttTime(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = Math.floor((total % 60_000) / 1000);
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(total % 1000, 3)}`;
}

/**
 * Plain text as cue text: `&`, `<` and `>` are markup in a cue (and `-->` would end its times), and
 * a blank line would end the cue early, so blank lines are dropped.
 */
export function cueText(text: string): string {
  const escaped = text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  return escaped
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .join('\n');
}
