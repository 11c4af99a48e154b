import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { Edge } from '../../src/edge/edge.ts';
import { decodeTime, timescale, type StreamSink } from '../../src/edge/stream.ts';
import { AmphiError } from '../../src/errors.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';
import { OriginPlane } from '../../src/origin/plane.ts';
import { FileMediaStorage } from '../../src/origin/storage.ts';
import { ProgramStream } from '../../src/stage/program.ts';
import { rethrow } from '../helpers/events.ts';
import { programFrame } from '../helpers/program.ts';
import { settle } from '../helpers/settle.ts';
import { originConfig } from '../helpers/origin-config.ts';

const SPACE = 'sp_STREAM000000';
const START = Date.UTC(2026, 10, 22, 20, 0, 0);
const signer = new TokenSigner([{ id: 'k', secret: 'a-stream-test-key-that-is-long-enough' }]);
const log = pino({ level: 'silent' });

/** An origin with 500 ms parts on the test clock, storing into a temp dir. */
function originOn(clock: ManualClock): OriginPlane {
  return new OriginPlane({
    config: originConfig(),
    storage: new FileMediaStorage(mkdtempSync(join(tmpdir(), 'amphi-stream-'))),
    clock,
    log,
    programBitrateBps: 48_000,
    preSkip: 312,
  });
}

/** Origin and edge in one process on a ManualClock, fed 20 ms program frames on demand. */
function live(followsRemovals = true) {
  const clock = new ManualClock(START);
  const origin = originOn(clock);
  const program = new ProgramStream(rethrow);
  origin.attach(SPACE, program);
  let sequence = 0;
  const frames = async (n: number) => {
    for (let i = 0; i < n; i++) {
      clock.advance(20);
      program.emit('frame', programFrame(SPACE, sequence, clock.now() - 20));
      sequence++;
      await settle();
    }
  };
  const edge = new Edge({ signer, clock, origin, log, cacheMaxBytes: 1 << 22, followsRemovals });
  const token = (subject: string, ttlMs = 60_000) => signer.sign({ t: 'l', s: SPACE, u: subject }, clock.now() + ttlMs);
  return { clock, edge, frames, token, end: () => program.emit('end', { spaceId: SPACE, frames: sequence, final: true }) };
}

/** Collects what a listener's socket would receive; `pendingBytes` simulates a slow reader. */
function sink(): StreamSink & { chunks: Uint8Array[]; ended: boolean; pendingBytes: number } {
  return {
    chunks: [],
    ended: false,
    pendingBytes: 0,
    write(chunk) {
      this.chunks.push(chunk);
    },
    end() {
      this.ended = true;
    },
  };
}

describe('live stream (one held response per listener)', () => {
  test('a new listener gets init and the last three parts at once, then each new part once, shared by all', async () => {
    const { edge, frames, token } = live();
    await frames(25 * 6); // six parts
    const [a, b] = [sink(), sink()];
    const openedA = await edge.openStream(token('an_a'), SPACE);
    openedA.subscribe(a);
    (await edge.openStream(token('an_b'), SPACE)).subscribe(b);
    assert.equal(a.chunks.length, 1);
    const head = a.chunks[0]!;
    assert.equal(timescale(head), 48_000);
    // The head's first fragment is part 3 (parts 3, 4, 5 of 0..5): decode time 3 x 24,000 samples.
    assert.equal(decodeTime(head.subarray(findMoof(head))), 3 * 24_000);
    assert.equal(edge.streaming, 2);
    assert.equal(edge.listeners(SPACE), 2);

    await frames(25); // part 6 is produced
    await settle();
    assert.equal(a.chunks.length, 2);
    assert.equal(decodeTime(a.chunks[1]!), 6 * 24_000);
    assert.equal(a.chunks[1], b.chunks[1], 'the same buffer goes to every listener');
    // Media time 0 maps to the program's first frame on the wall clock.
    assert.ok(Math.abs(openedA.epochMs - START) <= 20, `epoch ${openedA.epochMs - START} ms off`);

    await frames(25 * 3);
    assert.equal(a.chunks.length, 5, 'one write per part per listener');
    openedA.close();
    await frames(25);
    assert.equal(a.chunks.length, 5);
    assert.equal(b.chunks.length, 6);
  });

  test('a held stream outlives its token; a listener that cannot keep up is dropped; the end ends all', async () => {
    const { edge, frames, token, clock, end } = live();
    await frames(100);
    const [short, slow, fine] = [sink(), sink(), sink()];
    (await edge.openStream(token('an_short', 1000), SPACE)).subscribe(short);
    (await edge.openStream(token('an_slow'), SPACE)).subscribe(slow);
    (await edge.openStream(token('an_fine'), SPACE)).subscribe(fine);
    slow.pendingBytes = 10 * 1024 * 1024;
    await frames(25);
    assert.equal(slow.ended, true);
    assert.equal(short.ended, false);
    clock.advance(60_000);
    await frames(25);
    assert.equal(short.ended, false, 'checked at connect: a token that expires later does not end the stream');
    assert.ok(short.chunks.length > 1);
    assert.equal(fine.ended, false);
    end();
    for (let i = 0; i < 5 && !fine.ended; i++) await settle();
    assert.equal(fine.ended, true);
    assert.equal(edge.streaming, 0);
  });

  test('at an edge that hears of no removal, a held stream ends when its token expires', async () => {
    const { edge, frames, token, clock } = live(false);
    await frames(100);
    const short = sink();
    (await edge.openStream(token('an_short', 1000), SPACE)).subscribe(short);
    await frames(25);
    assert.equal(short.ended, false);
    clock.advance(1000);
    await frames(25);
    assert.equal(short.ended, true, 'a removal could not reach this edge: the token is the limit');
  });

  test('a stream that could not start (not live yet) is retried by the next listener, not cached as failed', async () => {
    const clock = new ManualClock(START);
    const origin = originOn(clock);
    const edge = new Edge({ signer, clock, origin, log, cacheMaxBytes: 1 << 22 });
    const token = signer.sign({ t: 'l', s: SPACE, u: 'an_early' }, START + 60_000);
    await assert.rejects(edge.openStream(token, SPACE));
    const program = new ProgramStream(rethrow);
    origin.attach(SPACE, program);
    for (let i = 0; i < 100; i++) {
      clock.advance(20);
      program.emit('frame', {
        spaceId: SPACE,
        sequence: i,
        ptsSamples: i * 960,
        durationSamples: 960,
        wallClockMs: clock.now() - 20,
        data: new Uint8Array([0xf8, i]),
      });
    }
    const s = sink();
    (await edge.openStream(token, SPACE)).subscribe(s);
    assert.equal(s.chunks.length, 1, 'the second listener gets a working stream');
    edge.close();
    assert.equal(s.ended, true, 'closing the edge ends held streams');
  });

  test('bad tokens are refused before any work; an ended Space has no live stream', async () => {
    const { edge, frames, token, end } = live();
    await frames(50);
    await assert.rejects(
      edge.openStream('not.a-token', SPACE),
      (e) => e instanceof AmphiError && e.code === 'LISTENER_TOKEN_INVALID',
    );
    await assert.rejects(
      edge.openStream(signer.sign({ t: 'l', s: 'sp_OTHER0000000', u: 'an_x' }, START + 60_000), SPACE),
      (e) => e instanceof AmphiError && e.code === 'LISTENER_TOKEN_INVALID',
    );
    end();
    await assert.rejects(edge.openStream(token('an_late'), SPACE), (e) => e instanceof AmphiError && e.code === 'SPACE_ENDED');
  });
});

/** Offset of the first `moof` box in a stream head (its size field). */
function findMoof(data: Uint8Array): number {
  for (let i = 0; i + 8 <= data.length; i++) {
    if (data[i + 4] === 0x6d && data[i + 5] === 0x6f && data[i + 6] === 0x6f && data[i + 7] === 0x66) return i;
  }
  throw new Error('no moof');
}
