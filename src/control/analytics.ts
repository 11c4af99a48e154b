import { every, type Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { MinuteStats } from '../storage/community-store.ts';
import type { Store } from '../storage/store.ts';

/** How often the counts are written and listener counts sampled. */
export const ANALYTICS_FLUSH_MS = 5_000;
/** Listeners noted between two writes, at most; past it the oldest notes wait for the next write. */
const MAX_PENDING_AUDIENCE = 50_000;
const MINUTE_MS = 60_000;

type Counts = { -readonly [K in Exclude<keyof MinuteStats, 'spaceId' | 'minute'>]: number };

/**
 * A host's analytics, counted where joins are decided: the join path only adds to counters in memory
 * (it writes nothing), and every 5 s this node adds its counts to each minute's row (several control
 * nodes add up; maxima take the larger) and notes who listened (the audience). Peak listeners are
 * sampled from the edges' counts at the same time, for each Space live now.
 */
export class ListenerAnalytics {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #minutes = new Map<string, { spaceId: string; minute: number; counts: Counts }>();
  readonly #audience = new Map<string, { spaceId: string; subject: string; atMs: number }>();
  #listeners: (spaceId: string) => number = () => 0;
  #stop: (() => void) | undefined;
  #flushing: Promise<void> | undefined;

  constructor(store: Store, clock: Clock, log: Logger) {
    this.#store = store;
    this.#clock = clock;
    this.#log = log;
  }

  /** Where the distinct listeners of a Space are counted now (the edges). */
  watch(listeners: (spaceId: string) => number): void {
    this.#listeners = listeners;
  }

  /** A listener token issued: a first join (or, `renewal`, a listener still there), live or replay; `waitedMs` if it came from the line. */
  joined(spaceId: string, subject: string, how: { renewal: boolean; replay: boolean; waitedMs?: number | undefined }): void {
    if (this.#audience.size < MAX_PENDING_AUDIENCE || this.#audience.has(`${spaceId} ${subject}`))
      this.#audience.set(`${spaceId} ${subject}`, { spaceId, subject, atMs: this.#clock.now() });
    if (how.renewal) return;
    const c = this.#counts(spaceId);
    c.joins++;
    if (how.replay) c.replayPlays++;
    if (how.waitedMs !== undefined) {
      c.fromLine++;
      c.maxWaitMs = Math.max(c.maxWaitMs, Math.max(0, Math.round(how.waitedMs)));
    }
  }

  /** A place in line handed out. */
  queued(spaceId: string): void {
    this.#counts(spaceId).queued++;
  }

  reacted(spaceId: string, count: number): void {
    this.#counts(spaceId).reactions += count;
  }

  start(): void {
    this.#stop ??= every(
      this.#clock,
      ANALYTICS_FLUSH_MS,
      () => this.flush(),
      (error) => this.#log.warn({ err: error }, 'analytics: writing the counts failed; they are kept for the next try'),
    );
  }

  /** Stops the timer and writes what is counted (nothing to write: no database work). Idempotent. */
  async stop(): Promise<void> {
    this.#stop?.();
    this.#stop = undefined;
    if (this.#minutes.size === 0 && this.#audience.size === 0) return;
    await this.flush().catch((error: unknown) => this.#log.warn({ err: error }, 'analytics: the last write failed'));
  }

  /** Samples the live Spaces' listeners and writes everything counted so far (one write at a time). */
  flush(): Promise<void> {
    this.#flushing ??= this.#flush().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    const live = await this.#store.listSpaces({ state: 'live', limit: 1000, offset: 0 });
    for (const s of live) {
      const c = this.#counts(s.id);
      c.peakListeners = Math.max(c.peakListeners, this.#listeners(s.id));
    }
    const rows = [...this.#minutes.values()].map(({ spaceId, minute, counts }) => ({ spaceId, minute, ...counts }));
    const audience = [...this.#audience.values()];
    this.#minutes.clear();
    this.#audience.clear();
    const community = this.#store.community();
    try {
      await community.addStats(rows);
    } catch (error) {
      this.#putBack(rows, audience);
      throw error;
    }
    try {
      await community.recordAudience(audience);
    } catch (error) {
      this.#putBack([], audience);
      throw error;
    }
  }

  /** What a failed write did not store, kept for the next one (counts add up again, maxima stay maxima). */
  #putBack(rows: readonly MinuteStats[], audience: readonly { spaceId: string; subject: string; atMs: number }[]): void {
    for (const r of rows) {
      const c = this.#counts(r.spaceId, r.minute);
      for (const k of Object.keys(c) as (keyof Counts)[]) {
        c[k] = k === 'maxWaitMs' || k === 'peakListeners' ? Math.max(c[k], r[k]) : c[k] + r[k];
      }
    }
    for (const a of audience)
      if (!this.#audience.has(`${a.spaceId} ${a.subject}`)) this.#audience.set(`${a.spaceId} ${a.subject}`, a);
  }

  #counts(spaceId: string, minute = Math.floor(this.#clock.now() / MINUTE_MS) * MINUTE_MS): Counts {
    const key = `${spaceId} ${minute}`;
    let entry = this.#minutes.get(key);
    if (entry === undefined) {
      const counts = { joins: 0, queued: 0, fromLine: 0, maxWaitMs: 0, replayPlays: 0, reactions: 0, peakListeners: 0 };
      entry = { spaceId, minute, counts };
      this.#minutes.set(key, entry);
    }
    return entry.counts;
  }
}
