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
import { settle } from '../helpers/settle.ts';

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
  /** Nodes that answer "not found" this many more times (a new owner opening the Space). */
  const opening = new Map<string, number>();
  const asked: string[] = [];
  const connect = (url: string): OriginClient => ({
    get: () => {
      asked.push(url);
      if (dead.has(url)) return Promise.reject(new AmphiError('SERVICE_UNAVAILABLE'));
      const left = opening.get(url) ?? 0;
      if (left > 0) {
        opening.set(url, left - 1);
        return Promise.reject(new AmphiError('SPACE_NOT_FOUND'));
      }
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
  return { clock, origin, own, asked, dead, opening, setRedisDown: (down: boolean) => (redisDown = down) };
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

  /** media-a answered once, then died; media-b holds the lease and answers "not found" twice while it opens. */
  async function failover(advanceMs: number) {
    const r = rig();
    r.own('sp1', 'media-a');
    await r.origin.get('sp1', 'index.m3u8', {});
    r.dead.add('http://media-a');
    r.own('sp1', 'media-b', 2);
    r.opening.set('http://media-b', 2);
    r.clock.advance(advanceMs);
    const answer = r.origin.get('sp1', 'index.m3u8', {});
    for (let i = 0; i < 20; i++) {
      await settle();
      r.clock.advance(250);
    }
    return { body: ((await answer) as unknown as { body: string }).body, asked: r.asked };
  }

  test('a failover: the dead owner is left, and the new one\'s "not found" while it opens the Space is asked again', async () => {
    // Half a second in, the dead owner is still the one trusted: its failure starts the failover.
    const { body, asked } = await failover(500);
    assert.equal(body, 'http://media-b');
    assert.deepEqual(asked, ['http://media-a', 'http://media-a', 'http://media-b', 'http://media-b', 'http://media-b']);
  });

  test('a new owner read from Redis: its "not found" while it opens the Space is asked again', async () => {
    const { body, asked } = await failover(1000);
    assert.equal(body, 'http://media-b');
    assert.deepEqual(asked, ['http://media-a', 'http://media-b', 'http://media-b', 'http://media-b']);
  });

  test('a "not found" from an owner that has not changed is the answer (a Space that is not there)', async () => {
    const { origin, own, opening } = rig();
    own('sp1', 'media-a');
    opening.set('http://media-a', 1);
    await assert.rejects(
      origin.get('sp1', 'index.m3u8', {}),
      (e: unknown) => e instanceof AmphiError && e.code === 'SPACE_NOT_FOUND',
    );
  });
});
