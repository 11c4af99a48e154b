import type { Config } from '../config/schema.ts';
import type { StageClaims } from '../control/credentials.ts';
import type { ControlBus } from '../control/events.ts';
import { AmphiError, rateLimited, type ErrorCode } from '../errors.ts';
import { every, type Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { TokenSigner } from '../lib/signed-token.ts';
import { RateLimiter } from '../lib/token-bucket.ts';
import { TypedEmitter, type ListenerFailures } from '../lib/typed-emitter.ts';
import { newId } from '../lib/ids.ts';
import type { SourceLevel } from './mixer.ts';
import { StageRoom } from './room.ts';
import { checkOffer, fragmentCandidates } from './sdp.ts';
import { SpeakerSession } from './session.ts';

/** A speaker's standing on a Space's stage right now, as the control plane sees it. */
export type Standing = { readonly ok: true; readonly muted: boolean } | { readonly ok: false; readonly code: ErrorCode };

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
}

interface SessionRef {
  readonly spaceId: string;
  readonly accountId: string;
  readonly session: SpeakerSession;
}

/**
 * The stage: WHIP sessions grouped into one room per Space. It enforces the control plane's
 * decisions in the media path: a stage token is checked on every request, mutes reach the mixer on
 * the next 20 ms tick, and moving someone to the audience, removing them or ending the Space closes
 * their sessions at once.
 */
export class StagePlane {
  /** `room` fires when a Space's room (and its program) starts: the origin attaches to it. */
  readonly events: TypedEmitter<{ room: StageRoom }>;
  readonly #d: StageDeps;
  readonly #rooms = new Map<string, StageRoom>();
  readonly #sessions = new Map<string, SessionRef>();
  readonly #limiter: RateLimiter;
  readonly #stopMonitor: () => void;
  readonly #unsubscribe: (() => void)[] = [];
  #closed = false;

  constructor(deps: StageDeps) {
    this.#d = deps;
    this.events = new TypedEmitter(deps.failures.for('stage.rooms'));
    this.#limiter = new RateLimiter(deps.config.whipPostsPerAccount, deps.clock);
    const { bus } = deps;
    this.#unsubscribe.push(
      bus.on('member.muted', ({ spaceId, accountId, muted }) => this.#rooms.get(spaceId)?.setMuted(accountId, muted)),
      bus.on('member.role', ({ spaceId, accountId, role }) => {
        if (role === 'listener') this.#rooms.get(spaceId)?.kick(accountId, 'moved to the audience');
      }),
      bus.on('member.removed', ({ spaceId, accountId }) => this.#rooms.get(spaceId)?.kick(accountId, 'removed from the Space')),
      bus.on('space.started', ({ spaceId }) => void this.openRoom(spaceId)),
      bus.on('space.ended', ({ spaceId }) => this.#rooms.get(spaceId)?.close()),
    );
    this.#stopMonitor = every(
      deps.clock,
      1000,
      () => {
        this.#enforceBitrate();
        return Promise.resolve();
      },
      (error) => deps.log.error({ err: error }, 'stage monitor failed'),
    );
  }

  /** The room of a Space, created (and its program started) on first use. */
  openRoom(spaceId: string): StageRoom {
    let room = this.#rooms.get(spaceId);
    if (room === undefined) {
      const { config, clock, log } = this.#d;
      room = new StageRoom({
        spaceId,
        clock,
        log,
        programBitrateBps: config.programBitrateBps,
        returnBitrateBps: config.returnBitrateBps,
        onListenerError: this.#d.failures.for('stage.program'),
        onClosed: (id) => {
          this.#rooms.delete(id);
          for (const [sid, ref] of this.#sessions) if (ref.spaceId === id) this.#sessions.delete(sid);
        },
      });
      this.#rooms.set(spaceId, room);
      this.events.emit('room', room);
    }
    return room;
  }

  room(spaceId: string): StageRoom | undefined {
    return this.#rooms.get(spaceId);
  }

  levels(spaceId: string): SourceLevel[] {
    return this.#rooms.get(spaceId)?.levels() ?? [];
  }

  /** WHIP POST: checks the token and the offer, answers, and puts the speaker on the mix. */
  async publish(spaceId: string, bearer: string | undefined, offer: string): Promise<{ sessionId: string; answer: string }> {
    if (this.#closed) throw new AmphiError('SERVICE_UNAVAILABLE', { headers: { 'retry-after': '1' } });
    const accountId = this.#verify(spaceId, bearer);
    const taken = this.#limiter.take(`${spaceId}:${accountId}`);
    if (!taken.ok) throw rateLimited(taken.retryAfterMs);
    const check = checkOffer(offer);
    if (!check.ok) throw new AmphiError(check.reason, { details: check.detail });
    const standing = await this.#d.authority.standing(spaceId, accountId);
    if (!standing.ok) throw new AmphiError(standing.code);
    if (this.#sessions.size >= this.#d.config.maxSessions)
      throw new AmphiError('STAGE_BUSY', { headers: { 'retry-after': '5' } });

    const sessionId = newId('ss');
    let answered: { session: SpeakerSession; answer: string };
    try {
      answered = await SpeakerSession.answer(
        sessionId,
        offer,
        check.direction === 'sendrecv',
        { addresses: this.#d.config.iceAddresses, gatherTimeoutMs: this.#d.config.iceGatherTimeoutMs },
        this.#d.failures.for('stage.session'),
      );
    } catch (error) {
      throw new AmphiError('WHIP_SDP_INVALID', { details: (error as Error).message });
    }
    // Standing may have changed while ICE gathered (a removal, the end): check again before attaching.
    const still = await this.#d.authority.standing(spaceId, accountId);
    if (!still.ok || this.#closed) {
      answered.session.close('refused');
      throw new AmphiError(still.ok ? 'SERVICE_UNAVAILABLE' : still.code);
    }
    const { session } = answered;
    this.#sessions.set(sessionId, { spaceId, accountId, session });
    session.on('closed', () => this.#sessions.delete(sessionId));
    this.openRoom(spaceId).attach(accountId, session, still.muted);
    return { sessionId, answer: answered.answer };
  }

  /** WHIP PATCH with an SDP fragment: trickled ICE candidates. */
  async trickle(spaceId: string, sessionId: string, bearer: string | undefined, fragment: string): Promise<void> {
    const ref = this.#own(spaceId, sessionId, bearer);
    for (const candidate of fragmentCandidates(fragment)) {
      try {
        await ref.session.addCandidate(candidate);
      } catch (error) {
        throw new AmphiError('WHIP_SDP_INVALID', { details: (error as Error).message });
      }
    }
  }

  /** WHIP DELETE: ends the session. */
  unpublish(spaceId: string, sessionId: string, bearer: string | undefined): void {
    this.#own(spaceId, sessionId, bearer).session.close('ended by the speaker');
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Closes every room and session (shutdown: the Spaces go on, their recordings are suspended). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopMonitor();
    for (const off of this.#unsubscribe) off();
    for (const room of [...this.#rooms.values()]) room.close('shutdown');
  }

  #verify(spaceId: string, bearer: string | undefined): string {
    if (bearer === undefined) throw new AmphiError('STAGE_TOKEN_INVALID');
    const result = this.#d.signer.verify<StageClaims>(bearer, this.#d.clock.now());
    if (!result.ok || result.claims.t !== 's' || result.claims.s !== spaceId) throw new AmphiError('STAGE_TOKEN_INVALID');
    return result.claims.u;
  }

  #own(spaceId: string, sessionId: string, bearer: string | undefined): SessionRef {
    const accountId = this.#verify(spaceId, bearer);
    const ref = this.#sessions.get(sessionId);
    if (ref === undefined || ref.spaceId !== spaceId || ref.accountId !== accountId)
      throw new AmphiError('WHIP_SESSION_NOT_FOUND');
    return ref;
  }

  #enforceBitrate(): void {
    const limitBytes = this.#d.config.maxSpeakerBitrateBps / 8;
    for (const ref of this.#sessions.values()) {
      const bytes = ref.session.bytesIn;
      ref.session.bytesIn = 0;
      if (bytes > limitBytes) {
        this.#d.log.warn(
          { spaceId: ref.spaceId, accountId: ref.accountId, bytesPerSecond: bytes },
          'speaker over the bitrate cap',
        );
        ref.session.close('over the bitrate cap');
      }
    }
  }
}
