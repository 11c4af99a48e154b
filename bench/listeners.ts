/**
 * `amphi bench listeners`: how many listeners one edge core carries, measured.
 *
 *   npx amphi bench listeners --listeners 2000 --seconds 60 [--delivery stream|hls] [--peer icecast|nginx] [--json]
 *
 * Starts Amphi (embedded mode, the built-in demo Space as the program, at 32 kb/s like the peers)
 * pinned to CPU 0, joins N listeners and runs a listener simulator on CPU 1 from many loopback source
 * addresses: `stream` (the default, what the web player uses) holds one `live.mp4` response per
 * listener and parses its fragments; `hls` replays an LL-HLS player's requests. Over the steady-state
 * window (after the ramp) it reads the server's CPU time and RSS from /proc: CPU-us per
 * listener-second and bytes per listener. Peers, measured the same way in the same run: `icecast`
 * (Debian's icecast2 fed by ffmpeg at the same bitrate, progressive listeners) for the stream, and
 * `nginx` (deploy/nginx/amphi-edge.conf in front of Amphi) for LL-HLS. Prints progress, a summary, a
 * JSON last line with --json, and writes reports/bench-listeners.{json,html}. Loopback only; bounded;
 * stops by itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startIcecast } from './icecast.ts';
import { loopbackSources, simulateListeners, type SimResult } from './listener-sim.ts';
import { simulateProgressive } from './progressive-sim.ts';
import { childPids, cpuMicros, rssBytes } from './proc.ts';
import { writeReport } from './report.ts';

export interface ListenerBenchOptions {
  readonly listeners: number;
  readonly seconds: number;
  readonly rampPerSecond: number;
  readonly peer: 'nginx' | 'icecast' | undefined;
  readonly delivery: 'stream' | 'hls';
  readonly json: boolean;
}

/** The program bitrate of the run (Amphi and Icecast alike): TARGETS' reference rate. */
const BITRATE_BPS = 32_000;

type Simulate = (
  urls: string[],
  o: ListenerBenchOptions,
  onProgress: Parameters<typeof simulateListeners>[0]['onProgress'],
) => Promise<SimResult>;

const sources = (o: ListenerBenchOptions) => loopbackSources(Math.max(1, Math.ceil(o.listeners / 500)));
const hls: Simulate = (playlistUrls, o, onProgress) =>
  simulateListeners({
    playlistUrls,
    seconds: o.seconds,
    rampPerSecond: o.rampPerSecond,
    roomState: true,
    sourceAddresses: sources(o),
    ...(onProgress === undefined ? {} : { onProgress }),
  });
const fmp4Stream: Simulate = (urls, o, onProgress) =>
  simulateProgressive({
    urls,
    seconds: o.seconds,
    rampPerSecond: o.rampPerSecond,
    sourceAddresses: sources(o),
    framing: { kind: 'fmp4' },
    ...(onProgress === undefined ? {} : { onProgress }),
  });
const oggStream: Simulate = (urls, o, onProgress) =>
  simulateProgressive({
    urls,
    seconds: o.seconds,
    rampPerSecond: o.rampPerSecond,
    sourceAddresses: sources(o),
    framing: { kind: 'bytes', bitrateBps: BITRATE_BPS, prebufferMs: 1000 },
    ...(onProgress === undefined ? {} : { onProgress }),
  });

interface Measured extends SimResult {
  readonly target: string;
  readonly serverCpuMicrosPerListenerSecond: number;
  readonly serverRssBytesPerListener: number;
  readonly serverCpuShare: number;
  /** CPU share with nobody listening, subtracted from the per-listener figures. */
  readonly serverBaselineCpuShare: number;
  readonly generatorCpuShare: number;
  readonly requestsPerSecond: number;
  readonly cpuSeries: { t: number; share: number }[];
}

const root = new URL('..', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `extra` merged over `base`, objects key by key (arrays and values replace). */
function mergeConfig(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const prev = out[key];
    const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    out[key] = isObject(prev) && isObject(value) ? mergeConfig(prev, value) : value;
  }
  return out;
}

/**
 * Starts `amphi start` pinned to CPU 0 with the bench config, plus `config` merged over it (the
 * drills set their own admission settings).
 */
export function startAmphi(dataDir: string, config: Record<string, unknown> = {}): Promise<{ child: ChildProcess; url: string }> {
  // The bench joins every listener from this one process and puts hundreds of listeners on each
  // source address, so per-address limits and the join burst are lifted: this measures the edge;
  // `amphi bench joins` and `amphi bench flood` measure the door.
  const benchConfig = {
    stage: { programBitrateBps: BITRATE_BPS },
    admission: {
      maxListeners: 1_000_000,
      joinBurst: 1_000_000,
      limits: {
        joinsPerAddress: { capacity: 1_000_000, refillPerSecond: 100_000 },
        perAddress: { capacity: 1_000_000, refillPerSecond: 1_000_000 },
      },
    },
  };
  writeFileSync(join(dataDir, 'bench.json'), JSON.stringify(mergeConfig(benchConfig, config)));
  const child = spawn(
    'taskset',
    [
      '-c',
      '0',
      process.execPath,
      join(root, 'bin/amphi.mjs'),
      'start',
      '--port',
      '0',
      '--stage-port',
      '0',
      '--data-dir',
      dataDir,
      '--config',
      join(dataDir, 'bench.json'),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, AMPHI_LOG_LEVEL: 'info' } },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`amphi exited (${code})`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const e = JSON.parse(line) as { msg?: string; url?: string };
      if (e.msg === 'amphi listening') resolve({ child, url: e.url! });
    });
  });
}

async function startNginx(upstream: string): Promise<{ child: ChildProcess; url: string; prefix: string }> {
  const prefix = mkdtempSync(join(tmpdir(), 'amphi-bench-nginx-'));
  chmodSync(prefix, 0o755);
  mkdirSync(join(prefix, 'cache'));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const conf = readFileSync(join(root, 'deploy/nginx/amphi-edge.conf'), 'utf8')
    .replaceAll('@PREFIX@', prefix)
    .replaceAll('@LISTEN@', `127.0.0.1:${port}`)
    .replaceAll('@UPSTREAM@', new URL(upstream).host);
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const child = spawn('taskset', ['-c', '0', 'nginx', '-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: 'ignore' });
  await sleep(500);
  return { child, url: `http://127.0.0.1:${port}`, prefix };
}

async function measure(
  target: string,
  server: { pids: () => number[] },
  urls: string[],
  simulate: Simulate,
  o: ListenerBenchOptions,
  log: (s: string) => void,
): Promise<Measured> {
  const rampS = o.listeners / o.rampPerSecond;
  // What the server spends with nobody listening (Amphi: mixing and packaging the program, the
  // analogue of the ffmpeg source Icecast is fed by), subtracted so the figure is the per-listener cost.
  const idleFrom = { cpu: server.pids().reduce((n, p) => n + cpuMicros(p), 0), at: Date.now() };
  await sleep(3000);
  const baselineShare =
    (server.pids().reduce((n, p) => n + cpuMicros(p), 0) - idleFrom.cpu) / ((Date.now() - idleFrom.at) * 1000);
  const rssBefore = server.pids().reduce((n, p) => n + rssBytes(p), 0);
  const cpuSeries: { t: number; share: number }[] = [];
  let window: { cpu: number; gen: NodeJS.CpuUsage; at: number } | undefined;
  let last = { cpu: server.pids().reduce((n, p) => n + cpuMicros(p), 0), at: Date.now() };
  const t0 = Date.now();
  let rssSteady = 0;
  const sampler = setInterval(() => {
    const cpu = server.pids().reduce((n, p) => n + cpuMicros(p), 0);
    const at = Date.now();
    cpuSeries.push({ t: (at - t0) / 1000, share: (cpu - last.cpu) / ((at - last.at) * 1000) });
    last = { cpu, at };
    if (window === undefined && at - t0 >= (rampS + 2) * 1000) window = { cpu, gen: process.cpuUsage(), at };
    if (window !== undefined)
      rssSteady = Math.max(
        rssSteady,
        server.pids().reduce((n, p) => n + rssBytes(p), 0),
      );
  }, 1000);
  const result = await simulate(urls, o, (p) => {
    if (Math.round(p.elapsedS) % 5 === 0)
      log(
        `  [${target}] ${Math.round(p.elapsedS)} s: ${p.active} listening, ${p.parts} parts, ${p.stalls} stalls, ${p.errors} errors`,
      );
  });
  clearInterval(sampler);
  const end = { cpu: server.pids().reduce((n, p) => n + cpuMicros(p), 0), at: Date.now() };
  const w = window ?? { cpu: cpuSeries.length > 0 ? 0 : 0, gen: process.cpuUsage(), at: t0 };
  const windowS = Math.max(0.001, (end.at - w.at) / 1000);
  const gen = process.cpuUsage(w.gen);
  const serverCpu = Math.max(0, end.cpu - w.cpu - baselineShare * windowS * 1e6);
  const listenerSeconds = result.started * windowS;
  return {
    ...result,
    target,
    serverCpuMicrosPerListenerSecond: Math.round((serverCpu / Math.max(1, listenerSeconds)) * 10) / 10,
    serverRssBytesPerListener: Math.round(Math.max(0, rssSteady - rssBefore) / Math.max(1, result.started)),
    serverCpuShare: Math.round((serverCpu / (windowS * 1e6)) * 1000) / 1000,
    serverBaselineCpuShare: Math.round(baselineShare * 1000) / 1000,
    generatorCpuShare: Math.round(((gen.user + gen.system) / (windowS * 1e6)) * 1000) / 1000,
    requestsPerSecond: Math.round(result.requests / o.seconds),
    cpuSeries,
  };
}

export async function runListenerBench(o: ListenerBenchOptions): Promise<Record<string, unknown>> {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const dataDir = mkdtempSync(join(tmpdir(), 'amphi-bench-listeners-'));
  const amphi = await startAmphi(dataDir);
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  let icecast: Awaited<ReturnType<typeof startIcecast>> | undefined;
  try {
    let spaceId: string | undefined;
    for (let i = 0; i < 50 && spaceId === undefined; i++) {
      const spaces = (await (await fetch(`${amphi.url}/api/spaces?state=live`)).json()) as { spaces: { id: string }[] };
      spaceId = spaces.spaces[0]?.id;
      if (spaceId === undefined) await sleep(100); // the demo starts right after the listener is up
    }
    if (spaceId === undefined) throw new Error('no live demo Space: the bench needs demo.enabled');
    log(
      `listener bench: ${o.listeners} ${o.delivery} listeners at ${BITRATE_BPS / 1000} kb/s, ${o.seconds} s, ramp ${o.rampPerSecond}/s; server on CPU 0, simulator on CPU 1`,
    );
    await sleep(3000); // a few parts and a segment before anyone joins
    const tokens: string[] = [];
    for (let i = 0; i < o.listeners; i++) {
      const res = await fetch(`${amphi.url}/api/spaces/${spaceId}/join`, { method: 'POST' });
      if (res.status !== 200) throw new Error(`join answered ${res.status}: ${await res.text()}`);
      tokens.push(((await res.json()) as { token: string }).token);
    }
    const file = o.delivery === 'stream' ? 'live.mp4' : 'index.m3u8';
    const urlsFor = (base: string) => tokens.map((t) => `${base}/l/${t}/${spaceId}/${file}`);
    const simulate = o.delivery === 'stream' ? fmp4Stream : hls;
    const results: Measured[] = [
      await measure('amphi', { pids: () => [amphi.child.pid!] }, urlsFor(amphi.url), simulate, o, log),
    ];
    if (o.peer === 'nginx') {
      nginx = await startNginx(amphi.url);
      const master = nginx.child.pid!;
      results.push(
        await measure(
          'nginx',
          { pids: () => childPids(master).flatMap((p) => [p, ...childPids(p)]) },
          urlsFor(nginx.url),
          hls,
          o,
          log,
        ),
      );
    }
    if (o.peer === 'icecast') {
      icecast = await startIcecast({ bitrateBps: BITRATE_BPS, cpu: '0' });
      const mount = icecast.url;
      results.push(
        await measure(
          'icecast',
          { pids: () => icecast?.pids() ?? [] },
          tokens.map(() => mount),
          oggStream,
          o,
          log,
        ),
      );
    }
    const [ours, peer] = results as [Measured, Measured | undefined];
    const pick = (m: Measured) => ({
      listeners: m.started,
      stallRate: m.stallRate,
      stalls: m.stalls,
      errors: m.errors,
      partLatencyMs: m.partLatencyMs,
      requestsPerSecond: m.requestsPerSecond,
      serverCpuMicrosPerListenerSecond: m.serverCpuMicrosPerListenerSecond,
      serverRssBytesPerListener: m.serverRssBytesPerListener,
      serverCpuShare: m.serverCpuShare,
      serverBaselineCpuShare: m.serverBaselineCpuShare,
      generatorCpuShare: m.generatorCpuShare,
      generatorBound: m.serverCpuShare < 0.9 && m.generatorCpuShare > 0.9,
    });
    const summary: Record<string, unknown> = {
      method: `${o.delivery === 'stream' ? 'live.mp4 stream' : 'LL-HLS'} listener simulator over loopback at ${BITRATE_BPS / 1000} kb/s; server CPU and RSS from /proc over the steady-state window`,
      delivery: o.delivery,
      programBitrateBps: BITRATE_BPS,
      ...pick(ours),
      ...(peer === undefined
        ? {}
        : {
            peer: { name: o.peer, ...pick(peer) },
            ratios: {
              cpuPerListenerSecond:
                Math.round((ours.serverCpuMicrosPerListenerSecond / peer.serverCpuMicrosPerListenerSecond) * 100) / 100,
              requestsPerSecond: Math.round((ours.requestsPerSecond / Math.max(1, peer.requestsPerSecond)) * 100) / 100,
            },
          }),
    };
    for (const m of results) {
      log(
        `${m.target.padEnd(6)} ${m.started} listeners: ${m.serverCpuMicrosPerListenerSecond} CPU-us per listener-second ` +
          `(${Math.round(m.serverCpuShare * 100)}% of a core above its idle ${Math.round(m.serverBaselineCpuShare * 100)}%), ${m.serverRssBytesPerListener} B RSS per listener, ` +
          `stall rate ${m.stallRate.toFixed(4)}, part latency p50/p95/p99 ${m.partLatencyMs.p50}/${m.partLatencyMs.p95}/${m.partLatencyMs.p99} ms, ` +
          `${m.requestsPerSecond} req/s, errors ${JSON.stringify(m.errors)}, generator ${Math.round(m.generatorCpuShare * 100)}% of a core`,
      );
    }
    if (ours.serverCpuShare < 0.9 && ours.generatorCpuShare > 0.9)
      log('note: the generator, not the server, set the pace (generator near 100% of its core)');
    const page = writeReport('bench-listeners', summary, {
      title: 'Listener bench',
      plots: results.flatMap((m) => [
        { title: `${m.target}: part latency p50 over time`, series: m.timeline.map((x) => ({ t: x.t, v: x.p50 })), unit: 'ms' },
        {
          title: `${m.target}: server CPU share over time`,
          series: m.cpuSeries.map((x) => ({ t: x.t, v: x.share })),
          unit: 'cores',
        },
      ]),
    });
    log(`report: ${page}`);
    return summary;
  } finally {
    await icecast?.close();
    if (nginx !== undefined) {
      nginx.child.kill('SIGTERM');
      rmSync(nginx.prefix, { recursive: true, force: true });
    }
    amphi.child.kill('SIGTERM');
    await new Promise((r) => amphi.child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
