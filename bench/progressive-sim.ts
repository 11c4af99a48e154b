/**
 * A progressive-stream listener simulator: N listeners, each holding ONE long-lived HTTP GET (an
 * Icecast mount, or Amphi's fMP4 live stream), without decoding audio. Each models a playout buffer
 * that fills with the audio as it arrives and drains in real time once playing: a stall is the buffer
 * running dry. Connections are spread over many loopback source addresses (127.0.0.0/8). Bounded in
 * count and time: every connection is destroyed at the deadline; stops by itself.
 *
 * Framing 'bytes' (Icecast): the body is opaque audio at a known bitrate; every chunk read is a "part"
 * worth bytes*8000/bitrateBps ms. There are no timestamps, so end-to-end latency is not measurable:
 * partLatencyMs is instead how much longer than its own audio lasts the listener waited for each chunk
 * (0 when the stream keeps pace), i.e. delivery hiccups.
 *
 * Framing 'fmp4': the body is ftyp+moov, then moof+mdat fragments; every complete mdat is a part whose
 * duration comes from its moof's trun. partLatencyMs is arrival minus the wall-clock time the part's
 * media ends, from the `amphi-program-epoch-ms` response header (media time 0 in wall-clock ms).
 */
import { type IncomingMessage, request } from 'node:http';
import { errorKind } from './lib/http-call.ts';
import { fmp4Reader } from './fmp4-reader.ts';
import { quantile, quantileRank } from './lib/quantiles.ts';
import { rampUp, simResult, type Progress, type SimResult } from './listener-sim.ts';

export type ProgressiveFraming =
  { readonly kind: 'bytes'; readonly bitrateBps: number; readonly prebufferMs: number } | { readonly kind: 'fmp4' };

export interface ProgressiveOptions {
  /** Stream URL per listener. */
  readonly urls: readonly string[];
  readonly seconds: number;
  /** New listeners per second during the ramp. */
  readonly rampPerSecond: number;
  /** Source addresses to spread connections over (127.x.y.z). */
  readonly sourceAddresses: readonly string[];
  readonly framing: ProgressiveFraming;
  /** Called every second with running totals. */
  readonly onProgress?: (p: Progress) => void;
}

const NO_BYTE_TIMEOUT_MS = 5000;
// An fMP4 player starts once it holds 1 s of audio, or 1 s after the first part with whatever it has.
const FMP4_START_BUFFER_MS = 1000;
const FMP4_START_WAIT_MS = 1000;
// The latency histogram's range (outside it, latencies count at its ends).
const HIST_MIN_MS = -60_000;
const HIST_MAX_MS = 600_000;

interface Listener {
  readonly index: number;
  /** Playing (draining in real time) or buffering (at the start, and again after running dry). */
  playing: boolean;
  /** ms of audio received and not yet played, as of playedAt. */
  buffered: number;
  playedAt: number;
  /** First arrival since buffering began: fMP4 players start 1 s after it whatever they hold. */
  bufferingSince: number | undefined;
  lastArrival: number | undefined;
  readonly end: (kind: string | undefined) => void;
}

/** Latencies at 1 ms resolution: memory stays fixed however many chunks 10k listeners read. */
class LatencyHistogram {
  readonly #hist = new Uint32Array(HIST_MAX_MS - HIST_MIN_MS + 1);
  samples = 0;
  /** This progress window's latencies, for the timeline's p50. */
  #window: number[] = [];

  record(ms: number): void {
    const bucket = Math.min(HIST_MAX_MS, Math.max(HIST_MIN_MS, Math.round(ms))) - HIST_MIN_MS;
    this.#hist[bucket] = this.#hist[bucket]! + 1;
    this.samples++;
    this.#window.push(ms);
  }

  /** The p50 of the latencies recorded since the last call. */
  windowP50(): number {
    const sorted = this.#window.sort((a, b) => a - b);
    this.#window = [];
    return quantile(sorted, 0.5);
  }

  quantile(p: number): number {
    if (this.samples === 0) return 0;
    const rank = quantileRank(p, this.samples);
    let seen = 0;
    for (let i = 0; i < this.#hist.length; i++) {
      seen += this.#hist[i]!;
      if (seen > rank) return i + HIST_MIN_MS;
    }
    return 0;
  }
}

/** One run's state, shared by its listeners. */
class Run {
  readonly t0 = Date.now();
  readonly deadline: number;
  readonly startBufferMs: number;
  readonly startWaitMs: number;
  readonly latency = new LatencyHistogram();
  readonly errors: Record<string, number> = {};
  readonly live = new Set<Listener>();
  readonly stalledListeners = new Set<number>();
  parts = 0;
  requests = 0;
  bytes = 0;
  stalls = 0;
  stopped = false;
  readonly o: ProgressiveOptions;

  constructor(o: ProgressiveOptions) {
    this.o = o;
    this.deadline = this.t0 + o.seconds * 1000;
    this.startBufferMs = o.framing.kind === 'bytes' ? o.framing.prebufferMs : FMP4_START_BUFFER_MS;
    this.startWaitMs = o.framing.kind === 'fmp4' ? FMP4_START_WAIT_MS : Infinity;
  }

  /** Connections cut off by the end of the run are not errors of the server. */
  countError(kind: string): void {
    if (!this.stopped && Date.now() < this.deadline) this.errors[kind] = (this.errors[kind] ?? 0) + 1;
  }

  /** Bring a listener's buffer up to `now`; running dry is one stall, then it buffers again. */
  advance(l: Listener, now: number): void {
    if (!l.playing) {
      if (l.bufferingSince === undefined || now < l.bufferingSince + this.startWaitMs) return;
      l.playing = true; // it started at the wait's end with what it had then
      l.playedAt = l.bufferingSince + this.startWaitMs;
    }
    l.buffered -= now - l.playedAt;
    l.playedAt = now;
    if (l.buffered >= 0) return;
    this.stalls++;
    this.stalledListeners.add(l.index);
    l.buffered = 0;
    l.playing = false;
    l.bufferingSince = undefined;
  }

  /** `ms` of audio arrived for `l`. */
  arrive(l: Listener, ms: number, now: number): void {
    this.advance(l, now);
    l.buffered += ms;
    if (!l.playing) {
      l.bufferingSince ??= now;
      if (l.buffered >= this.startBufferMs) {
        l.playing = true;
        l.playedAt = now;
      }
    }
    this.parts++;
  }

  /** At the deadline: every buffer brought up to date (one that ran dry before it stalled), every connection ended. */
  stop(): void {
    this.stopped = true;
    const now = Date.now();
    for (const l of this.live) {
      this.advance(l, now);
      l.end(undefined);
    }
  }
}

/** Holds one stream until the deadline, an error, or its end. */
function listen(run: Run, index: number, url: string): Promise<void> {
  return new Promise<void>((resolve) => {
    run.requests++;
    const req = request(url, {
      agent: false,
      localAddress: run.o.sourceAddresses[index % run.o.sourceAddresses.length],
      timeout: NO_BYTE_TIMEOUT_MS, // socket idle: no byte for 5 s, connecting included
    });
    const l: Listener = {
      index,
      playing: false,
      buffered: 0,
      playedAt: 0,
      bufferingSince: undefined,
      lastArrival: undefined,
      end: (kind) => {
        if (!run.live.delete(l)) return;
        if (kind !== undefined && !run.stopped) {
          run.advance(l, Date.now());
          run.countError(kind);
        }
        req.destroy();
        resolve();
      },
    };
    run.live.add(l);
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        l.end(`http_${res.statusCode ?? 0}`);
        return;
      }
      const onData = run.o.framing.kind === 'bytes' ? readBytes(run, l, run.o.framing.bitrateBps) : readFmp4(run, l, res);
      res.on('data', (chunk: Buffer) => {
        run.bytes += chunk.length;
        onData(chunk);
      });
      res.on('end', () => l.end('closed')); // a live stream that ends before the run did
      res.on('error', (e) => l.end(errorKind(e, 'error')));
    });
    req.on('timeout', () => l.end('timeout'));
    req.on('error', (e) => l.end(errorKind(e, 'error')));
    req.end();
  });
}

/** Opaque audio at a known bitrate: every chunk is a part; its lateness is the wait beyond its own length. */
function readBytes(run: Run, l: Listener, bitrateBps: number): (chunk: Buffer) => void {
  const msPerByte = 8000 / bitrateBps;
  return (chunk) => {
    const now = Date.now();
    const ms = chunk.length * msPerByte;
    if (l.lastArrival !== undefined) run.latency.record(Math.max(0, now - l.lastArrival - ms));
    l.lastArrival = now;
    run.arrive(l, ms, now);
  };
}

/** fMP4 fragments: every mdat is a part; its latency is arrival minus the wall-clock end of its media. */
function readFmp4(run: Run, l: Listener, res: IncomingMessage): (chunk: Buffer) => void {
  const epochHeader = res.headers['amphi-program-epoch-ms'];
  const epoch = typeof epochHeader === 'string' ? Number(epochHeader) : NaN;
  // The head (init and the recent parts a newcomer gets at once) is a catch-up, not live latency.
  let live = false;
  const read = fmp4Reader((part) => {
    const now = Date.now();
    if (live && Number.isFinite(epoch)) run.latency.record(now - (epoch + part.endMs));
    run.arrive(l, part.durationMs, now);
  });
  return (chunk) => {
    try {
      read(chunk);
      live = true;
    } catch {
      l.end('fmp4_parse');
    }
  };
}

export async function simulateProgressive(o: ProgressiveOptions): Promise<SimResult> {
  const run = new Run(o);
  const stopTimer = setTimeout(() => run.stop(), Math.max(0, run.deadline - Date.now()));
  const timeline: { t: number; p50: number; active: number }[] = [];
  const progress = setInterval(() => {
    const now = Date.now();
    // Streams that stop sending produce no events: the sweep finds the buffers that ran dry.
    for (const l of run.live) run.advance(l, now);
    timeline.push({ t: (now - run.t0) / 1000, p50: run.latency.windowP50(), active: run.live.size });
    o.onProgress?.({
      elapsedS: (now - run.t0) / 1000,
      active: run.live.size,
      parts: run.parts,
      stalls: run.stalls,
      errors: Object.values(run.errors).reduce((a, b) => a + b, 0),
    });
  }, 1000);

  const going = () => !run.stopped && Date.now() < run.deadline;
  const started = await rampUp(o.urls, o.rampPerSecond, run.t0, going, (index, url) => listen(run, index, url));
  clearTimeout(stopTimer);
  clearInterval(progress);
  const { latency } = run;
  return simResult({
    listeners: o.urls.length,
    started,
    parts: run.parts,
    requests: run.requests,
    bytes: run.bytes,
    stalls: run.stalls,
    stalledListeners: run.stalledListeners.size,
    errors: run.errors,
    partLatencyMs: {
      p50: latency.quantile(0.5),
      p95: latency.quantile(0.95),
      p99: latency.quantile(0.99),
      samples: latency.samples,
    },
    timeline,
  });
}
