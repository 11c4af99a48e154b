/**
 * `amphi plan`: the bill of materials for a launch night, from measured per-core figures.
 *
 *   npx amphi plan [--listeners 8000000] [--bench reports/bench-listeners.json] [--drill FILE] [--json]
 *
 * With `--drill reports/drill-launch-night.json` the per-node figures the launch-night drill measured
 * replace the benches': CPU per join on a control node, per listener-second on an edge, and per
 * Space-second on a media node (there the media cores come from the Spaces a core carries).
 *
 * Assumptions (documented, adjustable by flag): cores run at 70% at peak; the join curve is 8 M
 * joins in 10 minutes with the first minute at 133 k/s, then the rest spread evenly; the program is
 * Opus at the bench's bitrate (48 kb/s without a bench) plus 10% container and HTTP overhead; edges have 16 cores; each edge fetches every
 * part, playlist state and room-state change once (single-flight).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

export interface PlanOptions {
  readonly listeners: number;
  readonly benchFile: string;
  /** The launch-night drill's JSON, whose per-node figures win over the benches'. */
  readonly drillFile?: string;
  readonly json: boolean;
}

const DEFAULTS = {
  /** Used when no bench JSON exists yet: the figures measured on this machine (see README). */
  cpuMicrosPerListenerSecond: 100,
  joinsPerCoreSecond: 10_000, // npm run bench:join, with the door's checks on every join
  spacesPerStageCore: 9,
  utilisation: 0.7,
  coresPerEdge: 16,
  programBitrateBps: 48_000,
  overhead: 1.1,
  firstMinuteJoinsPerSecond: 133_000,
  joinWindowMinutes: 10,
  originObjectsPerSecondPerEdge: 2 /* parts */ + 2 /* blocking playlists */ + 4 /* room state */,
  /** Cluster mode, per join (npm run bench:cluster-join, measured here): a control node's CPU and Redis's. */
  controlCpuMicrosPerJoin: 190,
  redisCpuMicrosPerJoin: 57,
  redisRoundTripsPerJoin: 1,
};

const CLUSTER_BENCH = 'reports/bench-cluster-join.json';

/** The cluster figures per join: the last `npm run bench:cluster-join`, else the defaults. */
function clusterFigures() {
  if (!existsSync(CLUSTER_BENCH)) {
    return {
      control: DEFAULTS.controlCpuMicrosPerJoin,
      redis: DEFAULTS.redisCpuMicrosPerJoin,
      roundTrips: DEFAULTS.redisRoundTripsPerJoin,
      source: 'default (no cluster bench JSON)',
    };
  }
  const b = JSON.parse(readFileSync(CLUSTER_BENCH, 'utf8')) as {
    cluster: { cpuMicrosPerJoin: { control: number; redis: number } };
    redisRoundTripsPerJoin: number;
  };
  return {
    control: b.cluster.cpuMicrosPerJoin.control,
    redis: b.cluster.cpuMicrosPerJoin.redis,
    roundTrips: b.redisRoundTripsPerJoin,
    source: CLUSTER_BENCH,
  };
}

/** The drill's per-node figures (each may be missing when its window was empty). */
interface DrillFigures {
  readonly controlCpuMicrosPerJoin?: number;
  readonly edgeCpuMicrosPerListenerSecond?: number;
  readonly mediaCpuMicrosPerSpaceSecond?: number;
}

function drillFigures(file: string | undefined): DrillFigures {
  if (file === undefined) return {};
  if (!existsSync(file)) throw new Error(`--drill: ${file} does not exist (run npx amphi drill launch-night first)`);
  const drill = JSON.parse(readFileSync(file, 'utf8')) as { perNode?: DrillFigures };
  if (drill.perNode === undefined) throw new Error(`--drill: ${file} has no per-node figures`);
  return drill.perNode;
}

export function plan(o: PlanOptions) {
  const bench = existsSync(o.benchFile)
    ? (JSON.parse(readFileSync(o.benchFile, 'utf8')) as { serverCpuMicrosPerListenerSecond?: number; programBitrateBps?: number })
    : {};
  const drill = drillFigures(o.drillFile);
  const cpu =
    drill.edgeCpuMicrosPerListenerSecond ?? bench.serverCpuMicrosPerListenerSecond ?? DEFAULTS.cpuMicrosPerListenerSecond;
  // Egress at the bitrate the CPU figure was measured at: the two go together.
  const d = { ...DEFAULTS, programBitrateBps: bench.programBitrateBps ?? DEFAULTS.programBitrateBps };
  const edgeCores = Math.ceil((o.listeners * cpu) / 1e6 / d.utilisation);
  const edges = Math.ceil(edgeCores / d.coresPerEdge);
  const joinCores = Math.ceil(d.firstMinuteJoinsPerSecond / d.joinsPerCoreSecond / d.utilisation);
  // One Space, doubled for failover: at least a core each, more if the drill measured a Space costs more.
  const stageCores = 2 * Math.max(1, Math.ceil((drill.mediaCpuMicrosPerSpaceSecond ?? 0) / 1e6 / d.utilisation));
  // Cluster mode: control nodes share nothing but Redis and PostgreSQL, so their cores add up linearly
  // (two cores here cannot show it: the figure is per core, measured beside the embedded mode). Redis is
  // one core per shard, and one Space's waiting room is one key set on one shard: the ceiling of joins/s
  // for a single Space.
  const measured = clusterFigures();
  const c =
    drill.controlCpuMicrosPerJoin === undefined
      ? measured
      : { ...measured, control: drill.controlCpuMicrosPerJoin, source: `${o.drillFile} (control), ${measured.source} (Redis)` };
  const controlCores = Math.ceil((d.firstMinuteJoinsPerSecond * c.control) / 1e6 / d.utilisation);
  const redisJoinsPerShardSecond = Math.floor((1e6 * d.utilisation) / c.redis);
  const egressGbps = (o.listeners * d.programBitrateBps * d.overhead) / 1e9;
  const originFetchesPerSecond = edges * d.originObjectsPerSecondPerEdge;
  const curve = joinCurve(o.listeners, d.firstMinuteJoinsPerSecond, d.joinWindowMinutes);
  const result = {
    listeners: o.listeners,
    inputs: {
      ...d,
      cpuMicrosPerListenerSecond: cpu,
      source:
        drill.edgeCpuMicrosPerListenerSecond !== undefined
          ? `${o.drillFile} (edges)`
          : bench.serverCpuMicrosPerListenerSecond === undefined
            ? 'default (no bench JSON)'
            : o.benchFile,
      mediaCpuMicrosPerSpaceSecond: drill.mediaCpuMicrosPerSpaceSecond,
    },
    edgeCores,
    edges,
    joinCores,
    cluster: {
      source: c.source,
      controlCpuMicrosPerJoin: c.control,
      redisCpuMicrosPerJoin: c.redis,
      redisRoundTripsPerJoin: c.roundTrips,
      controlCores,
      redisJoinsPerShardSecond,
      peakOverOneShard: Math.round((d.firstMinuteJoinsPerSecond / redisJoinsPerShardSecond) * 10) / 10,
    },
    stageCores,
    egressGbps: Math.round(egressGbps * 10) / 10,
    originFetchesPerSecond,
    joinCurve: curve,
  };
  mkdirSync('reports', { recursive: true });
  writeFileSync('reports/plan.json', JSON.stringify(result, null, 2));
  writeFileSync('reports/plan.svg', curveSvg(curve));
  return result;
}

/** Joins per second, minute by minute: the first minute at the peak, the rest spread evenly. */
function joinCurve(
  total: number,
  firstMinutePerSecond: number,
  minutes: number,
): { minute: number; joinsPerSecond: number; admitted: number }[] {
  const first = Math.min(total, firstMinutePerSecond * 60);
  const rest = (total - first) / Math.max(1, minutes - 1) / 60;
  let admitted = 0;
  return Array.from({ length: minutes }, (_, m) => {
    const rate = m === 0 ? first / 60 : rest;
    admitted += rate * 60;
    return { minute: m + 1, joinsPerSecond: Math.round(rate), admitted: Math.round(admitted) };
  });
}

function curveSvg(curve: { minute: number; admitted: number }[]): string {
  const max = Math.max(...curve.map((c) => c.admitted));
  const bars = curve
    .map(
      (c, i) =>
        `<rect x="${40 + i * 55}" y="${190 - (c.admitted / max) * 160}" width="40" height="${(c.admitted / max) * 160}" fill="#1d4ed8"/><text x="${45 + i * 55}" y="205" font-size="10">m${c.minute}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="620" height="215"><text x="5" y="15" font-size="12">listeners admitted by minute (max ${max})</text>${bars}</svg>`;
}

export function printPlan(p: ReturnType<typeof plan>): string {
  return [
    `Launch night for ${p.listeners.toLocaleString('en')} listeners (assumptions in bench/plan.ts):`,
    `| what | amount |`,
    `| --- | --- |`,
    `| edge cores (at ${p.inputs.cpuMicrosPerListenerSecond} CPU-us per listener-second, 70% busy; ${p.inputs.source}) | ${p.edgeCores} |`,
    `| edges (${p.inputs.coresPerEdge} cores each) | ${p.edges} |`,
    `| join cores (${p.inputs.firstMinuteJoinsPerSecond} joins/s peak at ${p.inputs.joinsPerCoreSecond}/core) | ${p.joinCores} |`,
    `| cluster mode: control cores (${p.cluster.controlCpuMicrosPerJoin} CPU-us per join, ${p.cluster.source}) | ${p.cluster.controlCores} |`,
    `| cluster mode: joins/s one Redis shard takes (${p.cluster.redisRoundTripsPerJoin} round trip, ${p.cluster.redisCpuMicrosPerJoin} CPU-us per join, 70% busy) | ${p.cluster.redisJoinsPerShardSecond} (the peak is ${p.cluster.peakOverOneShard}x that: one Space's line is on one shard) |`,
    `| stage cores (one Space, doubled${p.inputs.mediaCpuMicrosPerSpaceSecond === undefined ? '' : `; ${p.inputs.mediaCpuMicrosPerSpaceSecond} CPU-us per Space-second measured`}) | ${p.stageCores} |`,
    `| egress | ${p.egressGbps} Gb/s |`,
    `| origin fetches | ${p.originFetchesPerSecond}/s |`,
    `plot: reports/plan.svg; JSON: reports/plan.json`,
  ].join('\n');
}
