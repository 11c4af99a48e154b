import type { StageClaims } from '../control/credentials.ts';
import { AmphiError, rateLimited } from '../errors.ts';
import { every } from '../lib/clock.ts';
import { RateLimiter } from '../lib/token-bucket.ts';
import type { IceServer } from '../shared/ice-servers.ts';
import { TypedEmitter } from '../lib/typed-emitter.ts';
import { newId } from '../lib/ids.ts';
import { CandidateBudget, candidatePolicy, filterOfferCandidates, type CandidatePolicy, type Refusal } from './candidates.ts';
import type { SourceLevel } from './mixer.ts';
import { StageRoom } from './room.ts';
import { checkOffer, fragmentCandidates, iceSessionTag, ifMatches } from './sdp.ts';
import { checkStageNetwork, iceServersFor, weriftNetwork } from './network.ts';
import { SpeakerSession } from './session.ts';
import type { Published, SessionRef, StageDeps } from './deps.ts';

export type { Standing, StageAuthority, StageDeps, Published } from './deps.ts';

/**
 * The stage: WHIP sessions grouped into one room per Space. It enforces the control plane's
 * decisions in the media path: a stage token is checked on every request, mutes reach the mixer on
 * the next 20 ms tick, and moving someone to the audience, removing them or ending the Space closes
 * their sessions at once.
 *
 * A room (and its program, and so a recording) exists only for a live Space: hosts who connect
 * before going live wait in the green room and are put on the mix when the Space starts. A session
 * holds its slot (`maxSessions`) from the moment its POST is accepted, and loses it if ICE has not
 * connected within `connectTimeoutMs`. Remote candidates are filtered (see candidates.ts).
 */
export class StagePlane {
  /** `room` fires when a Space's room (and its program) starts: the origin attaches to it. */
  readonly events: TypedEmitter<{ room: StageRoom }>;
  readonly #d: StageDeps;
  readonly #rooms = new Map<string, StageRoom>();
  readonly #sessions = new Map<string, SessionRef>();
  readonly #limiter: RateLimiter;
  readonly #policy: CandidatePolicy;
  /** Slots taken by POSTs still being answered, so concurrent POSTs cannot exceed maxSessions. */
  #reserved = 0;
  readonly #dropped = new Map<Refusal, number>();
  readonly #stopMonitor: () => void;
  readonly #unsubscribe: (() => void)[] = [];
  #closed = false;

  constructor(deps: StageDeps) {
    this.#d = deps;
    this.events = new TypedEmitter(deps.failures.for('stage.rooms'));
    this.#limiter = new RateLimiter(deps.config.whipPostsPerAccount, deps.clock);
    checkStageNetwork(deps.config);
    this.#policy = candidatePolicy(deps.config);
    const { bus } = deps;
    this.#unsubscribe.push(
      bus.on('member.muted', ({ spaceId, accountId, muted }) => {
        this.#rooms.get(spaceId)?.setMuted(accountId, muted);
        for (const ref of this.#waiting(spaceId)) if (ref.accountId === accountId) ref.muted = muted;
      }),
      bus.on('member.role', ({ spaceId, accountId, role }) => {
        if (role === 'listener') this.#kick(spaceId, accountId, 'moved to the audience');
      }),
      bus.on('member.removed', ({ spaceId, accountId }) => this.#kick(spaceId, accountId, 'removed from the Space')),
      bus.on('space.started', ({ spaceId }) => void this.#openIfOwned(spaceId)),
      bus.on('space.ended', ({ spaceId }) => {
        this.#rooms.get(spaceId)?.close();
        for (const ref of this.#waiting(spaceId)) ref.session.close('the Space has ended');
      }),
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

  /**
   * The room of a Space, created (and its program started) on first use, when the Space starts: the
   * sessions waiting in its green room go on the mix.
   */
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
      for (const ref of this.#waiting(spaceId)) {
        ref.attached = true;
        room.attach(ref.accountId, ref.session, ref.muted);
      }
    }
    return room;
  }

  room(spaceId: string): StageRoom | undefined {
    return this.#rooms.get(spaceId);
  }

  /**
   * This process no longer produces the Space (its lease went to another node): its publishers are
   * closed (they reconnect to the new owner) and its room stops, not as an end (the Space goes on).
   */
  dropRoom(spaceId: string): void {
    this.#rooms.get(spaceId)?.close('shutdown');
    for (const ref of [...this.#sessions.values()])
      if (ref.spaceId === spaceId) ref.session.close('the Space moved to another media node; reconnect');
  }

  async #openIfOwned(spaceId: string): Promise<void> {
    try {
      if (this.#d.owns === undefined || (await this.#d.owns(spaceId))) this.openRoom(spaceId);
    } catch (error) {
      this.#d.log.error({ spaceId, err: error }, 'could not tell whether this node produces the Space');
    }
  }

  /**
   * Who waits in the green room of a scheduled Space: connected or still connecting, and whether their
   * microphone has been heard (the doors' backstage status; nothing is mixed before the start).
   */
  backstage(spaceId: string): { accountId: string; connected: boolean; heard: boolean }[] {
    return this.#waiting(spaceId).map((ref) => ({
      accountId: ref.accountId,
      connected: ref.session.connected,
      heard: ref.session.heard,
    }));
  }

  levels(spaceId: string): SourceLevel[] {
    return this.#rooms.get(spaceId)?.levels() ?? [];
  }

  /** WHIP POST: checks the token and the offer, answers, and puts the speaker on the mix (or in the green room). */
  async publish(spaceId: string, bearer: string | undefined, offer: string): Promise<Published> {
    if (this.#closed) throw new AmphiError('SERVICE_UNAVAILABLE', { headers: { 'retry-after': '1' } });
    const accountId = this.#verify(spaceId, bearer);
    const taken = this.#limiter.take(`${spaceId}:${accountId}`);
    if (!taken.ok) throw rateLimited(taken.retryAfterMs);
    const check = checkOffer(offer);
    if (!check.ok) throw new AmphiError(check.reason, { details: check.detail });
    // Take the slot before the first await: concurrent POSTs each count the ones before them.
    if (this.#sessions.size + this.#reserved >= this.#d.config.maxSessions)
      throw new AmphiError('STAGE_BUSY', { headers: { 'retry-after': '5' } });
    this.#reserved++;
    try {
      return await this.#answer(spaceId, accountId, offer, check.direction === 'sendrecv');
    } finally {
      this.#reserved--;
    }
  }

  async #answer(spaceId: string, accountId: string, offer: string, sendBack: boolean): Promise<Published> {
    const standing = await this.#d.authority.standing(spaceId, accountId);
    if (!standing.ok) throw new AmphiError(standing.code);
    // Owning may fail (Redis or the bucket away during a take-over): the publisher is asked to retry, as when another node owns it.
    const owns = this.#d.owns;
    if (!this.#rooms.has(spaceId) && owns !== undefined && !(await owns(spaceId).catch(() => false))) {
      throw new AmphiError('SERVICE_UNAVAILABLE', {
        headers: { 'retry-after': '1' },
        details: 'another media node produces this Space: ask POST /api/spaces/{id}/stage for its WHIP URL again',
      });
    }
    const sessionId = newId('ss');
    const candidates = new CandidateBudget(this.#policy);
    const filtered = filterOfferCandidates(offer, candidates);
    this.#countDropped(spaceId, sessionId, filtered.dropped);
    const { config, failures } = this.#d;
    let answered: { session: SpeakerSession; answer: string };
    try {
      answered = await SpeakerSession.answer(
        sessionId,
        filtered.sdp,
        sendBack,
        {
          addresses: config.iceAddresses,
          gatherTimeoutMs: config.iceGatherTimeoutMs,
          remote: this.#policy,
          network: weriftNetwork(config),
          clock: this.#d.clock,
        },
        failures.for('stage.session'),
      );
    } catch (error) {
      throw new AmphiError('WHIP_SDP_INVALID', { details: (error as Error).message });
    }
    // Standing may have changed while ICE gathered (a removal, the end): check again before attaching.
    // (Its connection may also have failed already.)
    const still = await this.#d.authority.standing(spaceId, accountId);
    if (!still.ok || this.#closed || answered.session.closed) {
      answered.session.close('refused');
      throw still.ok ? new AmphiError('SERVICE_UNAVAILABLE', { headers: { 'retry-after': '1' } }) : new AmphiError(still.code);
    }
    const { session } = answered;
    // A room that exists means the Space started, even if the standing read just before said not yet.
    const room = this.#rooms.get(spaceId) ?? (still.live ? this.openRoom(spaceId) : undefined);
    if (room === undefined) {
      for (const other of this.#waiting(spaceId))
        if (other.accountId === accountId) other.session.close('replaced by a new connection');
      this.#d.log.info({ spaceId, accountId, sessionId }, 'speaker waiting for the Space to start');
    }
    this.#register({
      spaceId,
      accountId,
      session,
      candidates,
      etag: iceSessionTag(answered.answer),
      patches: new RateLimiter(config.patchesPerSession, this.#d.clock, 1),
      attached: room !== undefined,
      muted: still.muted,
    });
    room?.attach(accountId, session, still.muted);
    return {
      sessionId,
      answer: answered.answer,
      etag: iceSessionTag(answered.answer),
      iceServers: iceServersFor(config.turn, accountId, this.#d.clock.now()),
    };
  }

  /**
   * WHIP PATCH with an SDP fragment: trickled ICE candidates. Rate limited per session; candidates
   * the policy refuses, and those past the session's cap, are dropped and the PATCH still succeeds
   * (204): a client's first candidates are its best, and nothing is sent to the dropped ones. An
   * If-Match that names another ICE session is refused (412); without one, the PATCH applies.
   * Returns the session's ETag.
   */
  async trickle(
    spaceId: string,
    sessionId: string,
    bearer: string | undefined,
    fragment: string,
    ifMatch?: string,
  ): Promise<string> {
    const ref = this.#own(spaceId, sessionId, bearer);
    if (!ifMatches(ifMatch, ref.etag)) throw new AmphiError('WHIP_ETAG_MISMATCH', { headers: { etag: ref.etag } });
    const taken = ref.patches.take('patch');
    if (!taken.ok) throw rateLimited(taken.retryAfterMs);
    const admitted: string[] = [];
    const dropped: Refusal[] = [];
    for (const candidate of fragmentCandidates(fragment)) {
      const refused = ref.candidates.admit(candidate.slice('candidate:'.length));
      if (refused === undefined) admitted.push(candidate);
      else dropped.push(refused);
    }
    this.#countDropped(spaceId, sessionId, dropped);
    for (const candidate of admitted) {
      try {
        await ref.session.addCandidate(candidate);
      } catch (error) {
        throw new AmphiError('WHIP_SDP_INVALID', { details: (error as Error).message });
      }
    }
    return ref.etag;
  }

  /**
   * The ICE servers (TURN) for the holder of a valid stage token of the Space, for WHIP OPTIONS;
   * none without one (TURN credentials are for speakers only).
   */
  iceServers(spaceId: string, bearer: string | undefined): IceServer[] {
    if (bearer === undefined) return [];
    try {
      return iceServersFor(this.#d.config.turn, this.#verify(spaceId, bearer), this.#d.clock.now());
    } catch {
      return [];
    }
  }

  /** WHIP DELETE: ends the session. */
  unpublish(spaceId: string, sessionId: string, bearer: string | undefined): void {
    this.#own(spaceId, sessionId, bearer).session.close('ended by the speaker');
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Speakers' sessions of one Space on this stage (on its mix, or waiting for the Space to start). */
  sessionsOf(spaceId: string): number {
    let n = 0;
    for (const ref of this.#sessions.values()) if (ref.spaceId === spaceId) n++;
    return n;
  }

  /** Remote ICE candidates dropped since start, by reason (for metrics and tests). */
  get droppedCandidates(): ReadonlyMap<Refusal, number> {
    return this.#dropped;
  }

  /** Closes every room and session (shutdown: the Spaces go on, their recordings are suspended). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopMonitor();
    for (const off of this.#unsubscribe) off();
    for (const room of [...this.#rooms.values()]) room.close('shutdown');
    for (const ref of [...this.#sessions.values()]) ref.session.close('the server is restarting; reconnect');
  }

  /** Sessions of a Space waiting in the green room (its Space has not started). */
  #waiting(spaceId: string): SessionRef[] {
    return [...this.#sessions.values()].filter((ref) => ref.spaceId === spaceId && !ref.attached);
  }

  /** Closes an account's sessions in a Space, on the mix or waiting. */
  #kick(spaceId: string, accountId: string, reason: string): void {
    for (const ref of [...this.#sessions.values()])
      if (ref.spaceId === spaceId && ref.accountId === accountId) ref.session.close(reason);
  }

  /** Counts the session against maxSessions until it closes, and closes it if ICE has not connected in time. */
  #register(ref: SessionRef): void {
    const { session } = ref;
    this.#sessions.set(session.id, ref);
    const timer = this.#d.clock.setTimeout(() => {
      if (session.connected) return;
      this.#d.log.info(
        { spaceId: ref.spaceId, accountId: ref.accountId, sessionId: session.id },
        'stage session closed: no ICE connection in time',
      );
      session.close('no connection within stage.connectTimeoutMs');
    }, this.#d.config.connectTimeoutMs);
    session.on('closed', () => {
      this.#d.clock.clearTimeout(timer);
      this.#sessions.delete(session.id);
    });
  }

  #countDropped(spaceId: string, sessionId: string, dropped: readonly Refusal[]): void {
    if (dropped.length === 0) return;
    const byReason: Partial<Record<Refusal, number>> = {};
    for (const reason of dropped) {
      byReason[reason] = (byReason[reason] ?? 0) + 1;
      this.#dropped.set(reason, (this.#dropped.get(reason) ?? 0) + 1);
    }
    this.#d.log.debug({ spaceId, sessionId, dropped: byReason }, 'remote ICE candidates dropped');
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
