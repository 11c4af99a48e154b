/**
 * Cached-object requests per second at the edge, with nginx measured side by side.
 *
 *   npm run bench:edge [-- --seconds 10 --connections 64]
 *
 * Starts Amphi (the demo Space live) pinned to CPU 0, takes one listener token and one produced part,
 * and drives `GET /l/<token>/<space>/<part>` with wrk pinned to CPU 1: token check, cache hit,
 * response. The peer is Debian's nginx (one worker, CPU 0) serving the same bytes as a static file,
 * the best case for a cache. Both CPU figures come from /proc. Needs `wrk` and `nginx` (apt; .ci/run
 * installs them). Loopback only; bounded; writes reports/bench-edge.json.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startAmphi } from './listeners.ts';
import { childPids, cpuMicros } from './proc.ts';
import { writeReport } from './report.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '64' } },
});
const seconds = Math.min(120, Math.max(2, Number(values.seconds)));
const connections = Math.min(1000, Math.max(1, Number(values.connections)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const tool of ['wrk', 'nginx', 'taskset']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`bench:edge needs ${tool} (apt-get install wrk nginx util-linux)`);
    process.exit(2);
  }
}

interface Result {
  readonly requestsPerSecond: number;
  readonly cpuMicrosPerRequest: number;
  readonly non2xx: number;
}

/** Runs wrk on CPU 1 against `url` and reads the server's CPU over the run. */
function drive(url: string, pids: () => number[]): Result {
  const cpu = () => pids().reduce((n, p) => n + cpuMicros(p), 0);
  const before = cpu();
  const out = spawnSync('taskset', ['-c', '1', 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, url], {
    encoding: 'utf8',
  }).stdout;
  const used = cpu() - before;
  const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  return {
    requestsPerSecond: Math.round(Number(/Requests\/sec:\s*([\d.]+)/.exec(out)?.[1] ?? 0)),
    cpuMicrosPerRequest: Math.round((used / Math.max(1, total)) * 10) / 10,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
  };
}

const dataDir = mkdtempSync(join(tmpdir(), 'amphi-bench-edge-'));
const prefix = mkdtempSync(join(tmpdir(), 'amphi-bench-edge-nginx-'));
let nginx: ChildProcess | undefined;
// One token makes every request here: its per-token bucket is lifted (this measures serving).
const amphi = await startAmphi(dataDir, {
  admission: { limits: { perToken: { capacity: 1_000_000_000, refillPerSecond: 1_000_000_000 } } },
});
try {
  let spaceId: string | undefined;
  for (let i = 0; i < 50 && spaceId === undefined; i++) {
    const spaces = (await (await fetch(`${amphi.url}/api/spaces?state=live`)).json()) as { spaces: { id: string }[] };
    spaceId = spaces.spaces[0]?.id;
    if (spaceId === undefined) await sleep(100);
  }
  if (spaceId === undefined) throw new Error('no live demo Space');
  await sleep(2000); // a few parts exist
  const { token } = (await (await fetch(`${amphi.url}/api/spaces/${spaceId}/join`, { method: 'POST' })).json()) as {
    token: string;
  };
  const url = `${amphi.url}/l/${token}/${spaceId}/p0.1.m4s`;
  const part = new Uint8Array(await (await fetch(url)).arrayBuffer());
  console.error(`edge bench: GET one cached ${part.length}-byte part, wrk ${connections} connections for ${seconds} s on CPU 1`);
  const ours = drive(url, () => [amphi.child.pid!]);

  chmodSync(prefix, 0o755);
  mkdirSync(join(prefix, 'html'), { mode: 0o755 });
  writeFileSync(join(prefix, 'html', 'p0.1.m4s'), part, { mode: 0o644 });
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `worker_processes 1; daemon off; error_log ${prefix}/error.log; pid ${prefix}/nginx.pid;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path ${prefix}/tmp; proxy_temp_path ${prefix}/tmp; fastcgi_temp_path ${prefix}/tmp;
  uwsgi_temp_path ${prefix}/tmp; scgi_temp_path ${prefix}/tmp;
  server { listen 127.0.0.1:${port}; root ${prefix}/html; location / { add_header access-control-allow-origin *; } } }\n`,
  );
  nginx = spawn('taskset', ['-c', '0', 'nginx', '-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: 'ignore' });
  await sleep(500);
  const master = nginx.pid!;
  const peer = drive(`http://127.0.0.1:${port}/p0.1.m4s`, () => childPids(master).flatMap((p) => [p, ...childPids(p)]));
  const summary = {
    method: 'wrk on CPU 1, one cached part, server CPU from /proc',
    objectBytes: part.length,
    amphi: ours,
    nginx: peer,
    ratioRequestsPerSecond: Math.round((ours.requestsPerSecond / Math.max(1, peer.requestsPerSecond)) * 100) / 100,
  };
  console.error(
    `amphi ${ours.requestsPerSecond} req/s, ${ours.cpuMicrosPerRequest} CPU-us per request; nginx ${peer.requestsPerSecond} req/s, ` +
      `${peer.cpuMicrosPerRequest} CPU-us per request; Amphi/nginx ${summary.ratioRequestsPerSecond}x`,
  );
  writeReport('bench-edge', summary);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
} finally {
  nginx?.kill('SIGTERM');
  amphi.child.kill('SIGTERM');
  await new Promise((r) => amphi.child.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(prefix, { recursive: true, force: true });
}
