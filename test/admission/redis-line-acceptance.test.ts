import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RedisLineStore } from '../../src/admission/redis-line-store.ts';
import { WaitingRoom, WaitingRooms } from '../../src/admission/tickets.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { redisSuite } from '../helpers/redis.ts';
import { freshSpace, rules } from './line-store-behaviour.ts';
import { policy, signer } from './rooms.ts';

/**
 * Cluster mode's waiting room, as the issue states it: one FIFO per Space across every control node,
 * on a real redis-server. Each "node" is its own connection (and, in one test, its own process).
 */
/** Long enough a TTL that no number expires while 40,000 redemptions run on a busy machine. */
const roomPolicy = { ...policy, ticketTtlMs: 300_000 };
const TEST = { timeout: 120_000 };

/** The numbers 1..n. */
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

redisSuite('the waiting room across control nodes (Redis)', (suite) => {
  const { cleanup } = suite;

  /** A waiting room on its own connection, as a control node would hold it; the line stands (rate 0) unless released. */
  const node = (spaceId: string) =>
    new WaitingRoom({
      spaceId,
      clock: systemClock,
      signer,
      store: new RedisLineStore(suite.redis.client()),
      policy: roomPolicy,
      releasePerSecond: () => 0,
    });

  test(
    '4 nodes issue 10,000 numbers at once: no repeat, no gap; now-serving reads the same everywhere; 40,000 redemptions admit each number once',
    TEST,
    async () => {
      const sp = freshSpace();
      const nodes = [node(sp), node(sp), node(sp), node(sp)];
      const tickets = await Promise.all(upTo(10_000).map((i) => nodes[i % 4]!.issue(`an_${i}`)));
      assert.deepEqual(
        tickets.map((t) => t.number).sort((x, y) => x - y),
        upTo(10_000),
        'every number once, none skipped',
      );

      await nodes[2]!.release(4321);
      const seen = await Promise.all(nodes.map((n) => n.status()));
      assert.deepEqual(
        seen,
        Array(4).fill({ nowServing: 4321, lastIssued: 10_000, perSecond: 0 }),
        'one line, read on every node',
      );

      await nodes[3]!.release(10_000);
      const attempts = await Promise.all(nodes.flatMap((n) => tickets.map((t, i) => n.exchange(t.ticket, `an_${i + 1}`))));
      assert.equal(attempts.length, 40_000);
      const admitted = new Map<number, number>();
      for (const a of attempts) if (a.ok) admitted.set(a.number, (admitted.get(a.number) ?? 0) + 1);
      assert.deepEqual(
        [...admitted.keys()].sort((x, y) => x - y),
        upTo(10_000),
        'every number admitted',
      );
      assert.ok(
        [...admitted.values()].every((c) => c === 1),
        'and each exactly once',
      );
      assert.equal(attempts.filter((a) => !a.ok && a.reason === 'reused').length, 30_000, 'the rest refused as reused');
    },
  );

  test('a ticket from a room that was deleted and made again is refused on every node', TEST, async () => {
    const sp = freshSpace();
    const onError = (error: unknown) => assert.fail(String(error));
    const cluster = () =>
      new WaitingRooms({
        clock: systemClock,
        signer,
        store: new RedisLineStore(suite.redis.client()),
        policy: roomPolicy,
        releasePerSecond: () => 0,
        onError,
      });
    const [a, b] = [cluster(), cluster()];
    const old = await a.room(sp).issue('an_old');
    b.delete(sp); // the Space ended (its bus event reaches every node); B's later steps run after the DEL
    const fresh = await b.room(sp).issue('an_new');
    assert.equal(fresh.number, 1, 'the new room counts from 1 again');
    await b.room(sp).release(1);
    for (const rooms of [a, b]) {
      assert.deepEqual(await rooms.room(sp).exchange(old.ticket, 'an_old'), { ok: false, reason: 'expired' });
    }
    assert.deepEqual(await a.room(sp).exchange(fresh.ticket, 'an_new'), { ok: true, number: 1 });
  });

  test('4 node processes issue 10,000 numbers, then each tries all 10,000: one success per number', TEST, async () => {
    const sp = freshSpace();
    const worker = fileURLToPath(new URL('./line-worker.ts', import.meta.url));
    const run = (...args: string[]) =>
      new Promise<unknown>((resolve, reject) => {
        const child = cleanup.child('line worker', spawn(process.execPath, [worker, String(suite.redis.port), sp, ...args]));
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.once('exit', (code) =>
          code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}: ${err}`)),
        );
      });
    const issued = (await Promise.all([1, 2, 3, 4].map(() => run('issue', '2500')))) as {
      issued: { number: number; epoch: string }[];
    }[];
    const all = issued.flatMap((r) => r.issued);
    assert.deepEqual(
      all.map((t) => t.number).sort((x, y) => x - y),
      upTo(10_000),
    );
    const epochs = new Set(all.map((t) => t.epoch));
    assert.equal(epochs.size, 1, 'one room, made by whichever process came first');
    await new RedisLineStore(suite.redis.client()).release(sp, 10_000, rules(0));
    const redeemed = (await Promise.all([1, 2, 3, 4].map(() => run('redeem', [...epochs][0]!, '10000')))) as { ok: number[] }[];
    const wins = redeemed.flatMap((r) => r.ok).sort((x, y) => x - y);
    assert.deepEqual(wins, upTo(10_000), 'exactly one success per number across the processes');
  });
});
