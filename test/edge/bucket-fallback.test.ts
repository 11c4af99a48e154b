import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { BucketFallbackOrigin } from '../../src/edge/bucket-fallback.ts';
import type { OriginClient } from '../../src/edge/edge.ts';
import { AmphiError } from '../../src/errors.ts';
import type { OriginResponse } from '../../src/origin/plane.ts';
import { MemoryBucket } from '../helpers/memory-bucket.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (r: OriginResponse) => new TextDecoder().decode(r.body);

/** An origin that is up (answers `live`) or down (503, as `HttpOriginClient` says when it cannot connect). */
function origin() {
  const o = {
    up: true,
    calls: 0,
    client: {
      get: async (_spaceId: string, file: string): Promise<OriginResponse> => {
        o.calls++;
        if (!o.up) throw new AmphiError('SERVICE_UNAVAILABLE', { headers: { 'retry-after': '1' } });
        if (file === 's5.m4s') throw new AmphiError('HLS_OBJECT_NOT_FOUND');
        return Promise.resolve({
          status: 200,
          contentType: 'text/plain',
          cacheControl: 'no-store',
          body: bytes(`origin ${file}`),
        });
      },
    } satisfies OriginClient,
  };
  return o;
}

function rig() {
  const up = origin();
  const bucket = new MemoryBucket();
  bucket.objects.set('sp1/init.mp4', bytes('init'));
  bucket.objects.set('sp1/s4.m4s', bytes('segment 4'));
  const client = new BucketFallbackOrigin(up.client, bucket, pino({ level: 'silent' }));
  return { up, bucket, client };
}

test('while the origin answers, the bucket is never asked', async () => {
  const { client, bucket } = rig();
  assert.equal(text(await client.get('sp1', 's4.m4s', {})), 'origin s4.m4s');
  bucket.down = true; // would throw if asked
  assert.equal(text(await client.get('sp1', 'media.m3u8', {})), 'origin media.m3u8');
  assert.equal(client.served, 0);
});

test('origin down: written segments and init come from the bucket, immutable', async () => {
  const { client, up } = rig();
  up.up = false;
  const segment = await client.get('sp1', 's4.m4s', {});
  assert.deepEqual(
    [text(segment), segment.contentType, segment.cacheControl],
    ['segment 4', 'audio/mp4', 'public, max-age=31536000, immutable'],
  );
  assert.equal(text(await client.get('sp1', 'init.mp4', {})), 'init');
  assert.equal(client.served, 2);
});

test('origin down: a playlist comes from the bucket only once the Space ended (the final one), for the DVR view too', async () => {
  const { client, up, bucket } = rig();
  up.up = false;
  await assert.rejects(client.get('sp1', 'media.m3u8', {}), { code: 'SERVICE_UNAVAILABLE' }, 'live: no playlist in the bucket');
  bucket.objects.set('sp1/media.m3u8', bytes('#EXTM3U final'));
  for (const file of ['media.m3u8', 'dvr.m3u8']) {
    const playlist = await client.get('sp1', file, {});
    assert.deepEqual([text(playlist), playlist.contentType], ['#EXTM3U final', 'application/vnd.apple.mpegurl']);
  }
  await assert.rejects(
    client.get('sp1', 'index.m3u8', {}),
    { code: 'SERVICE_UNAVAILABLE' },
    'the multivariant playlist is not a media playlist',
  );
});

test('what only the origin knows is not guessed: parts, state, index, unknown segments stay 503; other errors pass through', async () => {
  const { client, up, bucket } = rig();
  bucket.objects.set('sp1/s5.m4s', bytes('stale'));
  await assert.rejects(client.get('sp1', 's5.m4s', {}), { code: 'HLS_OBJECT_NOT_FOUND' }, 'an origin answer is final');
  up.up = false;
  bucket.objects.set('sp1/p4.0.m4s', bytes('a part?'));
  bucket.objects.set('sp1/state.json', bytes('{}'));
  for (const file of ['p4.0.m4s', 'state.json', 'index.m3u8', 's9.m4s', '../sp2/s4.m4s']) {
    await assert.rejects(client.get('sp1', file, {}), { code: 'SERVICE_UNAVAILABLE' }, file);
  }
  bucket.down = true;
  await assert.rejects(client.get('sp1', 's4.m4s', {}), { code: 'SERVICE_UNAVAILABLE' }, 'both down: the origin error');
  assert.equal(client.served, 0);
});
