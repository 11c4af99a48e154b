import type { Admission } from '../../admission/plane.ts';
import type { Config } from '../../config/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import type { App } from '../../lib/http-app.ts';
import type { Limiter } from '../../lib/token-bucket.ts';
import type { ControlMetrics } from '../metrics.ts';
import type { ControlPlane } from '../plane.ts';
import type { RequestAuth } from './auth.ts';
import type { LiveSignals } from './views.ts';

export type { App };

/** What the control routes need from the server that mounts them. */
export interface RouteContext {
  readonly plane: ControlPlane;
  readonly auth: RequestAuth;
  readonly clock: Clock;
  readonly config: Readonly<Config>;
  /** Per-address limiter for password checks (sign-up and sign-in). */
  readonly authLimiter: Limiter;
  readonly metrics: ControlMetrics;
  readonly live: LiveSignals;
  /** The door for joins: tokens, tickets, proof of work. */
  readonly admission: Admission;
  /** Finished recordings as single files (the origin's storage); absent where no media is stored. */
  readonly recordingFiles?: RecordingFiles | undefined;
}

/**
 * An ended Space's recording as one file (`GET /api/spaces/:id/recording.m4a`), made from the stored
 * pieces as it is read. Implemented by the origin (`origin/download.ts`), wired by the role.
 */
export interface RecordingFiles {
  /** The finished recording of a Space, or undefined while it is still recording or when there is none. */
  open(spaceId: string): Promise<RecordingFile | undefined>;
  /** Its chapters by speaker (account ids; times on the replay's timeline), or undefined as for `open`. */
  chapters(spaceId: string): Promise<readonly { startMs: number; endMs: number; speaker: string }[] | undefined>;
}

export interface RecordingFile {
  readonly size: number;
  /** A strong validator: it changes whenever the bytes could. Quoted, ready for the ETag header. */
  readonly etag: string;
  /** How much audio the file holds, in ms (the listed segments it includes). */
  readonly durationMs: number;
  /**
   * The bytes from `start` to `end` inclusive (0 <= start <= end < size), in order, read piece by
   * piece as the consumer pulls: never the whole file in memory. Throws (mid-stream) when the
   * stored pieces changed under it.
   */
  read(start: number, end: number): AsyncIterable<Uint8Array>;
}
