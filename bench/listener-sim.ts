/**
 * A listener simulator: N listeners that follow an LL-HLS player's request schedule (blocking
 * playlist reload on the preload-hinted part, then that part; the room state long-poll) without
 * decoding audio. Each models a playout buffer that starts at PART-HOLD-BACK and drains in real time:
 * a stall is the buffer running dry before the next part arrives. Connections are spread over many
 * loopback source addresses (127.0.0.0/8). Bounded in count and time; stops by itself.
 */
import { Agent, request } from 'node:http';

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

const HINT_RE = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p(\d+)\.(\d+)\.m4s"/;
const HOLD_RE = /PART-HOLD-BACK=([\d.]+)/;

interface Fetched {
  status: number;
  body: Buffer;
}

export async function simulateListeners(o: SimOptions): Promise<SimResult> {
  const agents = o.sourceAddresses.map((localAddress) => new Agent({ keepAlive: true, localAddress, maxSockets: Infinity }));
  const deadline = Date.now() + o.seconds * 1000;
  const latencies: number[] = [];
  const timeline: { t: number; p50: number; active: number }[] = [];
  const errors: Record<string, number> = {};
  let parts = 0;
  let requests = 0;
  let bytes = 0;
  let stalls = 0;
  let active = 0;
  const stalled = new Set<number>();
  const t0 = Date.now();
  // Requests cut off by the end of the run are not errors of the server.
  const countError = (kind: string) => {
    if (Date.now() < deadline) errors[kind] = (errors[kind] ?? 0) + 1;
  };

  const get = (url: string, agent: Agent, timeoutMs: number): Promise<Fetched> =>
    new Promise((resolve) => {
      requests++;
      const req = request(url, { agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          bytes += body.length;
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', () => resolve({ status: -1, body: Buffer.alloc(0) }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve({ status: e.message === 'timeout' ? -2 : -1, body: Buffer.alloc(0) }));
      req.end();
    });

  const listener = async (index: number, playlistUrl: string) => {
    const agent = agents[index % agents.length]!;
    const base = playlistUrl.slice(0, playlistUrl.lastIndexOf('/') + 1);
    active++;
    try {
      const master = await get(playlistUrl, agent, 10_000);
      if (master.status !== 200) {
        countError(`http_${master.status}`);
        return;
      }
      let playlist = await get(`${base}media.m3u8`, agent, 10_000);
      if (playlist.status !== 200) {
        countError(`http_${playlist.status}`);
        return;
      }
      let text = playlist.body.toString();
      const partMs = 1000 * Number(/PART-TARGET=([\d.]+)/.exec(text)?.[1] ?? 0.5);
      const holdBackMs = 1000 * Number(HOLD_RE.exec(text)?.[1] ?? 1.5);
      // Start like a player: buffer PART-HOLD-BACK from the newest parts, then play in real time.
      let buffered = holdBackMs;
      let playedAt = Date.now();
      let hint = HINT_RE.exec(text);
      if (o.roomState) void stateLoop(base, agent);
      const untilDeadline = () => Math.max(500, deadline - Date.now() + 500);
      const ranDry = () => {
        // The buffer drains in real time; running dry before the next part arrived is a stall.
        const now = Date.now();
        buffered -= now - playedAt;
        playedAt = now;
        if (buffered >= 0) return false;
        stalls++;
        stalled.add(index);
        buffered = 0;
        return true;
      };
      while (Date.now() < deadline && hint !== null) {
        const [msn, part] = [Number(hint[1]), Number(hint[2])];
        playlist = await get(`${base}media.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`, agent, untilDeadline());
        if (playlist.status === -2) {
          ranDry(); // the part never came before the run ended
          break;
        }
        if (playlist.status !== 200) {
          countError(`http_${playlist.status}`);
          break;
        }
        const fetched = await get(`${base}p${msn}.${part}.m4s`, agent, untilDeadline());
        if (fetched.status !== 200) {
          countError(`http_${fetched.status}`);
          break;
        }
        const now = Date.now();
        ranDry();
        buffered += partMs;
        parts++;
        text = playlist.body.toString();
        const pdts = [...text.matchAll(/#EXT-X-PROGRAM-DATE-TIME:(\S+)/g)];
        const lastPdt = Date.parse(pdts[pdts.length - 1]?.[1] ?? '');
        if (Number.isFinite(lastPdt)) latencies.push(now - (lastPdt + (part + 1) * partMs));
        hint = HINT_RE.exec(text);
      }
    } finally {
      active--;
    }
  };

  const stateLoop = async (base: string, agent: Agent) => {
    let version = 0;
    while (Date.now() < deadline) {
      const res = await get(
        `${base}state.json${version === 0 ? '' : `?v=${version}`}`,
        agent,
        Math.max(500, deadline - Date.now() + 500),
      );
      if (res.status !== 200) {
        countError(`state_http_${res.status}`);
        return;
      }
      version = (JSON.parse(res.body.toString()) as { version: number }).version;
    }
  };

  const progress = setInterval(() => {
    const sorted = [...latencies].sort((a, b) => a - b);
    const p50 = sorted[Math.floor(sorted.length / 2)] ?? 0;
    timeline.push({ t: (Date.now() - t0) / 1000, p50, active });
    o.onProgress?.({
      elapsedS: (Date.now() - t0) / 1000,
      active,
      parts,
      stalls,
      errors: Object.values(errors).reduce((a, b) => a + b, 0),
    });
  }, 1000);

  const started = await rampUp(o.playlistUrls, o.rampPerSecond, t0, () => Date.now() < deadline, listener);
  clearInterval(progress);
  for (const a of agents) a.destroy();
  const sorted = latencies.sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  return {
    listeners: o.playlistUrls.length,
    started,
    parts,
    requests,
    bytes,
    stalls,
    stallRate: parts === 0 ? (stalls > 0 ? 1 : 0) : stalls / (parts + stalls),
    stalledListeners: stalled.size,
    errors,
    partLatencyMs: { p50: q(0.5), p95: q(0.95), p99: q(0.99), samples: sorted.length },
    timeline,
  };
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
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
  }
  await Promise.all(running);
  return running.length;
}

/** 127.0.x.y source addresses: each gives its own ~28k ephemeral ports. */
export function loopbackSources(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.${Math.floor(i / 250) + 1}.${(i % 250) + 1}`);
}
