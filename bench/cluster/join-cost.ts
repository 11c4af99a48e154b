/**
 * What a join costs in cluster mode next to the embedded mode, in the same run:
 *
 *   npm run bench:cluster-join [-- --seconds 10 --connections 64]
 *
 * Embedded: `amphi start` (SQLite). Cluster: one `amphi control` on PostgreSQL and Redis (the launcher
 * of `npm run cluster`, with one edge and the media node). The same anonymous joins are driven at each
 * with autocannon (pinned to CPU 1); server CPU comes from /proc: the embedded process, and in cluster
 * mode the control node plus Redis (its whole CPU while the run lasts, background beats included).
 * Redis's INFO commandstats before and after count the commands per join, those a script runs included;
 * the round trips are the top-level commands (a script is one). Loopback only; bounded; stops
 * by itself. Writes reports/bench-cluster-join.json.
 */
import { Redis } from 'ioredis';
import { amphiConfig, drive, type JoinBenchOptions } from '../join.ts';
import { startAmphi } from '../lib/amphi.ts';
import { createSpace, jsonApi, signUp } from '../lib/json-api.ts';
import { cpuMicros } from '../lib/proc.ts';
import { writeReport } from '../lib/report.ts';
import { withTeardown, type Teardown } from '../lib/teardown.ts';
import { startCluster } from './launch.ts';

interface Run {
  readonly name: string;
  readonly joinsPerSecond: number;
  readonly non2xx: number;
  readonly latencyP99Ms: number;
  /** CPU microseconds per join, by process, and in all. */
  readonly cpuMicrosPerJoin: Record<string, number>;
  readonly totalCpuMicrosPerJoin: number;
  /** Joins sent in the warm-up and the measured run together. */
  readonly joinsSent: number;
}

/** A live Space on the node at `url`, to join. */
async function liveSpace(url: string): Promise<string> {
  const api = jsonApi(() => url);
  const { token } = await signUp(api, 'bench_host');
  return createSpace(api, token, 'Bench', true);
}

/** A warm-up run, then the measured one; CPU of each named process over the measured run. */
async function measure(t: Teardown, name: string, pids: Record<string, number>, url: string, o: JoinBenchOptions): Promise<Run> {
  const warmUp = await drive(t, url, '{}', { ...o, seconds: Math.min(o.seconds, 5) });
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMicros(pid)]));
  const load = await drive(t, url, '{}', o);
  const joins = Math.max(1, load.requests.total);
  const cpuMicrosPerJoin = Object.fromEntries(
    Object.entries(pids).map(([k, pid]) => [k, Number(((cpuMicros(pid) - before[k]!) / joins).toFixed(1))]),
  );
  const total = Object.values(cpuMicrosPerJoin).reduce((a, b) => a + b, 0);
  const run = {
    name,
    joinsPerSecond: Math.round(load.requests.average),
    non2xx: load.non2xx,
    latencyP99Ms: load.latency.p99,
    cpuMicrosPerJoin,
    totalCpuMicrosPerJoin: Number(total.toFixed(1)),
    joinsSent: warmUp.requests.total + load.requests.total,
  };
  const parts = Object.entries(cpuMicrosPerJoin)
    .map(([k, v]) => `${k} ${v}`)
    .join(' + ');
  console.log(
    `${name.padEnd(9)} ${String(run.joinsPerSecond).padStart(6)} joins/s  p99 ${run.latencyP99Ms} ms  CPU-us/join ${run.totalCpuMicrosPerJoin} (${parts})  non-2xx ${run.non2xx}`,
  );
  return run;
}

/** Calls per Redis command (INFO commandstats). */
async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

export function runClusterJoinBench(o: JoinBenchOptions): Promise<unknown> {
  return withTeardown(async (t) => {
    console.log(
      `POST /join, ${o.connections} connections, ${o.seconds} s per run; embedded, then one control node on Redis + PostgreSQL`,
    );
    const amphi = await startAmphi(t, 'cluster-join', amphiConfig);
    const embedded = await measure(
      t,
      'embedded',
      { amphi: amphi.pid },
      `${amphi.url}/api/spaces/${await liveSpace(amphi.url)}/join`,
      o,
    );

    const cluster = await startCluster(t, { controls: 1, edges: 1, demo: false, config: amphiConfig });
    const control = cluster.controls[0]!;
    const spaceId = await liveSpace(control.url);
    const redis = new Redis(cluster.redisUrl);
    t.add(() => redis.disconnect());
    const statsBefore = await commandStats(redis);
    const clustered = await measure(
      t,
      'cluster',
      { control: control.child.pid!, redis: cluster.redis.child.pid! },
      `${control.url}/api/spaces/${spaceId}/join`,
      o,
    );
    const statsAfter = await commandStats(redis);
    const joins = Math.max(1, clustered.joinsSent);
    const calls = Object.fromEntries(
      [...statsAfter]
        .map(([cmd, n]) => [cmd, n - (statsBefore.get(cmd) ?? 0)] as const)
        .filter(([cmd, n]) => n > 0 && cmd !== 'info'),
    );
    const commands = Object.fromEntries(Object.entries(calls).map(([cmd, n]) => [cmd, Number((n / joins).toFixed(3))]));
    // Commands a script runs (TIME, HMGET, ...) are counted too; round trips are the top-level ones.
    const insideScripts = new Set([
      'time',
      'hmget',
      'hget',
      'hset',
      'hincrby',
      'hincrbyfloat',
      'setbit',
      'getbit',
      'pexpire',
      'rpush',
      'lrange',
      'ltrim',
      'lpop',
      'llen',
      'exists',
      'del',
      'expire',
    ]);
    const roundTrips = Object.entries(commands)
      .filter(([cmd]) => !insideScripts.has(cmd) && cmd !== 'exec')
      .reduce((a, [, n]) => a + n, 0);
    const perJoin = Object.values(commands).reduce((a, b) => a + b, 0);
    const ratio = Number((clustered.totalCpuMicrosPerJoin / embedded.totalCpuMicrosPerJoin).toFixed(2));
    console.log(
      `Redis commands per join: ${perJoin.toFixed(2)} (${JSON.stringify(commands)}), each its own round trip on the join path`,
    );
    console.log(`cluster / embedded CPU per join: ${ratio}x (goal: within 1.5x)`);
    const summary = {
      method:
        'autocannon over loopback; server CPU from /proc; Redis commands from INFO commandstats (background beats included)',
      seconds: o.seconds,
      connections: o.connections,
      embedded,
      cluster: clustered,
      redisRoundTripsPerJoin: Number(roundTrips.toFixed(2)),
      redisCommandsPerJoin: Number(perJoin.toFixed(2)),
      redisCommands: commands,
      cpuRatio: ratio,
    };
    const page = writeReport('bench-cluster-join', summary, {
      title: 'CPU per join: a control node on Redis and PostgreSQL next to the embedded mode',
      plots: [],
      targets: [{ name: 'cluster / embedded CPU per join', value: ratio, target: '<= 1.5x', pass: ratio <= 1.5 }],
    });
    console.log(`report: ${page}`);
    return summary;
  });
}
