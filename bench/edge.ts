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
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchConfig, demoSpace, startAmphi } from './lib/amphi.ts';
import { startNginx } from './lib/nginx.ts';
import { cpuMicrosOf, installed, stdoutOf } from './lib/proc.ts';
import { writeReport } from './lib/report.ts';
import { sleep } from './lib/sleep.ts';
import { withTeardown, type Teardown } from './lib/teardown.ts';

export interface EdgeBenchOptions {
  readonly seconds: number;
  readonly connections: number;
}

interface Result {
  readonly requestsPerSecond: number;
  readonly cpuMicrosPerRequest: number;
  readonly non2xx: number;
}

/** Runs wrk on CPU 1 against `url` and reads the server's CPU over the run. */
async function drive(t: Teardown, url: string, pids: () => number[], o: EdgeBenchOptions): Promise<Result> {
  const before = cpuMicrosOf(pids());
  const wrk = spawn('taskset', ['-c', '1', 'wrk', '-t1', `-c${o.connections}`, `-d${o.seconds}s`, url], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const out = await stdoutOf(t.child(wrk));
  const used = cpuMicrosOf(pids()) - before;
  const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  return {
    requestsPerSecond: Math.round(Number(/Requests\/sec:\s*([\d.]+)/.exec(out)?.[1] ?? 0)),
    cpuMicrosPerRequest: Math.round((used / Math.max(1, total)) * 10) / 10,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
  };
}

/** A static-file nginx: one worker, no logs, serving `part` as /p0.1.m4s. */
const nginxConf = (prefix: string, listen: string) =>
  `worker_processes 1; daemon off; error_log ${prefix}/error.log; pid ${prefix}/nginx.pid;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path ${prefix}/tmp; proxy_temp_path ${prefix}/tmp; fastcgi_temp_path ${prefix}/tmp;
  uwsgi_temp_path ${prefix}/tmp; scgi_temp_path ${prefix}/tmp;
  server { listen ${listen}; root ${prefix}/html; location / { add_header access-control-allow-origin *; } } }\n`;

export async function runEdgeBench(o: EdgeBenchOptions): Promise<void> {
  for (const tool of ['wrk', 'nginx', 'taskset']) {
    if (!installed(tool)) throw new Error(`the edge bench needs ${tool} (apt-get install wrk nginx util-linux)`);
  }
  await withTeardown(async (t) => {
    // One token makes every request here: its per-token bucket is lifted (this measures serving).
    const amphi = await startAmphi(
      t,
      'edge',
      benchConfig({ admission: { limits: { perToken: { capacity: 1_000_000_000, refillPerSecond: 1_000_000_000 } } } }),
    );
    const spaceId = await demoSpace(amphi.url);
    await sleep(2000); // a few parts exist
    const joined = await fetch(`${amphi.url}/api/spaces/${spaceId}/join`, { method: 'POST' });
    if (joined.status !== 200) throw new Error(`setup: the join answered ${joined.status}: ${await joined.text()}`);
    const { token } = (await joined.json()) as { token: string };
    const url = `${amphi.url}/l/${token}/${spaceId}/p0.1.m4s`;
    const fetched = await fetch(url);
    if (fetched.status !== 200) throw new Error(`setup: the part ${url} answered ${fetched.status}`);
    const part = new Uint8Array(await fetched.arrayBuffer());
    console.error(
      `edge bench: GET one cached ${part.length}-byte part, wrk ${o.connections} connections for ${o.seconds} s on CPU 1`,
    );
    const ours = await drive(t, url, () => [amphi.pid], o);

    const nginx = await startNginx(t, {
      name: 'edge-nginx',
      setup: (prefix) => {
        mkdirSync(join(prefix, 'html'), { mode: 0o755 });
        writeFileSync(join(prefix, 'html', 'p0.1.m4s'), part, { mode: 0o644 });
      },
      conf: nginxConf,
    });
    const peer = await drive(t, `${nginx.url}/p0.1.m4s`, nginx.pids, o);
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
    const page = writeReport('bench-edge', summary, {
      title: 'Cached objects at the edge next to nginx',
      plots: [],
      targets: [
        {
          name: 'requests/s, Amphi / nginx',
          value: summary.ratioRequestsPerSecond,
          target: '>= 1.0x',
          pass: summary.ratioRequestsPerSecond >= 1,
        },
      ],
    });
    console.error(`report: ${page}`);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  });
}
