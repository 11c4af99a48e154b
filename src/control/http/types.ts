import type { Admission } from '../../admission/plane.ts';
import type { Config } from '../../config/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import type { App } from '../../lib/http-app.ts';
import type { Limiter } from '../../lib/token-bucket.ts';
import type { ControlMetrics } from '../metrics.ts';
import type { ControlPlane } from '../plane.ts';
import type { RequestAuth } from './auth.ts';
import type { RecordingFiles } from '../recording-files.ts';
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

export type { ClipRange, RecordingFile, RecordingFiles } from '../recording-files.ts';
