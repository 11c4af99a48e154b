/** The flash-crowd drill's summary, targets, printed lines and report page. */
import { scrape } from '../lib/metrics.ts';
import { writeReport, type Target } from '../lib/report.ts';
import type { SimResult } from '../listener-sim.ts';
import type { CrowdResult } from './analysis.ts';
import type { DrillPlan, JoinsBenchOptions } from './drill-plan.ts';
import type { ServerLoad } from './server-watch.ts';

/** What a drill run produced, apart from the server's load. */
export interface DrillRun {
  readonly o: JoinsBenchOptions;
  readonly plan: DrillPlan;
  readonly crowd: CrowdResult;
  /** How many source addresses the crowd came from. */
  readonly crowdSources: number;
  readonly host: { readonly status: number; readonly startMs: number; readonly liveMs: number | undefined };
  readonly listened: SimResult;
  readonly admitted: number;
}

const log = (s: string) => process.stderr.write(`${s}\n`);

function targets({ crowd, host, listened }: DrillRun): Target[] {
  const hostGoLiveMs = host.liveMs ?? Infinity;
  return [
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
}

/** The generator, not the server, set the pace: it was busy, fell behind its rate, or launched late. */
const generatorBound = (r: DrillRun, load: ServerLoad) =>
  load.generatorCpuShare > 0.8 || r.crowd.attemptsPerSecondAchieved < 0.95 * r.plan.rate || r.crowd.maxLaunchLagMs > 1000;

export function summarizeDrill(r: DrillRun, load: ServerLoad, metricsText: string): Record<string, unknown> {
  const { o, crowd, host, listened } = r;
  const t = targets(r);
  // The timeline goes to the report page, not the summary.
  const crowdSummary = Object.fromEntries(Object.entries(crowd).filter(([key]) => key !== 'timeline'));
  const door = load.doorSeries;
  return {
    method:
      `flash crowd at 10x join capacity over loopback: ${r.plan.rate} join attempts/s for ${o.seconds} s on a scheduled Space (live at S/2), ` +
      `distinct anonymous clients from ${r.crowdSources} source addresses; tickets followed (${o.linePoll === 'cdn' ? 'line read through a shared max-age cache, as a CDN would serve it' : 'every client polls the line itself'}) ` +
      `and exchanged; ${o.listeners} admitted listeners on live.mp4 meanwhile; proof of work off; server CPU from /proc`,
    capacity: o.capacity,
    seconds: o.seconds,
    drainSeconds: o.drainSeconds,
    ...crowdSummary,
    serverDecisions: scrape(metricsText, 'amphi_admission_join_decisions_total', 'decision'),
    hostGoLiveMs: host.liveMs ?? null,
    hostStartRequestMs: host.startMs,
    hostStartStatus: host.status,
    listeners: {
      admitted: r.admitted,
      started: listened.started,
      seconds: r.plan.listenS,
      stallRate: listened.stallRate,
      stalls: listened.stalls,
      stalledListeners: listened.stalledListeners,
      parts: listened.parts,
      errors: listened.errors,
      partLatencyMs: listened.partLatencyMs,
    },
    door: {
      minCapacityFactor: Math.min(...door.map((d) => d.factor)),
      maxDegradationLevel: Math.max(...door.map((d) => d.level)),
      maxEventLoopLagMs: Math.max(...door.map((d) => d.lagMaxMs)),
      series: door,
    },
    serverCpuShare: load.serverCpuShare,
    serverDrainCpuShare: load.serverDrainCpuShare,
    generatorCpuShare: load.generatorCpuShare,
    generatorBound: generatorBound(r, load),
    targets: t,
    pass: t.every((x) => x.pass),
  };
}

/** The drill's closing lines on stderr, and reports/bench-joins.{json,html}. */
export function reportDrill(r: DrillRun, load: ServerLoad, summary: Record<string, unknown>): void {
  const { crowd, listened } = r;
  const door = load.doorSeries;
  log('');
  log(
    `crowd: ${crowd.attempts} attempts (${crowd.attemptsPerSecondAchieved}/s of ${r.plan.rate}/s), ${crowd.tokensIssued} tokens at once, ` +
      `${crowd.ticketsIssued} tickets, ${crowd.exchanged} exchanged, ${crowd.waitingAtEnd} still waiting at the bound` +
      (crowd.drainedAtS === undefined ? '' : ` (line drained at ${crowd.drainedAtS} s)`),
  );
  log(`  errors ${JSON.stringify(crowd.errors)}; FIFO ${JSON.stringify(crowd.fifo)}`);
  log(
    `  door: capacity factor min ${Math.min(...door.map((d) => d.factor))}, degradation level max ${Math.max(...door.map((d) => d.level))}, ` +
      `event-loop lag max ${Math.max(...door.map((d) => d.lagMaxMs))} ms`,
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
    `  listeners: ${listened.started} on live.mp4, stall rate ${listened.stallRate.toFixed(5)} (${listened.stalls} stalls), errors ${JSON.stringify(listened.errors)}`,
  );
  log(
    `  server ${Math.round(load.serverCpuShare * 100)}% of its core during the crowd, ${Math.round(load.serverDrainCpuShare * 100)}% during the drain; ` +
      `generator ${Math.round(load.generatorCpuShare * 100)}% of its core${generatorBound(r, load) ? ' — GENERATOR-BOUND: the generator, not the server, set the pace' : ''}`,
  );
  const t = summary.targets as Target[];
  for (const x of t) log(`  ${x.pass ? 'PASS' : 'FAIL'} ${x.name} = ${x.value} (target ${x.target})`);
  const page = writeReport(
    'bench-joins',
    { ...summary, timeline: crowd.timeline },
    {
      title: 'Flash-crowd drill',
      targets: t,
      plots: [
        {
          title: 'people in line (lastIssued - nowServing)',
          series: crowd.timeline.map((x) => ({ t: x.t, v: x.waiting })),
          unit: 'tickets',
        },
        { title: 'server CPU share', series: load.cpuSeries.map((x) => ({ t: x.t, v: x.share })), unit: 'cores' },
      ],
    },
  );
  log(`report: ${page}`);
}
