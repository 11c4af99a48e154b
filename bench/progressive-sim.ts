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
import { request } from 'node:http';
import { rampUp, type Progress, type SimResult } from './listener-sim.ts';

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

/** One fMP4 fragment, known once its mdat is complete. */
export interface Fmp4Part {
  readonly durationMs: number;
  /** Media time at the end of the part (tfdt + duration), in ms. */
  readonly endMs: number;
}

const NO_BYTE_TIMEOUT_MS = 5000;
// An fMP4 player starts once it holds 1 s of audio, or 1 s after the first part with whatever it has.
const FMP4_START_BUFFER_MS = 1000;
const FMP4_START_WAIT_MS = 1000;
// moov and moof are parsed whole; anything bigger is not an audio stream we understand.
const MAX_PARSED_BOX = 16 * 1024 * 1024;
// Latency histogram at 1 ms resolution: memory stays fixed however many chunks 10k listeners read.
const HIST_MIN_MS = -60_000;
const HIST_MAX_MS = 600_000;

interface Box {
  readonly type: string;
  readonly body: number;
  readonly end: number;
}

/** The child boxes of b[start, end). */
function* boxes(b: Buffer, start: number, end: number): Generator<Box> {
  let at = start;
  while (at + 8 <= end) {
    let size = b.readUInt32BE(at);
    let header = 8;
    if (size === 1) {
      size = Number(b.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) size = end - at;
    if (size < header || at + size > end) throw new Error(`fMP4: bad box size ${size}`);
    yield { type: b.toString('latin1', at + 4, at + 8), body: at + header, end: at + size };
    at += size;
  }
}

const child = (b: Buffer, parent: Box, type: string): Box | undefined => {
  for (const box of boxes(b, parent.body, parent.end)) if (box.type === type) return box;
  return undefined;
};

/**
 * An incremental fMP4 reader: feed it the body as it arrives, split anywhere; it calls onPart for each
 * complete moof+mdat fragment. Timescales come from the init segment's mdhd per track (tkhd track_ID).
 */
export function fmp4Reader(onPart: (part: Fmp4Part) => void): (chunk: Buffer) => void {
  const timescales = new Map<number, number>();
  const trexDurations = new Map<number, number>();
  let pending: Fmp4Part | undefined; // described by the last moof, arrives with the next mdat
  const header = Buffer.alloc(16);
  let headerLength = 0;
  let type = '';
  let left = -1; // bytes of the current box body still to come; -1 while reading a header
  let body: Buffer[] | undefined; // collected only for the boxes we parse

  const readMoov = (b: Buffer) => {
    const moov: Box = { type: 'moov', body: 0, end: b.length };
    for (const box of boxes(b, 0, b.length)) {
      if (box.type === 'trak') {
        const tkhd = child(b, box, 'tkhd');
        const mdia = child(b, box, 'mdia');
        const mdhd = mdia === undefined ? undefined : child(b, mdia, 'mdhd');
        if (tkhd === undefined || mdhd === undefined) continue;
        const trackId = b.readUInt32BE(tkhd.body + (b[tkhd.body] === 1 ? 20 : 12));
        timescales.set(trackId, b.readUInt32BE(mdhd.body + (b[mdhd.body] === 1 ? 20 : 12)));
      }
    }
    const mvex = child(b, moov, 'mvex');
    if (mvex !== undefined)
      for (const trex of boxes(b, mvex.body, mvex.end))
        if (trex.type === 'trex') trexDurations.set(b.readUInt32BE(trex.body + 4), b.readUInt32BE(trex.body + 12));
  };

  const readMoof = (b: Buffer) => {
    // Audio-only streams: the first traf describes the part.
    const traf = child(b, { type: 'moof', body: 0, end: b.length }, 'traf');
    if (traf === undefined) throw new Error('fMP4: moof without traf');
    const tfhd = child(b, traf, 'tfhd');
    const tfdt = child(b, traf, 'tfdt');
    if (tfhd === undefined || tfdt === undefined) throw new Error('fMP4: traf without tfhd or tfdt');
    const tfhdFlags = b.readUInt32BE(tfhd.body) & 0xffffff;
    const trackId = b.readUInt32BE(tfhd.body + 4);
    // Optional tfhd fields in order: base_data_offset (8), sample_description_index (4), default_sample_duration.
    const defaultDurationAt = tfhd.body + 8 + (tfhdFlags & 0x01 ? 8 : 0) + (tfhdFlags & 0x02 ? 4 : 0);
    const defaultDuration = tfhdFlags & 0x08 ? b.readUInt32BE(defaultDurationAt) : (trexDurations.get(trackId) ?? 0);
    const base = b[tfdt.body] === 1 ? Number(b.readBigUInt64BE(tfdt.body + 4)) : b.readUInt32BE(tfdt.body + 4);
    let duration = 0;
    for (const trun of boxes(b, traf.body, traf.end)) {
      if (trun.type !== 'trun') continue;
      const flags = b.readUInt32BE(trun.body) & 0xffffff;
      const count = b.readUInt32BE(trun.body + 4);
      if (!(flags & 0x100)) {
        duration += count * defaultDuration;
        continue;
      }
      // Per-sample records: duration (0x100) first, then size, flags, composition offset if present.
      const record = 4 * [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length;
      let at = trun.body + 8 + (flags & 0x01 ? 4 : 0) + (flags & 0x04 ? 4 : 0);
      for (let i = 0; i < count; i++, at += record) duration += b.readUInt32BE(at);
    }
    const timescale = timescales.get(trackId) ?? timescales.values().next().value;
    if (timescale === undefined || timescale === 0) throw new Error('fMP4: moof before an init segment with mdhd');
    pending = { durationMs: (duration / timescale) * 1000, endMs: ((base + duration) / timescale) * 1000 };
  };

  const boxDone = () => {
    if (type === 'moov') readMoov(Buffer.concat(body!));
    else if (type === 'moof') readMoof(Buffer.concat(body!));
    else if (type === 'mdat' && pending !== undefined) {
      onPart(pending);
      pending = undefined;
    }
  };

  return (chunk) => {
    let at = 0;
    while (at < chunk.length) {
      if (left < 0) {
        const need = headerLength >= 8 && header.readUInt32BE(0) === 1 ? 16 : 8; // size 1: a 64-bit largesize follows
        const n = Math.min(need - headerLength, chunk.length - at);
        chunk.copy(header, headerLength, at, at + n);
        headerLength += n;
        at += n;
        if (headerLength < need) continue;
        const size32 = header.readUInt32BE(0);
        if (size32 === 1 && headerLength < 16) continue;
        type = header.toString('latin1', 4, 8);
        // size 0: the box runs to the end of the stream, which a live stream never reaches.
        const size = size32 === 1 ? Number(header.readBigUInt64BE(8)) : size32 === 0 ? Infinity : size32;
        if (size < headerLength) throw new Error(`fMP4: bad ${type} box size ${size}`);
        left = size - headerLength;
        headerLength = 0;
        body = type === 'moov' || type === 'moof' ? [] : undefined;
        if (body !== undefined && left > MAX_PARSED_BOX) throw new Error(`fMP4: ${type} of ${left} bytes`);
      }
      const n = Math.min(left, chunk.length - at);
      if (body !== undefined && n > 0) body.push(chunk.subarray(at, at + n));
      at += n;
      left -= n;
      if (left === 0) {
        boxDone();
        left = -1;
      }
    }
  };
}

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

export async function simulateProgressive(o: ProgressiveOptions): Promise<SimResult> {
  const fmp4 = o.framing.kind === 'fmp4';
  const startBufferMs = o.framing.kind === 'bytes' ? o.framing.prebufferMs : FMP4_START_BUFFER_MS;
  const startWaitMs = fmp4 ? FMP4_START_WAIT_MS : Infinity;
  const t0 = Date.now();
  const deadline = t0 + o.seconds * 1000;
  const hist = new Uint32Array(HIST_MAX_MS - HIST_MIN_MS + 1);
  let samples = 0;
  let windowLatencies: number[] = [];
  const timeline: { t: number; p50: number; active: number }[] = [];
  const errors: Record<string, number> = {};
  const live = new Set<Listener>();
  const stalledListeners = new Set<number>();
  let parts = 0;
  let requests = 0;
  let bytes = 0;
  let stalls = 0;
  let stopped = false;
  // Connections cut off by the end of the run are not errors of the server.
  const countError = (kind: string) => {
    if (!stopped && Date.now() < deadline) errors[kind] = (errors[kind] ?? 0) + 1;
  };
  const record = (ms: number) => {
    const bucket = Math.min(HIST_MAX_MS, Math.max(HIST_MIN_MS, Math.round(ms))) - HIST_MIN_MS;
    hist[bucket] = hist[bucket]! + 1;
    samples++;
    windowLatencies.push(ms);
  };

  /** Bring a listener's buffer up to `now`; running dry is one stall, then it buffers again. */
  const advance = (l: Listener, now: number) => {
    if (!l.playing) {
      if (l.bufferingSince === undefined || now < l.bufferingSince + startWaitMs) return;
      l.playing = true; // it started at the wait's end with what it had then
      l.playedAt = l.bufferingSince + startWaitMs;
    }
    l.buffered -= now - l.playedAt;
    l.playedAt = now;
    if (l.buffered >= 0) return;
    stalls++;
    stalledListeners.add(l.index);
    l.buffered = 0;
    l.playing = false;
    l.bufferingSince = undefined;
  };

  const arrive = (l: Listener, ms: number, now: number) => {
    advance(l, now);
    l.buffered += ms;
    if (!l.playing) {
      l.bufferingSince ??= now;
      if (l.buffered >= startBufferMs) {
        l.playing = true;
        l.playedAt = now;
      }
    }
    parts++;
  };

  const listen = (index: number, url: string) =>
    new Promise<void>((resolve) => {
      requests++;
      const req = request(url, {
        agent: false,
        localAddress: o.sourceAddresses[index % o.sourceAddresses.length],
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
          if (!live.delete(l)) return;
          if (kind !== undefined && !stopped) {
            advance(l, Date.now());
            countError(kind);
          }
          req.destroy();
          resolve();
        },
      };
      live.add(l);
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          l.end(`http_${res.statusCode ?? 0}`);
          return;
        }
        let onData: (chunk: Buffer) => void;
        if (o.framing.kind === 'bytes') {
          const msPerByte = 8000 / o.framing.bitrateBps;
          onData = (chunk) => {
            const now = Date.now();
            const ms = chunk.length * msPerByte;
            if (l.lastArrival !== undefined) record(Math.max(0, now - l.lastArrival - ms));
            l.lastArrival = now;
            arrive(l, ms, now);
          };
        } else {
          const epochHeader = res.headers['amphi-program-epoch-ms'];
          const epoch = typeof epochHeader === 'string' ? Number(epochHeader) : NaN;
          // The head (init and the recent parts a newcomer gets at once) is a catch-up, not live latency.
          let live = false;
          const read = fmp4Reader((part) => {
            const now = Date.now();
            if (live && Number.isFinite(epoch)) record(now - (epoch + part.endMs));
            arrive(l, part.durationMs, now);
          });
          onData = (chunk) => {
            try {
              read(chunk);
              live = true;
            } catch {
              l.end('fmp4_parse');
            }
          };
        }
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          onData(chunk);
        });
        res.on('end', () => l.end('closed')); // a live stream that ends before the run did
        res.on('error', (e) => l.end(errorKind(e)));
      });
      req.on('timeout', () => l.end('timeout'));
      req.on('error', (e) => l.end(errorKind(e)));
      req.end();
    });

  const stop = () => {
    stopped = true;
    const now = Date.now();
    for (const l of live) {
      advance(l, now); // a buffer that ran dry before the deadline stalled
      l.end(undefined);
    }
  };
  const stopTimer = setTimeout(stop, Math.max(0, deadline - Date.now()));

  const progress = setInterval(() => {
    const now = Date.now();
    // Streams that stop sending produce no events: the sweep finds the buffers that ran dry.
    for (const l of live) advance(l, now);
    const sorted = windowLatencies.sort((a, b) => a - b);
    windowLatencies = [];
    timeline.push({ t: (now - t0) / 1000, p50: sorted[Math.floor(sorted.length / 2)] ?? 0, active: live.size });
    o.onProgress?.({
      elapsedS: (now - t0) / 1000,
      active: live.size,
      parts,
      stalls,
      errors: Object.values(errors).reduce((a, b) => a + b, 0),
    });
  }, 1000);

  const started = await rampUp(o.urls, o.rampPerSecond, t0, () => !stopped && Date.now() < deadline, listen);
  clearTimeout(stopTimer);
  clearInterval(progress);

  const quantile = (p: number) => {
    if (samples === 0) return 0;
    const rank = Math.min(samples - 1, Math.floor(p * samples));
    let seen = 0;
    for (let i = 0; i < hist.length; i++) {
      seen += hist[i]!;
      if (seen > rank) return i + HIST_MIN_MS;
    }
    return 0;
  };
  return {
    listeners: o.urls.length,
    started,
    parts,
    requests,
    bytes,
    stalls,
    stallRate: parts === 0 ? (stalls > 0 ? 1 : 0) : stalls / (parts + stalls),
    stalledListeners: stalledListeners.size,
    errors,
    partLatencyMs: { p50: quantile(0.5), p95: quantile(0.95), p99: quantile(0.99), samples },
    timeline,
  };
}

function errorKind(e: Error & { code?: string }): string {
  if (e.code === 'ECONNRESET' || e.message === 'aborted') return 'reset';
  return e.code?.toLowerCase() ?? 'error';
}
