/**
 * The flash crowd: distinct anonymous clients POST /join on a schedule; a 200 is a token; a 202 is a
 * ticket, and its holder follows the line and exchanges {ticket, client} for a token when its number
 * comes up; anything else is an error. Callable on any base URL (the drill and its tests). This file
 * makes the load and records what the clients saw; fifo.ts checks the order, analysis.ts sums it up.
 *
 * How waiting clients poll the line (`linePoll`): `cdn` models what the line's `Cache-Control: public,
 * max-age=1` is for: one shared cache (a CDN) in front of GET .../line that refetches it from Amphi
 * when its copy is older than max-age, and every client reads that cache on its own schedule (random
 * phase). `direct`: every client GETs the line from Amphi itself each interval (jittered).
 *
 * Errors: any answer to a join, an exchange or a line poll other than 200/202 (4xx, 5xx), socket
 * errors and timeouts, by kind. A 202 to an exchange is counted as a FIFO violation, not an error. An
 * answer that asks to come back (429 or 503 with Retry-After) is waited for and the request made
 * again, as the web app does (8 times at most); those are counted as `retried`, not as errors, and a
 * line poll so answered is skipped.
 */
import { Agent } from 'node:http';
import { asksToComeBack, comingBack, httpCall, parseJson, type Answer } from '../lib/http-call.ts';
import { sleep } from '../lib/sleep.ts';
import { summarizeCrowd, type CrowdResult, type LineSample, type TicketOutcome, type TimelinePoint } from './analysis.ts';
import type { CrowdOptions, CrowdProgress } from './crowd-options.ts';
import { FifoChecker } from './fifo.ts';
import { CdnClients } from './cdn-clients.ts';

export type { CrowdOptions, CrowdProgress } from './crowd-options.ts';
export type { CrowdResult } from './analysis.ts';

interface Ticketed extends TicketOutcome {
  readonly ticket: string;
  readonly client: string;
  readonly agent: Agent;
  readonly phase: number;
  seenAt: number | undefined;
  pollAt: number;
  notBefore: number;
  state: 'waiting' | 'exchanging' | 'done' | 'failed';
}

/**
 * Runs the crowd against `spaceId` and follows every ticket until it is exchanged or the bound
 * passes. Never throws for the server's answers: they are counted.
 */
export function runCrowd(o: CrowdOptions): Promise<CrowdResult> {
  return new Crowd(o).run();
}

class Crowd {
  readonly #o: CrowdOptions;
  readonly #base: URL;
  readonly #interval: number;
  readonly #timeoutMs: number;
  readonly #agents: Agent[];
  readonly #lineAgent = new Agent({ keepAlive: true, maxSockets: 4 });
  readonly #joinPath: string;
  #linePath: string;
  readonly #fifo = new FifoChecker();
  readonly #errors: Record<string, number> = {};
  readonly #retried: Record<string, number> = {};
  readonly #joinLatency: number[] = [];
  readonly #exchangeLatency: number[] = [];
  readonly #tickets: Ticketed[] = [];
  /** CDN mode: the clients reading the shared cache. */
  readonly #cdnClients: CdnClients<Ticketed>;
  readonly #samples: LineSample[] = [];
  readonly #timeline: TimelinePoint[] = [];
  #attempts = 0;
  #tokens = 0;
  #exchanged = 0;
  #failed = 0;
  #inFlight = 0;
  #linePolls = 0;
  #lineFetches = 0;
  #maxLag = 0;
  #maxAgeMs = 1000;
  /** The newest line answer (by arrival). */
  #line: { nowServing: number; lastIssued: number; perSecond: number; receivedAt: number } | undefined;
  #finished = false;
  readonly #t0 = Date.now();
  readonly #deadline: number;

  constructor(o: CrowdOptions) {
    this.#o = o;
    this.#base = new URL(o.baseUrl);
    this.#interval = o.pollIntervalMs ?? 1000;
    this.#cdnClients = new CdnClients(this.#interval);
    this.#timeoutMs = o.timeoutMs ?? 10_000;
    this.#agents = o.sourceAddresses.map((localAddress) => new Agent({ keepAlive: true, localAddress, maxSockets: 32 }));
    this.#joinPath = `/api/spaces/${o.spaceId}/join`;
    this.#linePath = `/api/spaces/${o.spaceId}/line`;
    this.#deadline = this.#t0 + (o.seconds + o.drainSeconds) * 1000;
  }

  async run(): Promise<CrowdResult> {
    const o = this.#o;
    const cdn = o.linePoll === 'cdn';
    let lastSweepAt = this.#t0;
    // CDN mode: polls of the cache counted as the clients make them (one per client per interval while it waits).
    const sweepTimer = cdn
      ? setInterval(() => {
          const now = Date.now();
          this.#linePolls += Math.round((this.#cdnClients.size * (now - lastSweepAt)) / this.#interval);
          lastSweepAt = now;
          for (const c of this.#cdnClients.sweep(this.#line, now)) void this.#exchange(c);
        }, 50)
      : undefined;
    const cache = cdn ? this.#cdnLoop() : Promise.resolve();
    const progress = setInterval(() => this.#progress(), 1000);

    const launchedAt = await this.#launch();
    // Follow the line until every ticket is exchanged (or failed), or the bound.
    while (Date.now() < this.#deadline && !this.#allSettled()) await sleep(50);
    const drainedAt = this.#allSettled() ? Date.now() : undefined;
    this.#finished = true;
    clearInterval(progress);
    if (sweepTimer !== undefined) clearInterval(sweepTimer);
    await cache;
    // Exchanges already sent finish, within one request timeout (then their agents are destroyed below).
    const lastCall = Date.now() + this.#timeoutMs;
    while (this.#inFlight > 0 && Date.now() < lastCall) await sleep(20);
    const end = Date.now();
    for (const a of [...this.#agents, this.#lineAgent]) a.destroy();

    // A lower number seen come up later than any higher number by more than the observation granularity.
    this.#fifo.comeUpOrder(this.#tickets, this.#interval + (cdn ? this.#maxAgeMs : 0) + 250);
    return summarizeCrowd({
      linePoll: o.linePoll,
      attemptsPerSecond: o.attemptsPerSecond,
      seconds: o.seconds,
      t0: this.#t0,
      launchedAt,
      drainedAt,
      end,
      attempts: this.#attempts,
      maxLagMs: this.#maxLag,
      tokens: this.#tokens,
      exchanged: this.#exchanged,
      tickets: this.#tickets,
      errors: this.#errors,
      retried: this.#retried,
      fifo: this.#fifo.counts,
      samples: this.#samples,
      joinLatency: this.#joinLatency,
      exchangeLatency: this.#exchangeLatency,
      linePolls: this.#linePolls,
      lineFetches: this.#lineFetches,
      timeline: this.#timeline,
    });
  }

  #allSettled(): boolean {
    return this.#exchanged + this.#failed === this.#tickets.length;
  }

  /** Launches on schedule (attempt i is due at t0 + i / rate) while in flight allows; returns when the last went. */
  async #launch(): Promise<number> {
    const o = this.#o;
    const total = Math.max(0, Math.min(o.maxClients ?? Infinity, Math.round(o.attemptsPerSecond * o.seconds)));
    const maxInFlight = o.maxInFlight ?? 4000;
    const running: Promise<void>[] = [];
    let launched = 0;
    while (launched < total) {
      const now = Date.now();
      if (now >= this.#deadline) break;
      while (launched < total && this.#t0 + (launched * 1000) / o.attemptsPerSecond <= now && this.#inFlight < maxInFlight) {
        this.#maxLag = Math.max(this.#maxLag, now - (this.#t0 + (launched * 1000) / o.attemptsPerSecond));
        running.push(this.#attempt(launched));
        launched++;
      }
      await sleep(5);
    }
    const launchedAt = Date.now();
    await Promise.all(running);
    return launchedAt;
  }

  #retry(kind: string): void {
    this.#retried[kind] = (this.#retried[kind] ?? 0) + 1;
  }

  #countError(kind: string): void {
    this.#errors[kind] = (this.#errors[kind] ?? 0) + 1;
  }

  async #tracked<T>(f: () => Promise<T>): Promise<T> {
    this.#inFlight++;
    try {
      return await f();
    } finally {
      this.#inFlight--;
    }
  }

  #call(agent: Agent, method: string, path: string, body?: string): Promise<Answer> {
    return this.#tracked(() => httpCall(this.#base, agent, method, path, body, this.#timeoutMs));
  }

  async #attempt(i: number): Promise<void> {
    this.#attempts++;
    const agent = this.#agents[i % this.#agents.length]!;
    const highestAtSend = this.#fifo.highestNumber;
    const sentAt = Date.now();
    const a = await comingBack(
      () => this.#call(agent, 'POST', this.#joinPath),
      () => this.#retry('join'),
      8,
      this.#deadline,
    );
    const now = Date.now();
    this.#joinLatency.push(now - sentAt);
    const v = parseJson(a.body);
    if (a.status === 200 && typeof v?.token === 'string') {
      this.#tokens++;
      this.#fifo.token(highestAtSend, now);
      return;
    }
    if (a.status === 202 && v !== undefined) {
      this.#ticket(v, agent, now, highestAtSend);
      return;
    }
    this.#countError(a.error ?? `join_http_${a.status}`);
  }

  /** A 202: the ticket is checked for order and followed (or exchanged at once at position 0). */
  #ticket(v: Record<string, unknown>, agent: Agent, now: number, highestAtSend: number): void {
    const { ticket, number, etaSeconds, nowServing, client, lineUrl } = v;
    if (
      typeof ticket !== 'string' ||
      typeof number !== 'number' ||
      typeof etaSeconds !== 'number' ||
      typeof nowServing !== 'number' ||
      typeof client !== 'string' ||
      typeof lineUrl !== 'string'
    ) {
      this.#countError('ticket_bad_body');
      return;
    }
    this.#linePath = new URL(lineUrl, this.#base).pathname;
    this.#fifo.ticket(number, highestAtSend);
    const c: Ticketed = {
      number,
      eta: etaSeconds,
      issuedAt: now,
      ticket,
      client,
      agent,
      phase: Math.random() * this.#interval,
      seenAt: undefined,
      pollAt: 0,
      notBefore: 0,
      state: 'waiting',
    };
    this.#tickets.push(c);
    if (number <= nowServing) {
      // Position 0: its number is up already.
      c.seenAt = now;
      void this.#exchange(c);
    } else this.#follow(c);
  }

  #follow(c: Ticketed): void {
    if (this.#o.linePoll === 'direct') setTimeout(() => void this.#pollDirect(c), Math.max(c.phase, c.notBefore - Date.now()));
    else this.#cdnClients.add(c);
  }

  async #exchange(c: Ticketed): Promise<void> {
    c.state = 'exchanging';
    const sentAt = Date.now();
    const body = JSON.stringify({ ticket: c.ticket, client: c.client });
    const a = await comingBack(
      () => this.#call(c.agent, 'POST', this.#joinPath, body),
      () => this.#retry('exchange'),
      8,
      this.#deadline,
    );
    const now = Date.now();
    this.#exchangeLatency.push(now - sentAt);
    if (a.status === 200 && typeof parseJson(a.body)?.token === 'string') {
      c.state = 'done';
      this.#exchanged++;
      return;
    }
    if (a.status === 202) {
      // The line showed this number come up, and the door says "not yet": a FIFO bug. Follow the line again.
      this.#fifo.notYet();
      c.state = 'waiting';
      c.seenAt = undefined;
      c.notBefore = now + this.#interval;
      this.#follow(c);
      return;
    }
    // The refusal's code and reason in the name (`exchange_http_403_TICKET_INVALID_expired`): a failed night says why.
    const refused = parseJson(a.body) as { error?: { code?: unknown; details?: { reason?: unknown } } } | undefined;
    const why = [refused?.error?.code, refused?.error?.details?.reason].filter((w) => typeof w === 'string').join('_');
    this.#countError(
      a.error ?? (a.status === 200 ? 'exchange_bad_body' : `exchange_http_${a.status}${why === '' ? '' : `_${why}`}`),
    );
    c.state = 'failed';
    this.#failed++;
  }

  /** Every line answer: FIFO checks and the come-up samples. */
  #observeLine(sentAt: number, receivedAt: number, a: Answer): { nowServing: number } | undefined {
    if (asksToComeBack(a)) {
      this.#retry('line');
      return undefined;
    }
    if (a.status !== 200) {
      this.#countError(a.error ?? `line_http_${a.status}`);
      return undefined;
    }
    const v = parseJson(a.body);
    const nowServing = v?.nowServing;
    const lastIssued = v?.lastIssued;
    const perSecond = v?.perSecond;
    if (typeof nowServing !== 'number' || typeof lastIssued !== 'number' || typeof perSecond !== 'number') {
      this.#countError('line_bad_body');
      return undefined;
    }
    const age = /max-age=(\d+)/.exec(String(a.headers['cache-control'] ?? ''));
    if (age !== null) this.#maxAgeMs = Number(age[1]) * 1000;
    this.#fifo.line(sentAt, receivedAt, nowServing);
    const last = this.#samples.at(-1);
    if (this.#o.linePoll === 'cdn' || last === undefined || nowServing !== last.s || receivedAt - last.t >= 100)
      this.#samples.push({ t: (sentAt + receivedAt) / 2, s: nowServing });
    if (this.#line === undefined || receivedAt >= this.#line.receivedAt)
      this.#line = { nowServing, lastIssued, perSecond, receivedAt };
    return { nowServing };
  }

  /** Direct mode: this client's own poll loop. */
  async #pollDirect(c: Ticketed): Promise<void> {
    if (this.#finished || c.state !== 'waiting') return;
    const sentAt = Date.now();
    this.#linePolls++;
    this.#lineFetches++;
    const a = await this.#call(c.agent, 'GET', this.#linePath);
    const receivedAt = Date.now();
    const seen = this.#observeLine(sentAt, receivedAt, a);
    if (this.#finished) return;
    if (seen !== undefined && seen.nowServing >= c.number && receivedAt >= c.notBefore) {
      c.seenAt = receivedAt;
      void this.#exchange(c);
    } else setTimeout(() => void this.#pollDirect(c), this.#interval * (0.8 + 0.4 * Math.random()));
  }

  /** CDN mode: the shared cache refetches the line when its copy is max-age old, while anyone follows it. */
  async #cdnLoop(): Promise<void> {
    while (!this.#finished) {
      if (this.#tickets.length === 0) {
        await sleep(50);
        continue;
      }
      const sentAt = Date.now();
      this.#lineFetches++;
      const a = await this.#call(this.#lineAgent, 'GET', this.#linePath);
      this.#observeLine(sentAt, Date.now(), a);
      await sleep(Math.max(10, sentAt + this.#maxAgeMs - Date.now()));
    }
  }

  #progress(): void {
    const line = this.#line;
    const p: CrowdProgress = {
      elapsedS: Math.round((Date.now() - this.#t0) / 100) / 10,
      attempts: this.#attempts,
      tokens: this.#tokens,
      tickets: this.#tickets.length,
      exchanged: this.#exchanged,
      waiting: this.#tickets.length - this.#exchanged - this.#failed,
      errors: Object.values(this.#errors).reduce((a, b) => a + b, 0),
      nowServing: line?.nowServing ?? 0,
      lastIssued: line?.lastIssued ?? 0,
      perSecond: line?.perSecond ?? 0,
    };
    this.#timeline.push({
      t: p.elapsedS,
      waiting: Math.max(0, p.lastIssued - p.nowServing),
      nowServing: p.nowServing,
      perSecond: p.perSecond,
      exchanged: this.#exchanged,
    });
    this.#o.onProgress?.(p);
  }
}
