import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { Edge, type OriginClient } from '../../src/edge/edge.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';

const signer = new TokenSigner([{ id: 'k', secret: 'a-keep-alive-test-key-long-enough!!' }]);
const SPACE = 'sp_KEEPALIVE000';
const TOKEN_LIFETIME_MS = 20_000;
const KEEP_ALIVE_MS = 60_000;

const origin: OriginClient = {
  get: (_spaceId, file) =>
    Promise.resolve({
      status: 200 as const,
      contentType: 'application/vnd.apple.mpegurl',
      cacheControl: 'public, max-age=1',
      body: new TextEncoder().encode(`#EXTM3U\n# ${file}`),
    }),
};

function edge(clock: ManualClock, followsRemovals = true) {
  return new Edge({
    signer,
    clock,
    origin,
    log: pino({ level: 'silent' }),
    cacheMaxBytes: 1 << 20,
    tokenKeepAliveMs: KEEP_ALIVE_MS,
    followsRemovals,
  });
}

const tokenFor = (clock: ManualClock, subject: string) =>
  signer.sign({ t: 'l', s: SPACE, u: subject }, clock.now() + TOKEN_LIFETIME_MS);

describe('listener tokens stay good while their player uses them (players that cannot renew)', () => {
  test('a player polling every 2 s plays an hour on a 20 s token, and is cut off a keep-alive after it stops', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 29, 20));
    const e = edge(clock);
    const token = tokenFor(clock, 'an_ffmpeg000001');
    for (let t = 0; t < 3_600_000; t += 2000) {
      const res = await e.serve({ token, spaceId: SPACE, file: 'media.m3u8' });
      assert.equal(res.status, 200, `refused after ${t / 1000} s`);
      clock.advance(2000);
    }
    clock.advance(KEEP_ALIVE_MS - 2001);
    assert.equal(e.accepts(token, SPACE), true, 'a pause shorter than the keep-alive is fine');
    clock.advance(KEEP_ALIVE_MS);
    assert.equal(e.accepts(token, SPACE), false, 'idle for the whole keep-alive after expiry: gone');
  });

  test('a token first shown after it expired is refused: keep-alive only extends a token in use', () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 29, 20));
    const e = edge(clock);
    const token = tokenFor(clock, 'an_late00000001');
    clock.advance(TOKEN_LIFETIME_MS);
    assert.equal(e.accepts(token, SPACE), false);
  });

  test('a removed listener is cut off at once, keep-alive or not; others keep playing', () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 29, 20));
    const e = edge(clock);
    const removed = tokenFor(clock, 'ac_removed00001');
    const other = tokenFor(clock, 'ac_staying00001');
    for (let t = 0; t < 30_000; t += 1000) {
      assert.ok(e.accepts(removed, SPACE) && e.accepts(other, SPACE));
      clock.advance(1000);
    }
    e.revoke(SPACE, 'ac_removed00001');
    assert.equal(e.accepts(removed, SPACE), false);
    assert.equal(e.accepts(other, SPACE), true);
  });

  test('keep-alive never carries a token to another Space', () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 29, 20));
    const e = edge(clock);
    const token = tokenFor(clock, 'an_wander000001');
    assert.equal(e.accepts(token, SPACE), true);
    assert.equal(e.accepts(token, 'sp_OTHERSPACE00'), false);
  });

  test('an edge that hears of no removal (amphi edge today) keeps no token past its expiry', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 29, 20));
    const e = edge(clock, false);
    const token = tokenFor(clock, 'an_separate0001');
    for (let t = 0; t < TOKEN_LIFETIME_MS; t += 1000) {
      assert.equal((await e.serve({ token, spaceId: SPACE, file: 'media.m3u8' })).status, 200);
      clock.advance(1000);
    }
    assert.equal(e.accepts(token, SPACE), false, 'in use, but expired: a removal could not reach this edge');
  });
});
