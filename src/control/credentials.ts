import { createHash } from 'node:crypto';
import { AmphiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import type { TokenSigner } from '../lib/signed-token.ts';
import type { Account, SpaceRecord, StageRole } from '../storage/store.ts';
import { newId } from '../lib/ids.ts';
import type { Spaces } from './spaces.ts';
import type { SpaceSnapshot } from './snapshots.ts';

/** Claims of a listener token: the edge checks these with the key alone. */
export interface ListenerClaims {
  readonly t: 'l';
  /** Space id. */
  readonly s: string;
  /** Subject: an account id, or `an_...` for an anonymous listener (kept across renewals). */
  readonly u: string;
}

/**
 * An anonymous listener's subject, derived from the secret client id it keeps (`client` in the join
 * body): the token shows the subject, never the secret, so only the client that joined can renew it
 * (tokens travel in URLs and leak). 72 bits, as long as any id: past guessing, and fits `an_` + 12.
 */
export function anonymousSubject(client: string): string {
  return `an_${createHash('sha256').update(`listener:${client}`).digest('base64url').slice(0, 12)}`;
}

/** Who a listener token is for: a renewal's proven subject, or an anonymous client's secret id. */
export interface JoinAs {
  /** The subject from `renewalSubject` (a renewal keeps it). */
  readonly renewing?: string | undefined;
  /** Anonymous callers: the secret id they keep. Without one the token cannot be renewed (join again). */
  readonly client?: string | undefined;
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
  /** The edge for one listener's join (its base URL) and others to fall back on, best first. */
  readonly edgeFor: () => { readonly url: string; readonly fallbacks: readonly string[] };
  readonly hasRecording: (spaceId: string) => boolean;
  /** The stage a Space's publishers connect to (cluster mode: the media node producing it). */
  readonly stageBaseUrl: (spaceId: string) => string | Promise<string>;
}

export interface ListenerGrant {
  readonly token: string;
  readonly playlistUrl: string;
  /** The same program as one held fMP4 stream (the edge's cheapest delivery). */
  readonly streamUrl: string;
  readonly expiresAt: number;
  /** The same two URLs at other edges, best first: where a player goes if its edge fails (same token). */
  readonly fallbacks: readonly { readonly playlistUrl: string; readonly streamUrl: string }[];
  /** Who the token is for (an account id, or an anonymous `an_…` subject), and whether it plays the replay. */
  readonly subject: string;
  readonly replay: boolean;
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
  async admissible(actor: Account | undefined, spaceId: string, client?: string): Promise<boolean> {
    const snap = await this.#o.spaces.snapshot(spaceId);
    this.#requireReplayIfEnded(snap);
    if (actor === undefined && !snap.space.allowAnonymous) throw new AmphiError('AUTH_REQUIRED');
    const subject = actor?.id ?? (client === undefined ? undefined : anonymousSubject(client));
    if (subject !== undefined && snap.banned.has(subject)) throw new AmphiError('REMOVED_FROM_SPACE');
    return snap.space.state !== 'ended';
  }

  /**
   * The subject a renewal is for: that of a good listener token of this Space, proven by the caller
   * (tokens travel in URLs and leak): a signed-in subject by the request's account, an anonymous one
   * by the secret client id it was derived from. Anything else is LISTENER_TOKEN_INVALID.
   */
  renewalSubject(actor: Account | undefined, spaceId: string, token: string, client: string | undefined): string {
    const previous = this.#o.signer.verify<ListenerClaims>(token, this.#o.clock.now());
    if (!previous.ok || previous.claims.t !== 'l' || previous.claims.s !== spaceId)
      throw new AmphiError('LISTENER_TOKEN_INVALID');
    const subject = previous.claims.u;
    const proven = subject.startsWith('an_')
      ? client !== undefined && anonymousSubject(client) === subject
      : subject === actor?.id;
    if (!proven) throw new AmphiError('LISTENER_TOKEN_INVALID');
    return subject;
  }

  /** Signs a listener token for the caller, or for the subject of a renewal (see `renewalSubject`). */
  async join(actor: Account | undefined, spaceId: string, as: JoinAs = {}): Promise<ListenerGrant> {
    const snap = await this.#o.spaces.snapshot(spaceId);
    // An ended Space can be joined as long as it has a recording: the same URL is then the replay.
    this.#requireReplayIfEnded(snap);
    if (actor === undefined && !snap.space.allowAnonymous) throw new AmphiError('AUTH_REQUIRED');
    // Anonymous without a client id: a random subject, which nobody can prove, so never renewed.
    const subject = as.renewing ?? actor?.id ?? (as.client === undefined ? newId('an') : anonymousSubject(as.client));
    // A removed subject gets no token, whether renewing, rejoining with the same client id, or signed in.
    if (snap.banned.has(subject) || (actor !== undefined && snap.banned.has(actor.id))) {
      throw new AmphiError('REMOVED_FROM_SPACE');
    }
    const expiresAt = this.#o.clock.now() + this.#o.listenerTokenTtlSeconds * 1000;
    const token = this.#o.signer.sign({ t: 'l', s: spaceId, u: subject } satisfies ListenerClaims, expiresAt);
    const edge = this.#o.edgeFor();
    const urls = (edgeUrl: string) => {
      const base = `${edgeUrl}/l/${token}/${spaceId}`;
      return { playlistUrl: `${base}/index.m3u8`, streamUrl: `${base}/live.mp4` };
    };
    const replay = snap.space.state === 'ended';
    return { token, expiresAt, ...urls(edge.url), fallbacks: edge.fallbacks.map(urls), subject, replay };
  }

  /**
   * Whether the caller may hear what a Space recorded so far: an ended Space's replay (as
   * `recordingAccess`), or a live one's recent past (as a listener may join). Clips and chapters ask.
   */
  async recordedAccess(actor: Account | undefined, spaceId: string): Promise<SpaceRecord> {
    const snap = await this.#o.spaces.snapshot(spaceId);
    if (snap.space.state === 'ended') return this.recordingAccess(actor, spaceId);
    if (snap.space.state !== 'live') throw new AmphiError('RECORDING_NOT_AVAILABLE');
    await this.admissible(actor, spaceId);
    return snap.space;
  }

  /**
   * Whether this caller may download the Space's recording: whoever may listen to its replay. The
   * Space (title for the file name) when so; RECORDING_NOT_AVAILABLE until it has ended.
   */
  async recordingAccess(actor: Account | undefined, spaceId: string): Promise<SpaceRecord> {
    const snap = await this.#o.spaces.snapshot(spaceId);
    if (snap.space.state !== 'ended') throw new AmphiError('RECORDING_NOT_AVAILABLE');
    if (snap.space.replayDeletedAt !== null) throw new AmphiError('RECORDING_DELETED');
    if (actor === undefined && !snap.space.allowAnonymous) throw new AmphiError('AUTH_REQUIRED');
    if (actor !== undefined && snap.banned.has(actor.id)) throw new AmphiError('REMOVED_FROM_SPACE');
    return snap.space;
  }

  async stage(actor: Account, spaceId: string): Promise<StageGrant> {
    const me = await this.#o.spaces.stageStanding(spaceId, actor.id);
    const expiresAt = this.#o.clock.now() + this.#o.stageTokenTtlSeconds * 1000;
    const token = this.#o.signer.sign({ t: 's', s: spaceId, u: actor.id, r: me.role } satisfies StageClaims, expiresAt);
    return { token, expiresAt, whipUrl: `${await this.#o.stageBaseUrl(spaceId)}/whip/${spaceId}` };
  }

  /** An ended Space is listened to only as its replay: one the host deleted is gone (410), none recorded ended (409). */
  #requireReplayIfEnded(snap: SpaceSnapshot): void {
    if (snap.space.state !== 'ended') return;
    if (snap.space.replayDeletedAt !== null) throw new AmphiError('RECORDING_DELETED');
    if (!this.#o.hasRecording(snap.space.id)) throw new AmphiError('SPACE_ENDED');
  }
}
