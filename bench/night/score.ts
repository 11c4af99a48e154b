/**
 * The launch-night scorecard: what the drill recorded, turned into the figures the issue names, each
 * with its goal and X Spaces' night (2024-08-12) as the reference. Pure functions of the record, so
 * that a test can feed it a night that went wrong and see it fail.
 */
import type { CrowdResult } from '../joins/analysis.ts';
import type { ListenerLog, Silence } from './audience.ts';

/** A fault the drill caused, and when (ms since the epoch). */
export interface Fault {
  readonly name: string;
  readonly at: number;
  /** When what it broke was back, if measured. */
  readonly backAt?: number;
}

export interface NightRecord {
  readonly scheduledAt: number;
  /** When the host's go-live was answered, and when the public view said live. */
  readonly startedAt: number;
  readonly liveAt: number | undefined;
  readonly pressedAt: number;
  readonly endedAt: number;
  readonly crowd: CrowdResult;
  readonly audience: readonly ListenerLog[];
  readonly faults: readonly Fault[];
  /** The program's own hole (the media failover): from the kill until audio was produced again. */
  readonly programGap: Silence | undefined;
  /** The speakers' publishers: each interruption, from the fault that caused it until it was back. */
  readonly speakerInterruptionsMs: readonly number[];
  readonly replay: {
    readonly readyMs: number | undefined;
    readonly decodedMs: number;
    readonly listedMs: number;
    /** Runs of consecutive gap segments, and their total length. */
    readonly gapRuns: number;
    readonly gapMs: number;
    readonly toneShare: number;
    readonly gaps?: readonly { readonly msn: number; readonly at: number }[];
  };
}

export interface Target {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly goal: string;
  readonly pass: boolean;
  /** X Spaces, 2024-08-12, where known. */
  readonly x?: string;
}

/** A silence a player with this much buffered audio does not notice. */
export const PLAYER_BUFFER_MS = 2000;
/** Trying to listen counts as reached when audio came within this, or a place in line with an ETA. */
export const REACHED_WITHIN_MS = 10_000;

/** The audience's silences outside the program's own hole (during it there was nothing to hear). */
function deliverySilences(logs: readonly ListenerLog[], programGap: Silence | undefined): Silence[] {
  const inGap = (s: Silence) =>
    programGap !== undefined && s.from >= programGap.from - 1000 && s.to <= programGap.to + PLAYER_BUFFER_MS;
  return logs.flatMap((l) => l.silences.filter((s) => !inGap(s)));
}

/** The figures of the night, in the record's units (ms, counts). */
function measure(r: NightRecord) {
  const { crowd, audience } = r;
  const goLive = Math.max(r.scheduledAt, r.pressedAt);
  // Reached: audio within 10 s of trying (or of go-live, for those who came before it), or a place in line.
  const reached = audience.filter(
    (l) =>
      l.ticket !== undefined ||
      (l.firstAudioAt !== undefined && l.firstAudioAt - Math.max(l.triedAt, goLive) <= REACHED_WITHIN_MS),
  ).length;
  const crowdReached = crowd.tokensIssued + crowd.ticketsIssued;
  const tried = audience.length + crowd.attempts;
  const audienceErrors = audience.reduce((n, l) => n + l.errors.length, 0);
  const listeningMs = audience.reduce((n, l) => n + (l.firstAudioAt === undefined ? 0 : r.endedAt - l.firstAudioAt), 0);
  const stalls = deliverySilences(audience, r.programGap).filter((s) => s.to - s.from > PLAYER_BUFFER_MS);
  const stalledMs = stalls.reduce((n, s) => n + (s.to - s.from - PLAYER_BUFFER_MS), 0);
  const longestSilenceMs = Math.max(0, ...audience.flatMap((l) => l.silences.map((s) => s.to - s.from)));
  const minutesLate = Math.max(0, r.startedAt - r.scheduledAt) / 60_000;
  const goLiveMs = (r.liveAt ?? Infinity) - r.pressedAt;
  // What the player decodes of what is listed, and what the listing (gaps included) lacks of the show.
  const decodeMissingMs = Math.max(0, r.replay.listedMs - r.replay.decodedMs);
  const showMs = r.endedAt - (r.liveAt ?? r.startedAt);
  const timelineMissingMs = Math.max(0, showMs - r.replay.listedMs - r.replay.gapMs);
  const missingMs = decodeMissingMs + timelineMissingMs;
  return {
    reached,
    crowdReached,
    tried,
    audienceErrors,
    listeningMs,
    stalls,
    stalledMs,
    longestSilenceMs,
    minutesLate,
    goLiveMs,
    missingMs,
    decodeMissingMs,
    timelineMissingMs,
  };
}

/** Each figure against its goal, with X's night beside it. */
function targetsOf(r: NightRecord, m: ReturnType<typeof measure>): Target[] {
  const { crowd } = r;
  return [
    {
      name: 'minutes late',
      value: round(m.minutesLate, 2),
      unit: 'min',
      goal: '0 (under 2 s)',
      pass: m.minutesLate * 60_000 < 2000,
      x: '42',
    },
    {
      name: 'would-be listeners who heard audio within 10 s or held a place in line',
      value: round((100 * (m.reached + m.crowdReached)) / Math.max(1, m.tried), 3),
      unit: '%',
      goal: '>= 99.9',
      pass: m.reached + m.crowdReached >= 0.999 * m.tried,
      x: 'about 1.2 M of a much larger crowd; joins failed ("This Space is not available")',
    },
    {
      name: 'errors shown to people',
      value: crowd.errorCount + m.audienceErrors,
      unit: '',
      goal: '0',
      pass: crowd.errorCount + m.audienceErrors === 0,
      x: 'many',
    },
    { name: 'FIFO violations', value: crowd.fifoViolations, unit: '', goal: '0', pass: crowd.fifoViolations === 0, x: 'no line' },
    {
      name: 'ETA error p95',
      value: round(crowd.etaErrorPct.p95, 1),
      unit: '%',
      goal: '<= 20',
      pass: crowd.etaErrorPct.p95 <= 20,
      x: 'no ETA',
    },
    {
      name: "admitted listeners' stall rate (outside the failover's own hole)",
      value: round((100 * m.stalledMs) / Math.max(1, m.listeningMs), 3),
      unit: '%',
      goal: '<= 0.1',
      pass: m.stalledMs <= 0.001 * m.listeningMs,
    },
    {
      name: 'longest silence any listener heard',
      value: round(m.longestSilenceMs / 1000, 1),
      unit: 's',
      goal: '<= 10 (the failover budget)',
      pass: m.longestSilenceMs <= 10_000,
    },
    {
      name: "host's time to go live",
      value: Math.round(m.goLiveMs),
      unit: 'ms',
      goal: '< 1000',
      pass: m.goLiveMs < 1000,
      x: '42 min late',
    },
    {
      name: "speakers' longest interruption",
      value: round(Math.max(0, ...r.speakerInterruptionsMs) / 1000, 1),
      unit: 's',
      goal: '<= 10 (the failover budget)',
      pass: Math.max(0, ...r.speakerInterruptionsMs) <= 10_000,
    },
    {
      name: 'audio missing from the replay beyond the marked failover gap',
      value: round(m.missingMs / 1000, 2),
      unit: 's',
      goal: 'decoded: < 0.2 of what is listed; listed: the show less < 2 s; one marked gap',
      pass: m.decodeMissingMs < 200 && m.timelineMissingMs < 2000 && r.replay.gapRuns <= 1,
    },
    {
      name: 'replay ready after the end',
      value: round((r.replay.readyMs ?? Infinity) / 1000, 1),
      unit: 's',
      goal: '< 5',
      pass: (r.replay.readyMs ?? Infinity) < 5000,
    },
  ];
}

export function scoreNight(r: NightRecord) {
  const { crowd, audience } = r;
  const m = measure(r);
  const { tried, stalls } = m;
  const targets = targetsOf(r, m);
  return {
    pass: targets.every((t) => t.pass),
    targets,
    figures: {
      tried,
      audience: audience.length,
      audienceHeard: audience.filter((l) => l.firstAudioAt !== undefined).length,
      crowd: { attempts: crowd.attempts, tokens: crowd.tokensIssued, tickets: crowd.ticketsIssued, errors: crowd.errors },
      audienceErrors: audience.flatMap((l) => l.errors),
      stalls: stalls.length,
      /** When the first stalls were, in seconds from the scheduled start (to tell which fault caused them). */
      stallsAt: stalls
        .slice(0, 30)
        .map((x) => [round((x.from - r.scheduledAt) / 1000, 1), round((x.to - r.scheduledAt) / 1000, 1)]),
      listenerReconnects: audience.reduce((n, l) => n + l.reconnects, 0),
      programGapMs: r.programGap === undefined ? undefined : r.programGap.to - r.programGap.from,
      replay: { ...r.replay, gaps: r.replay.gaps?.map((g) => ({ msn: g.msn, atS: round((g.at - r.scheduledAt) / 1000, 1) })) },
      speakerInterruptionsS: r.speakerInterruptionsMs.map((ms) => round(ms / 1000, 1)),
      faults: r.faults.map((f) => ({ name: f.name, atS: round((f.at - r.scheduledAt) / 1000, 1) })),
    },
  };
}

export type NightScore = ReturnType<typeof scoreNight>;

function round(v: number, digits: number): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
