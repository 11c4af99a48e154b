import { AmphiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import type { TokenSigner } from '../lib/signed-token.ts';
import type { Account, SpaceRecord, StageRole } from '../storage/store.ts';
import { newId } from '../lib/ids.ts';
import type { Spaces } from './spaces.ts';

/** Claims of a listener token: the edge checks these with the key alone. */
export interface ListenerClaims {
  readonly t: 'l';
  /** Space id. */
  readonly s: string;
  /** Subject: an account id, or `an_...` for an anonymous listener (kept across renewals). */
  readonly u: string;
}

/** Claims of a stage token: the stage admits a WHIP publisher with these. */
export interface StageClaims {
  readonly t: 's';
  readonly s: string;
  readonly u: string;
  readonly r: StageRole;
}

export interface CredentialsOptions {
  readonly spaces: Spaces;
  readonly signer: TokenSigner;
  readonly clock: Clock;
  readonly listenerTokenTtlSeconds: number;
  readonly stageTokenTtlSeconds: number;
  readonly edgeBaseUrl: () => string;
  readonly hasRecording: (spaceId: string) => boolean;
  readonly stageBaseUrl: () => string;
}

export interface ListenerGrant {
  readonly token: string;
  readonly playlistUrl: string;
  /** The same program as one held fMP4 stream (the edge's cheapest delivery). */
  readonly streamUrl: string;
  readonly expiresAt: number;
}

export interface StageGrant {
  readonly token: string;
  readonly whipUrl: string;
  readonly expiresAt: number;
}

/**
 * Issues the signed credentials the media planes accept. Joining reads the cached Space snapshot
 * and signs a token: it writes nothing and, in a burst, reads nothing from the database.
 */
export class Credentials {
  readonly #o: CredentialsOptions;

  constructor(options: CredentialsOptions) {
    this.#o = options;
  }

  /**
   * Whether this caller could join now (the Space exists, is joinable, allows them), without
   * signing anything: checked before anyone is given a place in line. True for a live or scheduled
   * Space (the door applies), false for a replay (no door: the recording is plain cached files).
   */
  async admissible(actor: Account | undefined, spaceId: string): Promise<boolean> {
    const snap = await this.#o.spaces.snapshot(spaceId);
    if (snap.space.state === 'ended' && !this.#o.hasRecording(spaceId)) throw new AmphiError('SPACE_ENDED');
    if (actor === undefined && !snap.space.allowAnonymous) throw new AmphiError('AUTH_REQUIRED');
    if (actor !== undefined && snap.banned.has(actor.id)) throw new AmphiError('REMOVED_FROM_SPACE');
    return snap.space.state !== 'ended';
  }

  async join(actor: Account | undefined, spaceId: string, renewToken?: string): Promise<ListenerGrant> {
    const snap = await this.#o.spaces.snapshot(spaceId);
    // An ended Space can be joined as long as it has a recording: the same URL is then the replay.
    if (snap.space.state === 'ended' && !this.#o.hasRecording(spaceId)) throw new AmphiError('SPACE_ENDED');
    if (actor === undefined && !snap.space.allowAnonymous) throw new AmphiError('AUTH_REQUIRED');
    let subject = actor?.id ?? newId('an');
    if (renewToken !== undefined) {
      const previous = this.#o.signer.verify<ListenerClaims>(renewToken, this.#o.clock.now());
      if (!previous.ok || previous.claims.t !== 'l' || previous.claims.s !== spaceId) {
        throw new AmphiError('LISTENER_TOKEN_INVALID');
      }
      // Tokens travel in URLs and leak; renewing one must not let someone else wear its account.
      const anonymous = previous.claims.u.startsWith('an_');
      if (!anonymous && previous.claims.u !== actor?.id) throw new AmphiError('LISTENER_TOKEN_INVALID');
      subject = previous.claims.u;
    }
    if (snap.banned.has(subject) || (actor !== undefined && snap.banned.has(actor.id))) {
      throw new AmphiError('REMOVED_FROM_SPACE');
    }
    const expiresAt = this.#o.clock.now() + this.#o.listenerTokenTtlSeconds * 1000;
    const token = this.#o.signer.sign({ t: 'l', s: spaceId, u: subject } satisfies ListenerClaims, expiresAt);
    const base = `${this.#o.edgeBaseUrl()}/l/${token}/${spaceId}`;
    return { token, expiresAt, playlistUrl: `${base}/index.m3u8`, streamUrl: `${base}/live.mp4` };
  }

  /**
   * Whether this caller may download the Space's recording: whoever may listen to its replay. The
   * Space (title for the file name) when so; RECORDING_NOT_AVAILABLE until it has ended.
   */
  async recordingAccess(actor: Account | undefined, spaceId: string): Promise<SpaceRecord> {
    const snap = await this.#o.spaces.snapshot(spaceId);
    if (snap.space.state !== 'ended') throw new AmphiError('RECORDING_NOT_AVAILABLE');
    if (actor === undefined && !snap.space.allowAnonymous) throw new AmphiError('AUTH_REQUIRED');
    if (actor !== undefined && snap.banned.has(actor.id)) throw new AmphiError('REMOVED_FROM_SPACE');
    return snap.space;
  }

  async stage(actor: Account, spaceId: string): Promise<StageGrant> {
    const me = await this.#o.spaces.stageStanding(spaceId, actor.id);
    const expiresAt = this.#o.clock.now() + this.#o.stageTokenTtlSeconds * 1000;
    const token = this.#o.signer.sign({ t: 's', s: spaceId, u: actor.id, r: me.role } satisfies StageClaims, expiresAt);
    return { token, expiresAt, whipUrl: `${this.#o.stageBaseUrl()}/whip/${spaceId}` };
  }
}
