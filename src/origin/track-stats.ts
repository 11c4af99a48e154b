import type { PlainHistogram } from '../lib/metrics.ts';

/** What the tracks did: parts cut, segments written, and how long each media write took. */
export interface TrackStats {
  parts: number;
  segments: number;
  readonly writeSeconds: PlainHistogram;
}

/** A media write is a local file write (or a put into the upload queue): microseconds to a slow disk's seconds. */
export const WRITE_BOUNDS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
