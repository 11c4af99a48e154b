import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { Edge, type EdgeRequest, type OriginClient } from '../../src/edge/edge.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';
import type { OriginQuery } from '../../src/origin/plane.ts';

const signer = new TokenSigner([{ id: 'k', secret: 'an-edge-response-test-key-long-enough' }]);
const SPACE = 'sp_RESPONSE00001';
const BODY = 'abcdefghijklmnopqrstuvwxyz'; // 26 bytes

/** An origin answering every file at once with its name's bytes (or `BODY`), with a chosen cache-control. */
function setup(opts: { cacheControl?: string; cacheMaxBytes?: number } = {}) {
  const clock = new ManualClock();
  const fetches: { file: string; query: OriginQuery }[] = [];
  const origin: OriginClient = {
    get(_spaceId, file, query) {
      fetches.push({ file, query });
      const body = new TextEncoder().encode(file === 'p.m4s' ? BODY : `${file} v=${query.v} m=${query.msn} p=${query.part}`);
      return Promise.resolve({ status: 200, contentType: 'audio/mp4', cacheControl: opts.cacheControl ?? 'max-age=60', body });
    },
  };
  const edge = new Edge({ signer, clock, origin, log: pino({ level: 'silent' }), cacheMaxBytes: opts.cacheMaxBytes ?? 1 << 20 });
  const token = signer.sign({ t: 'l', s: SPACE, u: 'an_responses0001' }, clock.now() + 3_600_000);
  const serve = (req: Partial<EdgeRequest> = {}) => edge.serve({ token, spaceId: SPACE, file: 'p.m4s', ...req });
  return { clock, edge, fetches, serve, token };
}

const text = (body: Uint8Array | undefined) => new TextDecoder().decode(body);

describe('edge responses', () => {
  test('a full response carries a quoted content hash as ETag, CORS and range headers, and flat raw headers', async () => {
    const { serve } = setup();
    const res = await serve();
    assert.equal(res.status, 200);
    assert.equal(text(res.body), BODY);
    assert.match(res.headers.etag!, /^"[A-Za-z0-9_-]{20}"$/);
    assert.deepEqual(res.headers, {
      'content-type': 'audio/mp4',
      'cache-control': 'max-age=60',
      etag: res.headers.etag,
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'etag, content-length, content-range',
      'accept-ranges': 'bytes',
    });
    assert.deepEqual(res.rawHeaders, [...Object.entries(res.headers).flat(), 'content-length', '26']);
    const other = await serve({ file: 'other.m4s' });
    assert.notEqual(other.headers.etag, res.headers.etag, 'different bytes, different ETag');
    assert.equal((await serve({ ifNoneMatch: other.headers.etag })).status, 200, 'another object’s ETag is no match');
    const notModified = await serve({ ifNoneMatch: res.headers.etag });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body, undefined);
  });

  test('byte ranges: first-last, open-ended, suffix, clamped, single byte, multi-digit, padded', async () => {
    const { serve } = setup();
    const cases: [string, string, string][] = [
      ['bytes=0-4', 'abcde', 'bytes 0-4/26'],
      ['bytes=3-', 'defghijklmnopqrstuvwxyz', 'bytes 3-25/26'],
      ['bytes=-5', 'vwxyz', 'bytes 21-25/26'],
      ['bytes=-100', BODY, 'bytes 0-25/26'],
      ['bytes=20-999', 'uvwxyz', 'bytes 20-25/26'],
      ['bytes=7-7', 'h', 'bytes 7-7/26'],
      ['bytes=10-12', 'klm', 'bytes 10-12/26'],
      ['bytes=25-25', 'z', 'bytes 25-25/26'],
      [' bytes=1-2 ', 'bc', 'bytes 1-2/26'],
    ];
    for (const [range, body, contentRange] of cases) {
      const res = await serve({ range });
      assert.equal(res.status, 206, range);
      assert.equal(text(res.body), body, range);
      assert.equal(res.headers['content-range'], contentRange, range);
      assert.equal(res.headers.etag, (await serve()).headers.etag, 'a range keeps the object headers');
    }
  });

  test('unsatisfiable or malformed ranges give 416 with the size, and no body', async () => {
    const { serve } = setup();
    for (const range of ['bytes=26-', 'bytes=30-40', 'bytes=5-2', 'bytes=-', 'bytes=a-b', 'bytes=0-1x']) {
      const res = await serve({ range });
      assert.equal(res.status, 416, range);
      assert.equal(res.body, undefined, range);
      assert.equal(res.headers['content-range'], 'bytes */26', range);
      assert.equal(res.headers['accept-ranges'], 'bytes', range);
    }
  });

  test('a Range a server may ignore (another unit, several ranges) gets the whole object (RFC 9110 14.2)', async () => {
    const { serve } = setup();
    for (const range of ['items=0-1', 'xbytes=0-1', 'bytes=0-1,5-6']) {
      const res = await serve({ range });
      assert.equal(res.status, 200, range);
      assert.equal(res.body?.length, 26, range);
      assert.equal(res.headers['content-range'], undefined, range);
    }
  });

  test('an object is cached for exactly its max-age, long ones included', async () => {
    const { clock, serve, fetches } = setup({ cacheControl: 'public, max-age=2' });
    await serve();
    clock.advance(1999);
    await serve();
    assert.equal(fetches.length, 1, 'fresh until the last millisecond');
    clock.advance(1);
    await serve();
    assert.equal(fetches.length, 2, 'refetched at max-age');

    const long = setup({ cacheControl: 'public, max-age=31536000, immutable' });
    await long.serve();
    long.clock.advance(1_800_000);
    await long.serve();
    assert.equal(long.fetches.length, 1, 'a year-long max-age still holds half an hour later');
    assert.equal(long.edge.originFetches, 1);
  });

  test('serveCached answers only fresh cached objects for a good token, and counts them as served', async () => {
    const { clock, edge, serve, token } = setup({ cacheControl: 'max-age=1' });
    const req = { token, spaceId: SPACE, file: 'p.m4s' };
    assert.equal(edge.serveCached(req), undefined, 'not cached yet');
    await serve();
    assert.equal(text(edge.serveCached(req)?.body), BODY);
    assert.equal(edge.serveCached({ ...req, token: 'garbage' }), undefined, 'a bad token is never served');
    assert.equal(edge.served, 2);
    clock.advance(1000);
    assert.equal(edge.serveCached(req), undefined, 'stale at exactly max-age');
    assert.equal(edge.served, 2);
  });

  test('no max-age means no caching: every request goes to the origin', async () => {
    const { serve, fetches } = setup({ cacheControl: 'no-store' });
    await serve();
    await serve();
    assert.equal(fetches.length, 2);
  });

  test('room-state versions and blocking reloads are cached apart, and passed on to the origin', async () => {
    const { serve, fetches } = setup();
    const state = async (v?: number) => text((await serve({ file: 'state.json', v })).body);
    assert.equal(await state(1), 'state.json v=1 m=undefined p=undefined');
    assert.equal(await state(2), 'state.json v=2 m=undefined p=undefined');
    assert.equal(await state(), 'state.json v=undefined m=undefined p=undefined');
    assert.equal(await state(1), 'state.json v=1 m=undefined p=undefined');
    assert.equal(fetches.length, 3, 'one fetch per version');
    const reload = async (msn?: number, part?: number) => text((await serve({ file: 'media.m3u8', msn, part })).body);
    assert.equal(await reload(12, 3), 'media.m3u8 v=undefined m=12 p=3');
    assert.equal(await reload(12), 'media.m3u8 v=undefined m=12 p=undefined');
    assert.equal(await reload(), 'media.m3u8 v=undefined m=undefined p=undefined');
    assert.equal(fetches.length, 6);
  });

  test('the cache charges each object its bookkeeping as well as its bytes', async () => {
    // Room for the body alone is not room for the object: it is served but not kept.
    const { serve, fetches } = setup({ cacheMaxBytes: BODY.length });
    await serve();
    await serve();
    assert.equal(fetches.length, 2);
    const roomy = setup({ cacheMaxBytes: BODY.length + 300 });
    await roomy.serve();
    await roomy.serve();
    assert.equal(roomy.fetches.length, 1);
  });
});
