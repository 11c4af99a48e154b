import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { Edge, type OriginClient } from '../../src/edge/edge.ts';
import { AmphiError } from '../../src/errors.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner, type TokenClaims } from '../../src/lib/signed-token.ts';
import type { OriginResponse } from '../../src/origin/plane.ts';

const signer = new TokenSigner([{ id: 'k', secret: 'an-edge-test-key-that-is-long-enough!' }]);
const SPACE = 'sp_AAAAAAAAAAAA';
const token = (clock: ManualClock, space = SPACE, subject = 'an_listener00001') =>
  signer.sign({ t: 'l', s: space, u: subject }, clock.now() + 60_000);

/** An origin that counts fetches and answers when told to. */
function slowOrigin() {
  const fetches: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const origin: OriginClient = {
    async get(spaceId, file) {
      fetches.push(`${spaceId}/${file}`);
      await gate;
      if (file === 'missing.m4s') throw new AmphiError('HLS_OBJECT_NOT_FOUND');
      const body = new TextEncoder().encode(`bytes of ${file}`);
      const cacheControl = file.endsWith('.m3u8') ? 'public, max-age=1' : 'public, max-age=31536000, immutable';
      return { status: 200, contentType: 'audio/mp4', cacheControl, body } satisfies OriginResponse;
    },
  };
  return { origin, fetches, release };
}

describe('edge', () => {
  test('1,000 concurrent requests for the same part from different listeners make exactly one origin fetch', async () => {
    const clock = new ManualClock();
    const { origin, fetches, release } = slowOrigin();
    const edge = new Edge({ signer, clock, origin, log: pino({ level: 'silent' }), cacheMaxBytes: 1 << 20 });
    const requests = Array.from({ length: 1000 }, (_, i) =>
      edge.serve({ token: token(clock, SPACE, `an_listener${String(i).padStart(5, '0')}`), spaceId: SPACE, file: 'p3.1.m4s' }),
    );
    release();
    const responses = await Promise.all(requests);
    assert.equal(fetches.length, 1);
    assert.ok(responses.every((r) => r.status === 200 && new TextDecoder().decode(r.body) === 'bytes of p3.1.m4s'));
    assert.equal(edge.listeners(SPACE), 1000, 'listener count from distinct token subjects');
    await edge.serve({ token: token(clock), spaceId: SPACE, file: 'p3.1.m4s' });
    assert.equal(fetches.length, 1, 'later requests are served from cache');
  });

  test('playlists expire by their max-age; blocking requests are keyed by msn and part', async () => {
    const clock = new ManualClock();
    const { origin, fetches, release } = slowOrigin();
    release();
    const edge = new Edge({ signer, clock, origin, log: pino({ level: 'silent' }), cacheMaxBytes: 1 << 20 });
    const get = (msn?: number, part?: number) =>
      edge.serve({ token: token(clock), spaceId: SPACE, file: 'media.m3u8', msn, part });
    await get();
    await get();
    assert.equal(fetches.length, 1);
    clock.advance(1000);
    await get();
    assert.equal(fetches.length, 2, 'refetched after max-age=1');
    await Promise.all([get(4, 1), get(4, 1), get(4, 2)]);
    assert.equal(fetches.length, 4, 'one fetch per distinct blocking request');
  });

  test('bad, expired and other-Space tokens are refused before any origin work', async () => {
    const clock = new ManualClock();
    const { origin, fetches, release } = slowOrigin();
    release();
    const edge = new Edge({ signer, clock, origin, log: pino({ level: 'silent' }), cacheMaxBytes: 1 << 20 });
    const stage = signer.sign({ t: 's', s: SPACE, u: 'ac_x', r: 'host' }, clock.now() + 60_000);
    const expired = signer.sign({ t: 'l', s: SPACE, u: 'an_x' }, clock.now() - 1000);
    for (const bad of [token(clock, 'sp_BBBBBBBBBBBB'), stage, expired, 'garbage.token', `${token(clock)}x`]) {
      await assert.rejects(
        edge.serve({ token: bad, spaceId: SPACE, file: 'init.mp4' }),
        (e: AmphiError) => e.code === 'LISTENER_TOKEN_INVALID',
      );
    }
    assert.equal(fetches.length, 0);
  });

  test('an expired, other-Space or other-type token is refused on its claims before any HMAC; a good one still verifies', () => {
    const clock = new ManualClock();
    /** The signer's answers, to see which refusals came before the signature check. */
    const reasons: string[] = [];
    class Watched extends TokenSigner {
      override verify<T extends object>(token: string, nowMs: number, refuse?: (c: T & TokenClaims, now: number) => boolean) {
        const result = super.verify<T>(token, nowMs, refuse);
        reasons.push(result.ok ? 'ok' : result.reason);
        return result;
      }
    }
    const watched = new Watched([{ id: 'k', secret: 'an-edge-test-key-that-is-long-enough!' }]);
    const { origin } = slowOrigin();
    const edge = new Edge({ signer: watched, clock, origin, log: pino({ level: 'silent' }), cacheMaxBytes: 1 << 20 });
    const expired = signer.sign({ t: 'l', s: SPACE, u: 'an_x' }, clock.now() - 1000);
    const stage = signer.sign({ t: 's', s: SPACE, u: 'ac_x', r: 'host' }, clock.now() + 60_000);
    for (const bad of [expired, stage, token(clock, 'sp_BBBBBBBBBBBB')]) assert.equal(edge.accepts(bad, SPACE), false);
    assert.deepEqual(reasons, ['unverified', 'unverified', 'unverified']);
    // A forged signature on claims that would pass is still caught by the MAC, and a good token verifies.
    const [body, mac] = token(clock).split('.') as [string, string];
    assert.equal(edge.accepts(`${body}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`, SPACE), false);
    assert.equal(edge.accepts(token(clock), SPACE), true);
    assert.deepEqual(reasons.slice(3), ['bad_signature', 'ok']);
  });

  test('a verified token is refused once expired and idle past the keep-alive (serve, serveCached, accepts)', async () => {
    const clock = new ManualClock();
    const { origin, fetches, release } = slowOrigin();
    release();
    const edge = new Edge({
      signer,
      clock,
      origin,
      log: pino({ level: 'silent' }),
      cacheMaxBytes: 1 << 20,
      tokenKeepAliveMs: 10_000,
    });
    const listener = signer.sign({ t: 'l', s: SPACE, u: 'an_expiring00001' }, clock.now() + 60_000);
    const req = { token: listener, spaceId: SPACE, file: 's0.m4s' };
    assert.equal((await edge.serve(req)).status, 200);
    assert.equal(edge.serveCached(req)?.status, 200, 'cached object, token remembered as verified');
    clock.advance(59_999);
    assert.equal(edge.accepts(listener, SPACE), true, 'good until its last millisecond, and used then');
    clock.advance(9_999);
    assert.equal(edge.accepts(listener, SPACE), true, 'expired, but its player is still using it');
    clock.advance(10_000);
    assert.equal(edge.accepts(listener, SPACE), false, 'expired and idle for the whole keep-alive');
    assert.equal(edge.serveCached(req), undefined, 'not served from the cache');
    await assert.rejects(edge.serve(req), (e: AmphiError) => e.code === 'LISTENER_TOKEN_INVALID');
    await assert.rejects(edge.openStream(listener, SPACE), (e: AmphiError) => e.code === 'LISTENER_TOKEN_INVALID');
    assert.equal(edge.served, 2, 'only the requests before the refusal were served');
    assert.equal(fetches.length, 1);
  });

  test('ETag and If-None-Match give 304; byte ranges give 206; CORS is open; origin errors pass through uncached', async () => {
    const clock = new ManualClock();
    const { origin, fetches, release } = slowOrigin();
    release();
    const edge = new Edge({ signer, clock, origin, log: pino({ level: 'silent' }), cacheMaxBytes: 1 << 20 });
    const first = await edge.serve({ token: token(clock), spaceId: SPACE, file: 's0.m4s' });
    assert.equal(first.headers['access-control-allow-origin'], '*');
    assert.match(first.headers['cache-control']!, /immutable/);
    const again = await edge.serve({ token: token(clock), spaceId: SPACE, file: 's0.m4s', ifNoneMatch: first.headers.etag });
    assert.equal(again.status, 304);
    const range = await edge.serve({ token: token(clock), spaceId: SPACE, file: 's0.m4s', range: 'bytes=0-4' });
    assert.equal(range.status, 206);
    assert.equal(new TextDecoder().decode(range.body), 'bytes');
    assert.equal(range.headers['content-range'], `bytes 0-4/${first.body!.length}`);
    const bad = await edge.serve({ token: token(clock), spaceId: SPACE, file: 's0.m4s', range: 'bytes=999-' });
    assert.equal(bad.status, 416);
    await assert.rejects(edge.serve({ token: token(clock), spaceId: SPACE, file: 'missing.m4s' }));
    await assert.rejects(edge.serve({ token: token(clock), spaceId: SPACE, file: 'missing.m4s' }));
    assert.equal(fetches.filter((f) => f.endsWith('missing.m4s')).length, 2, 'errors are not cached');
  });
});
