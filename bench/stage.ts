/**
 * Spaces per stage core: live Spaces of 3 speakers each (host + 2), every speaker publishing Opus
 * over real WebRTC (werift) and hearing the other two, every program mixed, encoded and recorded.
 *
 *   npm run bench:stage [-- --spaces 40 --seconds 20]
 *
 * Amphi runs pinned to CPU 0; the publishers (werift, in this process, SRTP keyed as on the stage: see
 * src/stage/srtp-keys.ts) on CPU 1. The figure is judged on a loaded core, not extrapolated from a
 * light one: after `--spaces` Spaces are up (each speaker's return audio flowing; a connection that
 * never completes is replaced once and counted), the bench probes the server's share of its core and
 * adds Spaces (up to MAX_SPACES) until that share is at least RAMP_ENOUGH, then measures over
 * `--seconds`: CPU-us per Space-second from /proc, Spaces per core = 1e6 / that, and the return audio
 * each speaker got (every frame the stage owes it, by RTP sequence number and by the 50-a-second
 * clock). It exits 1, saying why, when the core was under MIN_BUSY, when any return frame was missing,
 * or when Spaces per core is under the goal. Loopback only; bounded. Writes reports/bench-stage.json
 * and .html.
 *
 * AMPHI_BENCH_PROFILE_DIR=dir writes a V8 CPU profile of the server (dir/<pid>.cpuprofile) at its exit.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startAmphi } from './lib/amphi.ts';
import { createSpace, jsonApi, must, signUp } from './lib/json-api.ts';
import { cpuMicros } from './lib/proc.ts';
import { writeReport } from './lib/report.ts';
import { sleep } from './lib/sleep.ts';
import { withTeardown, type Teardown } from './lib/teardown.ts';
import { publishTone, type ReturnSequence, type TonePublisher } from './lib/whip-tone.ts';

export interface StageBenchOptions {
  readonly spaces: number;
  readonly seconds: number;
}

/** The share of its core the server must use while the figure is measured (issue 21). */
export const MIN_BUSY = 0.8;
/** The goal judged: Spaces per stage core. */
export const GOAL_SPACES_PER_CORE = 40;
/** The ramp's bound: past this the bench stops adding Spaces and says so. */
const MAX_SPACES = 120;
/** The ramp aims this far above MIN_BUSY, so a noisy probe does not leave the measurement under it. */
const RAMP_AIM = 0.85;
/** A probe at or above this ends the ramp (over MIN_BUSY by the probe's noise, under an overload). */
const RAMP_ENOUGH = 0.82;
/** Spaces set up at once (sign-ups, invitations and WHIP offers, in parallel). */
const SETUP_PARALLEL = 4;
const FRAMES_PER_SECOND = 50;
/** How long a speaker may take to connect (ICE and DTLS) while the server is loaded. */
const CONNECT_TIMEOUT_MS = 15_000;

type Api = ReturnType<typeof jsonApi>;

/** One live Space of three speakers (a host and two invited), every speaker publishing a tone. */
async function publishSpace(api: Api, s: number, publishers: TonePublisher[]): Promise<void> {
  const account = (k: number) => signUp(api, `bench_${s}_${k}`);
  const host = await account(0);
  const spaceId = await createSpace(api, host.token, `Bench ${s}`, true);
  const members = [host];
  for (let k = 1; k <= 2; k++) {
    const speaker = await account(k);
    await must('inviting a speaker', api('POST', `/api/spaces/${spaceId}/invitations`, host.token, { accountId: speaker.id }));
    await must('accepting the invitation', api('POST', `/api/spaces/${spaceId}/invitations/me/accept`, speaker.token, {}));
    members.push(speaker);
  }
  for (const [k, member] of members.entries()) {
    const publish = async () => {
      const grant = (await must('the stage grant', api('POST', `/api/spaces/${spaceId}/stage`, member.token, {}))).json as {
        whipUrl: string;
        token: string;
      };
      const publisher = await publishTone({
        whipUrl: grant.whipUrl,
        token: grant.token,
        frequencyHz: [440, 550, 660][k]!,
        decodeReceived: false,
      });
      if (publisher.status !== 201)
        throw new Error(`setup: the WHIP offer of speaker ${k} in Space ${s} answered ${publisher.status}`);
      return publisher;
    };
    publishers.push(await connectedOrRetried(publish, `speaker ${k} of Space ${s}`));
  }
}

/** Setup connections that never connected, and were replaced (counted in the report). */
let setupRetries = 0;

/**
 * A publisher whose return audio flows (the proof that ICE and DTLS completed): one whose connection
 * does not complete within CONNECT_TIMEOUT_MS is closed and published again, once; a second failure
 * stops the bench. (werift's connection state can read 'disconnected' for a moment while media flows.)
 */
async function connectedOrRetried(publish: () => Promise<TonePublisher>, who: string): Promise<TonePublisher> {
  for (let attempt = 0; ; attempt++) {
    const publisher = await publish();
    for (let waited = 0; publisher.receivedPackets() === 0; waited += 100) {
      if (waited >= CONNECT_TIMEOUT_MS) break;
      await sleep(100);
    }
    if (publisher.receivedPackets() > 0) return publisher;
    const state = publisher.connectionState();
    await publisher.close().catch(() => {});
    if (attempt > 0) throw new Error(`setup: ${who} is ${state}, no return audio after ${CONNECT_TIMEOUT_MS} ms, twice`);
    setupRetries++;
  }
}

/** Spaces `from` .. `to - 1`, SETUP_PARALLEL at a time. */
async function publishSpaces(api: Api, from: number, to: number, publishers: TonePublisher[]): Promise<void> {
  let next = from;
  let done = from;
  const worker = async () => {
    while (next < to) {
      await publishSpace(api, next++, publishers);
      process.stdout.write(`\r  ${++done}/${to} Spaces publishing`);
    }
  };
  await Promise.all(Array.from({ length: SETUP_PARALLEL }, worker));
  process.stdout.write('\n');
}

/** The server's share of a core over `ms`, and CPU 0's busy share in all (the server and anyone else on it). */
async function busyShare(pid: number, ms: number): Promise<{ server: number; core: number }> {
  const [cpu0, core0] = [cpuMicros(pid), cpu0Ticks()];
  const t0 = performance.now();
  await sleep(ms);
  const core1 = cpu0Ticks();
  return {
    server: (cpuMicros(pid) - cpu0) / ((performance.now() - t0) * 1000),
    core: (core1.busy - core0.busy) / Math.max(1, core1.total - core0.total),
  };
}

/**
 * Adds Spaces until the server uses at least RAMP_AIM of its core (or MAX_SPACES). Returns how many are
 * up. Other processes on CPU 0 (the machine is shared) take CPU the server would use: a probe where they
 * took more than a tenth of the core is repeated rather than read as the server's load.
 */
async function ramp(api: Api, pid: number, spaces: number, publishers: TonePublisher[]): Promise<number> {
  for (let round = 0, contended = 0; round < 6 && spaces < MAX_SPACES; round++) {
    await sleep(2000); // settle: ICE, DTLS, JIT
    const busy = await busyShare(pid, 3000);
    const others = Math.max(0, busy.core - busy.server);
    console.log(
      `  probe: ${spaces} Spaces use ${Math.round(busy.server * 100)}% of the server's core (others on CPU 0: ${Math.round(others * 100)}%)`,
    );
    if (busy.server >= RAMP_ENOUGH) break;
    if (others > 0.1 && contended++ < 2) continue;
    // At most half as many again per round: a probe read low must not add a crowd the core cannot carry.
    const wanted = Math.min(MAX_SPACES, Math.ceil(spaces * 1.5), Math.ceil((spaces * RAMP_AIM) / Math.max(busy.server, 0.05)));
    await publishSpaces(api, spaces, Math.max(wanted, spaces + 1), publishers);
    spaces = publishers.length / 3;
  }
  return spaces;
}

/** The whole machine's CPU 0 busy share between two /proc/stat readings (the server and anyone else on it). */
function cpu0Ticks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('cpu0 '));
  const v = (line ?? 'cpu0 0 0 0 0').trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/**
 * Return audio over the window, from each speaker's sequence numbers at its start and end: a speaker
 * is owed every sequence number in between, and at least 50 frames a second less one at each edge (so
 * a stream that slows or stops is missing frames too). Delivered = frames received / frames owed.
 */
export function returnDelivery(
  before: readonly ReturnSequence[],
  after: readonly ReturnSequence[],
  wallSeconds: number,
): { received: number; owed: number; delivered: number; short: number; gaps: number } {
  const byClock = Math.max(0, Math.round(wallSeconds * FRAMES_PER_SECOND) - 2);
  let received = 0;
  let owed = 0;
  let short = 0;
  let gaps = 0;
  for (const [i, a] of after.entries()) {
    const b = before[i]!;
    const span = b.highest < 0 ? a.highest - a.lowest + 1 : a.highest - b.highest;
    const due = Math.max(span, byClock);
    const got = Math.min(due, a.distinct - b.distinct);
    gaps += Math.max(0, span - (a.distinct - b.distinct));
    received += got;
    owed += due;
    if (got < due) short++;
  }
  return { received, owed, delivered: owed === 0 ? 0 : received / owed, short, gaps };
}

async function measure(pid: number, seconds: number, publishers: readonly TonePublisher[]) {
  const seq0 = publishers.map((p) => p.returnSequence());
  const cpu0 = cpuMicros(pid);
  const core0 = cpu0Ticks();
  const load0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const serverCpu = cpuMicros(pid) - cpu0;
  const core1 = cpu0Ticks();
  const loadCpu = process.cpuUsage(load0);
  const seq1 = publishers.map((p) => p.returnSequence());
  const notConnected = publishers.filter((p) => p.connectionState() !== 'connected').length;
  return {
    notConnected,
    wallSeconds,
    serverCpu,
    core0Busy: (core1.busy - core0.busy) / Math.max(1, core1.total - core0.total),
    generatorBusy: (loadCpu.user + loadCpu.system) / (wallSeconds * 1e6),
    ret: returnDelivery(seq0, seq1, wallSeconds),
  };
}

/** The stage's `amphi_stage_sessions` gauge: a speaker the server closed (and the client did not notice) is missing there. */
async function serverSessions(url: string): Promise<number | null> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('amphi_stage_sessions'));
    return line === undefined ? null : Number(line.split(/\s+/).at(-1));
  } catch {
    return null;
  }
}

/** Amphi started with the CPU profiler preloaded when AMPHI_BENCH_PROFILE_DIR is set. */
function startProfiledAmphi(t: Teardown) {
  const dir = process.env.AMPHI_BENCH_PROFILE_DIR;
  const saved = process.env.NODE_OPTIONS;
  if (dir !== undefined && dir !== '') {
    const preload = fileURLToPath(new URL('./lib/cpu-profile-preload.ts', import.meta.url));
    process.env.NODE_OPTIONS = `${saved ?? ''} --import ${preload}`.trim();
    process.env.AMPHI_CPU_PROFILE_DIR = dir;
  }
  // The stage's own config, not the listener benches': the program at its default bitrate.
  // Three sign-ups per Space from one address: the per-address password limit is lifted.
  const started = startAmphi(t, 'stage', {
    rateLimits: { authPerAddress: { capacity: 1_000_000, refillPerSecond: 1_000_000 } },
  });
  if (saved === undefined) delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = saved;
  return started;
}

export function runStageBench({ spaces, seconds }: StageBenchOptions): Promise<void> {
  return withTeardown(async (t) => {
    const amphi = await startProfiledAmphi(t);
    console.log(
      `stage bench: from ${spaces} Spaces x 3 speakers up to ${MIN_BUSY * 100}%+ of the server's core, ${seconds} s measured`,
    );
    const publishers: TonePublisher[] = [];
    t.add(async () => {
      await Promise.all(publishers.map((p) => p.close().catch(() => {})));
    });
    const api = jsonApi(() => amphi.url);
    await publishSpaces(api, 0, spaces, publishers);
    const live = await ramp(api, amphi.pid, spaces, publishers);
    await sleep(2000);
    const m = await measure(amphi.pid, seconds, publishers);
    const sessions = await serverSessions(amphi.url);
    const busy = m.serverCpu / (m.wallSeconds * 1e6);
    const perSpaceSecond = m.serverCpu / (live * m.wallSeconds);
    const summary = {
      method: 'werift publishers over loopback, ramped until the server uses >= 80% of its core; server CPU from /proc',
      spaces: live,
      speakersPerSpace: 3,
      seconds: Number(m.wallSeconds.toFixed(2)),
      serverCpuUtilisation: Number(busy.toFixed(3)),
      cpu0Busy: Number(m.core0Busy.toFixed(3)),
      cpuMicrosPerSpaceSecond: Math.round(perSpaceSecond),
      spacesPerCore: Math.floor(1e6 / perSpaceSecond),
      returnFramesReceived: m.ret.received,
      returnFramesOwed: m.ret.owed,
      returnAudioDelivered: Number(m.ret.delivered.toFixed(5)),
      speakersShort: m.ret.short,
      returnSequenceGaps: m.ret.gaps,
      speakersNotConnected: m.notConnected,
      serverSessions: sessions,
      setupRetries,
      generatorCpuUtilisation: Number(m.generatorBusy.toFixed(3)),
      target: `>= ${GOAL_SPACES_PER_CORE} Spaces per stage core at >= ${MIN_BUSY * 100}% busy, return audio 100% delivered`,
    };
    report(summary);
    const failures = judge(summary);
    if (failures.length > 0) throw new Error(`stage bench failed: ${failures.join('; ')}`);
  });
}

type Summary = {
  readonly spaces: number;
  readonly serverCpuUtilisation: number;
  readonly cpu0Busy: number;
  readonly cpuMicrosPerSpaceSecond: number;
  readonly spacesPerCore: number;
  readonly returnFramesReceived: number;
  readonly returnFramesOwed: number;
  readonly returnAudioDelivered: number;
  readonly speakersShort: number;
  readonly returnSequenceGaps: number;
  readonly speakersNotConnected: number;
  readonly serverSessions?: number | null;
  readonly generatorCpuUtilisation: number;
};

function report(s: Summary & Record<string, unknown>): void {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(
    `server: ${pct(s.serverCpuUtilisation)} of its core (CPU 0 ${pct(s.cpu0Busy)} busy in all) for ${s.spaces} Spaces = ` +
      `${s.cpuMicrosPerSpaceSecond} CPU-us per Space-second => ${s.spacesPerCore} Spaces per stage core (goal >= ${GOAL_SPACES_PER_CORE})`,
  );
  console.log(
    `return audio: ${s.returnFramesReceived}/${s.returnFramesOwed} frames = ${pct(s.returnAudioDelivered)} delivered ` +
      `(${s.speakersShort} speakers short, ${s.returnSequenceGaps} lost in sequence gaps, the rest late; ` +
      `${s.speakersNotConnected} speakers not connected at the end; server sessions ${String(s.serverSessions)}; setup connections retried ${String(s.setupRetries)}); generator ${pct(s.generatorCpuUtilisation)} of CPU 1`,
  );
  const page = writeReport('bench-stage', s, {
    title: 'Spaces per stage core',
    plots: [],
    targets: [
      {
        name: 'Spaces per stage core',
        value: s.spacesPerCore,
        target: `>= ${GOAL_SPACES_PER_CORE}`,
        pass: s.spacesPerCore >= GOAL_SPACES_PER_CORE,
      },
      {
        name: "server's core busy while measured",
        value: s.serverCpuUtilisation,
        target: `>= ${MIN_BUSY}`,
        pass: s.serverCpuUtilisation >= MIN_BUSY,
      },
      { name: 'return audio delivered', value: s.returnAudioDelivered, target: '1', pass: s.returnAudioDelivered === 1 },
    ],
  });
  console.log(`no peer: nothing else mixes Spaces; report ${page}`);
  console.log(JSON.stringify(s));
}

/** Why the run does not show the goal (empty: it does). */
export function judge(s: Summary): string[] {
  const failures: string[] = [];
  if (s.serverCpuUtilisation < MIN_BUSY)
    failures.push(
      `the server's core was ${Math.round(s.serverCpuUtilisation * 100)}% busy, under ${MIN_BUSY * 100}%: ` +
        `the figure would be extrapolated (CPU 0 ${Math.round(s.cpu0Busy * 100)}% busy in all; the ramp stops at ${MAX_SPACES} Spaces)`,
    );
  if (s.returnFramesReceived < s.returnFramesOwed)
    failures.push(
      `return audio ${(s.returnAudioDelivered * 100).toFixed(2)}% delivered, not 100%: ` +
        `${s.returnFramesOwed - s.returnFramesReceived} frames missing over ${s.speakersShort} speakers` +
        (s.generatorCpuUtilisation > 0.9 ? ` (the generator used ${Math.round(s.generatorCpuUtilisation * 100)}% of CPU 1)` : ''),
    );
  if (s.spacesPerCore < GOAL_SPACES_PER_CORE)
    failures.push(`${s.spacesPerCore} Spaces per stage core, under the goal of ${GOAL_SPACES_PER_CORE}`);
  return failures;
}
