import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startIcecast, type Icecast } from '../../bench/icecast.ts';
import { loopbackSources } from '../../bench/listener-sim.ts';
import { fmp4Reader, type Fmp4Part } from '../../bench/fmp4-reader.ts';
import { simulateProgressive } from '../../bench/progressive-sim.ts';
import { hasCommands, optionalSuite, skipUnless } from '../helpers/skip.ts';

/** A tiny ISO-BMFF writer: just the boxes and fields the simulator reads, in valid layout. */
const box = (type: string, ...payload: Buffer[]): Buffer => {
  const body = Buffer.concat(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
};
/** A box with a 64-bit largesize (size field 1). */
const largeBox = (type: string, body: Buffer): Buffer => {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(1);
  header.write(type, 4, 'latin1');
  header.writeBigUInt64BE(BigInt(16 + body.length), 8);
  return Buffer.concat([header, body]);
};
const u32 = (...values: number[]) => {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v, 4 * i));
  return b;
};
const u64 = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(v));
  return b;
};
const fullBox = (type: string, version: number, flags: number, ...payload: Buffer[]) =>
  box(type, u32(((version << 24) | flags) >>> 0), ...payload);

function initSegment(timescale: number, mdhdVersion = 0): Buffer {
  const tkhd = fullBox('tkhd', 0, 3, u32(0, 0, 1, 0, 0), Buffer.alloc(60)); // track_ID 1
  const mdhd =
    mdhdVersion === 1
      ? fullBox('mdhd', 1, 0, u64(0), u64(0), u32(timescale), u64(0), u32(0))
      : fullBox('mdhd', 0, 0, u32(0, 0, timescale, 0, 0));
  const trex = fullBox('trex', 0, 0, u32(1, 1, 0, 0, 0));
  return Buffer.concat([
    box('ftyp', Buffer.from('iso6'), u32(0), Buffer.from('iso6mp41')),
    box('moov', fullBox('mvhd', 0, 0, Buffer.alloc(96)), box('trak', tkhd, box('mdia', mdhd)), box('mvex', trex)),
  ]);
}

interface FragmentOptions {
  readonly seq: number;
  readonly decodeTime: number;
  readonly sampleDurations: readonly number[];
  /** Durations from tfhd's default-sample-duration instead of per sample in trun. */
  readonly defaultDuration?: boolean;
  readonly tfdtVersion?: 0 | 1;
  readonly largeMdat?: boolean;
}

function fragment(f: FragmentOptions): Buffer {
  const samples = f.sampleDurations.length;
  const tfhd = f.defaultDuration
    ? fullBox('tfhd', 0, 0x020008, u32(1, f.sampleDurations[0]!)) // default-base-is-moof, default duration
    : fullBox('tfhd', 0, 0x020000, u32(1));
  const tfdt = f.tfdtVersion === 1 ? fullBox('tfdt', 1, 0, u64(f.decodeTime)) : fullBox('tfdt', 0, 0, u32(f.decodeTime));
  const trun = f.defaultDuration
    ? fullBox('trun', 0, 0x000201, u32(samples, 0), ...f.sampleDurations.map(() => u32(20))) // data offset, sizes
    : fullBox('trun', 0, 0x000301, u32(samples, 0), ...f.sampleDurations.map((d) => u32(d, 20))); // durations, sizes
  const moof = box('moof', fullBox('mfhd', 0, 0, u32(f.seq)), box('traf', tfhd, tfdt, trun));
  const data = Buffer.alloc(20 * samples, 0x55);
  return Buffer.concat([moof, f.largeMdat ? largeBox('mdat', data) : box('mdat', data)]);
}

/** Feeds a reader in pieces of `step` bytes (1: every boundary split) and collects the parts. */
function readAll(stream: Buffer, step: number): Fmp4Part[] {
  const parts: Fmp4Part[] = [];
  const read = fmp4Reader((p) => parts.push(p));
  for (let at = 0; at < stream.length; at += step) read(stream.subarray(at, at + step));
  return parts;
}

describe('fMP4 reader', () => {
  test('parts, durations and media end times, across any chunk boundary', () => {
    const stream = Buffer.concat([
      initSegment(48_000),
      fragment({ seq: 1, decodeTime: 0, sampleDurations: [960, 960, 960, 960, 960] }),
      fragment({ seq: 2, decodeTime: 4800, sampleDurations: [960, 960, 960, 960, 960], tfdtVersion: 1, largeMdat: true }),
      fragment({ seq: 3, decodeTime: 9600, sampleDurations: [960, 960], defaultDuration: true }),
    ]);
    const expected = [
      { durationMs: 100, endMs: 100 },
      { durationMs: 100, endMs: 200 },
      { durationMs: 40, endMs: 240 },
    ];
    for (const step of [1, 3, 7, 64, stream.length]) assert.deepEqual(readAll(stream, step), expected, `chunks of ${step}`);
  });

  test('a 64-bit mdhd and decode times beyond 32 bits', () => {
    const start = 2 ** 33; // about 50 h at 48 kHz
    const stream = Buffer.concat([
      initSegment(48_000, 1),
      fragment({ seq: 1, decodeTime: start, sampleDurations: [960], tfdtVersion: 1 }),
    ]);
    assert.deepEqual(readAll(stream, 5), [{ durationMs: 20, endMs: ((start + 960) / 48_000) * 1000 }]);
  });

  test('a fragment before the init segment is an error', () => {
    const read = fmp4Reader(() => undefined);
    assert.throws(() => read(fragment({ seq: 1, decodeTime: 0, sampleDurations: [960] })), /before an init segment/);
  });
});

/** The benchmark must be able to fail: it sees stalls when a stream stops, and errors by kind. */
describe('progressive listener simulator', () => {
  let server: Server;
  let base: string;
  const timers = new Set<NodeJS.Timeout>();
  /** Calls `write` every `everyMs` until `stopAfter` calls; the response then stays open, silent. */
  const every = (res: ServerResponse, everyMs: number, stopAfter: number, write: (i: number) => void) => {
    let i = 0;
    const timer = setInterval(() => {
      if (res.destroyed || i >= stopAfter) {
        clearInterval(timer);
        timers.delete(timer);
        return;
      }
      write(i++);
    }, everyMs);
    timers.add(timer);
    res.on('close', () => {
      clearInterval(timer);
      timers.delete(timer);
    });
  };

  before(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const stopAfter = Number(url.searchParams.get('stopAfter') ?? Infinity);
      if (url.pathname === '/denied') {
        res.writeHead(401).end();
        return;
      }
      if (url.pathname === '/fmp4') {
        // Media time 0 is now; each fragment is sent when its 100 ms of media have passed.
        res.writeHead(200, { 'content-type': 'audio/mp4', 'amphi-program-epoch-ms': String(Date.now()) });
        res.write(initSegment(48_000));
        every(res, 100, stopAfter, (i) =>
          res.write(fragment({ seq: i + 1, decodeTime: i * 4800, sampleDurations: [960, 960, 960, 960, 960] })),
        );
        return;
      }
      if (url.pathname === '/bytes') {
        // 32 kb/s: a 1 s burst on connect (as Icecast's burst-on-connect), then 400 B every 100 ms.
        res.writeHead(200, { 'content-type': 'application/ogg' });
        res.write(Buffer.alloc(4000));
        every(res, 100, stopAfter, () => res.write(Buffer.alloc(400)));
        return;
      }
      if (url.pathname === '/reset') {
        res.writeHead(200);
        res.write(Buffer.alloc(4000));
        setTimeout(() => res.destroy(), 200);
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => {
    for (const t of timers) clearInterval(t);
    server.closeAllConnections();
    server.close();
  });

  const run = (path: string, framing: Parameters<typeof simulateProgressive>[0]['framing'], seconds = 3, listeners = 4) =>
    simulateProgressive({
      urls: Array.from({ length: listeners }, () => `${base}${path}`),
      seconds,
      rampPerSecond: 100,
      sourceAddresses: loopbackSources(2),
      framing,
    });
  const show = (r: object) => JSON.stringify({ ...r, timeline: undefined });
  const bytes32k = { kind: 'bytes', bitrateBps: 32_000, prebufferMs: 1000 } as const;

  test('fMP4: a steady stream plays without stalls; parts and latency as sent', async () => {
    const r = await run('/fmp4', { kind: 'fmp4' });
    assert.equal(r.stalls, 0, show(r));
    assert.deepEqual(r.errors, {}, show(r));
    // 10 fragments a second for 3 s per listener; the first comes 100 ms after connecting.
    assert.ok(r.parts >= 4 * 26 && r.parts <= 4 * 30, show(r));
    assert.equal(r.partLatencyMs.samples, r.parts);
    // As sent: never early, and late by what the machine adds (a few ms alone; p50 139 / p95 198 ms once
    // on a CI machine shared with other sessions' work). A misread would be off by whole parts or seconds.
    assert.ok(r.partLatencyMs.p50 > -10 && r.partLatencyMs.p95 < 400, show(r));
  });

  test('fMP4: a stream that stops sending stalls every listener', async () => {
    const r = await run('/fmp4?stopAfter=10', { kind: 'fmp4' });
    assert.equal(r.parts, 4 * 10, show(r));
    assert.equal(r.stalledListeners, 4, show(r));
    assert.ok(r.stalls >= 4 && r.stallRate > 0, show(r));
    assert.deepEqual(r.errors, {}, 'a silent stream is not an error before the 5 s timeout');
  });

  test('bytes: a bitrate-paced stream plays without stalls', async () => {
    const r = await run('/bytes', bytes32k);
    assert.equal(r.stalls, 0, show(r));
    assert.deepEqual(r.errors, {}, show(r));
    assert.ok(r.bytes >= 4 * (4000 + 25 * 400), show(r));
    // Parts are measured as they arrive: a few ms alone, 105 ms at p95 once on a CI machine busy with
    // other suites. Far under the 1 s a part lasts, which is what a stall would be.
    assert.ok(r.partLatencyMs.samples > 0 && r.partLatencyMs.p95 < 400, show(r));
  });

  test('bytes: a stream that stops sending stalls every listener', async () => {
    const r = await run('/bytes?stopAfter=5', bytes32k);
    assert.equal(r.stalledListeners, 4, show(r));
    assert.ok(r.stalls >= 4, show(r));
  });

  test('errors by kind: http_401 and reset; the run ends when every listener has', async () => {
    const started = Date.now();
    const denied = await run('/denied', bytes32k, 10, 3);
    assert.deepEqual(denied.errors, { http_401: 3 });
    assert.equal(denied.requests, 3);
    const reset = await run('/reset', bytes32k, 10, 2);
    assert.deepEqual(reset.errors, { reset: 2 }, show(reset));
    assert.ok(Date.now() - started < 3000, 'the simulator does not wait for the deadline once every listener is done');
  });
});

const skip = skipUnless({
  available: hasCommands('icecast2', 'ffmpeg'),
  env: 'AMPHI_TEST_ICECAST',
  suite: 'Icecast tests',
  install: 'icecast2 and ffmpeg',
});

optionalSuite('against Icecast', { skip }, () => {
  let icecast: Icecast;
  before(async () => {
    icecast = await startIcecast({ bitrateBps: 32_000, cpu: '0' });
  });
  after(() => icecast.close());

  test('20 listeners of a 32 kb/s Opus mount: no errors, no stalls', async () => {
    assert.equal(icecast.pids().length, 1);
    const r = await simulateProgressive({
      urls: Array.from({ length: 20 }, () => icecast.url),
      seconds: 4,
      rampPerSecond: 100,
      sourceAddresses: loopbackSources(4),
      framing: { kind: 'bytes', bitrateBps: 32_000, prebufferMs: 1000 },
    });
    const show = JSON.stringify({ ...r, timeline: undefined });
    assert.deepEqual(r.errors, {}, show);
    assert.equal(r.started, 20);
    assert.ok(r.bytes > 20 * 3 * 4000, show); // a burst, then 4 s in real time
    assert.equal(r.stalls, 0, show);
  });
});
