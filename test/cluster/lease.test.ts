import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { parseOwner, SpaceLeases } from '../../src/cluster/lease.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { redisSuite } from '../helpers/redis.ts';

const TEST = { timeout: 60_000 };

/** Media nodes' leases on Spaces, on a real redis-server (Redis's clock expires them). */
redisSuite('SpaceLeases on a real redis-server', (suite) => {
  const node = (nodeId: string, lost: [string, number][] = [], ttlMs = 400) =>
    new SpaceLeases({
      redis: suite.redis.client(),
      nodeId,
      clock: new ManualClock(),
      log: pino({ level: 'silent' }),
      ttlMs,
      renewMs: ttlMs / 4,
      onLost: (spaceId, fence) => lost.push([spaceId, fence]),
    });

  test('one owner at a time; the owner is readable by every node', TEST, async () => {
    const a = node('media-a');
    const b = node('media-b');
    assert.equal(await a.acquire('sp1'), 1);
    assert.equal(await b.acquire('sp1'), undefined, 'held: nobody else takes it');
    assert.equal(await a.acquire('sp1'), undefined, 'not twice by its owner either');
    assert.deepEqual(await b.owner('sp1'), { nodeId: 'media-a', fence: 1 });
    assert.deepEqual([...a.held()], [['sp1', 1]]);
    assert.deepEqual([...b.held()], []);
    assert.equal(await b.owner('nobody'), undefined);
    assert.deepEqual(
      await b.owners(['nobody', 'sp1']),
      [undefined, { nodeId: 'media-a', fence: 1 }],
      'several at once, in order',
    );
  });

  test(
    'renewed, a lease outlives its TTL; unrenewed it expires, the next owner gets a larger fence, and the old one learns it lost',
    TEST,
    async () => {
      const lostByA: [string, number][] = [];
      const a = node('media-a', lostByA);
      const b = node('media-b');
      const fenceA = (await a.acquire('sp2'))!;
      for (let i = 0; i < 4; i++) {
        await suite.redis.elapse(150);
        await a.renew();
      }
      assert.equal(await b.acquire('sp2'), undefined, '600 ms later, renewed every 150 ms: still held');
      await suite.redis.elapse(450);
      const fenceB = await b.acquire('sp2');
      assert.equal(fenceB, fenceA + 1, 'the take-over has the next fencing number');
      await a.renew();
      assert.deepEqual(lostByA, [['sp2', fenceA]], 'the deposed owner is told, once');
      assert.equal(a.held().size, 0);
      await a.renew();
      assert.equal(lostByA.length, 1);
      assert.deepEqual(await a.owner('sp2'), { nodeId: 'media-b', fence: fenceB });
    },
  );

  test(
    'a renewal never revives a lease another node now holds, even one with the same node id but an older fence',
    TEST,
    async () => {
      const lost: [string, number][] = [];
      const old = node('media-a', lost);
      const fence = (await old.acquire('sp3'))!;
      await suite.redis.elapse(450);
      const restarted = node('media-a'); // the same host after a restart
      assert.equal(await restarted.acquire('sp3'), fence + 1);
      await old.renew();
      assert.deepEqual(lost, [['sp3', fence]]);
      assert.deepEqual(await restarted.owner('sp3'), { nodeId: 'media-a', fence: fence + 1 });
    },
  );

  test('an owner cut off from Redis gives the lease up by itself once a whole TTL passed unconfirmed', TEST, async () => {
    const lost: [string, number][] = [];
    const clock = new ManualClock();
    const redis = suite.redis.client();
    const owner = new SpaceLeases({
      redis,
      nodeId: 'media-a',
      clock,
      log: pino({ level: 'silent' }),
      ttlMs: 400,
      renewMs: 100,
      onLost: (spaceId, fence) => lost.push([spaceId, fence]),
    });
    const fence = (await owner.acquire('sp7'))!;
    clock.advance(100);
    await owner.renew(); // confirmed: the TTL counts from here
    redis.disconnect(); // the partition
    clock.advance(200);
    await assert.rejects(owner.renew());
    clock.advance(199);
    await assert.rejects(owner.renew());
    assert.deepEqual(lost, [], '399 ms unconfirmed: still held (retried)');
    clock.advance(1);
    await assert.rejects(owner.renew());
    assert.deepEqual(lost, [['sp7', fence]], '400 ms: given up, once');
    assert.equal(owner.held().size, 0);
  });

  test(
    'a lease that expired while nobody took it (a Redis failover outlasting it) is taken again at once, not lost',
    TEST,
    async () => {
      const lost: [string, number][] = [];
      const retaken: [string, number][] = [];
      const owner = new SpaceLeases({
        redis: suite.redis.client(),
        nodeId: 'media-a',
        clock: new ManualClock(),
        log: pino({ level: 'silent' }),
        ttlMs: 400,
        renewMs: 100,
        onLost: (spaceId, fence) => lost.push([spaceId, fence]),
        onRetaken: (spaceId, fence) => retaken.push([spaceId, fence]),
      });
      const fence = (await owner.acquire('sp8'))!;
      await suite.redis.elapse(450);
      await owner.renew();
      assert.deepEqual(lost, []);
      assert.deepEqual(retaken, [['sp8', fence + 1]], 'a new fence: the writes from here on are told apart');
      assert.deepEqual([...owner.held()], [['sp8', fence + 1]]);
      assert.deepEqual(await owner.owner('sp8'), { nodeId: 'media-a', fence: fence + 1 });
    },
  );

  test('release frees the lease for another node at once, but only the holder can release it', TEST, async () => {
    const a = node('media-a');
    const b = node('media-b');
    const fenceA = (await a.acquire('sp4'))!;
    await b.release('sp4'); // not b's: nothing happens
    assert.deepEqual(await a.owner('sp4'), { nodeId: 'media-a', fence: fenceA });
    await a.release('sp4');
    assert.equal(await a.owner('sp4'), undefined);
    assert.equal(await b.acquire('sp4'), fenceA + 1);
    await a.release('sp4'); // a no longer holds it: b keeps it
    assert.deepEqual(await b.owner('sp4'), { nodeId: 'media-b', fence: fenceA + 1 });
  });

  test('renewal survives a Redis that forgot its scripts (a restart, a failover to a replica)', TEST, async () => {
    const lost: [string, number][] = [];
    const a = node('media-a', lost);
    await a.acquire('sp5');
    await a.acquire('sp6');
    await suite.redis.client().script('FLUSH');
    await suite.redis.elapse(250);
    await a.renew();
    await suite.redis.elapse(250);
    assert.deepEqual(lost, []);
    assert.equal((await a.owner('sp5'))?.nodeId, 'media-a', 'renewed 250 ms in: alive at 500 ms with a 400 ms TTL');
    assert.equal((await a.owner('sp6'))?.nodeId, 'media-a');
  });

  test('renewMs must leave room for a missed renewal', () => {
    assert.throws(
      () =>
        new SpaceLeases({
          redis: suite.redis.client(),
          nodeId: 'x',
          clock: new ManualClock(),
          log: pino({ level: 'silent' }),
          ttlMs: 1000,
          renewMs: 501,
          onLost: () => {},
        }),
      /renewMs must be at most half of ttlMs/,
    );
  });
});

test('parseOwner reads `<nodeId> <fence>`, node ids with spaces included, and refuses anything else', () => {
  assert.deepEqual(parseOwner('media-a 7'), { nodeId: 'media-a', fence: 7 });
  assert.deepEqual(parseOwner('host name-1 12'), { nodeId: 'host name-1', fence: 12 });
  assert.equal(parseOwner('media-a'), undefined);
  assert.equal(parseOwner(' 3'), undefined);
  assert.equal(parseOwner('media-a x'), undefined);
});
