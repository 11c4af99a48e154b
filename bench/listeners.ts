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
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startIcecast } from './icecast.ts';
import { BENCH_BITRATE_BPS as BITRATE_BPS, benchConfig, demoSpace, root, startAmphi, type Amphi } from './lib/amphi.ts';
import { sampleCpu } from './lib/cpu-sampler.ts';
import { startNginx } from './lib/nginx.ts';
import { cpuMicrosOf, installed, rssBytes } from './lib/proc.ts';
import { writeReport } from './lib/report.ts';
import { sleep } from './lib/sleep.ts';
import { withTeardown, type Teardown } from './lib/teardown.ts';
import { loopbackSources, simulateListeners, type SimResult } from './listener-sim.ts';
import { simulateProgressive, type ProgressiveFraming } from './progressive-sim.ts';

export interface ListenerBenchOptions {
  readonly listeners: number;
  readonly seconds: number;
  readonly rampPerSecond: number;
  /** undefined: the delivery's own peer where it is installed. */
  readonly peer: 'nginx' | 'icecast' | 'none' | undefined;
  readonly delivery: 'stream' | 'hls';
  readonly json: boolean;
}

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
const progressive =
  (framing: ProgressiveFraming): Simulate =>
  (urls, o, onProgress) =>
    simulateProgressive({
      urls,
      seconds: o.seconds,
      rampPerSecond: o.rampPerSecond,
      sourceAddresses: sources(o),
      framing,
      ...(onProgress === undefined ? {} : { onProgress }),
    });
const fmp4Stream = progressive({ kind: 'fmp4' });
const oggStream = progressive({ kind: 'bytes', bitrateBps: BITRATE_BPS, prebufferMs: 1000 });

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

const log = (s: string) => process.stderr.write(`${s}\n`);

/** nginx with the shipped edge config (deploy/nginx/amphi-edge.conf) in front of Amphi. */
const startNginxEdge = (t: Teardown, upstream: string) =>
  startNginx(t, {
    name: 'nginx',
    setup: (prefix) => mkdirSync(join(prefix, 'cache')),
    conf: (prefix, listen) =>
      readFileSync(join(root, 'deploy/nginx/amphi-edge.conf'), 'utf8')
        .replaceAll('@PREFIX@', prefix)
        .replaceAll('@LISTEN@', listen)
        .replaceAll('@UPSTREAM@', new URL(upstream).host),
  });

async function measure(
  target: string,
  server: { pids: () => number[] },
  urls: string[],
  simulate: Simulate,
  o: ListenerBenchOptions,
): Promise<Measured> {
  const rampS = o.listeners / o.rampPerSecond;
  // What the server spends with nobody listening (Amphi: mixing and packaging the program, the
  // analogue of the ffmpeg source Icecast is fed by), subtracted so the figure is the per-listener cost.
  const idleFrom = { cpu: cpuMicrosOf(server.pids()), at: Date.now() };
  await sleep(3000);
  const baselineShare = (cpuMicrosOf(server.pids()) - idleFrom.cpu) / ((Date.now() - idleFrom.at) * 1000);
  const rss = () => server.pids().reduce((n, p) => n + rssBytes(p), 0);
  const rssBefore = rss();
  let window: { cpu: number; gen: NodeJS.CpuUsage; at: number } | undefined;
  const t0 = Date.now();
  let rssSteady = 0;
  const sampler = sampleCpu(server.pids, t0, (cpu, at) => {
    if (window === undefined && at - t0 >= (rampS + 2) * 1000) window = { cpu, gen: process.cpuUsage(), at };
    if (window !== undefined) rssSteady = Math.max(rssSteady, rss());
  });
  const cpuSeries = sampler.series;
  const result = await simulate(urls, o, (p) => {
    if (Math.round(p.elapsedS) % 5 === 0)
      log(
        `  [${target}] ${Math.round(p.elapsedS)} s: ${p.active} listening, ${p.parts} parts, ${p.stalls} stalls, ${p.errors} errors`,
      );
  });
  sampler.stop();
  const end = { cpu: cpuMicrosOf(server.pids()), at: Date.now() };
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

/** One listener token each, joined one after another (the bench config lifts the door's limits). */
async function joinAll(url: string, spaceId: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${url}/api/spaces/${spaceId}/join`, { method: 'POST' });
    if (res.status !== 200) throw new Error(`join answered ${res.status}: ${await res.text()}`);
    tokens.push(((await res.json()) as { token: string }).token);
  }
  return tokens;
}

/** Amphi, then the peer if one was asked for, each measured with the same tokens. */
async function measureAll(t: Teardown, amphi: Amphi, spaceId: string, tokens: string[], o: ListenerBenchOptions) {
  const file = o.delivery === 'stream' ? 'live.mp4' : 'index.m3u8';
  const urlsFor = (base: string) => tokens.map((token) => `${base}/l/${token}/${spaceId}/${file}`);
  const simulate = o.delivery === 'stream' ? fmp4Stream : hls;
  const results: Measured[] = [await measure('amphi', { pids: () => [amphi.pid] }, urlsFor(amphi.url), simulate, o)];
  if (o.peer === 'nginx') {
    const nginx = await startNginxEdge(t, amphi.url);
    results.push(await measure('nginx', nginx, urlsFor(nginx.url), hls, o));
  }
  if (o.peer === 'icecast') {
    const icecast = await startIcecast({ bitrateBps: BITRATE_BPS, cpu: '0' }, t);
    const mount = icecast.url;
    results.push(
      await measure(
        'icecast',
        icecast,
        tokens.map(() => mount),
        oggStream,
        o,
      ),
    );
  }
  return results;
}

/** The peer a run compares with: the one asked for, else Icecast (stream) or nginx (LL-HLS) where installed. */
function peerFor(o: ListenerBenchOptions): ListenerBenchOptions['peer'] {
  if (o.peer !== undefined) return o.peer;
  const [peer, tools] =
    o.delivery === 'stream' ? (['icecast', ['icecast2', 'ffmpeg']] as const) : (['nginx', ['nginx']] as const);
  if (tools.every((tool) => installed(tool))) return peer;
  log(`no peer in this run: install ${tools.join(' and ')} to measure ${peer} beside Amphi (or pass --peer none)`);
  return 'none';
}

export function runListenerBench(options: ListenerBenchOptions): Promise<Record<string, unknown>> {
  const o = { ...options, peer: peerFor(options) };
  return withTeardown(async (t) => {
    const amphi = await startAmphi(t, 'listeners', benchConfig());
    const spaceId = await demoSpace(amphi.url);
    log(
      `listener bench: ${o.listeners} ${o.delivery} listeners at ${BITRATE_BPS / 1000} kb/s, ${o.seconds} s, ramp ${o.rampPerSecond}/s; server on CPU 0, simulator on CPU 1`,
    );
    await sleep(3000); // a few parts and a segment before anyone joins
    const tokens = await joinAll(amphi.url, spaceId, o.listeners);
    const results = await measureAll(t, amphi, spaceId, tokens, o);
    const summary = summarize(o, results);
    report(summary, results);
    // Figures are per listener started: with many refused they would be per listener that was not there.
    for (const m of results) {
      const failed = Object.values(m.errors).reduce((n, c) => n + c, 0);
      if (failed > 0.01 * m.started)
        throw new Error(
          `${m.target}: ${failed} of ${m.started} listeners failed (${JSON.stringify(m.errors)}); the figures do not hold`,
        );
    }
    return summary;
  });
}

/** The figures a measurement reports, for Amphi and its peer alike. */
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

function summarize(o: ListenerBenchOptions, results: Measured[]): Record<string, unknown> {
  const [ours, peer] = results as [Measured, Measured | undefined];
  return {
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
}

/** One line per target, a note when the generator set the pace, and the HTML report. */
function report(summary: Record<string, unknown>, results: Measured[]): void {
  for (const m of results) {
    log(
      `${m.target.padEnd(6)} ${m.started} listeners: ${m.serverCpuMicrosPerListenerSecond} CPU-us per listener-second ` +
        `(${Math.round(m.serverCpuShare * 100)}% of a core above its idle ${Math.round(m.serverBaselineCpuShare * 100)}%), ${m.serverRssBytesPerListener} B RSS per listener, ` +
        `stall rate ${m.stallRate.toFixed(4)}, part latency p50/p95/p99 ${m.partLatencyMs.p50}/${m.partLatencyMs.p95}/${m.partLatencyMs.p99} ms, ` +
        `${m.requestsPerSecond} req/s, errors ${JSON.stringify(m.errors)}, generator ${Math.round(m.generatorCpuShare * 100)}% of a core`,
    );
  }
  const ours = results[0]!;
  const peer = results[1];
  if (peer !== undefined)
    log(
      `amphi / ${peer.target}: ${(ours.serverCpuMicrosPerListenerSecond / Math.max(1e-9, peer.serverCpuMicrosPerListenerSecond)).toFixed(2)}x the CPU per listener-second, ` +
        `${(ours.serverRssBytesPerListener / Math.max(1, peer.serverRssBytesPerListener)).toFixed(1)}x the memory per listener`,
    );
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
}
