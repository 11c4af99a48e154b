import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { decodeTime, defaultStreamPolicy, SpaceStream, timescale, type StreamPolicy } from '../../src/edge/stream.ts';
import { AmphiError } from '../../src/errors.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { settle } from '../helpers/settle.ts';
import { date, ENDLIST, hint, part, playlist, scriptedOrigin, textSink } from './scripted-origin.ts';

const START = Date.UTC(2026, 10, 22, 20, 0, 0);
const LIVE = playlist(part('p10.10'), part('p10.11'), part('p10.12'), part('p10.13'), hint('p10.14'));

/** One Space's fan-out over a scripted origin (multi-digit part names on purpose). */
function fanOut(policy: Partial<StreamPolicy> = {}, start = LIVE) {
  const clock = new ManualClock(START);
  const origin = scriptedOrigin(start);
  let idle = 0;
  const logs: { level: number; msg: string; msn?: number; part?: number; err?: { message: string } }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line) as (typeof logs)[number]) });
  const stream = new SpaceStream(origin.fetch, clock, log, { ...defaultStreamPolicy, ...policy }, () => idle++);
  return { clock, origin, stream, logs, idle: () => idle };
}

describe('live stream fan-out (scripted origin)', () => {
  test('the head is the init segment and the newest listed parts; then it blocks on the hinted part', async () => {
    const { stream, origin } = fanOut();
    const start = await stream.ready();
    assert.equal(new TextDecoder().decode(start.head), '[init.mp4][p10.11.m4s][p10.12.m4s][p10.13.m4s]');
    assert.equal(start.epochMs, 0, 'no program date in the playlist: no epoch');
    await settle();
    assert.deepEqual(origin.waiting(), [{ msn: 10, part: 14 }]);
    const a = textSink();
    assert.equal(stream.subscribe(a, START + 60_000, 'an_a'), true);
    assert.deepEqual(a.chunks, ['[init.mp4][p10.11.m4s][p10.12.m4s][p10.13.m4s]']);
  });

  test('each new part goes once to every listener; a later listener’s head holds only the newest parts', async () => {
    const { stream, origin } = fanOut({ backlogParts: 2 });
    const start = await stream.ready();
    assert.equal(new TextDecoder().decode(start.head), '[init.mp4][p10.12.m4s][p10.13.m4s]');
    const [a, b] = [textSink(), textSink()];
    stream.subscribe(a, START + 60_000, 'an_a');
    stream.subscribe(b, START + 60_000, 'an_b');
    await settle();
    origin.reload(playlist(part('p10.13'), part('p10.14'), hint('p11.0')));
    await settle();
    assert.deepEqual(a.chunks.slice(1), ['[p10.14.m4s]']);
    assert.deepEqual(b.chunks.slice(1), ['[p10.14.m4s]']);
    assert.deepEqual(origin.waiting(), [{ msn: 11, part: 0 }]);
    origin.reload(playlist(part('p10.14'), part('p11.0'), hint('p11.1')));
    await settle();
    origin.reload(playlist(part('p11.0'), part('p11.1'), hint('p11.2')));
    await settle();
    assert.deepEqual(a.chunks.slice(1), ['[p10.14.m4s]', '[p11.0.m4s]', '[p11.1.m4s]']);
    const late = textSink();
    stream.subscribe(late, START + 60_000, 'an_late');
    assert.deepEqual(late.chunks, ['[init.mp4][p11.0.m4s][p11.1.m4s]']);
    assert.equal(stream.listeners, 3);
    assert.deepEqual([...stream.subjects()], ['an_a', 'an_b', 'an_late']);
  });

  test('a young Space’s backlog fills up to backlogParts as parts arrive', async () => {
    const { stream, origin } = fanOut({}, playlist(part('p0.0'), hint('p0.1')));
    assert.equal(new TextDecoder().decode((await stream.ready()).head), '[init.mp4][p0.0.m4s]');
    stream.subscribe(textSink(), START + 60_000, 'an_early');
    for (const [n, next] of [
      [1, 2],
      [2, 3],
    ]) {
      await settle();
      origin.reload(playlist(part(`p0.${n}`), hint(`p0.${next}`)));
    }
    await settle();
    const late = textSink();
    stream.subscribe(late, START + 60_000, 'an_late');
    assert.deepEqual(late.chunks, ['[init.mp4][p0.0.m4s][p0.1.m4s][p0.2.m4s]']);
  });

  test('the last part of an ended Space is still delivered, then every stream ends at once', async () => {
    const { stream, origin, idle } = fanOut();
    await stream.ready();
    const a = textSink();
    stream.subscribe(a, START + 60_000, 'an_a');
    await settle();
    origin.reload(playlist(part('p10.13'), part('p10.14'), ENDLIST));
    await settle();
    assert.deepEqual(a.chunks.slice(1), ['[p10.14.m4s]']);
    assert.equal(a.ended, 1);
    assert.equal(idle(), 1);
    assert.equal(stream.listeners, 0);
  });

  test('a Space that ended before the awaited part was made ends the streams without a write', async () => {
    const { stream, origin, idle } = fanOut();
    await stream.ready();
    const a = textSink();
    stream.subscribe(a, START + 60_000, 'an_a');
    await settle();
    origin.reload(playlist(part('p10.12'), part('p10.13'), ENDLIST));
    await settle();
    assert.equal(a.chunks.length, 1, 'the head only');
    assert.equal(a.ended, 1);
    assert.equal(idle(), 1);
    assert.equal(origin.fetches.includes('p10.14.m4s'), false);
  });

  test('a fan-out nobody listens to stops after two parts; listening resets that count', async () => {
    const { stream, origin, idle } = fanOut();
    await stream.ready();
    const a = textSink();
    await settle();
    origin.reload(playlist(part('p10.14'), hint('p10.15'))); // nobody: 1
    await settle();
    stream.subscribe(a, START + 60_000, 'an_a');
    origin.reload(playlist(part('p10.15'), hint('p10.16'))); // a listens: count reset
    await settle();
    origin.reload(playlist(part('p10.16'), hint('p10.17'))); // still listening
    await settle();
    assert.deepEqual(a.chunks.slice(1), ['[p10.15.m4s]', '[p10.16.m4s]']);
    stream.unsubscribe(a);
    origin.reload(playlist(part('p10.17'), hint('p10.18'))); // nobody: 1
    await settle();
    assert.equal(idle(), 0, 'one empty part is not enough to stop');
    assert.deepEqual(origin.waiting(), [{ msn: 10, part: 18 }]);
    origin.reload(playlist(part('p10.18'), hint('p10.19'))); // nobody: 2
    await settle();
    assert.equal(idle(), 1);
    assert.deepEqual(origin.waiting(), [], 'stopped following the origin');
    assert.equal(a.ended, 0, 'an unsubscribed listener is not ended by the fan-out');
  });

  test('origin failures are retried after retryDelayMs; a success resets the count; maxFailures in a row end it', async () => {
    const { stream, origin, idle, clock, logs } = fanOut({ maxFailures: 3, retryDelayMs: 100, maxRetryDelayMs: 100 });
    await stream.ready();
    const a = textSink();
    stream.subscribe(a, START + 600_000, 'an_a');
    const failOnce = async (awaited: number) => {
      await settle();
      origin.fail();
      await settle();
      assert.deepEqual(origin.waiting(), [], 'no retry before the delay');
      clock.advance(99);
      await settle();
      assert.deepEqual(origin.waiting(), [], 'no retry before the delay');
      clock.advance(1);
      await settle();
      assert.deepEqual(origin.waiting(), [{ msn: 10, part: awaited }], 'the same part is asked again');
    };
    await failOnce(14);
    await failOnce(14);
    origin.reload(playlist(part('p10.14'), hint('p10.15')));
    await settle();
    assert.deepEqual(a.chunks.slice(1), ['[p10.14.m4s]']);
    await failOnce(15);
    await failOnce(15);
    assert.equal(a.ended, 0, 'a success in between: two failures in a row are not three');
    assert.equal(logs.length, 0, 'retries are not logged');
    origin.fail();
    await settle();
    assert.equal(a.ended, 1, 'the third failure in a row ends the stream');
    assert.equal(idle(), 1);
    assert.deepEqual(
      logs.map((l) => [l.level, l.msg, l.msn, l.part, l.err?.message]),
      [[40, 'live stream lost the origin', 10, 15, 'origin unreachable']],
      'the loss is one warning naming the part and the error',
    );
  });

  test('failures in a row wait longer each time (doubling up to maxRetryDelayMs): the defaults ride out a media node failover of about 10 s', async () => {
    const { stream, origin, clock } = fanOut({ retryDelayMs: 100, maxRetryDelayMs: 400 });
    await stream.ready();
    stream.subscribe(textSink(), START + 600_000, 'an_a');
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      await settle();
      origin.fail();
      await settle();
      const failedAt = clock.now();
      while (origin.waiting().length === 0 && clock.now() - failedAt < 1000) {
        clock.advance(50);
        await settle();
        await settle();
      }
      waits.push(clock.now() - failedAt);
    }
    assert.deepEqual(waits, [100, 200, 400, 400]);
    const d = defaultStreamPolicy;
    let span = 0;
    for (let n = 1; n < d.maxFailures; n++) span += Math.min(d.maxRetryDelayMs, d.retryDelayMs * 2 ** (n - 1));
    assert.ok(span >= 10_000, `the default policy gives the origin ${span} ms before the stream ends`);
  });

  test('close ends every listener once and calls onIdle once; a closed fan-out refuses new listeners', async () => {
    const { stream, idle, origin } = fanOut();
    await stream.ready();
    const a = textSink();
    stream.subscribe(a, START + 60_000, 'an_a');
    stream.close();
    stream.close();
    assert.equal(a.ended, 1);
    assert.equal(idle(), 1);
    const late = textSink();
    assert.equal(stream.subscribe(late, START + 60_000, 'an_late'), false);
    assert.deepEqual(late.chunks, [], 'nothing written to a refused listener');
    await settle();
    origin.reload(playlist(part('p10.14'), hint('p10.15')));
    await settle();
    assert.deepEqual(origin.waiting(), [], 'a closed fan-out stops following');
  });

  test('a Space not live (no part hinted) or ended refuses to start, and the failed fan-out is closed', async () => {
    for (const start of [
      playlist(part('p0.0')),
      playlist(part('p0.0'), hint('p0.1'), ENDLIST),
      playlist(part('p0.0'), ENDLIST),
    ]) {
      const { stream, idle } = fanOut({}, start);
      await assert.rejects(stream.ready(), (e) => e instanceof AmphiError && e.code === 'SPACE_ENDED');
      assert.equal(idle(), 1);
      assert.equal(stream.subscribe(textSink(), START + 60_000, 'an_a'), false);
    }
  });

  test('drop ends only the named listener’s streams', async () => {
    const { stream } = fanOut();
    await stream.ready();
    const [a1, a2, b] = [textSink(), textSink(), textSink()];
    stream.subscribe(a1, START + 60_000, 'an_a');
    stream.subscribe(a2, START + 60_000, 'an_a');
    stream.subscribe(b, START + 60_000, 'an_b');
    stream.drop('an_a');
    assert.deepEqual([a1.ended, a2.ended, b.ended], [1, 1, 0]);
    assert.deepEqual([...stream.subjects()], ['an_b']);
  });
  test('a part that will never exist (its media node died; the new owner lists a gap) is skipped: the stream goes on from the live edge', async () => {
    const { stream, origin, logs } = fanOut();
    await stream.ready();
    const a = textSink();
    stream.subscribe(a, START + 60_000, 'an_a');
    await settle();
    assert.deepEqual(origin.waiting(), [{ msn: 10, part: 14 }]);
    origin.missing.add('p10.14.m4s');
    // The new owner's playlist: segment 10 was lost (a gap), production resumed at 11.
    origin.reload(playlist(part('p11.0'), hint('p11.1')));
    await settle();
    assert.deepEqual(origin.waiting(), [{ msn: 11, part: 1 }], 'on from the hint, not stuck on the lost part');
    origin.reload(playlist(part('p11.0'), part('p11.1'), hint('p11.2')));
    await settle();
    assert.deepEqual(a.chunks.slice(1), ['[p11.1.m4s]']);
    assert.equal(a.ended, 0, 'the listener stays connected');
    assert.ok(logs.some((l) => l.msg === 'live stream skipped parts that will never exist' && l.msn === 10 && l.part === 14));
  });

  test('a missing part with no later hint is an ordinary failure (counted, never a jump in place or backwards)', async () => {
    const { stream, origin, logs } = fanOut({ maxFailures: 1 });
    await stream.ready();
    stream.subscribe(textSink(), START + 60_000, 'an_a');
    await settle();
    origin.missing.add('p10.14.m4s');
    origin.reload(playlist(part('p10.13'), hint('p10.14')));
    await settle();
    assert.ok(
      logs.some((l) => l.msg === 'live stream lost the origin'),
      'the failure counted: the stream gave up',
    );
    assert.deepEqual(origin.waiting(), [], 'and asked no more');
  });
});

describe('live stream policy and timing', () => {
  test('two parts per write: listeners get them together, a newcomer never twice, the last one at the end', async () => {
    const { stream, origin } = fanOut({ partsPerWrite: 2, backlogParts: 2 });
    const start = await stream.ready();
    assert.equal(start.writeIntervalMs, 1000, 'two 500 ms parts (no PART-INF here: 0.5 s assumed)');
    const a = textSink();
    stream.subscribe(a, START + 60_000, 'an_a');
    await settle();
    origin.reload(playlist(part('p10.14'), hint('p10.15')));
    await settle();
    assert.deepEqual(a.chunks.slice(1), [], 'the first part waits for the second');
    const b = textSink();
    stream.subscribe(b, START + 60_000, 'an_b');
    assert.deepEqual(b.chunks, ['[init.mp4][p10.12.m4s][p10.13.m4s]'], 'the waiting part is not in the head');
    origin.reload(playlist(part('p10.15'), hint('p11.0')));
    await settle();
    assert.deepEqual(a.chunks.slice(1), ['[p10.14.m4s][p10.15.m4s]'], 'one write of both');
    assert.deepEqual(b.chunks.slice(1), ['[p10.14.m4s][p10.15.m4s]']);
    origin.reload(playlist(part('p11.0'), hint('p11.1')));
    await settle();
    stream.close();
    assert.deepEqual(a.chunks.slice(1), ['[p10.14.m4s][p10.15.m4s]', '[p11.0.m4s]'], 'a waiting part goes out before the end');
    assert.equal(a.ended, 1);
  });

  test('with the default policy a listener up to 256 KiB behind keeps its stream; beyond, it is dropped and counted', async () => {
    const { stream, origin, clock } = fanOut();
    await stream.ready();
    const [keeping, slow] = [textSink(), textSink()];
    stream.subscribe(keeping, START + 60_000, 'an_keeping');
    stream.subscribe(slow, START + 60_000, 'an_slow');
    keeping.pendingBytes = 256 * 1024;
    slow.pendingBytes = 256 * 1024 + 1;
    await settle();
    origin.reload(playlist(part('p10.14'), hint('p10.15')));
    await settle();
    assert.deepEqual([keeping.ended, slow.ended], [0, 1]);
    assert.deepEqual(keeping.chunks.slice(1), ['[p10.14.m4s]']);
    assert.deepEqual(slow.chunks.length, 1, 'the head only');
    assert.equal(stream.dropped, 1);

    const expiring = textSink();
    stream.subscribe(expiring, clock.now() + 500, 'an_expiring');
    clock.advance(500);
    origin.reload(playlist(part('p10.15'), hint('p10.16')));
    await settle();
    assert.equal(expiring.ended, 1, 'a token expiring this very millisecond ends the stream');
    assert.deepEqual(expiring.chunks.length, 1);
    assert.equal(stream.dropped, 1, 'an expiry is not a drop');
    assert.equal(keeping.ended, 0);
  });

  for (const [mdhdVersion, tfdtVersion] of [
    [0, 1],
    [1, 0],
  ] as const) {
    test(`the epoch comes from the newest dated segment (mdhd v${mdhdVersion}, tfdt v${tfdtVersion})`, async () => {
      const start = playlist(
        date('2026-11-22T20:00:20.000Z'),
        part('p10.0'),
        part('p10.1'),
        date('2026-11-22T20:00:22.000Z'),
        part('p11.0'),
        hint('p11.1'),
      );
      const { stream, origin } = fanOut({}, start);
      origin.files.set('init.mp4', box('moov', box('mdhd', mdhd(mdhdVersion, 48_000))));
      // 22 s of media at 48 kHz before p11.0, which started at 20:00:22: media time 0 is 20:00:00.
      origin.files.set('p11.0.m4s', box('moof', box('traf', box('tfdt', tfdt(tfdtVersion, 22 * 48_000)))));
      assert.equal((await stream.ready()).epochMs, START);
    });
  }

  test('boxes are found by their whole four-character type, in either version', () => {
    const decoys = new TextEncoder().encode('xfdt txdt tfxt tfdx xxdt tfd');
    const fragment = Buffer.concat([box('moof', box('free', decoys), box('tfdt', tfdt(0, 1234)))]);
    assert.equal(decodeTime(fragment), 1234);
    assert.equal(decodeTime(box('tfdt', tfdt(1, 2 ** 40))), 2 ** 40);
    assert.equal(timescale(Buffer.concat([box('free', decoys), box('mdhd', mdhd(0, 44_100))])), 44_100);
    assert.equal(timescale(box('mdhd', mdhd(1, 16_000))), 16_000);
    assert.throws(() => decodeTime(box('moof', decoys)), /no tfdt box/);
  });
});

/** An ISO BMFF box: 32-bit size, type, payload. */
function box(type: string, ...payload: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(payload);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

/** A `mdhd` payload: version and flags, creation and modification times (32 or 64 bits), timescale, duration. */
function mdhd(version: 0 | 1, scale: number): Uint8Array {
  const wide = version === 1 ? 8 : 4;
  const b = Buffer.alloc(4 + 2 * wide + 4 + wide).fill(0xee);
  b.writeUInt32BE(version << 24);
  b.writeUInt32BE(scale, 4 + 2 * wide);
  return b;
}

/** A `tfdt` payload: version and flags, then the base media decode time (32 or 64 bits). */
function tfdt(version: 0 | 1, time: number): Uint8Array {
  const b = Buffer.alloc(version === 1 ? 12 : 8);
  b.writeUInt32BE(version << 24);
  if (version === 1) b.writeBigUInt64BE(BigInt(time), 4);
  else b.writeUInt32BE(time, 4);
  return b;
}
