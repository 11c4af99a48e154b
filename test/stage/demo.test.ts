import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ManualClock } from '../../src/lib/clock.ts';
import { DemoSpeaker, readFrames } from '../../src/stage/demo-speaker.ts';
import { eventually } from '../helpers/eventually.ts';
import { startLiveServer } from '../helpers/server.ts';
import { rethrow } from '../helpers/events.ts';
import { TrackingClock } from './fakes.ts';
import { TEST } from './live-stage.ts';

test('the demo speaker paces its clip on the clock, in a loop, and stops when closed', () => {
  const frames = readFrames(new URL('../../assets/demo-voice.opus-frames', import.meta.url));
  assert.ok(frames.length > 500 && frames.every((f) => f.length > 0 && f.length < 400), `${frames.length} frames`);
  const clock = new ManualClock(0);
  const speaker = new DemoSpeaker(frames, clock, rethrow);
  const stamps: number[] = [];
  speaker.on('audio', ({ rtpTimestamp }) => stamps.push(rtpTimestamp));
  clock.advance(1000);
  assert.equal(stamps.length, 50);
  assert.deepEqual(stamps.slice(0, 3), [0, 960, 1920]);
  clock.advance(frames.length * 20);
  assert.equal(stamps.length, 50 + frames.length, 'loops past the end of the clip');
  speaker.close();
  clock.advance(1000);
  assert.equal(stamps.length, 50 + frames.length);
});

test('a clip file is read frame by frame: 2-byte big-endian length, then the packet, empty packets included', () => {
  const dir = mkdtempSync(join(tmpdir(), 'amphi-demo-'));
  try {
    const path = join(dir, 'clip.opus-frames');
    writeFileSync(path, Buffer.from([0, 3, 1, 2, 3, 1, 0, ...Array<number>(256).fill(7), 0, 1, 9, 0, 0]));
    const frames = readFrames(path);
    assert.deepEqual(
      frames.map((f) => [...f]),
      [[1, 2, 3], Array<number>(256).fill(7), [9], []],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the demo speaker plays its packets in clip order, loops, and is a session that hears nothing', () => {
  const clip = [Buffer.from([1]), Buffer.from([2]), Buffer.from([3])];
  const clock = new ManualClock(0);
  const speaker = new DemoSpeaker(clip, clock, rethrow);
  const payloads: number[] = [];
  speaker.on('audio', ({ payload }) => payloads.push(payload[0]!));
  clock.advance(100);
  assert.deepEqual(payloads, [1, 2, 3, 1, 2]);
  assert.equal(speaker.receivesAudio, false, 'the room encodes no mix-minus for it');
  assert.match(speaker.id, /^ss_/);
  speaker.close();
});

test('the demo speaker closes once, with the reason given, and leaves no timer behind', () => {
  const clock = new TrackingClock(0);
  const speaker = new DemoSpeaker([Buffer.from([1])], clock, rethrow);
  const reasons: string[] = [];
  speaker.on('closed', ({ reason }) => reasons.push(reason));
  speaker.close();
  speaker.close('again');
  assert.deepEqual(reasons, ['closed']);
  assert.equal(clock.pendingTimers, 0);
  const other = new DemoSpeaker([Buffer.from([1])], clock, rethrow);
  other.on('closed', ({ reason }) => reasons.push(reason));
  other.close('the Space has ended');
  assert.deepEqual(reasons, ['closed', 'the Space has ended']);
});

test('closed from its own audio listener, the demo speaker stops at once', () => {
  const clock = new TrackingClock(0);
  const speaker = new DemoSpeaker([Buffer.from([1])], clock, rethrow);
  let sent = 0;
  speaker.on('audio', () => {
    sent++;
    speaker.close();
  });
  clock.advance(1000);
  assert.equal(sent, 1);
  assert.equal(clock.pendingTimers, 0);
});

test('npm start shows a live demo Space with a speaking voice; it can be switched off', TEST, async () => {
  const server = await startLiveServer({ demo: { enabled: true, title: 'Amphi demo' } });
  try {
    const live = await server.api('GET', '/api/spaces?state=live');
    const demo = (live.json.spaces as { id: string; title: string; host: { handle: string } }[]).find(
      (s) => s.title === 'Amphi demo',
    );
    assert.ok(demo !== undefined, 'the demo Space is live');
    assert.equal(demo.host.handle, 'amphi_demo');
    // The clip plays in real time: look again every 100 ms, for up to 4 s.
    await eventually(
      'the built-in speaker to be heard',
      async () => (await server.api('GET', `/api/spaces/${demo.id}`)).json.space.stage[0].speaking === true,
      { timeoutMs: 4000, intervalMs: 100 },
    );
  } finally {
    await server.shutdown();
  }
  const off = await startLiveServer();
  try {
    assert.deepEqual((await off.api('GET', '/api/spaces?state=live')).json.spaces, []);
  } finally {
    await off.shutdown();
  }
});
