/**
 * `amphi bench joins`: the flash-crowd drill. A crowd at 10x the join capacity for S seconds, FIFO and
 * honest ETAs in the waiting room, and the listeners already admitted never notice.
 *
 *   npx amphi bench joins [--capacity 200] [--seconds 60] [--listeners 1000] [--json]
 *
 * Starts Amphi pinned to CPU 0 (admission.joinsPerSecond = joinBurst = capacity; proof of work off:
 * its threshold is lifted, PoW is not part of this drill) and pins this process (the generator) to
 * CPU 1. L listeners are admitted to the live demo Space first (paced under capacity) and hold its
 * `live.mp4` stream for the crowd and the expected drain, their stalls counted. A host signs up and
 * creates a scheduled Space B. Then, for S seconds, distinct anonymous clients (each with its own
 * loopback source address among many, under the per-address join limit) POST /join on B at 10x
 * capacity: a 200 is a token; a 202 is a ticket, and its holder follows the line and exchanges
 * {ticket, client} for a token when its number comes up; anything else is an error. At S/2 the host
 * presses "go live". The drill ends when every ticket has been exchanged or S + drain seconds passed.
 * Loopback only; bounded in count and time; stops by itself. Writes reports/bench-joins.{json,html}.
 *
 * How waiting clients poll the line (`--line-poll`): `cdn` (the default) models what the line's
 * `Cache-Control: public, max-age=1` is for: one shared cache (a CDN) in front of GET .../line that
 * refetches it from Amphi when its copy is older than max-age, and every client reads that cache on
 * its own one-second schedule (random phase). At 10x a 200/s capacity the line grows by 1800 a second,
 * and 100k clients each polling Amphi directly would measure the generator, not the door. `direct`:
 * every client GETs the line from Amphi itself each second (jittered); for small runs and tests.
 *
 * Definitions (all measured by the clients):
 * - errors: any answer to a join, an exchange or a line poll other than 200/202 (4xx, 5xx), socket
 *   errors and timeouts, by kind. A 202 to an exchange is counted as a FIFO violation, not an error.
 * - fifoViolations, the sum of:
 *   numberOrder: a join sent after another client's 202 had arrived got a lower (or equal) number;
 *   lineJump: a direct 200 (token without a ticket) to a join sent after a ticket numbered m had
 *     arrived, while a line answer fetched after that 200 still shows nowServing < m (someone jumped);
 *   servingRegressed: a line answer, fetched after an earlier one had arrived, shows a lower nowServing;
 *   notYetAfterComeUp: an exchange refused as not yet (202) after the line showed nowServing >= number;
 *   comeUpOrder: a lower number first seen come up later than a higher number's come-up by more than
 *     the observation granularity (one poll interval + the line's max-age + 250 ms).
 * - etaErrorPct: per ticket, |actual wait - etaSeconds at issue| / max(etaSeconds at issue, 1 s), where
 *   actual wait runs from the 202's arrival to the first poll that showed nowServing >= number (what
 *   the client experiences; it includes up to a poll interval and the cache's age). Tickets still
 *   waiting at the bound count with their error so far if they are already overdue (a lower bound);
 *   the others are censored (left out, counted). etaErrorPctAtComeUp is the same with the server's
 *   own come-up time, interpolated between line answers: the ETA's accuracy without polling delay.
 */
import { jsonApi } from '../test/helpers/json-api.ts';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loopbackSources, type SimResult } from './listener-sim.ts';
import { startAmphi } from './listeners.ts';
import { writeReport, type Target } from './report.ts';
import { cpuMicros } from './proc.ts';
import { simulateProgressive } from './progressive-sim.ts';

// ---------------------------------------------------------------------------------------------
// Small HTTP client: keep-alive agents, one per source address, counted in flight.

export interface Answer {
  /** HTTP status, or -1 for a socket error and -2 for a timeout (`error` says which). */
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly error?: string;
}

export function httpCall(
  base: URL,
  agent: Agent | undefined,
  method: string,
  path: string,
  body: string | undefined,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        path,
        method,
        agent,
        timeout: timeoutMs,
        headers:
          body === undefined
            ? headers
            : { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers });
        });
        res.on('error', (e: Error & { code?: string }) => {
          resolve({ status: -1, body: '', headers: {}, error: errorKind(e) });
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: Error & { code?: string }) => {
      resolve({ status: e.code === 'TIMEOUT' ? -2 : -1, body: '', headers: {}, error: errorKind(e) });
    });
    req.end(body);
  });
}

function errorKind(e: Error & { code?: string }): string {
  if (e.code === 'TIMEOUT') return 'timeout';
  if (e.code === 'ECONNRESET' || e.message === 'aborted') return 'reset';
  return e.code?.toLowerCase() ?? 'socket_error';
}

const parse = (text: string): Record<string, unknown> | undefined => {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The crowd and its line-following clients: callable on any base URL (the bench and the test).

export interface CrowdOptions {
  /** Amphi's API, e.g. http://127.0.0.1:8080. */
  readonly baseUrl: string;
  readonly spaceId: string;
  /** New join attempts per second for `seconds`. */
  readonly attemptsPerSecond: number;
  readonly seconds: number;
  /** After the crowd, keep following tickets at most this long. */
  readonly drainSeconds: number;
  /** Loopback addresses the clients are spread over (client i uses address i mod n). */
  readonly sourceAddresses: readonly string[];
  readonly linePoll: 'cdn' | 'direct';
  /** How often a waiting client looks at the line (default 1000 ms). */
  readonly pollIntervalMs?: number;
  /** At most this many clients in all (default attemptsPerSecond x seconds). */
  readonly maxClients?: number;
  /** Requests in flight at most; past it launches wait (and the drill reports the lag). */
  readonly maxInFlight?: number;
  readonly timeoutMs?: number;
  readonly onProgress?: (p: CrowdProgress) => void;
}

export interface CrowdProgress {
  readonly elapsedS: number;
  readonly attempts: number;
  readonly tokens: number;
  readonly tickets: number;
  readonly exchanged: number;
  readonly waiting: number;
  readonly errors: number;
  readonly nowServing: number;
  readonly lastIssued: number;
  readonly perSecond: number;
}

export interface Quantiles {
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  readonly samples: number;
}

export interface FifoCounts {
  numberOrder: number;
  lineJump: number;
  servingRegressed: number;
  notYetAfterComeUp: number;
  comeUpOrder: number;
}

export interface CrowdResult {
  readonly linePoll: 'cdn' | 'direct';
  readonly attempts: number;
  readonly attemptsPerSecondTarget: number;
  readonly attemptsPerSecondAchieved: number;
  /** The most a launch fell behind its schedule (in-flight bound or a busy generator), ms. */
  readonly maxLaunchLagMs: number;
  readonly tokensIssued: number;
  readonly ticketsIssued: number;
  readonly exchanged: number;
  /** Tickets neither exchanged nor failed when the drill stopped (the bound passed). */
  readonly waitingAtEnd: number;
  readonly errors: Record<string, number>;
  readonly errorCount: number;
  readonly fifoViolations: number;
  readonly fifo: FifoCounts;
  readonly etaErrorPct: Quantiles & { readonly censored: number };
  readonly etaErrorPctAtComeUp: Quantiles;
  /** The client-seen error of exchanged tickets by their ETA at issue (short ETAs suffer the 1 s granularity). */
  readonly etaErrorPctByEta: { readonly under5s: Quantiles; readonly from5to30s: Quantiles; readonly over30s: Quantiles };
  readonly waitSeconds: Quantiles;
  readonly etaSeconds: Quantiles;
  readonly joinLatencyMs: Quantiles;
  readonly exchangeLatencyMs: Quantiles;
  readonly linePolls: number;
  readonly lineFetches: number;
  /** Seconds from the first attempt until every ticket was exchanged (undefined: not by the bound). */
  readonly drainedAtS: number | undefined;
  readonly elapsedS: number;
  readonly timeline: { t: number; waiting: number; nowServing: number; perSecond: number; exchanged: number }[];
}

interface Ticketed {
  readonly number: number;
  readonly eta: number;
  readonly issuedAt: number;
  readonly ticket: string;
  readonly client: string;
  readonly agent: Agent;
  readonly phase: number;
  seenAt: number | undefined;
  pollAt: number;
  notBefore: number;
  state: 'waiting' | 'exchanging' | 'done' | 'failed';
}

interface LineSample {
  /** Midpoint of the request, ms. */
  readonly t: number;
  readonly s: number;
}

/** A binary min-heap of tickets by number. */
class ByNumber {
  readonly #a: Ticketed[] = [];
  get size(): number {
    return this.#a.length;
  }
  peek(): Ticketed | undefined {
    return this.#a[0];
  }
  push(x: Ticketed): void {
    const a = this.#a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.number <= a[i]!.number) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): Ticketed | undefined {
    const a = this.#a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.number < a[m]!.number) m = l;
        if (r < a.length && a[r]!.number < a[m]!.number) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

export function quantiles(values: number[], digits = 1): Quantiles {
  const sorted = values.sort((a, b) => a - b);
  const f = 10 ** digits;
  const q = (p: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0) * f) / f;
  return { p50: q(0.5), p95: q(0.95), max: Math.round((sorted.at(-1) ?? 0) * f) / f, samples: sorted.length };
}

/**
 * Runs the crowd against `spaceId` and follows every ticket until it is exchanged or the bound
 * passes. Never throws for the server's answers: they are counted.
 */
export async function runCrowd(o: CrowdOptions): Promise<CrowdResult> {
  const base = new URL(o.baseUrl);
  const interval = o.pollIntervalMs ?? 1000;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const maxInFlight = o.maxInFlight ?? 4000;
  const total = Math.max(0, Math.min(o.maxClients ?? Infinity, Math.round(o.attemptsPerSecond * o.seconds)));
  const agents = o.sourceAddresses.map((localAddress) => new Agent({ keepAlive: true, localAddress, maxSockets: 32 }));
  const lineAgent = new Agent({ keepAlive: true, maxSockets: 4 });
  const joinPath = `/api/spaces/${o.spaceId}/join`;
  let linePath = `/api/spaces/${o.spaceId}/line`;

  const errors: Record<string, number> = {};
  const fifo: FifoCounts = { numberOrder: 0, lineJump: 0, servingRegressed: 0, notYetAfterComeUp: 0, comeUpOrder: 0 };
  const countError = (kind: string) => (errors[kind] = (errors[kind] ?? 0) + 1);
  const joinLatency: number[] = [];
  const exchangeLatency: number[] = [];
  const tickets: Ticketed[] = [];
  const heap = new ByNumber();
  let due: Ticketed[] = [];
  const samples: LineSample[] = [];
  const timeline: CrowdResult['timeline'] = [];
  let attempts = 0;
  let tokens = 0;
  let exchanged = 0;
  let failed = 0;
  let inFlight = 0;
  let linePolls = 0;
  let lineFetches = 0;
  let maxLag = 0;
  let maxNumberReceived = 0;
  let maxAgeMs = 1000;
  /** The newest line answer (by arrival) and the floor it sets for later fetches. */
  let line: { nowServing: number; lastIssued: number; perSecond: number; receivedAt: number } | undefined;
  let servingFloor = { value: -1, at: 0 };
  /** Direct 200s to check against later line answers: {m: a ticket number that was waiting, at}. */
  let jumpChecks: { m: number; at: number }[] = [];
  let finished = false;
  let drainedAt: number | undefined;
  const t0 = Date.now();
  const crowdEnd = t0 + o.seconds * 1000;
  const deadline = crowdEnd + o.drainSeconds * 1000;

  const tracked = async <T>(f: () => Promise<T>): Promise<T> => {
    inFlight++;
    try {
      return await f();
    } finally {
      inFlight--;
    }
  };

  /** Every line answer: FIFO checks and the come-up samples. */
  const observeLine = (sentAt: number, receivedAt: number, a: Answer) => {
    if (a.status !== 200) {
      countError(a.error ?? `line_http_${a.status}`);
      return undefined;
    }
    const v = parse(a.body);
    const nowServing = v?.nowServing;
    const lastIssued = v?.lastIssued;
    const perSecond = v?.perSecond;
    if (typeof nowServing !== 'number' || typeof lastIssued !== 'number' || typeof perSecond !== 'number') {
      countError('line_bad_body');
      return undefined;
    }
    const age = /max-age=(\d+)/.exec(String(a.headers['cache-control'] ?? ''));
    if (age !== null) maxAgeMs = Number(age[1]) * 1000;
    if (sentAt > servingFloor.at && nowServing < servingFloor.value) fifo.servingRegressed++;
    if (nowServing > servingFloor.value) servingFloor = { value: nowServing, at: receivedAt };
    if (jumpChecks.length > 0) {
      jumpChecks = jumpChecks.filter((c) => {
        if (c.at >= sentAt) return true; // this answer may predate the 200: keep the check
        if (nowServing < c.m) fifo.lineJump++;
        return false;
      });
    }
    const last = samples.at(-1);
    if (o.linePoll === 'cdn' || last === undefined || nowServing !== last.s || receivedAt - last.t >= 100)
      samples.push({ t: (sentAt + receivedAt) / 2, s: nowServing });
    if (line === undefined || receivedAt >= line.receivedAt) line = { nowServing, lastIssued, perSecond, receivedAt };
    return { nowServing };
  };

  const exchange = async (c: Ticketed) => {
    c.state = 'exchanging';
    const sentAt = Date.now();
    const a = await tracked(() =>
      httpCall(base, c.agent, 'POST', joinPath, JSON.stringify({ ticket: c.ticket, client: c.client }), timeoutMs),
    );
    const now = Date.now();
    exchangeLatency.push(now - sentAt);
    if (a.status === 200 && typeof parse(a.body)?.token === 'string') {
      c.state = 'done';
      exchanged++;
      return;
    }
    if (a.status === 202) {
      // The line showed this number come up, and the door says "not yet": a FIFO bug. Follow the line again.
      fifo.notYetAfterComeUp++;
      c.state = 'waiting';
      c.seenAt = undefined;
      c.notBefore = now + interval;
      follow(c);
      return;
    }
    countError(a.error ?? (a.status === 200 ? 'exchange_bad_body' : `exchange_http_${a.status}`));
    c.state = 'failed';
    failed++;
  };

  /** Direct mode: this client's own poll loop. */
  const pollDirect = async (c: Ticketed) => {
    if (finished || c.state !== 'waiting') return;
    const sentAt = Date.now();
    linePolls++;
    lineFetches++;
    const a = await tracked(() => httpCall(base, c.agent, 'GET', linePath, undefined, timeoutMs));
    const receivedAt = Date.now();
    const seen = observeLine(sentAt, receivedAt, a);
    if (finished) return;
    if (seen !== undefined && seen.nowServing >= c.number && receivedAt >= c.notBefore) {
      c.seenAt = receivedAt;
      void exchange(c);
    } else setTimeout(() => void pollDirect(c), interval * (0.8 + 0.4 * Math.random()));
  };

  const follow = (c: Ticketed) => {
    if (o.linePoll === 'direct') setTimeout(() => void pollDirect(c), Math.max(c.phase, c.notBefore - Date.now()));
    else heap.push(c);
  };

  const attempt = async (i: number) => {
    attempts++;
    const agent = agents[i % agents.length]!;
    const maxNumberAtSend = maxNumberReceived;
    const sentAt = Date.now();
    const a = await tracked(() => httpCall(base, agent, 'POST', joinPath, undefined, timeoutMs));
    const now = Date.now();
    joinLatency.push(now - sentAt);
    const v = parse(a.body);
    if (a.status === 200 && typeof v?.token === 'string') {
      tokens++;
      if (maxNumberAtSend > 0) jumpChecks.push({ m: maxNumberAtSend, at: now });
      return;
    }
    if (a.status === 202 && v !== undefined) {
      const { ticket, number, etaSeconds, nowServing, client, lineUrl } = v;
      if (
        typeof ticket !== 'string' ||
        typeof number !== 'number' ||
        typeof etaSeconds !== 'number' ||
        typeof nowServing !== 'number' ||
        typeof client !== 'string' ||
        typeof lineUrl !== 'string'
      ) {
        countError('ticket_bad_body');
        return;
      }
      linePath = new URL(lineUrl, base).pathname;
      if (number <= maxNumberAtSend) fifo.numberOrder++;
      maxNumberReceived = Math.max(maxNumberReceived, number);
      const c: Ticketed = {
        number,
        eta: etaSeconds,
        issuedAt: now,
        ticket,
        client,
        agent,
        phase: Math.random() * interval,
        seenAt: undefined,
        pollAt: 0,
        notBefore: 0,
        state: 'waiting',
      };
      tickets.push(c);
      if (number <= nowServing) {
        // Position 0: its number is up already.
        c.seenAt = now;
        void exchange(c);
      } else follow(c);
      return;
    }
    countError(a.error ?? `join_http_${a.status}`);
  };

  // CDN mode: the shared cache refetches the line when its copy is max-age old, while anyone follows it.
  const cdnLoop = async () => {
    while (!finished) {
      if (tickets.length === 0) {
        await sleep(50);
        continue;
      }
      const sentAt = Date.now();
      lineFetches++;
      const a = await tracked(() => httpCall(base, lineAgent, 'GET', linePath, undefined, timeoutMs));
      observeLine(sentAt, Date.now(), a);
      await sleep(Math.max(10, sentAt + maxAgeMs - Date.now()));
    }
  };

  // CDN mode: clients read the cache on their own schedule; those whose number it shows come up exchange.
  const sweep = () => {
    const now = Date.now();
    if (line !== undefined) {
      for (let c = heap.peek(); c !== undefined && c.number <= line.nowServing; c = heap.peek()) {
        heap.pop();
        // The first poll of this client at or after the cache held this answer (and after a refusal's pause).
        const from = Math.max(line.receivedAt, c.notBefore);
        const k = Math.max(0, Math.ceil((from - c.issuedAt - c.phase) / interval));
        c.pollAt = c.issuedAt + c.phase + k * interval;
        due.push(c);
      }
    }
    if (due.length === 0) return;
    const later: Ticketed[] = [];
    for (const c of due) {
      if (c.pollAt > now) {
        later.push(c);
        continue;
      }
      c.seenAt = c.pollAt;
      void exchange(c);
    }
    due = later;
  };

  // Polls the cache counts as the clients do (one per client per interval while it waits).
  let lastSweepAt = t0;
  const sweepTimer =
    o.linePoll === 'cdn'
      ? setInterval(() => {
          const now = Date.now();
          linePolls += Math.round(((heap.size + due.length) * (now - lastSweepAt)) / interval);
          lastSweepAt = now;
          sweep();
        }, 50)
      : undefined;
  const cdn = o.linePoll === 'cdn' ? cdnLoop() : Promise.resolve();

  const progress = setInterval(() => {
    const waiting = tickets.length - exchanged - failed;
    const p: CrowdProgress = {
      elapsedS: Math.round((Date.now() - t0) / 100) / 10,
      attempts,
      tokens,
      tickets: tickets.length,
      exchanged,
      waiting,
      errors: Object.values(errors).reduce((a, b) => a + b, 0),
      nowServing: line?.nowServing ?? 0,
      lastIssued: line?.lastIssued ?? 0,
      perSecond: line?.perSecond ?? 0,
    };
    timeline.push({
      t: p.elapsedS,
      waiting: Math.max(0, p.lastIssued - p.nowServing),
      nowServing: p.nowServing,
      perSecond: p.perSecond,
      exchanged,
    });
    o.onProgress?.(p);
  }, 1000);

  // Launch on schedule: attempt i is due at t0 + i / rate.
  const running: Promise<void>[] = [];
  let launched = 0;
  while (launched < total) {
    const now = Date.now();
    if (now >= deadline) break;
    while (launched < total && t0 + (launched * 1000) / o.attemptsPerSecond <= now && inFlight < maxInFlight) {
      maxLag = Math.max(maxLag, now - (t0 + (launched * 1000) / o.attemptsPerSecond));
      running.push(attempt(launched));
      launched++;
    }
    await sleep(5);
  }
  const launchedAt = Date.now();
  await Promise.all(running);
  // Follow the line until every ticket is exchanged (or failed), or the bound.
  while (Date.now() < deadline && exchanged + failed < tickets.length) await sleep(50);
  if (exchanged + failed === tickets.length) drainedAt = Date.now();
  finished = true;
  clearInterval(progress);
  if (sweepTimer !== undefined) clearInterval(sweepTimer);
  await cdn;
  // Exchanges already sent finish (bounded by the request timeout).
  while (inFlight > 0) await sleep(20);
  const end = Date.now();
  for (const a of [...agents, lineAgent]) a.destroy();

  // comeUpOrder: a lower number seen come up later than any higher number by more than the granularity.
  const granularity = interval + (o.linePoll === 'cdn' ? maxAgeMs : 0) + 250;
  const seen = tickets.filter((c) => c.seenAt !== undefined).sort((a, b) => b.number - a.number);
  let minHigher = Infinity;
  for (const c of seen) {
    if (c.seenAt! > minHigher + granularity) fifo.comeUpOrder++;
    minHigher = Math.min(minHigher, c.seenAt!);
  }

  // ETA errors: as the client saw it, and against the server's come-up interpolated from the line.
  samples.sort((a, b) => a.t - b.t);
  const comeUpAt = (n: number): number | undefined => {
    let lo = 0;
    let hi = samples.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (samples[mid]!.s >= n) hi = mid;
      else lo = mid + 1;
    }
    const cur = samples[lo];
    if (cur === undefined) return undefined;
    const prev = samples[lo - 1];
    if (prev === undefined || cur.s === prev.s) return cur.t;
    return prev.t + ((n - prev.s) / (cur.s - prev.s)) * (cur.t - prev.t);
  };
  const etaErr: number[] = [];
  const etaErrByEta: [number[], number[], number[]] = [[], [], []];
  const etaErrServer: number[] = [];
  const waits: number[] = [];
  let censored = 0;
  for (const c of tickets) {
    const denom = Math.max(c.eta, 1);
    if (c.seenAt !== undefined) {
      const wait = (c.seenAt - c.issuedAt) / 1000;
      waits.push(wait);
      etaErr.push((100 * Math.abs(wait - c.eta)) / denom);
      etaErrByEta[c.eta < 5 ? 0 : c.eta < 30 ? 1 : 2].push((100 * Math.abs(wait - c.eta)) / denom);
      const up = comeUpAt(c.number);
      if (up !== undefined) etaErrServer.push((100 * Math.abs(Math.max(0, up - c.issuedAt) / 1000 - c.eta)) / denom);
    } else if (c.state === 'waiting') {
      const soFar = (end - c.issuedAt) / 1000;
      if (soFar > c.eta) etaErr.push((100 * (soFar - c.eta)) / denom);
      else censored++;
    }
  }
  const elapsedCrowd = Math.max(0.001, (Math.min(launchedAt, crowdEnd) - t0) / 1000);
  return {
    linePoll: o.linePoll,
    attempts,
    attemptsPerSecondTarget: o.attemptsPerSecond,
    attemptsPerSecondAchieved: Math.round(attempts / Math.max(elapsedCrowd, o.seconds)),
    maxLaunchLagMs: Math.round(maxLag),
    tokensIssued: tokens,
    ticketsIssued: tickets.length,
    exchanged,
    waitingAtEnd: tickets.filter((c) => c.state === 'waiting').length,
    errors,
    errorCount: Object.values(errors).reduce((a, b) => a + b, 0),
    fifoViolations: fifo.numberOrder + fifo.lineJump + fifo.servingRegressed + fifo.notYetAfterComeUp + fifo.comeUpOrder,
    fifo,
    etaErrorPct: { ...quantiles(etaErr), censored },
    etaErrorPctAtComeUp: quantiles(etaErrServer),
    etaErrorPctByEta: {
      under5s: quantiles(etaErrByEta[0]),
      from5to30s: quantiles(etaErrByEta[1]),
      over30s: quantiles(etaErrByEta[2]),
    },
    waitSeconds: quantiles(waits),
    etaSeconds: quantiles(tickets.map((c) => c.eta)),
    joinLatencyMs: quantiles(joinLatency, 0),
    exchangeLatencyMs: quantiles(exchangeLatency, 0),
    linePolls,
    lineFetches,
    drainedAtS: drainedAt === undefined ? undefined : Math.round((drainedAt - t0) / 100) / 10,
    elapsedS: Math.round((end - t0) / 100) / 10,
    timeline,
  };
}

// ---------------------------------------------------------------------------------------------
// The bench: Amphi on CPU 0, admitted listeners, a host, the crowd, the go-live.

export interface JoinsBenchOptions {
  readonly capacity: number;
  readonly seconds: number;
  readonly listeners: number;
  readonly drainSeconds: number;
  readonly linePoll: 'cdn' | 'direct';
  readonly json: boolean;
}

/** Pins this process (all its threads) to `cpu`, so the generator never shares the server's core. */
export function pinSelf(cpu: number): boolean {
  if (availableParallelism() <= cpu) return false;
  return spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/** The live demo Space (the built-in program), once the server has started it. */
export async function demoSpace(url: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const spaces = (await (await fetch(`${url}/api/spaces?state=live`)).json()) as { spaces: { id: string }[] };
    const id = spaces.spaces[0]?.id;
    if (id !== undefined) return id;
    await sleep(100); // the demo starts right after the listener is up
  }
  throw new Error('no live demo Space: the bench needs demo.enabled');
}

/**
 * Admits `count` anonymous listeners to a Space at `perSecond` (under capacity, so they are not
 * queued; if one is, it follows the line like anyone else). Returns their tokens.
 */
export async function admitListeners(
  url: string,
  spaceId: string,
  count: number,
  perSecond: number,
  sources: readonly string[],
): Promise<string[]> {
  const base = new URL(url);
  const agents = sources.map((localAddress) => new Agent({ keepAlive: true, localAddress, maxSockets: 16 }));
  const path = `/api/spaces/${spaceId}/join`;
  const one = async (i: number): Promise<string> => {
    const agent = agents[i % agents.length]!;
    let a = await httpCall(base, agent, 'POST', path, undefined, 10_000);
    for (let tries = 0; a.status === 202 && tries < 600; tries++) {
      const t = parse(a.body)!;
      await sleep(500);
      const l = parse((await httpCall(base, agent, 'GET', String(t.lineUrl), undefined, 10_000)).body);
      if (typeof l?.nowServing === 'number' && l.nowServing >= Number(t.number))
        a = await httpCall(base, agent, 'POST', path, JSON.stringify({ ticket: t.ticket, client: t.client }), 10_000);
    }
    const token = parse(a.body)?.token;
    if (a.status !== 200 || typeof token !== 'string') throw new Error(`join answered ${a.status}: ${a.body}`);
    return token;
  };
  const t0 = Date.now();
  const pending: Promise<string>[] = [];
  for (let i = 0; i < count; i++) {
    pending.push(one(i));
    const due = t0 + ((i + 1) * 1000) / perSecond;
    if (due > Date.now()) await sleep(due - Date.now());
  }
  const tokens = await Promise.all(pending);
  for (const a of agents) a.destroy();
  return tokens;
}

/** `amphi_...{label="x"} value` lines of a Prometheus scrape, summed by a label's value. */
export function scrape(text: string, metric: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  const re = new RegExp(`^${metric}\\{([^}]*)\\} ([\\d.e+-]+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    const value = new RegExp(`${label}="([^"]*)"`).exec(m[1]!)?.[1] ?? '';
    out[value] = (out[value] ?? 0) + Number(m[2]);
  }
  return out;
}

export async function runJoinsBench(o: JoinsBenchOptions): Promise<Record<string, unknown>> {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const C = o.capacity;
  const rate = 10 * C;
  // Tickets pile up at rate - C a second and drain at C: the crowd's expected length with its drain.
  const expectedS = o.seconds * (rate / C) + 3;
  const crowdBoundS = o.seconds + o.drainSeconds;
  const listenerRampS = o.listeners / 500;
  const listenS = Math.ceil(listenerRampS + 3 + Math.min(expectedS, crowdBoundS) + 2);
  const dataDir = mkdtempSync(join(tmpdir(), 'amphi-bench-joins-'));
  const pinned = pinSelf(1);
  const amphi = await startAmphi(dataDir, {
    stage: { programBitrateBps: 32_000 },
    tokens: { listenerTokenTtlSeconds: Math.min(86_400, Math.max(300, Math.ceil(listenS + crowdBoundS + 120))) },
    admission: {
      joinsPerSecond: C,
      joinBurst: C,
      maxListeners: 1_000_000,
      // Proof of work is not part of this drill: its threshold is out of reach.
      pow: { thresholdJoinsPerSecond: 1e9 },
      limits: { joinsPerAddress: { capacity: 1000, refillPerSecond: 100 } },
    },
  });
  const pid = amphi.child.pid!;
  try {
    const demo = await demoSpace(amphi.url);
    log(
      `joins drill: capacity ${C} joins/s, crowd ${rate}/s for ${o.seconds} s (drain bound ${o.drainSeconds} s), ` +
        `${o.listeners} admitted listeners on live.mp4; server on CPU 0, generator ${pinned ? 'on CPU 1' : 'unpinned'}; line polls: ${o.linePoll}`,
    );
    // The host and Space B (scheduled).
    const api = jsonApi(() => amphi.url);
    const signUp = await api('POST', '/api/accounts', undefined, { handle: 'crowd_host', password: 'a long bench password' });
    if (signUp.status !== 201 && signUp.status !== 200) throw new Error(`sign-up answered ${signUp.status}`);
    const hostToken = (signUp.json as { token: string }).token;
    const created = await api('POST', '/api/spaces', hostToken, { title: 'Flash crowd' });
    if (created.status !== 201) throw new Error(`create Space answered ${created.status}`);
    const spaceB = (created.json as { space: { id: string } }).space.id;
    await sleep(3000); // a few parts and a segment before anyone listens

    // Admitted listeners, under capacity (90% of it), before the crowd.
    const listenerSources = loopbackSources(Math.max(1, Math.ceil(o.listeners / 500)));
    const joinedAt = Date.now();
    const tokens = await admitListeners(amphi.url, demo, o.listeners, Math.max(1, 0.9 * C), listenerSources);
    log(`  ${tokens.length} listeners admitted in ${((Date.now() - joinedAt) / 1000).toFixed(1)} s`);
    const listening: Promise<SimResult> = simulateProgressive({
      urls: tokens.map((t) => `${amphi.url}/l/${t}/${demo}/live.mp4`),
      seconds: listenS,
      rampPerSecond: 500,
      sourceAddresses: listenerSources,
      framing: { kind: 'fmp4' },
    });
    await sleep((listenerRampS + 3) * 1000);

    // The crowd, from its own addresses: at most half the per-address refill (100/s) each.
    const crowdSources = Array.from(
      { length: Math.min(2000, Math.max(8, Math.ceil((rate + C) / 50))) },
      (_, i) => `127.${1 + Math.floor(i / 62_500)}.${Math.floor((i % 62_500) / 250)}.${(i % 250) + 1}`,
    );
    const cpuSeries: { t: number; share: number }[] = [];
    const doorSeries: { t: number; factor: number; level: number; lagMaxMs: number }[] = [];
    const startCpu = cpuMicros(pid);
    const startGen = process.cpuUsage();
    const t0 = Date.now();
    let crowdWindow: { cpu: number; gen: NodeJS.CpuUsage; at: number } | undefined;
    let last = { cpu: startCpu, at: t0 };
    const sampler = setInterval(() => {
      const cpu = cpuMicros(pid);
      const at = Date.now();
      cpuSeries.push({ t: (at - t0) / 1000, share: (cpu - last.cpu) / ((at - last.at) * 1000) });
      last = { cpu, at };
      if (crowdWindow === undefined && at >= t0 + o.seconds * 1000) crowdWindow = { cpu, gen: process.cpuUsage(startGen), at };
      // The door's own view, every other second: its capacity factor (AIMD on load signals), its
      // shedding level and the event-loop lag it reacts to.
      if (cpuSeries.length % 2 === 1)
        void fetch(`${amphi.url}/metrics`)
          .then((r) => r.text())
          .then((text) => {
            const one = (name: string) => Number(new RegExp(`^${name} ([\\d.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
            doorSeries.push({
              t: Math.round((at - t0) / 100) / 10,
              factor: one('amphi_admission_capacity_factor'),
              level: one('amphi_admission_degradation_level'),
              lagMaxMs: Math.round(one('amphi_nodejs_eventloop_lag_max_seconds') * 1000),
            });
          })
          .catch(() => {});
    }, 1000);

    // At S/2 the host goes live: the 200 and the public view saying live.
    const goLive = (async () => {
      await sleep((o.seconds / 2) * 1000);
      const pressed = Date.now();
      const started = await api('POST', `/api/spaces/${spaceB}/start`, hostToken);
      const startMs = Date.now() - pressed;
      let liveMs: number | undefined;
      while (Date.now() - pressed < 10_000) {
        const view = await api('GET', `/api/spaces/${spaceB}`);
        if ((view.json as { space?: { state?: string } } | undefined)?.space?.state === 'live') {
          liveMs = Date.now() - pressed;
          break;
        }
        await sleep(20);
      }
      log(`  host pressed go-live: ${started.status} in ${startMs} ms, public view live after ${liveMs ?? 'never (10 s)'} ms`);
      return { status: started.status, startMs, liveMs };
    })();

    const crowd = await runCrowd({
      baseUrl: amphi.url,
      spaceId: spaceB,
      attemptsPerSecond: rate,
      seconds: o.seconds,
      drainSeconds: o.drainSeconds,
      sourceAddresses: crowdSources,
      linePoll: o.linePoll,
      onProgress: (p) => {
        if (Math.round(p.elapsedS) % 5 === 0)
          log(
            `  ${Math.round(p.elapsedS)} s: ${p.attempts} attempts, ${p.tokens} tokens, ${p.tickets} tickets, ${p.exchanged} exchanged, ` +
              `${p.waiting} waiting (line ${p.nowServing}/${p.lastIssued} at ${p.perSecond.toFixed(0)}/s), ${p.errors} errors, ` +
              `server ${Math.round((cpuSeries.at(-1)?.share ?? 0) * 100)}% CPU, door capacity x${doorSeries.at(-1)?.factor.toFixed(2) ?? '?'} ` +
              `(event-loop lag max ${doorSeries.at(-1)?.lagMaxMs ?? '?'} ms)`,
          );
      },
    });
    clearInterval(sampler);
    const end = { cpu: cpuMicros(pid), at: Date.now(), gen: process.cpuUsage(startGen) };
    const host = await goLive;
    const metricsText = await (await fetch(`${amphi.url}/metrics`)).text();
    log('  waiting for the listeners to finish their run...');
    const listened = await listening;
    const listenerStalls = listened.stalls;

    const w = crowdWindow ?? { cpu: end.cpu, gen: end.gen, at: end.at };
    const crowdS = (w.at - t0) / 1000;
    const drainS = Math.max(0.001, (end.at - w.at) / 1000);
    const serverCpuShare = Math.round(((w.cpu - startCpu) / (crowdS * 1e6)) * 1000) / 1000;
    const serverDrainCpuShare = Math.round(((end.cpu - w.cpu) / (drainS * 1e6)) * 1000) / 1000;
    const generatorCpuShare = Math.round(((w.gen.user + w.gen.system) / (crowdS * 1e6)) * 1000) / 1000;
    const generatorBound =
      generatorCpuShare > 0.8 || crowd.attemptsPerSecondAchieved < 0.95 * rate || crowd.maxLaunchLagMs > 1000;
    const decisions = scrape(metricsText, 'amphi_admission_join_decisions_total', 'decision');
    const hostGoLiveMs = host.liveMs ?? Infinity;
    const targets: Target[] = [
      { name: 'errors', value: crowd.errorCount, target: '0', pass: crowd.errorCount === 0 },
      { name: 'fifoViolations', value: crowd.fifoViolations, target: '0', pass: crowd.fifoViolations === 0 },
      { name: 'etaErrorPct.p95', value: crowd.etaErrorPct.p95, target: '<= 20', pass: crowd.etaErrorPct.p95 <= 20 },
      {
        name: 'listenerStallRate',
        value: listened.stallRate,
        target: '<= 0.001',
        pass: listened.stallRate <= 0.001 && Object.keys(listened.errors).length === 0,
      },
      {
        name: 'hostGoLiveMs',
        value: host.liveMs ?? 'never',
        target: '<= 1000',
        pass: host.status === 200 && hostGoLiveMs <= 1000,
      },
    ];
    const { timeline, ...crowdSummary } = crowd;
    const summary: Record<string, unknown> = {
      method:
        `flash crowd at 10x join capacity over loopback: ${rate} join attempts/s for ${o.seconds} s on a scheduled Space (live at S/2), ` +
        `distinct anonymous clients from ${crowdSources.length} source addresses; tickets followed (${o.linePoll === 'cdn' ? 'line read through a shared max-age cache, as a CDN would serve it' : 'every client polls the line itself'}) ` +
        `and exchanged; ${o.listeners} admitted listeners on live.mp4 meanwhile; proof of work off; server CPU from /proc`,
      capacity: C,
      seconds: o.seconds,
      drainSeconds: o.drainSeconds,
      ...crowdSummary,
      serverDecisions: decisions,
      hostGoLiveMs: host.liveMs ?? null,
      hostStartRequestMs: host.startMs,
      hostStartStatus: host.status,
      listeners: {
        admitted: tokens.length,
        started: listened.started,
        seconds: listenS,
        stallRate: listened.stallRate,
        stalls: listenerStalls,
        stalledListeners: listened.stalledListeners,
        parts: listened.parts,
        errors: listened.errors,
        partLatencyMs: listened.partLatencyMs,
      },
      door: {
        minCapacityFactor: Math.min(...doorSeries.map((d) => d.factor)),
        maxDegradationLevel: Math.max(...doorSeries.map((d) => d.level)),
        maxEventLoopLagMs: Math.max(...doorSeries.map((d) => d.lagMaxMs)),
        series: doorSeries,
      },
      serverCpuShare,
      serverDrainCpuShare,
      generatorCpuShare,
      generatorBound,
      targets,
      pass: targets.every((t) => t.pass),
    };
    log('');
    log(
      `crowd: ${crowd.attempts} attempts (${crowd.attemptsPerSecondAchieved}/s of ${rate}/s), ${crowd.tokensIssued} tokens at once, ` +
        `${crowd.ticketsIssued} tickets, ${crowd.exchanged} exchanged, ${crowd.waitingAtEnd} still waiting at the bound` +
        (crowd.drainedAtS === undefined ? '' : ` (line drained at ${crowd.drainedAtS} s)`),
    );
    log(`  errors ${JSON.stringify(crowd.errors)}; FIFO ${JSON.stringify(crowd.fifo)}`);
    log(
      `  door: capacity factor min ${Math.min(...doorSeries.map((d) => d.factor))}, degradation level max ${Math.max(...doorSeries.map((d) => d.level))}, ` +
        `event-loop lag max ${Math.max(...doorSeries.map((d) => d.lagMaxMs))} ms`,
    );
    log(
      `  ETA error p50/p95/max ${crowd.etaErrorPct.p50}/${crowd.etaErrorPct.p95}/${crowd.etaErrorPct.max}% as clients saw it ` +
        `(${crowd.etaErrorPct.samples} tickets, ${crowd.etaErrorPct.censored} censored); at the server's come-up ${crowd.etaErrorPctAtComeUp.p50}/${crowd.etaErrorPctAtComeUp.p95}%; ` +
        `p95 by ETA <5 s ${crowd.etaErrorPctByEta.under5s.p95}%, 5-30 s ${crowd.etaErrorPctByEta.from5to30s.p95}%, >=30 s ${crowd.etaErrorPctByEta.over30s.p95}%`,
    );
    log(
      `  join latency p50/p95/max ${crowd.joinLatencyMs.p50}/${crowd.joinLatencyMs.p95}/${crowd.joinLatencyMs.max} ms; ` +
        `line: ${crowd.linePolls} client polls, ${crowd.lineFetches} fetches from Amphi`,
    );
    log(
      `  listeners: ${listened.started} on live.mp4, stall rate ${listened.stallRate.toFixed(5)} (${listenerStalls} stalls), errors ${JSON.stringify(listened.errors)}`,
    );
    log(
      `  server ${Math.round(serverCpuShare * 100)}% of its core during the crowd, ${Math.round(serverDrainCpuShare * 100)}% during the drain; ` +
        `generator ${Math.round(generatorCpuShare * 100)}% of its core${generatorBound ? ' — GENERATOR-BOUND: the generator, not the server, set the pace' : ''}`,
    );
    for (const t of targets) log(`  ${t.pass ? 'PASS' : 'FAIL'} ${t.name} = ${t.value} (target ${t.target})`);
    const page = writeReport(
      'bench-joins',
      { ...summary, timeline },
      {
        title: 'Flash-crowd drill',
        targets,
        plots: [
          {
            title: 'people in line (lastIssued - nowServing)',
            series: timeline.map((x) => ({ t: x.t, v: x.waiting })),
            unit: 'tickets',
          },
          { title: 'server CPU share', series: cpuSeries.map((x) => ({ t: x.t, v: x.share })), unit: 'cores' },
        ],
      },
    );
    log(`report: ${page}`);
    return summary;
  } finally {
    amphi.child.kill('SIGTERM');
    await new Promise((r) => amphi.child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
