/**
 * `amphi bench flood`: the junk-flood drill. Legitimate LL-HLS listeners, then junk at `factor` times
 * their request rate on top: what refusing junk costs next to serving a request, and whether the
 * legitimate listeners notice.
 *
 *   npx amphi bench flood [--listeners 200] [--factor 10] [--seconds 30] [--json]
 *
 * Amphi runs pinned to CPU 0 with the bench config (per-address limits lifted, as in `amphi bench
 * listeners`: the legitimate listeners share a few source addresses). The junk comes from its own
 * addresses but is NOT throttled per address either: with the per-address bucket lifted for everyone,
 * each junk request must be refused by the door's shape and token checks, which is the cost measured.
 * This process (the listeners and the junk generator) is pinned to CPU 1.
 *
 * The listeners fetch playlists and parts (blocking playlist reload on the preload hint, then the
 * part), not the room-state long-poll: the legitimate request here is serving a part or a playlist.
 *
 * Phase A (S/2 s): the listeners only. Server CPU over the phase (less its idle CPU with nobody
 * listening, i.e. producing the program) divided by the legitimate requests it answered (from its own
 * request counters: listener routes, status < 400) is the cost of serving a part or a playlist.
 * Phase B (S/2 s): the listeners continue, plus junk at factor x phase A's legitimate request rate,
 * pipelined on keep-alive connections from separate loopback addresses: invalid tokens (random
 * base64url.mac), forged tokens (well-formed claims, wrong MAC: a full HMAC check each), expired
 * tokens (signed with the server's key, expired: an HMAC each too), malformed paths (/l/x/y/z, ../,
 * percent-encoded ../), bad queries (?_HLS_msn=abc ...) and unknown paths (404 before the framework).
 * Every answer must be a 4xx; a 2xx/3xx, a 5xx or a reset is an error. The cost of one junk request is
 * (phase B server CPU - phase A server CPU scaled to B's duration) / junk requests answered.
 *
 * Then each kind alone at the same rate for 5 s, the last 4 measured (the listeners gone): its cost above idle, to show
 * which check costs what, each followed by the same kind against the floor server (per-kind floors differ:
 * a long token URL costs Node's parser more than `/.env`), so each kind has its own ratio to the floor.
 *
 * Peer (the floor): the same junk at the same rate against a bare `node:http` server on the same core
 * that answers every request with a fixed 404 and does nothing else: what Node's HTTP parsing and
 * response writing alone cost per request, a floor no Node door can go under.
 *
 * Loopback only; bounded; stops by itself. Writes reports/bench-flood.{json,html}.
 */
import { admitListeners } from '../lib/admit.ts';
import { benchConfig, demoSpace, startAmphi } from '../lib/amphi.ts';
import { startNodePeer, type NodePeer } from '../lib/node-peer.ts';
import { cpuMicros, pinSelf } from '../lib/proc.ts';
import { writeReport, type Target } from '../lib/report.ts';
import { sleep } from '../lib/sleep.ts';
import { withTeardown, type Teardown } from '../lib/teardown.ts';
import { loopbackSources, simulateListeners, type Progress, type SimResult } from '../listener-sim.ts';
import {
  figures,
  floodTargets,
  phaseA,
  round,
  share,
  summarize,
  type Figures,
  type FloodOptions,
  type Mark,
  type Phases,
  type PerKind,
} from './figures.ts';
import { runJunk, type JunkOptions } from './junk.ts';
import { b64, JUNK_KINDS } from './junk-paths.ts';

export interface FloodBenchOptions extends FloodOptions {
  readonly json: boolean;
}

const log = (s: string) => process.stderr.write(`${s}\n`);

/** Legitimate listener answers (listener routes, status < 400) in a /metrics scrape. */
function listenerAnswers(text: string): { legit: number; refused: number } {
  let legit = 0;
  let refused = 0;
  for (const m of text.matchAll(/^amphi_control_http_requests_total\{([^}]*)\} (\d+)$/gm)) {
    const route = /route="([^"]*)"/.exec(m[1]!)?.[1] ?? '';
    const status = Number(/status="(\d+)"/.exec(m[1]!)?.[1] ?? 0);
    if (route.startsWith('/l/') && status < 400) legit += Number(m[2]);
    if (status >= 400) refused += Number(m[2]);
  }
  return { legit, refused };
}

/** The floor: a bare node:http server that answers everything with a fixed 404, nothing else. */
const floorSource =
  'const h=require(\'node:http\');const b=Buffer.from(\'{"error":{"code":"ROUTE_NOT_FOUND"}}\');' +
  "h.createServer((q,s)=>{s.writeHead(404,{'content-type':'application/json; charset=utf-8','content-length':b.length});s.end(b)})" +
  ".listen(0,'127.0.0.1',function(){console.log(this.address().port)})";

/** Idle: what the server spends producing the program with nobody listening, as a share of its core. */
async function idleShareOf(pid: number): Promise<number> {
  const idleFrom = { cpu: cpuMicros(pid), at: Date.now() };
  await sleep(3000);
  return (cpuMicros(pid) - idleFrom.cpu) / ((Date.now() - idleFrom.at) * 1000);
}

/** The legitimate LL-HLS listeners, ramping up now; their parts, stalls and the server's CPU, second by second. */
async function startListeners(url: string, demo: string, pid: number, o: FloodBenchOptions) {
  const sources = loopbackSources(Math.max(1, Math.ceil(o.listeners / 250)));
  const tokens = await admitListeners(url, demo, o.listeners, 500, sources);
  const rampPerSecond = 200;
  const settleS = o.listeners / rampPerSecond + 3;
  let latest: Progress = { elapsedS: 0, active: 0, parts: 0, stalls: 0, errors: 0 };
  const series: { t: number; parts: number; stalls: number; cpu: number }[] = [];
  let lastCpu = { cpu: cpuMicros(pid), at: Date.now() };
  const listening: Promise<SimResult> = simulateListeners({
    playlistUrls: tokens.map((t) => `${url}/l/${t}/${demo}/index.m3u8`),
    seconds: settleS + o.seconds,
    rampPerSecond,
    // Playlists and parts only: the legitimate request is "serving a part or a playlist".
    roomState: false,
    sourceAddresses: sources,
    onProgress: (p) => {
      const now = { cpu: cpuMicros(pid), at: Date.now() };
      const cpu = (now.cpu - lastCpu.cpu) / ((now.at - lastCpu.at) * 1000);
      lastCpu = now;
      series.push({ t: p.elapsedS, parts: p.parts - latest.parts, stalls: p.stalls - latest.stalls, cpu });
      latest = p;
      if (Math.round(p.elapsedS) % 5 === 0)
        log(`  ${Math.round(p.elapsedS)} s: ${p.active} listening, ${p.parts} parts, ${p.stalls} stalls, ${p.errors} errors`);
    },
  });
  return { listening, series, settleS, latest: () => latest };
}

type Listeners = Awaited<ReturnType<typeof startListeners>>;

/** A reading of the server's counters and CPU, this process's CPU, and the listeners' progress. */
async function mark(url: string, pid: number, listeners: Listeners): Promise<Mark> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return { ...listenerAnswers(text), cpu: cpuMicros(pid), gen: process.cpuUsage(), at: Date.now(), progress: listeners.latest() };
}

type JunkPlan = Omit<JunkOptions, 'baseUrl'>;
/** The CPU-us per answered request of `pid` under one kind of junk (or all): 1 s warm-up, then 4 s measured. */
async function junkAlone(url: string, pid: number, idleShare: number, junk: JunkPlan, kinds?: JunkOptions['kinds']) {
  const live = { answered: 0 };
  const running = runJunk({ ...junk, ...(kinds === undefined ? {} : { kinds }), seconds: 5, baseUrl: url, live });
  await sleep(1000);
  const k0 = { cpu: cpuMicros(pid), at: Date.now(), answered: live.answered };
  await sleep(4000);
  const k1 = { cpu: cpuMicros(pid), at: Date.now(), answered: live.answered };
  const r = await running;
  const micros = (k1.cpu - k0.cpu - idleShare * (k1.at - k0.at) * 1000) / Math.max(1, k1.answered - k0.answered);
  return { micros, r };
}

/**
 * Each kind alone (the listeners have gone): its cost above idle, then the same kind against the
 * floor server right after (the same requests, the same load on the machine): Amphi over the floor per kind.
 */
async function kindsAlone(url: string, pid: number, idleShare: number, junk: JunkPlan, floor: NodePeer): Promise<PerKind> {
  const perKind: PerKind = {};
  log(
    `each kind alone at ${Math.round(junk.perSecond)}/s, 1 s warm-up then 4 s measured (no listeners), then against the floor:`,
  );
  for (const kind of JUNK_KINDS) {
    const { micros, r } = await junkAlone(url, pid, idleShare, junk, [kind]);
    const floorMicros = (await junkAlone(floor.url, floor.pid, 0, junk, [kind])).micros;
    perKind[kind] = {
      perSecond: r.perSecondAchieved,
      cpuMicrosPerRequest: round(micros, 2),
      floorMicrosPerRequest: round(floorMicros, 2),
      overFloor: round(micros / Math.max(1e-9, floorMicros), 2),
      byStatus: r.byStatus,
    };
    log(
      `  ${kind.padEnd(15)} ${micros.toFixed(1)} CPU-us each (floor ${floorMicros.toFixed(1)}, ${(micros / Math.max(1e-9, floorMicros)).toFixed(2)}x), answers ${JSON.stringify(r.byStatus)}`,
    );
  }
  return perKind;
}

/** The same junk (all kinds) against the floor server on the same core: CPU-us per request. */
async function floorCost(floor: NodePeer, junk: JunkPlan, half: number): Promise<number> {
  log(`floor: the same junk at ${Math.round(junk.perSecond)}/s against a bare node:http 404 server on CPU 0`);
  const live = { answered: 0 };
  const floorS = Math.min(8, half);
  const running = runJunk({ ...junk, seconds: floorS + 1, baseUrl: floor.url, live });
  await sleep(1000);
  const f0 = { cpu: cpuMicros(floor.pid), answered: live.answered };
  await sleep(floorS * 1000);
  const micros = (cpuMicros(floor.pid) - f0.cpu) / Math.max(1, live.answered - f0.answered);
  await running;
  return micros;
}

/** The closing lines on stderr, with the dearest kinds when junk costs more than 1.2x the node:http floor. */
function report(p: Phases, f: Figures, targets: Target[]): void {
  const { junk, listened, floorMicros } = p;
  log('');
  log(
    `legitimate: ${f.legitMicros.toFixed(1)} CPU-us per request (${Math.round(f.legitPerSecond)}/s); junk: ${junk.answered} answered ` +
      `(${junk.perSecondAchieved}/s of ${junk.perSecondTarget}/s), ${f.junkMicros.toFixed(2)} CPU-us each = ${(f.ratio * 100).toFixed(1)}% of serving; ` +
      `node:http floor ${floorMicros.toFixed(2)} CPU-us = ${((floorMicros / Math.max(1e-9, f.legitMicros)) * 100).toFixed(1)}%; ` +
      `junk / floor ${(f.junkMicros / Math.max(1e-9, floorMicros)).toFixed(2)}x (goal <= 1.2x)`,
  );
  log(`  junk answers by status ${JSON.stringify(junk.byStatus)}; errors ${JSON.stringify(junk.errors)}`);
  log(
    `  listeners: stall rate ${f.stallsA.rate.toFixed(5)} in phase A, ${f.stallsB.rate.toFixed(5)} in phase B (${f.stallsB.stalls} stalls / ${f.stallsB.parts} parts); errors ${JSON.stringify(listened.errors)}`,
  );
  log(
    `  server ${Math.round(share(f.cpuA, f.durA) * 100)}% -> ${Math.round(share(f.cpuB, f.durB) * 100)}% of its core; generator ${Math.round(share(f.genA, f.durA) * 100)}% -> ${Math.round(share(f.genB, f.durB) * 100)}% of its core`,
  );
  for (const t of targets) log(`  ${t.pass ? 'PASS' : 'FAIL'} ${t.name} = ${t.value} (target ${t.target})`);
  if (f.junkMicros <= 1.2 * floorMicros) return;
  const dearest = Object.entries(p.perKind)
    .sort((a, b) => b[1].overFloor - a[1].overFloor)
    .slice(0, 2)
    .map(([k, v]) => `${k} ${v.cpuMicrosPerRequest} us (${v.overFloor}x its floor)`)
    .join(', ');
  log(
    `  goal missed: refusing a junk request costs ${f.junkMicros.toFixed(1)} us, a bare node:http 404 for the same junk ` +
      `${floorMicros.toFixed(1)} us; the dearest kinds are ${dearest}`,
  );
}

/** Idle, phase A, phase B, each kind alone, the floor. */
async function runPhases(t: Teardown, o: FloodBenchOptions): Promise<{ phases: Phases; listeners: Listeners }> {
  const half = o.seconds / 2;
  const signingKey = b64(36);
  const pinned = pinSelf(1);
  // Per-address buckets are lifted (the bench config): for the listeners, and for the junk too.
  const amphi = await startAmphi(t, 'flood', benchConfig({ tokens: { signingKey } }));
  const { url, pid } = amphi;
  const demo = await demoSpace(url);
  log(
    `flood drill: ${o.listeners} LL-HLS listeners, then junk at ${o.factor}x their request rate; ${half} s per phase; ` +
      `server on CPU 0, generator ${pinned ? 'on CPU 1' : 'unpinned'}`,
  );
  await sleep(3000); // a few parts and a segment before anyone listens
  const idleShare = await idleShareOf(pid);
  const listeners = await startListeners(url, demo, pid, o);
  await sleep(listeners.settleS * 1000);

  const a0 = await mark(url, pid, listeners);
  log(`phase A: listeners only for ${half} s`);
  await sleep(half * 1000);
  const a1 = await mark(url, pid, listeners);
  const a = phaseA(idleShare, a0, a1);
  const junkPerSecond = o.factor * a.legitPerSecond;
  log(
    `  ${a.legitA} legitimate requests (${Math.round(a.legitPerSecond)}/s), ${a.legitMicros.toFixed(1)} CPU-us each above idle; ` +
      `server ${Math.round((a.cpuA / (a.durA * 1e6)) * 100)}% of its core (idle ${Math.round(idleShare * 100)}%)`,
  );

  log(`phase B: plus junk at ${Math.round(junkPerSecond)}/s for ${half} s`);
  const junkPlan: JunkPlan = {
    spaceId: demo,
    perSecond: junkPerSecond,
    seconds: half,
    sourceAddresses: Array.from({ length: 8 }, (_, i) => `127.0.200.${i + 1}`),
    connections: 64,
    batch: 16,
    signingKey,
  };
  const junk = await runJunk({ ...junkPlan, baseUrl: url });
  const b1 = await mark(url, pid, listeners);
  const listened = await listeners.listening;
  const floor = await startNodePeer(t, floorSource);
  // Warmed up like Amphi (compiled, heap grown): otherwise the first kind measured pays for it.
  await runJunk({ ...junkPlan, seconds: 2, baseUrl: floor.url });
  const perKind = await kindsAlone(url, pid, idleShare, junkPlan, floor);
  const floorMicros = await floorCost(floor, junkPlan, half);
  await floor.stop();
  return { phases: { idleShare, a0, a1, b1, junk, listened, perKind, floorMicros }, listeners };
}

export function runFloodBench(o: FloodBenchOptions): Promise<Record<string, unknown>> {
  return withTeardown(async (t) => {
    const { phases, listeners } = await runPhases(t, o);
    const f = figures(phases);
    const targets = floodTargets(phases, f);
    const summary = summarize(o, phases, f, targets);
    report(phases, f, targets);
    const page = writeReport('bench-flood', summary, {
      title: 'Junk-flood drill',
      targets,
      plots: [
        {
          title: 'legitimate parts per second (junk starts halfway)',
          series: listeners.series.map((x) => ({ t: x.t, v: x.parts })),
          unit: 'parts/s',
        },
        {
          title: 'server CPU share (junk starts halfway)',
          series: listeners.series.map((x) => ({ t: x.t, v: x.cpu })),
          unit: 'cores',
        },
      ],
    });
    log(`report: ${page}`);
    return summary;
  });
}
