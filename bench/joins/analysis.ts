/**
 * The flash-crowd drill's numbers, from what its clients recorded to the summary it reports. Pure:
 * numbers in, summary out.
 *
 * - etaErrorPct: per ticket, |actual wait - etaSeconds at issue| / max(etaSeconds at issue, 1 s), where
 *   actual wait runs from the 202's arrival to the first poll that showed nowServing >= number (what
 *   the client experiences; it includes up to a poll interval and the cache's age). Tickets still
 *   waiting at the bound count with their error so far if they are already overdue (a lower bound);
 *   the others are censored (left out, counted).
 * - etaErrorPctAtComeUp: the same with the server's own come-up time, interpolated between line
 *   answers: the ETA's accuracy without polling delay.
 */
import type { FifoCounts } from './fifo.ts';
import { quantiles, type Quantiles } from '../lib/quantiles.ts';

/** A line answer: nowServing `s` at `t`, the midpoint of its request (ms). */
export interface LineSample {
  readonly t: number;
  readonly s: number;
}

/** A ticket as its client lived it. */
export interface TicketOutcome {
  readonly number: number;
  /** etaSeconds at issue. */
  readonly eta: number;
  /** When the 202 arrived (ms). */
  readonly issuedAt: number;
  /** When the client first saw its number come up (ms), if it did. */
  readonly seenAt: number | undefined;
  readonly state: 'waiting' | 'exchanging' | 'done' | 'failed';
}

export interface TimelinePoint {
  readonly t: number;
  readonly waiting: number;
  readonly nowServing: number;
  readonly perSecond: number;
  readonly exchanged: number;
}

/** Everything the crowd recorded, in the units it recorded them (times in ms since the epoch). */
export interface CrowdRecord {
  readonly linePoll: 'cdn' | 'direct';
  readonly attemptsPerSecond: number;
  readonly seconds: number;
  readonly t0: number;
  /** When the last attempt was launched. */
  readonly launchedAt: number;
  /** When every ticket was exchanged or failed, if that happened by the bound. */
  readonly drainedAt: number | undefined;
  readonly end: number;
  readonly attempts: number;
  readonly maxLagMs: number;
  readonly tokens: number;
  readonly exchanged: number;
  readonly tickets: readonly TicketOutcome[];
  readonly errors: Record<string, number>;
  /** Requests made again after an answer that asked to come back (429/503 with Retry-After), by kind. */
  readonly retried?: Record<string, number>;
  readonly fifo: FifoCounts;
  /** Line answers, in any order. */
  readonly samples: readonly LineSample[];
  readonly joinLatency: number[];
  readonly exchangeLatency: number[];
  readonly linePolls: number;
  readonly lineFetches: number;
  readonly timeline: TimelinePoint[];
}

export interface EtaReport {
  readonly etaErrorPct: Quantiles & { readonly censored: number };
  readonly etaErrorPctAtComeUp: Quantiles;
  /** The client-seen error of exchanged tickets by their ETA at issue (short ETAs suffer the 1 s granularity). */
  readonly etaErrorPctByEta: { readonly under5s: Quantiles; readonly from5to30s: Quantiles; readonly over30s: Quantiles };
  readonly waitSeconds: Quantiles;
  readonly etaSeconds: Quantiles;
}

export interface CrowdResult extends EtaReport {
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
  readonly retried: Record<string, number>;
  readonly errorCount: number;
  readonly fifoViolations: number;
  readonly fifo: FifoCounts;
  readonly joinLatencyMs: Quantiles;
  readonly exchangeLatencyMs: Quantiles;
  readonly linePolls: number;
  readonly lineFetches: number;
  /** Seconds from the first attempt until every ticket was exchanged (undefined: not by the bound). */
  readonly drainedAtS: number | undefined;
  readonly elapsedS: number;
  readonly timeline: TimelinePoint[];
}

/**
 * When the server's line reached `n`, interpolated between the two answers around it; undefined if no
 * answer reached it. `sorted`: by time, nowServing never decreasing.
 */
export function comeUpAt(sorted: readonly LineSample[], n: number): number | undefined {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.s >= n) hi = mid;
    else lo = mid + 1;
  }
  const cur = sorted[lo];
  if (cur === undefined) return undefined;
  const prev = sorted[lo - 1];
  if (prev === undefined || cur.s === prev.s) return cur.t;
  return prev.t + ((n - prev.s) / (cur.s - prev.s)) * (cur.t - prev.t);
}

/** ETA errors as the clients saw them and at the server's come-up, waits and ETAs, at `end`. */
export function etaReport(tickets: readonly TicketOutcome[], samples: readonly LineSample[], end: number): EtaReport {
  const sorted = [...samples].sort((a, b) => a.t - b.t);
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
      const up = comeUpAt(sorted, c.number);
      if (up !== undefined) etaErrServer.push((100 * Math.abs(Math.max(0, up - c.issuedAt) / 1000 - c.eta)) / denom);
    } else if (c.state === 'waiting') {
      const soFar = (end - c.issuedAt) / 1000;
      if (soFar > c.eta) etaErr.push((100 * (soFar - c.eta)) / denom);
      else censored++;
    }
  }
  return {
    etaErrorPct: { ...quantiles(etaErr), censored },
    etaErrorPctAtComeUp: quantiles(etaErrServer),
    etaErrorPctByEta: {
      under5s: quantiles(etaErrByEta[0]),
      from5to30s: quantiles(etaErrByEta[1]),
      over30s: quantiles(etaErrByEta[2]),
    },
    waitSeconds: quantiles(waits),
    etaSeconds: quantiles(tickets.map((c) => c.eta)),
  };
}

/** The drill's summary of the crowd. */
export function summarizeCrowd(r: CrowdRecord): CrowdResult {
  const elapsedCrowd = Math.max(0.001, (Math.min(r.launchedAt, r.t0 + r.seconds * 1000) - r.t0) / 1000);
  const eta = etaReport(r.tickets, r.samples, r.end);
  return {
    linePoll: r.linePoll,
    attempts: r.attempts,
    attemptsPerSecondTarget: r.attemptsPerSecond,
    attemptsPerSecondAchieved: Math.round(r.attempts / Math.max(elapsedCrowd, r.seconds)),
    maxLaunchLagMs: Math.round(r.maxLagMs),
    tokensIssued: r.tokens,
    ticketsIssued: r.tickets.length,
    exchanged: r.exchanged,
    waitingAtEnd: r.tickets.filter((c) => c.state === 'waiting').length,
    errors: r.errors,
    retried: r.retried ?? {},
    errorCount: Object.values(r.errors).reduce((a, b) => a + b, 0),
    fifoViolations:
      r.fifo.numberOrder + r.fifo.lineJump + r.fifo.servingRegressed + r.fifo.notYetAfterComeUp + r.fifo.comeUpOrder,
    fifo: r.fifo,
    etaErrorPct: eta.etaErrorPct,
    etaErrorPctAtComeUp: eta.etaErrorPctAtComeUp,
    etaErrorPctByEta: eta.etaErrorPctByEta,
    waitSeconds: eta.waitSeconds,
    etaSeconds: eta.etaSeconds,
    joinLatencyMs: quantiles(r.joinLatency, 0),
    exchangeLatencyMs: quantiles(r.exchangeLatency, 0),
    linePolls: r.linePolls,
    lineFetches: r.lineFetches,
    drainedAtS: r.drainedAt === undefined ? undefined : Math.round((r.drainedAt - r.t0) / 100) / 10,
    elapsedS: Math.round((r.end - r.t0) / 100) / 10,
    timeline: r.timeline,
  };
}
