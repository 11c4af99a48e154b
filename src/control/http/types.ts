import type { Admission } from '../../admission/plane.ts';
import type { Config } from '../../config/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import type { App } from '../../lib/http-app.ts';
import type { RateLimiter } from '../../lib/token-bucket.ts';
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
  readonly authLimiter: RateLimiter;
  readonly metrics: ControlMetrics;
  readonly live: LiveSignals;
  /** The door for joins: tokens, tickets, proof of work. */
  readonly admission: Admission;
}
