/** Within this many seconds of the live edge, a catching-up listener is live: normal speed from then on. */
export const CAUGHT_UP_S = 4;
/** What the page plays is silence under this level (dBFS of the loudest bin). */
export const SILENCE_DB = -75;
/** A silence longer than this is shortened: played at `SILENCE_RATE` until sound returns. */
export const LONG_SILENCE_MS = 1000;
/** Chromium mutes audio above 4x; silence is what is sped through, so nothing is lost. */
export const SILENCE_RATE = 4;
/** The speeds a listener may catch up at. */
export const CATCH_UP_RATES = [1.25, 1.5, 2] as const;

/** Where a catch-up stands: how far behind live, at what speed, and whether it reached live. */
export interface CatchUp {
  readonly behindS: number;
  readonly playbackRate: number;
  readonly live: boolean;
  /** How long the page has played silence, in ms (0 while there is sound). */
  readonly silentMs: number;
}

/**
 * One step of catching up (every `dtMs`): faster than live at `rate`, faster still through a long
 * silence, and once within `CAUGHT_UP_S` of the live edge live for good (speed 1; hls.js keeps it at
 * the edge). Pure, for tests.
 */
export function catchUpStep(
  previous: CatchUp,
  sample: { behindS: number; silent: boolean; dtMs: number },
  rate: number,
): CatchUp {
  const live = previous.live || sample.behindS <= CAUGHT_UP_S;
  const silentMs = sample.silent ? previous.silentMs + sample.dtMs : 0;
  const playbackRate = live ? 1 : silentMs >= LONG_SILENCE_MS ? SILENCE_RATE : rate;
  return { behindS: sample.behindS, playbackRate, live, silentMs };
}
