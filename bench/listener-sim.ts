/**
 * A listener simulator: N listeners that follow an LL-HLS player's request schedule (blocking
 * playlist reload on the preload-hinted part, then that part; the room state long-poll) without
 * decoding audio. Each models a playout buffer that starts at PART-HOLD-BACK and drains in real time:
 * a stall is the buffer running dry before the next part arrives. Connections are spread over many
 * loopback source addresses (127.0.0.0/8). Bounded in count and time; stops by itself.
 */
import { Agent, request } from 'node:http';
import { quantile } from './lib/quantiles.ts';
import { sleep } from './lib/sleep.ts';

export interface SimOptions {
  /** Playlist URL per listener (a token each): `.../l/<token>/<space>/index.m3u8`. */
  readonly playlistUrls: readonly string[];
  readonly seconds: number;
  /** New listeners per second during the ramp. */
  readonly rampPerSecond: number;
  /** Also long-poll state.json?v=N as the web app does. */
  readonly roomState: boolean;
  /** Source addresses to spread connections over (127.x.y.z). */
  readonly sourceAddresses: readonly string[];
  /** Called every second with running totals. */
  readonly onProgress?: (p: Progress) => void;
}

export interface Progress {
  readonly elapsedS: number;
  readonly active: number;
  readonly parts: number;
  readonly stalls: number;
  readonly errors: number;
}

export interface SimResult {
  readonly listeners: number;
  readonly started: number;
  readonly parts: number;
  readonly requests: number;
  readonly bytes: number;
  readonly stalls: number;
  readonly stallRate: number;
  readonly stalledListeners: number;
  readonly errors: Record<string, number>;
  readonly partLatencyMs: { p50: number; p95: number; p99: number; samples: number };
  readonly timeline: { t: number; p50: number; active: number }[];
}

/** A run's totals as its result: the stall rate is stalls per part played or missed (1 if none played). */
export function simResult(r: Omit<SimResult, 'stallRate'>): SimResult {
  const { parts, stalls } = r;
  return {
    listeners: r.listeners,
    started: r.started,
    parts,
    requests: r.requests,
    bytes: r.bytes,
    stalls,
    stallRate: parts === 0 ? (stalls > 0 ? 1 : 0) : stalls / (parts + stalls),
    stalledListeners: r.stalledListeners,
    errors: r.errors,
    partLatencyMs: r.partLatencyMs,
    timeline: r.timeline,
  };
}

const HINT_RE = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p(\d+)\.(\d+)\.m4s"/;
const HOLD_RE = /PART-HOLD-BACK=([\d.]+)/;

interface Fetched {
  status: number;
  body: Buffer;
}

/** One run's running totals, shared by its listeners. */
interface Run {
  readonly o: SimOptions;
  readonly t0: number;
  readonly deadline: number;
  readonly latencies: number[];
  readonly errors: Record<string, number>;
  readonly stalled: Set<number>;
  parts: number;
  requests: number;
  bytes: number;
  stalls: number;
  active: number;
}

export async function simulateListeners(o: SimOptions): Promise<SimResult> {
  const agents = o.sourceAddresses.map((localAddress) => new Agent({ keepAlive: true, localAddress, maxSockets: Infinity }));
  const t0 = Date.now();
  const run: Run = {
    o,
    t0,
    deadline: t0 + o.seconds * 1000,
    latencies: [],
    errors: {},
    stalled: new Set<number>(),
    parts: 0,
    requests: 0,
    bytes: 0,
    stalls: 0,
    active: 0,
  };
  const timeline: { t: number; p50: number; active: number }[] = [];
  const progress = setInterval(() => {
    const p50 = quantile(
      [...run.latencies].sort((a, b) => a - b),
      0.5,
    );
    timeline.push({ t: (Date.now() - t0) / 1000, p50, active: run.active });
    o.onProgress?.({
      elapsedS: (Date.now() - t0) / 1000,
      active: run.active,
      parts: run.parts,
      stalls: run.stalls,
      errors: Object.values(run.errors).reduce((a, b) => a + b, 0),
    });
  }, 1000);

  const started = await rampUp(
    o.playlistUrls,
    o.rampPerSecond,
    t0,
    () => Date.now() < run.deadline,
    (index, url) => listen(run, index, url, agents[index % agents.length]!),
  );
  clearInterval(progress);
  for (const a of agents) a.destroy();
  const sorted = run.latencies.sort((a, b) => a - b);
  return simResult({
    listeners: o.playlistUrls.length,
    started,
    parts: run.parts,
    requests: run.requests,
    bytes: run.bytes,
    stalls: run.stalls,
    stalledListeners: run.stalled.size,
    errors: run.errors,
    partLatencyMs: {
      p50: quantile(sorted, 0.5),
      p95: quantile(sorted, 0.95),
      p99: quantile(sorted, 0.99),
      samples: sorted.length,
    },
    timeline,
  });
}

/** Requests cut off by the end of the run are not errors of the server. */
function countError(run: Run, kind: string): void {
  if (Date.now() < run.deadline) run.errors[kind] = (run.errors[kind] ?? 0) + 1;
}

function get(run: Run, url: string, agent: Agent, timeoutMs: number): Promise<Fetched> {
  return new Promise((resolve) => {
    run.requests++;
    const req = request(url, { agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        run.bytes += body.length;
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', () => resolve({ status: -1, body: Buffer.alloc(0) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: e.message === 'timeout' ? -2 : -1, body: Buffer.alloc(0) }));
    req.end();
  });
}

/** One listener: the playlists, then blocking reloads and parts until the deadline. */
async function listen(run: Run, index: number, playlistUrl: string, agent: Agent): Promise<void> {
  const base = playlistUrl.slice(0, playlistUrl.lastIndexOf('/') + 1);
  run.active++;
  try {
    const master = await get(run, playlistUrl, agent, 10_000);
    if (master.status !== 200) {
      countError(run, `http_${master.status}`);
      return;
    }
    const playlist = await get(run, `${base}media.m3u8`, agent, 10_000);
    if (playlist.status !== 200) {
      countError(run, `http_${playlist.status}`);
      return;
    }
    if (run.o.roomState) void stateLoop(run, base, agent);
    await play(run, index, base, agent, playlist.body.toString());
  } finally {
    run.active--;
  }
}

/** Follows the preload hints like a player, its buffer starting at PART-HOLD-BACK and draining in real time. */
async function play(run: Run, index: number, base: string, agent: Agent, first: string): Promise<void> {
  let text = first;
  const partMs = 1000 * Number(/PART-TARGET=([\d.]+)/.exec(text)?.[1] ?? 0.5);
  const holdBackMs = 1000 * Number(HOLD_RE.exec(text)?.[1] ?? 1.5);
  let buffered = holdBackMs;
  let playedAt = Date.now();
  let hint = HINT_RE.exec(text);
  const untilDeadline = () => Math.max(500, run.deadline - Date.now() + 500);
  const ranDry = () => {
    // The buffer drains in real time; running dry before the next part arrived is a stall.
    const now = Date.now();
    buffered -= now - playedAt;
    playedAt = now;
    if (buffered >= 0) return;
    run.stalls++;
    run.stalled.add(index);
    buffered = 0;
  };
  while (Date.now() < run.deadline && hint !== null) {
    const [msn, part] = [Number(hint[1]), Number(hint[2])];
    const playlist = await get(run, `${base}media.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`, agent, untilDeadline());
    if (playlist.status === -2) {
      ranDry(); // the part never came before the run ended
      break;
    }
    if (playlist.status !== 200) {
      countError(run, `http_${playlist.status}`);
      break;
    }
    const fetched = await get(run, `${base}p${msn}.${part}.m4s`, agent, untilDeadline());
    if (fetched.status !== 200) {
      countError(run, `http_${fetched.status}`);
      break;
    }
    const now = Date.now();
    ranDry();
    buffered += partMs;
    run.parts++;
    text = playlist.body.toString();
    const pdts = [...text.matchAll(/#EXT-X-PROGRAM-DATE-TIME:(\S+)/g)];
    const lastPdt = Date.parse(pdts[pdts.length - 1]?.[1] ?? '');
    if (Number.isFinite(lastPdt)) run.latencies.push(now - (lastPdt + (part + 1) * partMs));
    hint = HINT_RE.exec(text);
  }
}

/** The room state long-poll, as the web app does it. */
async function stateLoop(run: Run, base: string, agent: Agent): Promise<void> {
  let version = 0;
  while (Date.now() < run.deadline) {
    const res = await get(
      run,
      `${base}state.json${version === 0 ? '' : `?v=${version}`}`,
      agent,
      Math.max(500, run.deadline - Date.now() + 500),
    );
    if (res.status !== 200) {
      countError(run, `state_http_${res.status}`);
      return;
    }
    version = (JSON.parse(res.body.toString()) as { version: number }).version;
  }
}

/**
 * Starts one listener per URL at `rampPerSecond` from `t0` while `going()` holds, and waits for them
 * all to finish. Returns how many started.
 */
export async function rampUp(
  urls: readonly string[],
  rampPerSecond: number,
  t0: number,
  going: () => boolean,
  start: (index: number, url: string) => Promise<unknown>,
): Promise<number> {
  const running: Promise<unknown>[] = [];
  for (const [i, url] of urls.entries()) {
    if (!going()) break;
    running.push(start(i, url));
    const due = t0 + ((i + 1) * 1000) / rampPerSecond;
    if (due > Date.now()) await sleep(due - Date.now());
  }
  await Promise.all(running);
  return running.length;
}

/** 127.0.x.y source addresses: each gives its own ~28k ephemeral ports. */
export function loopbackSources(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.${Math.floor(i / 250) + 1}.${(i % 250) + 1}`);
}
