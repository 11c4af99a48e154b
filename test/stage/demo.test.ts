import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/lib/clock.ts';
import { DemoSpeaker, readFrames } from '../../src/stage/demo-speaker.ts';
import { eventually } from '../helpers/eventually.ts';
import { startLiveServer } from '../helpers/server.ts';
import { rethrow } from '../helpers/events.ts';
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
