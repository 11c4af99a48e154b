/**
 * `amphi drill launch-night`: the night X Spaces failed (2024-08-12), replayed on a local cluster and
 * scored. Loopback only; bounded (the default run about 6 minutes, `--short` about 3 for CI); stops
 * by itself, and on Ctrl-C or SIGTERM stops everything it started (lib/teardown.ts).
 *
 *   1. The cluster: Redis with Sentinel (a master, a replica, three sentinels), PostgreSQL, radosgw
 *      (S3), nginx, three control nodes, two media nodes, three edges (`bench/cluster/launch.ts`).
 *   2. A host, a co-host and `reminders` accounts that set a reminder; a Space scheduled `lead` seconds
 *      ahead. Host and co-host connect their publishers (a 440 Hz tone) backstage.
 *   3. Doors open: the audience (`audience.ts`) arrives before the start, joins, and its players wait
 *      for go-live by themselves.
 *   4. At the scheduled minute the host goes live; a flash crowd (`joins/crowd.ts`) joins at 10x the
 *      door's capacity through nginx, and junk (`flood/junk.ts`) hits the edges at 10x the crowd's rate.
 *   5. During the show: SIGKILL an edge, a control node, the media node producing the Space (another
 *      takes over), and the Redis master (Sentinel fails over); each is restarted a little later.
 *   6. The host ends; the replay is fetched from a media node (through the bucket) and decoded by ffmpeg.
 *   7. The scorecard (`score.ts`), printed and written with a timeline (`report.ts`).
 */
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, type Cluster, type ClusterNode } from '../cluster/launch.ts';
import { crowdSources, doorAt } from '../joins/drill.ts';
import { runCrowd } from '../joins/crowd.ts';
import { runJunk, type JunkResult } from '../flood/junk.ts';
import { jsonApi } from '../lib/json-api.ts';
import { sleep } from '../lib/sleep.ts';
import { withTeardown, type Teardown } from '../lib/teardown.ts';
import type { KeptPublisher } from '../lib/whip-tone.ts';
import { runAudience, type Audience } from './audience.ts';
import { perNodeFigures, sampleRoles } from './cpu.ts';
import { owner, setUp, speaker, type Api } from './people.ts';
import { replay } from './replay.ts';
import { writeNightReport, type NightPoint } from './report.ts';
import { scoreNight, type Fault, type NightRecord } from './score.ts';

export interface NightOptions {
  /** The door's capacity, joins per second for the whole cluster; the crowd comes at 10x. */
  readonly capacity: number;
  /** Seconds the crowd keeps arriving from the scheduled minute. */
  readonly crowdSeconds: number;
  /** The audience that comes before the start (doors open). */
  readonly audience: number;
  readonly reminders: number;
  /** Seconds from the Space's creation to its scheduled start. */
  readonly leadSeconds: number;
  /** Seconds from the scheduled start to the end. */
  readonly showSeconds: number;
  readonly json: boolean;
  /** Broken on purpose (the drill's self-check): each control node keeps its own waiting line. */
  readonly brokenLine?: boolean;
  /** Where the report and the nodes' logs go (default: the repository's reports/). */
  readonly outDir?: string;
}

const defaultOut = new URL('../../reports/', import.meta.url).pathname;

export const SHORT: Omit<NightOptions, 'json'> = {
  capacity: 20,
  crowdSeconds: 15,
  audience: 40,
  reminders: 20,
  leadSeconds: 15,
  showSeconds: 55,
};
export const FULL: Omit<NightOptions, 'json'> = {
  capacity: 40,
  crowdSeconds: 60,
  audience: 150,
  reminders: 100,
  leadSeconds: 30,
  showSeconds: 150,
};

const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

/** Every node's config: the door at `capacity`; proof of work out of reach (not part of this night). */
function nightConfig(o: NightOptions): Record<string, unknown> {
  return {
    auth: { passwordHashCostLog2: 10 },
    rateLimits: { authPerAddress: { capacity: 100_000, refillPerSecond: 10_000 } },
    tokens: { listenerTokenTtlSeconds: 3600 },
    ...(o.brokenLine === true ? { cluster: { brokenPerNodeLine: true } } : {}),
    admission: doorAt(o.capacity),
  };
}

/** Kills a process now and starts it again `downMs` later (in the background); the fault as recorded. */
function killAndRestart(
  name: string,
  kill: () => void,
  restart: () => Promise<void>,
  downMs: number,
): Fault & { back: Promise<void> } {
  const at = Date.now();
  kill();
  log(`  fault: ${name}`);
  const back = sleep(downMs)
    .then(restart)
    .catch((error: unknown) => log(`  ${name}: the restart failed: ${(error as Error).message}`));
  return { name, at, back };
}

/** Samples the night each second until `stop`. */
function sampler(scheduledAt: number, audience: () => Audience | undefined, crowd: { latest?: NightPoint }) {
  const points: NightPoint[] = [];
  const timer = setInterval(() => {
    const now = Date.now();
    const a = audience();
    const streaming = a?.streaming(now) ?? 0;
    const started = a?.logs.filter((l) => l.firstAudioAt !== undefined).length ?? 0;
    points.push({
      t: Math.round((now - scheduledAt) / 100) / 10,
      waiting: crowd.latest?.waiting ?? 0,
      nowServing: crowd.latest?.nowServing ?? 0,
      tokens: crowd.latest?.tokens ?? 0,
      exchanged: crowd.latest?.exchanged ?? 0,
      streaming,
      silent: Math.max(0, started - streaming),
    });
  }, 1000);
  return { points, stop: () => clearInterval(timer) };
}

/** The program's own hole after the media node was killed: until the first listener heard audio again. */
function programGap(audience: Audience, killedAt: number | undefined) {
  if (killedAt === undefined) return undefined;
  const resumed = audience.logs.flatMap((l) =>
    l.silences.filter((s) => s.from <= killedAt + 1000 && s.to > killedAt).map((s) => s.to),
  );
  return resumed.length === 0 ? undefined : { from: killedAt, to: Math.min(...resumed) };
}

/** Copies every node's log to <out>/drill-launch-night-logs/ (the cluster's own files go at teardown). */
function keepLogs(cluster: Cluster, out: string): void {
  const dir = join(out, 'drill-launch-night-logs');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const node of [...cluster.medias.map((m) => m.node), ...cluster.controls, ...cluster.edges]) {
    if (existsSync(node.logFile)) copyFileSync(node.logFile, join(dir, `${node.role}-${node.index}.log`));
  }
}

/** The cluster, the Space and its people, the publishers backstage and the early audience (doors open). */
async function beforeTheShow(t: Teardown, o: NightOptions) {
  const cluster = await startCluster(t, {
    controls: 3,
    edges: 3,
    media: 2,
    sentinel: true,
    bucket: true,
    demo: false,
    config: nightConfig(o),
    progress: (line) => log(`  ${line}`),
  });
  t.add(() => keepLogs(cluster, o.outDir ?? defaultOut));
  const api = jsonApi(() => cluster.url);
  const night = await setUp(api, o);
  log(`  Space ${night.spaceId} scheduled in ${o.leadSeconds} s; ${night.reminderCount} reminders set`);
  // One after the other: the host's takes the Space's lease, the co-host's is sent to the same stage.
  const publishers: KeptPublisher[] = [];
  t.add(() => Promise.all(publishers.map((p) => p.close())));
  for (const token of [night.host.token, night.cohost.token]) publishers.push(await speaker(api, night.spaceId, token));
  const audience = runAudience({
    baseUrl: cluster.url,
    spaceId: night.spaceId,
    count: o.audience,
    perSecond: Math.min(0.8 * o.capacity, o.audience / Math.max(1, o.leadSeconds - 3)),
    sourceAddresses: Array.from({ length: 16 }, (_, i) => `127.0.150.${i + 1}`),
  });
  t.add(() => audience.stop());
  return { cluster, api, night, publishers, audience };
}

/** At the scheduled minute: the host presses go-live; how long until the public view says live. */
async function goLive(api: Api, spaceId: string, hostToken: string, scheduledAt: number) {
  await sleep(Math.max(0, scheduledAt - Date.now()));
  const pressedAt = Date.now();
  const started = await api('POST', `/api/spaces/${spaceId}/start`, hostToken);
  const startedAt = Date.now();
  let liveAt: number | undefined;
  while (liveAt === undefined && Date.now() - pressedAt < 10_000) {
    const view = await api('GET', `/api/spaces/${spaceId}`);
    if (view.json?.space?.state === 'live') liveAt = Date.now();
    else await sleep(20);
  }
  log(
    `  go-live: ${started.status} after ${startedAt - pressedAt} ms; live after ${liveAt === undefined ? 'never' : liveAt - pressedAt} ms`,
  );
  return { pressedAt, startedAt, liveAt };
}

/** The flash crowd through nginx at 10x capacity, and junk at the edges at 10x the crowd's rate. */
function load(cluster: Cluster, spaceId: string, o: NightOptions, now: { latest?: NightPoint }) {
  const rate = 10 * o.capacity;
  const crowd = runCrowd({
    baseUrl: cluster.url,
    spaceId,
    attemptsPerSecond: rate,
    seconds: o.crowdSeconds,
    drainSeconds: Math.max(30, o.showSeconds - o.crowdSeconds - 10),
    sourceAddresses: crowdSources(rate, o.capacity),
    linePoll: 'cdn',
    onProgress: (p) => {
      now.latest = {
        t: 0,
        waiting: p.waiting,
        nowServing: p.nowServing,
        tokens: p.tokens,
        exchanged: p.exchanged,
        streaming: 0,
        silent: 0,
      };
      if (Math.round(p.elapsedS) % 5 === 0)
        log(
          `  ${Math.round(p.elapsedS)} s: ${p.attempts} joins, ${p.tokens} tokens, ${p.tickets} tickets, ${p.waiting} waiting, ${p.errors} errors`,
        );
    },
  });
  const junk = Promise.all(
    cluster.edges.map((edge, i) =>
      runJunk({
        baseUrl: edge.url,
        spaceId,
        perSecond: (10 * rate) / cluster.edges.length,
        seconds: o.crowdSeconds,
        sourceAddresses: Array.from({ length: 4 }, (_, j) => `127.0.${200 + i}.${j + 1}`),
        connections: 16,
        batch: 8,
        signingKey: cluster.signingKey,
      }),
    ),
  );
  return { crowd, junk, rate };
}

/** The faults, spread over the show; each process restarted a little later. */
async function faultsDuringTheShow(
  cluster: Cluster,
  spaceId: string,
  scheduledAt: number,
  showSeconds: number,
  moved: (survivor: ClusterNode) => void,
) {
  const at = (share: number) => sleep(Math.max(0, scheduledAt + share * showSeconds * 1000 - Date.now()));
  const faults: (Fault & { back: Promise<void> })[] = [];
  await at(0.1);
  const edge = cluster.edges[0]!;
  faults.push(
    killAndRestart(
      'edge SIGKILL',
      () => edge.kill('SIGKILL'),
      () => edge.restart(),
      5000,
    ),
  );
  await at(0.2);
  const control = cluster.controls[0]!;
  faults.push(
    killAndRestart(
      'control node SIGKILL',
      () => control.kill('SIGKILL'),
      () => control.restart(),
      5000,
    ),
  );
  await at(0.35);
  const producing = await owner(cluster, spaceId);
  const media = killAndRestart(
    'media node SIGKILL (failover)',
    () => producing.kill('SIGKILL'),
    () => producing.restart(),
    10_000,
  );
  faults.push(media);
  moved(cluster.medias.find((m) => m.node !== producing)!.node);
  await at(0.6);
  const redis = cluster.redis;
  faults.push(
    killAndRestart(
      'Redis master SIGKILL (Sentinel failover)',
      () => redis.child.kill('SIGKILL'),
      () => redis.restart(),
      10_000,
    ),
  );
  return { faults, media, producing, done: at(1).then(() => Promise.all(faults.map((f) => f.back))) };
}

/** How long each speaker was off the stage: from the media node's death (or the loss noticed) until back. */
function interruptions(publishers: readonly KeptPublisher[], mediaKilledAt: number): number[] {
  return publishers.flatMap((p) =>
    p.reconnects.map(
      (r) => r.backAt - (r.lostAt >= mediaKilledAt && r.lostAt - mediaKilledAt < 15_000 ? mediaKilledAt : r.lostAt),
    ),
  );
}

function junkSummary(results: readonly JunkResult[], perSecondTarget: number) {
  const fourxx = (j: JunkResult) =>
    Object.entries(j.byStatus).reduce((n, [status, c]) => n + (status.startsWith('4') ? c : 0), 0);
  return {
    perSecondTarget,
    sent: results.reduce((n, j) => n + j.sent, 0),
    answered4xx: results.reduce((n, j) => n + fourxx(j), 0),
    // Junk sent to the edge while it was dead fails to connect: counted by kind, not as people's errors.
    errors: results.reduce<Record<string, number>>((all, j) => {
      for (const [kind, n] of Object.entries(j.errors)) all[kind] = (all[kind] ?? 0) + n;
      return all;
    }, {}),
  };
}

export function runLaunchNight(o: NightOptions) {
  return withTeardown(async (t) => {
    log(
      `launch night: door capacity ${o.capacity} joins/s, a crowd at ${10 * o.capacity}/s for ${o.crowdSeconds} s, ` +
        `${o.audience} early listeners, ${o.reminders} reminders, the show ${o.showSeconds} s`,
    );
    const { cluster, api, night, publishers, audience } = await beforeTheShow(t, o);
    const { spaceId, scheduledAt } = night;
    const crowdNow: { latest?: NightPoint } = {};
    const sampling = sampler(scheduledAt, () => audience, crowdNow);
    t.add(() => sampling.stop());

    const live = await goLive(api, spaceId, night.host.token, scheduledAt);
    const producing: { node?: ClusterNode } = { node: await owner(cluster, spaceId).catch(() => undefined) };
    const cpu = sampleRoles(cluster, () => producing.node);
    t.add(() => cpu.stop());
    const { crowd, junk, rate } = load(cluster, spaceId, o, crowdNow);
    const show = await faultsDuringTheShow(cluster, spaceId, scheduledAt, o.showSeconds, (node) => (producing.node = node));
    const [crowdResult, junkResults] = await Promise.all([crowd, junk, show.done]);
    cpu.stop();
    const endPressedAt = Date.now();
    const ended = await api('POST', `/api/spaces/${spaceId}/end`, night.host.token);
    log(`  the host ended the Space: ${ended.status}`);
    await audience.stop();
    sampling.stop();
    const survivor = cluster.medias.find((m) => m.node !== show.producing)!.node;
    const record: NightRecord = {
      scheduledAt,
      ...live,
      endedAt: endPressedAt,
      crowd: crowdResult,
      audience: audience.logs,
      faults: show.faults,
      programGap: programGap(audience, show.media.at),
      speakerInterruptionsMs: interruptions(publishers, show.media.at),
      replay: await replay(cluster, spaceId, survivor, Date.now()),
    };
    const score = scoreNight(record);
    const perNode = perNodeFigures(cpu, sampling.points, scheduledAt, crowdResult, {
      crowd: [live.pressedAt, live.pressedAt + o.crowdSeconds * 1000],
      quiet: [live.pressedAt + (o.crowdSeconds + 2) * 1000, show.faults.at(-1)!.at],
    });
    const summary = {
      options: o,
      reminders: night.reminderCount,
      pass: score.pass,
      targets: score.targets,
      figures: score.figures,
      perNode,
      junk: junkSummary(junkResults, 10 * rate),
      crowd: {
        attempts: crowdResult.attempts,
        tokens: crowdResult.tokensIssued,
        tickets: crowdResult.ticketsIssued,
        exchanged: crowdResult.exchanged,
        waitingAtEnd: crowdResult.waitingAtEnd,
        etaErrorPct: crowdResult.etaErrorPct,
        etaErrorPctByEta: crowdResult.etaErrorPctByEta,
        retried: crowdResult.retried,
        errors: crowdResult.errors,
      },
    };
    for (const target of score.targets)
      log(`  ${target.pass ? 'PASS' : 'FAIL'} ${target.name}: ${target.value} ${target.unit} (goal ${target.goal})`);
    log(
      `  report: ${writeNightReport(o.outDir ?? defaultOut, summary, score, sampling.points, show.faults, scheduledAt)}; the night ${score.pass ? 'PASSED' : 'FAILED'}`,
    );
    return summary;
  });
}
