import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import type { Fleet } from '../../src/cluster/fleet.ts';
import type { OriginClient } from '../../src/edge/edge.ts';
import { AmphiError } from '../../src/errors.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';
import type { OriginResponse } from '../../src/origin/plane.ts';
import { OwnerOrigin } from '../../src/roles/owner-origin.ts';

/**
 * An edge's origin in a cluster, on the test clock: a Redis stand-in that holds lease values (and can
 * be made unreachable), a fleet that names each node's URL, and media nodes that answer with their URL.
 */
function rig() {
  const clock = new ManualClock(1_000_000);
  const leases = new Map<string, string>();
  let redisDown = false;
  const redis = {
    get: (key: string) =>
      redisDown ? Promise.reject(new Error('Connection is closed.')) : Promise.resolve(leases.get(key) ?? null),
  } as unknown as Redis;
  const fleet = { node: (id: string) => ({ url: `http://${id}` }) } as unknown as Fleet;
  const dead = new Set<string>();
  const asked: string[] = [];
  const connect = (url: string): OriginClient => ({
    get: () => {
      asked.push(url);
      if (dead.has(url)) return Promise.reject(new AmphiError('SERVICE_UNAVAILABLE'));
      return Promise.resolve({ status: 200, body: url } as unknown as OriginResponse);
    },
  });
  const origin = new OwnerOrigin(
    { redis, fleet },
    'http://fallback',
    new TokenSigner([{ id: 'k', secret: 'an-owner-origin-test-key-long-enough' }]),
    clock,
    pino({ level: 'silent' }),
    connect,
  );
  const own = (spaceId: string, nodeId: string, fence = 1) => leases.set(`amphi:media:owner:{${spaceId}}`, `${nodeId} ${fence}`);
  return { clock, origin, own, asked, dead, setRedisDown: (down: boolean) => (redisDown = down) };
}

describe('OwnerOrigin: each Space asked of the media node holding its lease', () => {
  test('the holder is asked; a Space nobody ever held goes to the configured origin', async () => {
    const { origin, own, asked } = rig();
    own('sp1', 'media-a');
    await origin.get('sp1', 'media.m3u8', {});
    await origin.get('sp2', 'media.m3u8', {});
    assert.deepEqual(asked, ['http://media-a', 'http://fallback']);
  });

  test('Redis away: a Space keeps going to the owner last read for it (not the configured origin)', async () => {
    const { origin, own, asked, clock, setRedisDown } = rig();
    own('sp1', 'media-b');
    await origin.get('sp1', 'media.m3u8', {});
    setRedisDown(true);
    clock.advance(1500); // past the second the owner is trusted without asking
    await origin.get('sp1', 'media.m3u8', {});
    clock.advance(1500);
    await origin.get('sp1', 'media.m3u8', {});
    assert.deepEqual(asked, ['http://media-b', 'http://media-b', 'http://media-b']);
    await origin.get('never-read', 'media.m3u8', {});
    assert.equal(asked.at(-1), 'http://fallback', 'a Space never read: the configured origin is all there is');
  });

  test('the owner read is trusted for a second; a new owner is followed after it', async () => {
    const { origin, own, asked, clock } = rig();
    own('sp1', 'media-a');
    await origin.get('sp1', 'p.m4s', {});
    own('sp1', 'media-b', 2);
    clock.advance(999);
    await origin.get('sp1', 'p.m4s', {});
    clock.advance(1);
    await origin.get('sp1', 'p.m4s', {});
    assert.deepEqual(asked, ['http://media-a', 'http://media-a', 'http://media-b']);
  });
});
