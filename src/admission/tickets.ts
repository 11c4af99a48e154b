import type { Clock } from '../lib/clock.ts';
import { pooledRandom } from '../lib/random-pool.ts';
import type { TokenSigner } from '../lib/signed-token.ts';
import { etaSeconds } from './eta.ts';
import type { LineRules, LineState, LineStore } from './line-store.ts';
import { checkSigned, subjectTag } from './signed.ts';

/**
 * The waiting room: past capacity, `join` hands out a signed number from a FIFO counter per Space.
 * Everyone polls one cacheable value, "now serving N", and exchanges their ticket for a listener
 * token once their number is at or below it.
 *
 * Now-serving is a leaky bucket: it moves forward at the admission rate (the join service's joins/s,
 * read on every step so it follows `Capacity`) while anyone is waiting, and jumps when capacity frees
 * (`release`). It never waits for the holder of a number: a number that came up and was not exchanged
 * within `ticketTtlMs` expires, and the line has long moved on.
 *
 * The line's state (counter, now-serving, come-up times, used numbers, epoch) lives in a `LineStore`:
 * this process's memory, or Redis shared by every control node. A room here signs and checks tickets
 * and asks the store; it keeps only what it last heard, to share the rate among Spaces.
 */

/** Claims of a waiting-room ticket. */
export interface TicketClaims {
  readonly t: 'w';
  /** Space id. */
  readonly s: string;
  /** The number in the line. */
  readonly n: number;
  /** The subject it was issued to, as `subjectTag(subject)`. */
  readonly u: string;
  /** The room's epoch: a ticket from a room that no longer exists (restart, Space re-opened) is refused. */
  readonly i: string;
}

export interface TicketPolicy {
  /** How long a number stays good after it comes up; past that the holder joins again. */
  readonly ticketTtlMs: number;
  /** The signed lifetime of a ticket: the longest anyone may wait in the line. */
  readonly ticketMaxWaitMs: number;
  /** Half-life of the admission-rate estimate behind the ETA. */
  readonly etaHalfLifeMs: number;
}

export interface WaitingRoomOptions {
  readonly spaceId: string;
  readonly clock: Clock;
  readonly signer: TokenSigner;
  readonly store: LineStore;
  readonly policy: TicketPolicy;
  /** This line's admission rate in joins/s, read on every step (e.g. `Capacity.releasePerSecond`). */
  readonly releasePerSecond: () => number;
}

export interface IssuedTicket {
  readonly ticket: string;
  readonly number: number;
  /** How many numbers are ahead: `number - nowServing` (0: exchange it now). */
  readonly position: number;
  readonly etaSeconds: number;
  readonly nowServing: number;
  /** When the signed ticket expires (ms since epoch), however long the line. */
  readonly expiresAt: number;
  /** The measured admission rate behind the ETA. */
  readonly perSecond: number;
}

/**
 * How long a ticket's holder waited, from an exchanged (so verified) ticket: its signed expiry, to the
 * second, less the longest wait it was signed for. For the host's analytics; never for a decision.
 */
export function waitedMs(ticket: string, nowMs: number, ticketMaxWaitMs: number): number | undefined {
  try {
    const claims = JSON.parse(Buffer.from(ticket.slice(0, ticket.indexOf('.')), 'base64url').toString('utf8')) as { e?: unknown };
    return typeof claims.e === 'number' ? Math.max(0, nowMs - (claims.e * 1000 - ticketMaxWaitMs)) : undefined;
  } catch {
    return undefined;
  }
}

export type TicketRefusal = 'forged' | 'expired' | 'not_yet' | 'reused' | 'other_space' | 'wrong_subject';

export type ExchangeResult =
  | { readonly ok: true; readonly number: number }
  | {
      readonly ok: false;
      readonly reason: 'not_yet';
      readonly position: number;
      readonly etaSeconds: number;
      readonly nowServing: number;
      readonly perSecond: number;
    }
  | { readonly ok: false; readonly reason: Exclude<TicketRefusal, 'not_yet'> };

/** The one cacheable value everyone in the line polls. */
export interface LineStatus {
  readonly nowServing: number;
  readonly lastIssued: number;
  /** The admission-rate estimate (numbers per second): a client's ETA is `(number - nowServing) / this`. */
  readonly perSecond: number;
}

/** What this room last heard from the store, and when (on this process's clock). */
interface Heard {
  readonly line: LineState;
  readonly atMs: number;
  readonly perSecond: number;
}

export class WaitingRoom {
  readonly spaceId: string;
  readonly #o: WaitingRoomOptions;
  #heard: Heard | undefined;

  constructor(options: WaitingRoomOptions) {
    const p = options.policy;
    if (!(p.ticketTtlMs > 0) || !(p.ticketMaxWaitMs > 0))
      throw new Error('WaitingRoom needs ticketTtlMs and ticketMaxWaitMs > 0');
    this.spaceId = options.spaceId;
    this.#o = options;
  }

  /** Takes a number for `subject` (an account id, or the random id an anonymous client keeps). */
  async issue(subject: string): Promise<IssuedTicket> {
    if (subject === '') throw new Error('a ticket needs a subject');
    const ticket = await this.#issue(() => subject, false);
    if (ticket === undefined) throw new Error('line store: no number issued'); // only `onlyIfWaiting` takes none
    return ticket;
  }

  /**
   * Takes a number only when someone waits already (a line is never jumped), in the same step that
   * looks: one store round trip either way. `subject` is asked only when a number was taken.
   */
  issueIfWaiting(subject: () => string): Promise<IssuedTicket | undefined> {
    return this.#issue(subject, true);
  }

  /** The highest number admitted so far. */
  async nowServing(): Promise<number> {
    return (await this.status()).nowServing;
  }

  /** Numbers issued and not yet come up. Non-zero means a direct join would jump the line. */
  async waiting(): Promise<number> {
    const s = await this.status();
    return s.lastIssued - s.nowServing;
  }

  /**
   * Whether anyone waited at the last step this process heard of, less what the line has moved since
   * at the rate it moved at (so a line that drained while nobody asked is no line). No round trip:
   * it shares the rate among Spaces; the door asks the store (`issueIfWaiting`).
   */
  get hasLine(): boolean {
    return this.#waitingHeard() > 0;
  }

  /**
   * The line as this process last heard it, moved on since at `perSecond` (the rate the store would
   * move it at on the next step): how many wait (numbers issued, not yet come up), and the ETA a
   * newcomer would be told (0 with nobody waiting: no line). No round trip, for metrics; another
   * node's steps on a shared line show once this one steps too.
   */
  heardLine(perSecond: number): { readonly waiting: number; readonly newcomerEtaSeconds: number; readonly perSecond: number } {
    const h = this.#heard;
    const waiting = this.#waitingHeard(perSecond);
    if (h === undefined || !(waiting > 0)) return { waiting: 0, newcomerEtaSeconds: 0, perSecond: 0 };
    const ahead = Math.ceil(waiting) + 1; // the newcomer's number less now-serving, as `issue` tells it
    return { waiting: Math.ceil(waiting), newcomerEtaSeconds: etaSeconds(ahead, h.line.perSecond), perSecond: h.line.perSecond };
  }

  /** Numbers waiting at the last step heard of, less what the line has moved since at `perSecond` (default: the rate then). */
  #waitingHeard(perSecond?: number): number {
    const h = this.#heard;
    if (h === undefined) return 0;
    const moved = ((perSecond ?? h.perSecond) * Math.max(0, this.#o.clock.now() - h.atMs)) / 1000;
    return h.line.lastIssued - h.line.served - moved;
  }

  async status(): Promise<LineStatus> {
    const line = this.#heardFrom(await this.#o.store.status(this.spaceId, this.#rules()));
    return { nowServing: Math.floor(line.served), lastIssued: line.lastIssued, perSecond: line.perSecond };
  }

  /** Capacity freed (listeners left, a slot opened): admit up to `count` more at once. */
  async release(count: number): Promise<void> {
    this.#heardFrom(await this.#o.store.release(this.spaceId, count, this.#rules()));
  }

  /**
   * Trades a ticket for the right to join: good only for its Space, its subject, once, and only once
   * its number has come up and for `ticketTtlMs` after. On `ok` the caller issues the listener token.
   */
  async exchange(ticket: string, subject: string): Promise<ExchangeResult> {
    const checked = checkSigned<TicketClaims>(this.#o.signer, ticket, this.#o.clock.now(), 'w');
    if (!checked.ok) return checked;
    const c = checked.claims;
    if (!Number.isSafeInteger(c.n) || c.n < 1 || typeof c.s !== 'string' || typeof c.u !== 'string' || typeof c.i !== 'string') {
      return { ok: false, reason: 'forged' };
    }
    if (c.s !== this.spaceId) return { ok: false, reason: 'other_space' };
    if (c.u !== subjectTag(subject)) return { ok: false, reason: 'wrong_subject' };
    const r = await this.#o.store.redeem(this.spaceId, c.n, c.i, this.#rules());
    switch (r.kind) {
      case 'ok':
        return { ok: true, number: c.n };
      case 'not_yet': {
        const line = this.#heardFrom(r.line);
        const nowServing = Math.floor(line.served);
        const position = c.n - nowServing;
        const eta = etaSeconds(position, line.perSecond);
        return { ok: false, reason: 'not_yet', position, etaSeconds: eta, nowServing, perSecond: line.perSecond };
      }
      case 'gone': // a ticket from a room that is gone (the Space ended, a restart of the embedded mode)
      case 'expired':
        return { ok: false, reason: 'expired' };
      case 'reused':
        return { ok: false, reason: 'reused' };
    }
  }

  async #issue(subject: () => string, onlyIfWaiting: boolean): Promise<IssuedTicket | undefined> {
    // Used only if this step makes the room, yet asked on every join: from a pool, not a kernel call each.
    const epoch = pooledRandom(6);
    const r = await this.#o.store.issue(this.spaceId, this.#rules(), { epoch, onlyIfWaiting });
    const line = this.#heardFrom(r.line);
    if (r.issued === undefined) return undefined;
    const { number: n, epoch: i } = r.issued;
    const who = subject();
    if (who === '') throw new Error('a ticket needs a subject');
    const expiresAt = this.#o.clock.now() + this.#o.policy.ticketMaxWaitMs;
    const claims: TicketClaims = { t: 'w', s: this.spaceId, n, u: subjectTag(who), i };
    const nowServing = Math.floor(line.served);
    const position = Math.max(0, n - nowServing);
    return {
      ticket: this.#o.signer.sign(claims, expiresAt),
      number: n,
      position,
      etaSeconds: etaSeconds(position, line.perSecond),
      nowServing,
      expiresAt,
      perSecond: line.perSecond,
    };
  }

  #rules(): LineRules {
    const p = this.#o.policy;
    const perSecond = Math.max(0, this.#o.releasePerSecond());
    return { perSecond, ticketTtlMs: p.ticketTtlMs, etaHalfLifeMs: p.etaHalfLifeMs, keepMs: p.ticketMaxWaitMs };
  }

  #heardFrom(line: LineState): LineState {
    this.#heard = { line, atMs: this.#o.clock.now(), perSecond: Math.max(0, this.#o.releasePerSecond()) };
    return line;
  }
}

export interface WaitingRoomsOptions extends Omit<WaitingRoomOptions, 'spaceId'> {
  /** Where a failed `delete` is reported (it runs in the background). */
  readonly onError: (error: unknown) => void;
}

/**
 * One waiting room per Space, sharing the join service's admission rate fairly among the Spaces that
 * have a line. Delete a Space's room when it ends.
 */
export class WaitingRooms {
  readonly #o: WaitingRoomsOptions;
  #rooms = new Map<string, WaitingRoom>();

  constructor(options: WaitingRoomsOptions) {
    this.#o = options;
  }

  room(spaceId: string): WaitingRoom {
    let room = this.#rooms.get(spaceId);
    if (room === undefined) {
      room = new WaitingRoom({ ...this.#o, spaceId, releasePerSecond: () => this.#share() });
      this.#rooms.set(spaceId, room);
    }
    return room;
  }

  get(spaceId: string): WaitingRoom | undefined {
    return this.#rooms.get(spaceId);
  }

  /**
   * Forgets a Space's room, here and in the store (its tickets are refused everywhere from then on).
   * The store's delete runs in the background (a bus listener cannot wait); a failure goes to
   * `onError`, and the room's keys expire anyway. Steps sent later on the same connection run after it.
   */
  delete(spaceId: string): void {
    this.#rooms.delete(spaceId);
    this.#o.store.delete(spaceId).catch(this.#o.onError);
  }

  get size(): number {
    return this.#rooms.size;
  }

  /**
   * This node's lines as last heard (`WaitingRoom.heardLine`), for metrics: everyone waiting, the
   * longest ETA a newcomer would be told now (the longest line's), and the lines' measured admission rate.
   */
  heardLines(): { readonly waiting: number; readonly longestEtaSeconds: number; readonly perSecond: number } {
    let waiting = 0;
    let longestEtaSeconds = 0;
    let perSecond = 0;
    const share = this.#share();
    for (const room of this.#rooms.values()) {
      const line = room.heardLine(share);
      waiting += line.waiting;
      longestEtaSeconds = Math.max(longestEtaSeconds, line.newcomerEtaSeconds);
      perSecond += line.perSecond;
    }
    return { waiting, longestEtaSeconds, perSecond };
  }

  #share(): number {
    let lines = 0;
    for (const room of this.#rooms.values()) if (room.hasLine) lines++;
    return this.#o.releasePerSecond() / Math.max(1, lines);
  }
}
