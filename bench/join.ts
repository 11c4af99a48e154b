/**
 * POST /api/spaces/:id/join throughput on one core, with a peer measured side by side.
 *
 *   npm run bench:join [-- --seconds 10 --connections 64]
 *
 * Starts Amphi (SQLite, temp data dir) pinned to CPU 0 and drives anonymous joins at it with
 * autocannon pinned to CPU 1. The peer is a bare `node:http` server on the same core answering the
 * same-sized JSON without any work: the ceiling for a Node process, so the ratio shows what routing,
 * validation and signing cost. Server CPU is read from /proc, so figures are CPU-time per join, not
 * wall-clock guesses. Loopback only; bounded in time; stops by itself. Writes reports/bench-join.json.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { benchConfig, root, startAmphi } from './lib/amphi.ts';
import { createSpace, jsonApi, signUp } from './lib/json-api.ts';
import { startNodePeer } from './lib/node-peer.ts';
import { cpuMicros, installed, pinnedCommand, stdoutOf } from './lib/proc.ts';
import { writeReport } from './lib/report.ts';
import { withTeardown, type Teardown } from './lib/teardown.ts';

export interface JoinBenchOptions {
  readonly seconds: number;
  readonly connections: number;
}

export interface Load {
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  requests: { average: number; total: number };
  loadCpuMicros: number;
}

export async function drive(t: Teardown, url: string, body: string, o: JoinBenchOptions): Promise<Load> {
  const [cmd, args] = pinnedCommand(1, process.execPath, [
    join(root, 'node_modules/autocannon/autocannon.js'),
    '-j',
    '-c',
    String(o.connections),
    '-d',
    String(o.seconds),
    '-m',
    'POST',
    '-H',
    'content-type=application/json',
    '-b',
    body,
    url,
  ]);
  const child = t.child(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] }));
  const output = stdoutOf(child);
  const exitCpu = new Promise<number>((resolve) => {
    const timer = setInterval(() => {
      try {
        last = cpuMicros(child.pid!);
      } catch {
        // exited
      }
    }, 200);
    let last = 0;
    child.once('exit', () => {
      clearInterval(timer);
      resolve(last);
    });
  });
  const loadCpuMicros = await exitCpu;
  return { ...(JSON.parse(await output) as Omit<Load, 'loadCpuMicros'>), loadCpuMicros };
}

/** The share of a core `pid` uses with no requests (Amphi mixes and packages its live Space's program). */
async function idleShare(pid: number, ms = 3000): Promise<number> {
  const before = cpuMicros(pid);
  const startedAt = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return (cpuMicros(pid) - before) / 1000 / (performance.now() - startedAt);
}

async function measure(t: Teardown, name: string, serverPid: number, url: string, body: string, o: JoinBenchOptions) {
  // Warm-up so JIT and caches settle, then the server's idle level, then the measured run.
  await drive(t, url, body, o);
  const idle = await idleShare(serverPid);
  const before = cpuMicros(serverPid);
  const startedAt = process.hrtime.bigint();
  const load = await drive(t, url, body, o);
  const serverCpu = cpuMicros(serverPid) - before;
  const wallMicros = Number(process.hrtime.bigint() - startedAt) / 1000;
  const ok = load.requests.total - load.non2xx;
  // As the listeners bench reads it: CPU above the idle level (background work that is not the joins').
  const aboveIdle = Math.max(0, serverCpu - idle * wallMicros);
  const result = {
    name,
    joinsPerSecond: Math.round(load.requests.average),
    ok,
    non2xx: load.non2xx,
    errors: load.errors,
    latencyP50Ms: load.latency.p50,
    latencyP99Ms: load.latency.p99,
    serverCpuMicrosPerRequest: Number((serverCpu / Math.max(1, load.requests.total)).toFixed(1)),
    serverCpuUtilisation: Number((serverCpu / wallMicros).toFixed(2)),
    serverIdleCpuShare: Number(idle.toFixed(3)),
    serverCpuMicrosPerRequestAboveIdle: Number((aboveIdle / Math.max(1, load.requests.total)).toFixed(1)),
    loadGeneratorCpuUtilisation: Number((load.loadCpuMicros / wallMicros).toFixed(2)),
  };
  console.log(
    `${name.padEnd(10)} ${String(result.joinsPerSecond).padStart(7)} req/s  p50 ${result.latencyP50Ms} ms  p99 ${result.latencyP99Ms} ms  ` +
      `server ${result.serverCpuMicrosPerRequest} CPU-us/req (${Math.round(result.serverCpuUtilisation * 100)}% of a core; ` +
      `${result.serverCpuMicrosPerRequestAboveIdle} above its idle ${Math.round(result.serverIdleCpuShare * 100)}%)  ` +
      `generator ${Math.round(result.loadGeneratorCpuUtilisation * 100)}% of a core  non-2xx ${result.non2xx}`,
  );
  return result;
}

// Every join comes from one address, far above the configured join capacity, on a core kept at
// 100%: the door's limits and overload signals are lifted so this measures issuing a token (the
// door's checks still run on each join; `amphi bench joins` measures the door itself).
export const amphiConfig = benchConfig({
  admission: {
    joinsPerSecond: 1_000_000,
    joinBurst: 1_000_000,
    maxListeners: 10_000_000,
    pow: { thresholdJoinsPerSecond: 1e9 },
    // A saturated core is what this bench makes on purpose; the door would (rightly) queue joins.
    overload: { cpuShareLevels: [1], eventLoopDelayLevelsMs: [60_000] },
    limits: { joinsPerAddress: { capacity: 1_000_000_000, refillPerSecond: 1_000_000_000 } },
  },
});

/** The peer: a bare node:http server answering a join-sized JSON body without any work. */
const peerSource = `const body = JSON.stringify({ token: 'x'.repeat(150), playlistUrl: 'y'.repeat(200), streamUrl: 'z'.repeat(200), expiresAt: new Date().toISOString() });
require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(body); }); })
  .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;

export function runJoinBench(o: JoinBenchOptions): Promise<void> {
  return withTeardown(async (t) => {
    const amphi = await startAmphi(t, 'join', amphiConfig);
    const peer = await startNodePeer(t, peerSource);
    const api = jsonApi(() => amphi.url);
    const { token } = await signUp(api, 'bench_host');
    const space = { id: await createSpace(api, token, 'Bench', true) };
    console.log(
      `POST /join, ${o.connections} connections, ${o.seconds} s per run, server on CPU 0, load on CPU 1 (taskset: ${installed('taskset')})`,
    );
    const amphiResult = await measure(t, 'amphi', amphi.pid, `${amphi.url}/api/spaces/${space.id}/join`, '{}', o);
    const peerResult = await measure(t, 'node:http', peer.pid, `${peer.url}/`, '{}', o);
    const summary = {
      method: 'autocannon against one pinned server process over loopback; server CPU from /proc',
      seconds: o.seconds,
      connections: o.connections,
      amphi: amphiResult,
      peer: peerResult,
      ratioToPeer: Number((amphiResult.joinsPerSecond / peerResult.joinsPerSecond).toFixed(2)),
      cpuRatioToPeer: Number((amphiResult.serverCpuMicrosPerRequest / peerResult.serverCpuMicrosPerRequest).toFixed(2)),
      // Both above their idle level: Amphi's background media work left out (the target stays on the line above).
      cpuRatioToPeerAboveIdle: Number(
        (amphiResult.serverCpuMicrosPerRequestAboveIdle / Math.max(0.1, peerResult.serverCpuMicrosPerRequestAboveIdle)).toFixed(
          2,
        ),
      ),
      // A server below 90% of its core was not saturated: the load generator (or a noisy machine) set the pace.
      notSaturated: [amphiResult, peerResult].filter((r) => r.serverCpuUtilisation < 0.9).map((r) => r.name),
    };
    console.log(
      `amphi / node:http: ${summary.ratioToPeer}x the requests/s, ${summary.cpuRatioToPeer}x the CPU per request ` +
        `(${summary.cpuRatioToPeerAboveIdle}x above idle)` +
        (summary.notSaturated.length > 0
          ? `  (not saturated: ${summary.notSaturated.join(', ')}; its requests/s is limited by the generator, compare CPU per request instead)`
          : ''),
    );
    const page = writeReport('bench-join', summary, {
      title: 'POST /join next to a bare node:http server',
      plots: [],
      targets: [
        {
          name: 'CPU per join / node:http',
          value: summary.cpuRatioToPeer,
          target: '<= 1.5x',
          pass: summary.cpuRatioToPeer <= 1.5,
        },
      ],
    });
    console.log(`report: ${page}`);
    console.log(JSON.stringify(summary));
  });
}
