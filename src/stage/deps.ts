import type { Config } from '../config/schema.ts';
import type { ErrorCode } from '../errors.ts';
import type { ControlBus } from '../control/events.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { TokenSigner } from '../lib/signed-token.ts';
import type { RateLimiter } from '../lib/token-bucket.ts';
import type { ListenerFailures } from '../lib/typed-emitter.ts';
import type { IceServer } from '../shared/ice-servers.ts';
import type { CandidateBudget } from './candidates.ts';
import type { SpeakerSession } from './session.ts';

/** What the stage plane is built from and hands out: its dependencies, and a WHIP POST's outcome. */

/**
 * A speaker's standing on a Space's stage right now, as the control plane sees it. `live`: the Space
 * has started; hosts and co-hosts may connect before that, and wait in the green room.
 */
export type Standing =
  { readonly ok: true; readonly muted: boolean; readonly live: boolean } | { readonly ok: false; readonly code: ErrorCode };

/** What the stage asks the control plane; in the embedded mode it reads the cached Space snapshot. */
export interface StageAuthority {
  standing(spaceId: string, accountId: string): Promise<Standing>;
}

export interface StageDeps {
  readonly config: Readonly<Config['stage']>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly signer: TokenSigner;
  readonly authority: StageAuthority;
  readonly bus: ControlBus;
  /** Where listeners that throw are reported (logged and counted). */
  readonly failures: ListenerFailures;
  /**
   * Whether this process may produce the Space (cluster mode: it holds, or has just taken, the Space's
   * lease). Undefined: always (embedded mode). A process that may not opens no room for the Space and
   * refuses its publishers (503: they ask the control plane for the owner's WHIP URL again).
   */
  readonly owns?: (spaceId: string) => Promise<boolean>;
}

/** A WHIP POST's outcome: the session, its SDP answer, its ETag and the ICE servers for the Link headers. */
export interface Published {
  readonly sessionId: string;
  readonly answer: string;
  readonly etag: string;
  readonly iceServers: IceServer[];
}

/** One WHIP session the plane holds. */
export interface SessionRef {
  readonly spaceId: string;
  readonly accountId: string;
  readonly session: SpeakerSession;
  /** The remote candidates it may still add (the offer's count against it). */
  readonly candidates: CandidateBudget;
  /** The WHIP ETag (RFC 9725 §4.3): names the ICE session of the answer. */
  readonly etag: string;
  /** Its trickle PATCHes: one bucket, gone with the session. */
  readonly patches: RateLimiter;
  /** False while it waits in the green room for its Space to start. */
  attached: boolean;
  /** Its mute state while waiting (once attached, the room keeps it). */
  muted: boolean;
}
