/**
 * The door for joins: decides, per `POST /join`, between a listener token now, a place in line (a
 * signed waiting-room ticket), or a proof-of-work challenge first. Capacity is explicit (config) and
 * follows live signals (event-loop delay, CPU, listeners at the edge) sampled every second, so no one
 * has to switch a cap on by hand on launch night. Everything here is O(1) per join. The waiting
 * room's lines live in a `LineStore`: this process's memory, or Redis shared by every control node
 * (one round trip per decision, two when a line starts).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Config } from '../config/schema.ts';
import { AmphiError, retryLater } from '../errors.ts';
import { every, type Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { TokenSigner } from '../lib/signed-token.ts';
import { RateLimiter } from '../lib/token-bucket.ts';
import { Capacity } from './capacity.ts';
import { LINE_MAX_AGE_SECONDS, RateMeter } from './eta.ts';
import { ProofOfWork, type PowChallenge } from './pow.ts';
import { Shedder } from './shedding.ts';
import { honestLineStore, MemoryLineStore, type LineStore } from './line-store.ts';
import { waitedMs, WaitingRooms, type IssuedTicket, type LineStatus } from './tickets.ts';

export interface AdmissionDeps {
  readonly config: Readonly<Config['admission']>;
  readonly clock: Clock;
  readonly signer: TokenSigner;
  readonly log: Logger;
  /** Listeners this process's edge serves now (admitted and still listening). */
  readonly listeners: () => number;
  /**
   * Whether this subject listens to the Space now (the edge saw it): its renewals then take no place.
   * Without it (no edge in this process) nobody is known to listen, and every renewal takes one.
   */
  readonly listening?: (spaceId: string, subject: string) => boolean;
  /**
   * Where the waiting room's lines live: `MemoryLineStore` (the default: this process alone) or
   * `RedisLineStore` (one line per Space across every control node).
   */
  readonly line?: LineStore;
  /**
   * This node's share of the cluster's door, 0..1 (cluster mode: 1 / the control nodes reporting), so
   * `joinsPerSecond` and `joinBurst` are the cluster's: each node admits its share without asking the
   * others. The waiting room moves at the whole rate (every node steps the one line). Default 1.
   */
  readonly share?: () => number;
  /**
   * A replay check every node shares (cluster mode: Redis `SET NX`): false when a solved challenge was
   * used before on any node. This process's own check runs first either way.
   */
  readonly replay?: { firstUse(nonce: string, expiresAtMs: number): Promise<boolean> };
  /** Load signals; the default reads this process (event-loop delay, CPU). Tests on a fake clock pass their own. */
  readonly load?: LoadSignals;
}

/** Where overload is read from, sampled once a second. */
export interface LoadSignals {
  /** Event-loop delay p99 (ms) and CPU share (0..1) since the last call. */
  sample(): { readonly eventLoopDelayMs: number; readonly cpuShare: number };
  close(): void;
}

/** This process's event-loop delay and CPU time: the signals that say a core is saturated. */
export function processLoad(): LoadSignals {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let cpu = process.cpuUsage();
  let at = performance.now();
  return {
    sample() {
      const used = process.cpuUsage(cpu);
      const now = performance.now();
      const result = {
        eventLoopDelayMs: delay.percentile(99) / 1e6,
        cpuShare: Math.min(1, (used.user + used.system) / 1000 / Math.max(1, now - at)),
      };
      delay.reset();
      cpu = process.cpuUsage();
      at = now;
      return result;
    },
    close: () => delay.disable(),
  };
}

export interface JoinAttempt {
  readonly spaceId: string;
  /** The account id, or the anonymous client's own secret id (bound into its ticket); made on first use. */
  readonly subject: () => string;
  readonly signedIn: boolean;
  readonly address: string;
  readonly ticket?: string | undefined;
  readonly pow?: { readonly challenge: string; readonly solution: string } | undefined;
}

export type JoinDecision =
  /** `waitedMs`: how long the ticket it was exchanged for waited in line (a join from the line). */
  | { readonly kind: 'admit'; readonly waitedMs?: number }
  | { readonly kind: 'wait'; readonly ticket: IssuedTicket; readonly perSecond: number };

/**
 * Why the door refused a join or a renewal: RATE_LIMITED (`limits.joinsPerAddress`), POW_REQUIRED (a
 * challenge sent), POW_INVALID, TICKET_INVALID by its reason (`expired` also covers a ticket of a room
 * that is gone; the rest, forged or someone else's, `ticket_invalid`; a ticket its own subject
 * redeemed before is let in again, not refused), a renewal past
 * `maxListeners` (`full`), and SHARED_STATE_UNAVAILABLE (the shared line away: `unavailable`).
 */
export type JoinRefusal =
  'rate_limited' | 'pow_required' | 'pow_invalid' | 'ticket_invalid' | 'ticket_expired' | 'full' | 'unavailable';

function refusalOf(error: unknown): JoinRefusal | undefined {
  if (!(error instanceof AmphiError)) return undefined;
  switch (error.code) {
    case 'RATE_LIMITED':
      return 'rate_limited';
    case 'POW_REQUIRED':
      return 'pow_required';
    case 'POW_INVALID':
      return 'pow_invalid';
    case 'SHARED_STATE_UNAVAILABLE':
      return 'unavailable';
    case 'TICKET_INVALID': {
      const reason = (error.details as { reason?: unknown } | undefined)?.reason;
      return reason === 'expired' ? 'ticket_expired' : 'ticket_invalid';
    }
    default:
      return undefined;
  }
}

/** A machine with nothing to do (before sampling starts). */
const idle: LoadSignals = { sample: () => ({ eventLoopDelayMs: 0, cpuShare: 0 }), close: () => {} };

/** Signals sampled at this interval; capacity reacts within a couple of samples. */
const SAMPLE_MS = 1000;

export class Admission {
  readonly capacity: Capacity;
  readonly shedder: Shedder;
  readonly rooms: WaitingRooms;
  readonly #d: AdmissionDeps;
  readonly #pow: ProofOfWork;
  readonly #attempts: RateMeter;
  readonly #perAddress: RateLimiter;
  #sampling: { readonly load: LoadSignals; readonly stop: () => void } | undefined;
  #closed = false;
  /**
   * Join attempts, tokens, tickets and challenges since start, for metrics and drills; `admittedLocally`:
   * admitted on this node's share alone while the shared line was unreachable.
   */
  readonly counts = { attempts: 0, admitted: 0, tickets: 0, exchanged: 0, challenges: 0, readmitted: 0, admittedLocally: 0 };
  /** Joins and renewals the door refused since start, by reason (`JoinRefusal`): plain numbers read at scrape time. */
  readonly refusals: Record<JoinRefusal, number> = {
    rate_limited: 0,
    pow_required: 0,
    pow_invalid: 0,
    ticket_invalid: 0,
    ticket_expired: 0,
    full: 0,
    unavailable: 0,
  };

  constructor(deps: AdmissionDeps) {
    this.#d = deps;
    const { config, clock } = deps;
    this.capacity = new Capacity(config, clock, deps.share);
    this.shedder = new Shedder(config.shedding, () => this.capacity.level);
    this.rooms = new WaitingRooms({
      clock,
      signer: deps.signer,
      store: deps.line === undefined ? new MemoryLineStore(clock) : honestLineStore(deps.line, deps.log),
      policy: config,
      releasePerSecond: () => this.capacity.releasePerSecond(),
      onError: (error) => deps.log.error({ err: error }, 'admission: forgetting a waiting room failed'),
    });
    this.#pow = new ProofOfWork({ signer: deps.signer, clock, policy: config.pow });
    this.#attempts = new RateMeter(clock, { initialPerSecond: 0, halfLifeMs: 2000, sampleMs: 250 });
    // Joins and renewals per address: each node allows its share, so a cluster behind a balancer that
    // spreads requests allows the configured rate in all (an address kept on one node gets less, never more).
    const perAddress = config.limits.joinsPerAddress;
    const share = () => Math.min(1, Math.max(0, deps.share?.() ?? 1));
    this.#perAddress = new RateLimiter(
      {
        get capacity() {
          return Math.max(1, perAddress.capacity * share());
        },
        get refillPerSecond() {
          return perAddress.refillPerSecond * share();
        },
      },
      clock,
    );
  }

  /**
   * Starts sampling load once a second. Called when the process begins serving, so the work of
   * starting up is not mistaken for overload (it would send the first joins to the waiting room).
   */
  start(): void {
    if (this.#sampling !== undefined || this.#closed) return;
    const load = this.#d.load ?? processLoad();
    const stop = every(
      this.#d.clock,
      SAMPLE_MS,
      () => {
        this.#sample(load);
        return Promise.resolve();
      },
      (error) => this.#d.log.error({ err: error }, 'admission: load sampling failed'),
    );
    this.#sampling = { load, stop };
  }

  /**
   * Decides one join. Throws the catalogue's errors for refusals: RATE_LIMITED (one address too
   * fast), POW_REQUIRED (with a challenge), POW_INVALID, TICKET_INVALID. A waiting ticket that has not
   * come up is answered with the line again, not an error.
   */
  async decide(a: JoinAttempt): Promise<JoinDecision> {
    try {
      return await this.#decide(a);
    } catch (error) {
      const reason = refusalOf(error);
      if (reason !== undefined) this.refusals[reason]++;
      throw error;
    }
  }

  async #decide(a: JoinAttempt): Promise<JoinDecision> {
    this.counts.attempts++;
    this.#attempts.mark();
    const limited = this.#perAddress.take(a.address);
    if (!limited.ok) {
      throw new AmphiError('RATE_LIMITED', { headers: { 'retry-after': String(Math.ceil(limited.retryAfterMs / 1000)) } });
    }
    const room = this.rooms.room(a.spaceId);
    if (a.ticket !== undefined) {
      const result = await room.exchange(a.ticket, a.subject());
      if (result.ok) {
        this.capacity.noteAdmitted();
        this.counts.exchanged++;
        this.counts.admitted++;
        return { kind: 'admit', waitedMs: waitedMs(a.ticket, this.#d.clock.now(), this.#d.config.ticketMaxWaitMs) };
      }
      if (result.reason === 'reused') {
        // Redeemed before by this very subject (the ticket is bound to it): a retry whose first answer
        // was lost (its control node killed, or Redis failing over, after the redemption). It is the
        // same listener, so it is let in again, not counted a second time: a refusal here would send an
        // admitted listener to the back of the line.
        return { kind: 'admit', waitedMs: waitedMs(a.ticket, this.#d.clock.now(), this.#d.config.ticketMaxWaitMs) };
      }
      if (result.reason === 'not_yet') {
        return {
          kind: 'wait',
          perSecond: result.perSecond,
          ticket: {
            ticket: a.ticket,
            number: result.nowServing + result.position,
            position: result.position,
            etaSeconds: result.etaSeconds,
            nowServing: result.nowServing,
            expiresAt: 0,
            perSecond: result.perSecond,
          },
        };
      }
      throw new AmphiError('TICKET_INVALID', { details: { reason: result.reason } });
    }
    const bits = this.#pow.requiredBits(this.#attempts.perSecond(), a.signedIn);
    if (bits > 0) {
      if (a.pow === undefined) {
        this.counts.challenges++;
        const challenge: PowChallenge = this.#pow.challenge(a.spaceId, a.subject(), bits);
        throw new AmphiError('POW_REQUIRED', { details: { challenge: challenge.challenge, difficultyBits: bits } });
      }
      const proof = this.#pow.verify(a.pow.challenge, a.pow.solution, { spaceId: a.spaceId, subject: a.subject() });
      if (!proof.ok) throw new AmphiError('POW_INVALID', { details: { reason: proof.reason } });
      if (
        this.#d.replay !== undefined &&
        !(await this.#sharedStep(() => this.#d.replay!.firstUse(proof.nonce, proof.expiresAtMs)))
      ) {
        throw new AmphiError('POW_INVALID', { details: { reason: 'reused' } });
      }
    }
    if (!this.shedder.shouldShed('joins')) {
      // A line that exists is never jumped: while anyone waits, newcomers queue behind them.
      let behind: IssuedTicket | undefined;
      try {
        behind = await room.issueIfWaiting(a.subject);
      } catch (error) {
        // The shared line is unreachable (cluster mode, Redis away): this node goes on admitting its
        // own share of the rate, the local capacity; past it, the honest 503 to retry.
        if (!(error instanceof AmphiError && error.code === 'SHARED_STATE_UNAVAILABLE') || !this.capacity.admitNow().ok)
          throw error;
        this.counts.admitted++;
        this.counts.admittedLocally++;
        return { kind: 'admit' };
      }
      if (behind !== undefined) return this.#waiting(behind);
      if (this.capacity.admitNow().ok) {
        this.counts.admitted++;
        return { kind: 'admit' };
      }
    }
    return this.#waiting(await room.issue(a.subject()));
  }

  /** A step on shared state (Redis): unreachable, it is the honest 503 the line store answers too. */
  async #sharedStep<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      this.#d.log.warn({ err: error }, 'admission: shared state unreachable');
      throw retryLater('SHARED_STATE_UNAVAILABLE', 2000);
    }
  }

  #waiting(ticket: IssuedTicket): JoinDecision {
    this.counts.tickets++;
    return { kind: 'wait', ticket, perSecond: ticket.perSecond };
  }

  /**
   * A renewal by an admitted listener: never queued or challenged, but paced per address like any
   * join, so renewing cannot be used to hammer the join service.
   */
  renewal(address: string): void {
    const limited = this.#perAddress.take(address);
    if (!limited.ok) {
      this.refusals.rate_limited++;
      throw new AmphiError('RATE_LIMITED', { headers: { 'retry-after': String(Math.ceil(limited.retryAfterMs / 1000)) } });
    }
  }

  /**
   * A renewal counts against the listener cap: a subject the edge does not see listening now (it
   * left, or never played) takes a place like an admitted join, so renewing a token is no way
   * around `maxListeners`. Without a free place: LISTENER_TOKEN_INVALID, i.e. join again through
   * the door (and its line). A listener still listening renews freely.
   */
  readmit(spaceId: string, subject: string): void {
    if (this.#d.listening?.(spaceId, subject) === true) return;
    if (this.capacity.freeSlots === 0) {
      this.refusals.full++;
      throw new AmphiError('LISTENER_TOKEN_INVALID', { details: { reason: 'full' } });
    }
    this.capacity.noteAdmitted();
    this.counts.readmitted++;
  }

  /** How long the line's value may be cached (the ETA counts on it): its `Cache-Control: max-age`. */
  readonly lineMaxAgeSeconds = LINE_MAX_AGE_SECONDS;

  /** The one value the waiting room polls: cacheable, the same for everyone (on every node). */
  line(spaceId: string): Promise<LineStatus> {
    return this.rooms.room(spaceId).status();
  }

  /** Feeds the live signals into capacity; called every second once started (and by tests). */
  sample(): void {
    this.#sample(this.#sampling?.load ?? this.#d.load ?? idle);
  }

  #sample(signals: LoadSignals): void {
    const load = signals.sample();
    this.capacity.observeEventLoopDelay(load.eventLoopDelayMs);
    this.capacity.observeCpuShare(load.cpuShare);
    this.capacity.setListeners(this.#d.listeners());
  }

  close(): void {
    this.#closed = true;
    this.#sampling?.stop();
    this.#sampling?.load.close();
  }
}
