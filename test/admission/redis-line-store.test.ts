import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import { Admission, type JoinAttempt } from '../../src/admission/plane.ts';
import { RedisLineStore } from '../../src/admission/redis-line-store.ts';
import { defaultConfig } from '../../src/config/defaults.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { redisSuite } from '../helpers/redis.ts';
import { freshSpace, lineStoreBehaviour, rules, take } from './line-store-behaviour.ts';
import { signer } from './rooms.ts';

const TEST = { timeout: 60_000 };

/** Calls per command since the last `CONFIG RESETSTAT`, scripts' inner commands included (INFO commandstats). */
async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_(\S+?):calls=(\d+)/gm)) calls.set(m[1]!, Number(m[2]));
  return calls;
}

/** Round trips (scripts and commands the client sent) and commands Redis ran, during `fn`. */
async function cost(redis: Redis, fn: () => Promise<unknown>): Promise<{ roundTrips: number; commands: number }> {
  await redis.config('RESETSTAT');
  await fn();
  const calls = await commandCalls(redis);
  calls.delete('info'); // the reading itself
  calls.delete('config|resetstat');
  const roundTrips = (calls.get('evalsha') ?? 0) + (calls.get('eval') ?? 0); // the door sends nothing but scripts
  let commands = 0;
  for (const [name, n] of calls) if (name !== 'evalsha' && name !== 'eval') commands += n;
  return { roundTrips, commands };
}

redisSuite('RedisLineStore on a real redis-server', (suite) => {
  describe('the behaviour every line store shares', () => {
    lineStoreBehaviour(() => ({ node: () => new RedisLineStore(suite.redis.client()), elapse: (ms) => suite.redis.elapse(ms) }));
  });

  test('a Space’s keys share its hash tag, expire keepMs after its last step, and go with delete', TEST, async () => {
    const client = suite.redis.client();
    const store = new RedisLineStore(client);
    const sp = freshSpace();
    const { epoch } = await take(store, sp);
    await store.release(sp, 1, rules(0));
    assert.deepEqual(await store.redeem(sp, 1, epoch, rules(0, { keepMs: 60_000 })), { kind: 'ok' });
    const keys = (await client.keys(`amphi:line:{${sp}}*`)).sort();
    assert.deepEqual(keys, [`amphi:line:{${sp}}`, `amphi:line:{${sp}}:cp`, `amphi:line:{${sp}}:used`]);
    for (const key of keys) {
      const ttl = await client.pttl(key);
      assert.ok(ttl > 50_000 && ttl <= 60_000, `${key} expires in ${ttl} ms`);
    }
    await store.delete(sp);
    assert.equal(await client.exists(...keys), 0, 'delete leaves nothing');

    const idle = freshSpace();
    await store.issue(idle, rules(0, { keepMs: 20 }), { epoch: 'e1', onlyIfWaiting: false });
    await suite.redis.elapse(40);
    assert.equal(await client.exists(`amphi:line:{${idle}}`, `amphi:line:{${idle}}:cp`), 0, 'an idle line leaks nothing');
    assert.deepEqual(await store.status(idle, rules(3)), { served: 0, lastIssued: 0, perSecond: 3 });
  });

  test('a Redis restart (script cache gone) costs one EVAL, not an error', TEST, async () => {
    const client = suite.redis.client();
    const store = new RedisLineStore(client);
    const sp = freshSpace();
    await take(store, sp);
    await client.script('FLUSH');
    assert.equal((await take(store, sp)).number, 2);
  });

  test('cost: round trips and Redis commands per join; issues per second on one connection', TEST, async (t) => {
    const client = suite.redis.client();
    const store = new RedisLineStore(client);
    const sp = freshSpace();
    await take(store, sp);
    await store.redeem(sp, 1, 'e1', rules(0)); // both scripts are loaded (a first EVALSHA on a new Redis takes an EVAL too)
    const issue = await cost(client, async () => {
      for (let i = 0; i < 100; i++) await take(store, sp);
    });
    await store.release(sp, 101, rules(0));
    const redeem = await cost(client, async () => {
      for (let n = 1; n <= 100; n++) await store.redeem(sp, n, 'e1', rules(0));
    });
    t.diagnostic(`issue: ${issue.roundTrips / 100} round trip, ${issue.commands / 100} commands in Redis`);
    t.diagnostic(`redeem: ${redeem.roundTrips / 100} round trip, ${redeem.commands / 100} commands in Redis`);
    assert.equal(issue.roundTrips, 100);
    assert.equal(redeem.roundTrips, 100);
    assert.ok(issue.commands <= 100 * 12 && redeem.commands <= 100 * 14, `${issue.commands} and ${redeem.commands} commands`);

    // A measurement, not a timed test: nothing here depends on how fast this machine is.
    const many = freshSpace();
    await client.config('RESETSTAT');
    const started = performance.now();
    await Promise.all(Array.from({ length: 10_000 }, () => store.issue(many, rules(0), { epoch: 'e1', onlyIfWaiting: false })));
    const seconds = (performance.now() - started) / 1000;
    const inRedis = /cmdstat_evalsha:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/.exec(await client.info('commandstats'))?.[1];
    t.diagnostic(`10,000 issues pipelined on one connection: ${seconds.toFixed(2)} s, ${Math.round(10_000 / seconds)}/s`);
    t.diagnostic(`the issue script in Redis: ${inRedis} µs a call`);
  });

  test('a join costs one round trip at the door: admitted, queued, or redeemed; two when a line starts', TEST, async () => {
    const client = suite.redis.client();
    const clock = new ManualClock(0);
    const admission = new Admission({
      // One join at once, then one per 1000 s: the line stands still while the test looks (Redis's clock runs).
      config: { ...defaultConfig.admission, joinBurst: 1, joinsPerSecond: 0.001 },
      clock,
      signer,
      log: pino({ level: 'silent' }),
      listeners: () => 0,
      line: new RedisLineStore(client),
    });
    const sp = freshSpace();
    const attempt = (subject: string, ticket?: string): JoinAttempt => ({
      spaceId: sp,
      subject: () => subject,
      signedIn: true,
      address: '192.0.2.1',
      ticket,
    });
    const admitted = await cost(client, () => admission.decide(attempt('ac_1')));
    let ticket = '';
    const starts = await cost(client, async () => {
      const first = await admission.decide(attempt('ac_2'));
      assert.ok(first.kind === 'wait');
      ticket = first.ticket.ticket;
    });
    const queued = await cost(client, () => admission.decide(attempt('ac_3')));
    await new RedisLineStore(client).release(sp, 1, rules(0));
    let exchanged: unknown;
    const redeemed = await cost(client, async () => (exchanged = await admission.decide(attempt('ac_2', ticket))));
    assert.equal((exchanged as { kind: string }).kind, 'admit');
    assert.equal(typeof (exchanged as { waitedMs?: unknown }).waitedMs, 'number', 'how long it waited, for the analytics');
    assert.deepEqual(
      [admitted.roundTrips, starts.roundTrips, queued.roundTrips, redeemed.roundTrips],
      [1, 2, 1, 1],
      'round trips: admitted, line starts, queued, redeemed',
    );
    admission.close();
  });
});

redisSuite(
  'RedisLineStore on a Redis Cluster (one node, every slot)',
  (suite) => {
    test('every script runs on a cluster: a Space’s keys are in one slot (no CROSSSLOT)', TEST, async () => {
      const store = new RedisLineStore(suite.redis.clusterClient());
      const sp = freshSpace();
      const { epoch } = await take(store, sp);
      await store.release(sp, 1, rules(0));
      assert.deepEqual(await store.redeem(sp, 1, epoch, rules(0)), { kind: 'ok' });
      assert.equal((await store.status(sp, rules(0))).lastIssued, 1);
      await store.delete(sp);
      assert.equal((await take(store, sp)).number, 1);
      const admin = suite.redis.client();
      const slots = await Promise.all(
        ['', ':cp', ':used'].map((s) => admin.call('CLUSTER', 'KEYSLOT', `amphi:line:{${sp}}${s}`)),
      );
      assert.equal(new Set(slots).size, 1, `slots ${slots.join(', ')}`);
    });
  },
  { cluster: true, timeoutMs: 120_000 },
);
