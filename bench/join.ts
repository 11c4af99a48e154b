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
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { startAmphi } from './listeners.ts';
import { cpuMicros } from './proc.ts';
import { writeReport } from './report.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '64' } },
});
const seconds = Math.min(120, Math.max(1, Number(values.seconds)));
const connections = Math.min(1000, Math.max(1, Number(values.connections)));
const root = new URL('..', import.meta.url).pathname;
const hasTaskset = spawnOk('taskset', ['-c', '0', 'true']);
const pinned = (cpu: number, cmd: string, args: string[]) =>
  (hasTaskset ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args]) as [string, string[]];

function spawnOk(cmd: string, args: string[]): boolean {
  try {
    const r = spawn(cmd, args, { stdio: 'ignore' });
    return r.pid !== undefined;
  } catch {
    return false;
  }
}

function waitForLine(child: ChildProcess, match: (line: string) => string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`process exited early (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const found = match(line);
      if (found !== undefined) resolve(found);
    });
  });
}

interface Load {
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  requests: { average: number; total: number };
  loadCpuMicros: number;
}

async function drive(url: string, body: string): Promise<Load> {
  const [cmd, args] = pinned(1, process.execPath, [
    join(root, 'node_modules/autocannon/autocannon.js'),
    '-j',
    '-c',
    String(connections),
    '-d',
    String(seconds),
    '-m',
    'POST',
    '-H',
    'content-type=application/json',
    '-b',
    body,
    url,
  ]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
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
  return { ...(JSON.parse(out) as Omit<Load, 'loadCpuMicros'>), loadCpuMicros };
}

async function measure(name: string, server: ChildProcess, url: string, body: string) {
  // Warm-up so JIT and caches settle, then the measured run.
  await drive(url, body);
  const before = cpuMicros(server.pid!);
  const startedAt = process.hrtime.bigint();
  const load = await drive(url, body);
  const serverCpu = cpuMicros(server.pid!) - before;
  const wallMicros = Number(process.hrtime.bigint() - startedAt) / 1000;
  const ok = load.requests.total - load.non2xx;
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
    loadGeneratorCpuUtilisation: Number((load.loadCpuMicros / wallMicros).toFixed(2)),
  };
  console.log(
    `${name.padEnd(10)} ${String(result.joinsPerSecond).padStart(7)} req/s  p50 ${result.latencyP50Ms} ms  p99 ${result.latencyP99Ms} ms  ` +
      `server ${result.serverCpuMicrosPerRequest} CPU-us/req (${Math.round(result.serverCpuUtilisation * 100)}% of a core)  ` +
      `generator ${Math.round(result.loadGeneratorCpuUtilisation * 100)}% of a core  non-2xx ${result.non2xx}`,
  );
  return result;
}

const dataDir = mkdtempSync(join(tmpdir(), 'amphi-bench-'));
// Every join comes from one address, far above the configured join capacity, on a core kept at
// 100%: the door's limits and overload signals are lifted so this measures issuing a token (the
// door's checks still run on each join; `amphi bench joins` measures the door itself).
const amphi = await startAmphi(dataDir, {
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
const peerSource = `const body = JSON.stringify({ token: 'x'.repeat(150), playlistUrl: 'y'.repeat(200), streamUrl: 'z'.repeat(200), expiresAt: new Date().toISOString() });
require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(body); }); })
  .listen(0, '127.0.0.1', function () { console.log('listening ' + this.address().port); });`;
const [pcmd, pargs] = pinned(0, process.execPath, ['-e', peerSource]);
const peer = spawn(pcmd, pargs, { stdio: ['ignore', 'pipe', 'inherit'] });
try {
  const url = amphi.url;
  const peerPort = await waitForLine(peer, (l) => (l.startsWith('listening ') ? l.slice(10) : undefined));
  const api = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body),
    });
    return (await res.json()) as Record<string, { id: string }> & { token: string };
  };
  const { token } = await api('/api/accounts', { handle: 'bench_host', password: 'bench password' });
  const { space } = await api('/api/spaces', { title: 'Bench' }, token);
  await api(`/api/spaces/${space!.id}/start`, {}, token);

  console.log(
    `POST /join, ${connections} connections, ${seconds} s per run, server on CPU 0, load on CPU 1 (taskset: ${hasTaskset})`,
  );
  const amphiResult = await measure('amphi', amphi.child, `${url}/api/spaces/${space!.id}/join`, '{}');
  const peerResult = await measure('node:http', peer, `http://127.0.0.1:${peerPort}/`, '{}');
  const summary = {
    method: 'autocannon against one pinned server process over loopback; server CPU from /proc',
    seconds,
    connections,
    amphi: amphiResult,
    peer: peerResult,
    ratioToPeer: Number((amphiResult.joinsPerSecond / peerResult.joinsPerSecond).toFixed(2)),
    cpuRatioToPeer: Number((amphiResult.serverCpuMicrosPerRequest / peerResult.serverCpuMicrosPerRequest).toFixed(2)),
    // A server below 90% of its core was not saturated: the load generator (or a noisy machine) set the pace.
    notSaturated: [amphiResult, peerResult].filter((r) => r.serverCpuUtilisation < 0.9).map((r) => r.name),
  };
  console.log(
    `amphi / node:http: ${summary.ratioToPeer}x the requests/s, ${summary.cpuRatioToPeer}x the CPU per request` +
      (summary.notSaturated.length > 0
        ? `  (not saturated: ${summary.notSaturated.join(', ')}; its requests/s is limited by the generator, compare CPU per request instead)`
        : ''),
  );
  writeReport('bench-join', summary);
  console.log(JSON.stringify(summary));
} finally {
  amphi.child.kill('SIGTERM');
  peer.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
