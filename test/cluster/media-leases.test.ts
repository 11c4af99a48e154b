import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { leaseOwner } from '../../src/cluster/lease.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import type { ClusterLink } from '../../src/roles/cluster.ts';
import { mediaLeases } from '../../src/roles/media-leases.ts';
import type { BucketMediaStorage } from '../../src/origin/bucket-storage.ts';
import type { OriginPlane } from '../../src/origin/plane.ts';
import type { StagePlane } from '../../src/stage/plane.ts';
import type { ControlBus } from '../../src/control/events.ts';
import type { Store } from '../../src/storage/store.ts';
import { eventually } from '../helpers/eventually.ts';
import { redisSuite } from '../helpers/redis.ts';

const TEST = { timeout: 30_000 };

/**
 * A media node's sweep on a real redis-server: which Spaces it takes over, and which leases it gives
 * up. The store and the stage are stand-ins that say which Spaces are live and who is on stage here.
 */
redisSuite('media leases: the sweep', (suite) => {
  function mediaNode(nodeId: string, bucket?: BucketMediaStorage, redis = suite.redis.client()) {
    const clock = new ManualClock();
    const live: string[] = [];
    const speakers = new Map<string, number>();
    const opened: string[] = [];
    const store = {
      listSpaces: ({ state }: { state: string }) => Promise.resolve(state === 'live' ? live.map((id) => ({ id })) : []),
    } as unknown as Store;
    const stage = {
      room: (id: string) => (opened.includes(id) ? {} : undefined),
      sessionsOf: (id: string) => speakers.get(id) ?? 0,
      openRoom: (id: string) => opened.push(id),
      dropRoom: () => {},
    } as unknown as StagePlane;
    const media = mediaLeases({
      cluster: { redis, nodeId } as unknown as ClusterLink,
      store,
      clock,
      log: pino({ level: 'silent' }),
      bus: { on: () => () => {} } as unknown as ControlBus,
      ttlMs: 30_000,
      planes: () => ({ stage, origin: { abandon: () => {} } as unknown as OriginPlane, bucket }),
    });
    return { media, live, speakers, opened, clock };
  }
  const owner = async (spaceId: string) => (await leaseOwner(suite.redis.client(), spaceId))?.nodeId;

  test('a live Space nobody holds is taken over and its room opened; one another node holds is left alone', TEST, async () => {
    const a = mediaNode('media-a');
    const b = mediaNode('media-b');
    assert.equal(await b.media.owns('held-by-b'), true);
    a.live.push('orphan', 'held-by-b');
    await a.media.sweep();
    assert.equal(await owner('orphan'), 'media-a');
    assert.deepEqual(a.opened, ['orphan']);
    assert.equal(await owner('held-by-b'), 'media-b');
  });

  test('a lease taken for a Space not started is given up two sweeps after its last speaker left', TEST, async () => {
    const a = mediaNode('media-a');
    a.speakers.set('early', 1);
    assert.equal(await a.media.owns('early'), true, 'a speaker came before the start');
    await a.media.sweep();
    await a.media.sweep();
    assert.equal(await owner('early'), 'media-a', 'kept while the speaker waits');
    a.speakers.set('early', 0);
    await a.media.sweep();
    assert.equal(await owner('early'), 'media-a', 'kept at the first sweep without a speaker (one may be connecting)');
    await a.media.sweep();
    assert.equal(await owner('early'), undefined, 'given up at the second');
    assert.equal(a.media.leases.held().has('early'), false);
  });

  test('a speaker back between two sweeps keeps the lease; a live Space keeps it without any speaker', TEST, async () => {
    const a = mediaNode('media-a');
    assert.equal(await a.media.owns('back'), true);
    assert.equal(await a.media.owns('on-air'), true);
    a.live.push('on-air');
    const fence = a.media.leases.held().get('on-air');
    await a.media.sweep(); // 'back' idle once
    a.speakers.set('back', 1);
    await a.media.sweep();
    a.speakers.set('back', 0);
    await a.media.sweep(); // idle once again: the count starts over
    assert.equal(await owner('back'), 'media-a');
    for (let i = 0; i < 3; i++) await a.media.sweep();
    assert.equal(await owner('on-air'), 'media-a');
    assert.equal(a.media.leases.held().get('on-air'), fence, 'never given up and taken again');
  });

  test(
    'a take-over whose manifest cannot be brought from the bucket gives the lease back, and the next one resumes',
    TEST,
    async () => {
      const hydrated: string[] = [];
      let bucketDown = true;
      const bucket = {
        hydrate: (id: string) =>
          bucketDown ? Promise.reject(new Error('radosgw timed out')) : Promise.resolve(void hydrated.push(id)).then(() => true),
        fence: () => {},
      } as unknown as BucketMediaStorage;
      const a = mediaNode('media-a', bucket);
      a.live.push('resumed');
      await a.media.sweep();
      assert.equal(await owner('resumed'), undefined, 'not held without its manifest');
      assert.deepEqual(a.opened, []);
      bucketDown = false;
      await a.media.sweep();
      assert.equal(await owner('resumed'), 'media-a');
      assert.deepEqual(hydrated, ['resumed'], 'the manifest came first');
      assert.deepEqual(a.opened, ['resumed']);
    },
  );

  test('a second caller during a take-over waits for the manifest too, and opens nothing before it is here', TEST, async () => {
    let hydrated = false;
    let bringManifest = () => {};
    const bucket = {
      hydrate: () =>
        new Promise<boolean>((resolve) => {
          bringManifest = () => {
            hydrated = true;
            resolve(true);
          };
        }),
      fence: () => {},
    } as unknown as BucketMediaStorage;
    const a = mediaNode('media-a', bucket);
    // Two speakers reconnect to the new owner at once: each publish asks whether this node owns the
    // Space. The second asks once the lease is taken, while the manifest is still on its way.
    const first = a.media.owns('moved');
    await eventually('the lease taken', () => a.media.leases.held().has('moved'));
    assert.equal(await owner('moved'), 'media-a');
    const answers: string[] = [];
    const second = a.media.owns('moved').then((owned) => void answers.push(`second ${owned} hydrated=${hydrated}`));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(answers, [], 'no answer while the manifest is on its way');
    bringManifest();
    assert.equal(await first, true);
    await second;
    assert.deepEqual(answers, ['second true hydrated=true']);
    assert.equal(await a.media.owns('moved'), true, 'held and hydrated: answered at once');
  });

  test(
    'after its Redis connection was lost, a node takes nothing over for one lease TTL (the owner retakes first)',
    TEST,
    async () => {
      const redis = suite.redis.client();
      const a = mediaNode('media-a', undefined, redis);
      a.live.push('expired-in-failover');
      await a.media.start(); // a lease sweep now; nothing else until the clock moves
      assert.equal(await owner('expired-in-failover'), 'media-a', 'taken over at once on a steady connection');
      await a.media.leases.release('expired-in-failover');
      const back = new Promise((resolve) => redis.once('ready', resolve));
      redis.disconnect(true); // lost, then connected again: what a failover looks like from here
      await back;
      await a.media.sweep();
      assert.equal(await owner('expired-in-failover'), undefined, 'not taken just after Redis came back');
      a.clock.advance(29_999);
      await a.media.sweep();
      assert.equal(await owner('expired-in-failover'), undefined, 'nor within the TTL');
      a.clock.advance(1);
      await a.media.sweep();
      assert.equal(await owner('expired-in-failover'), 'media-a', 'taken over once the TTL passed');
      await a.media.stop();
    },
  );
});
