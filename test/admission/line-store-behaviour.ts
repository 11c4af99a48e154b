import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { LineRules, LineStore } from '../../src/admission/line-store.ts';

/** What the shared suite needs from a store implementation. */
export interface LineStoreHarness {
  /** A handle on the store: for Redis each call is a new connection (another control node); memory has one. */
  readonly node: () => LineStore;
  /** Lets `ms` pass on the clock the store reads (a manual clock, or Redis's own, waited for). */
  readonly elapse: (ms: number) => Promise<void>;
}

/** Rules with a 60 s TTL and a 10 s half-life; `perSecond` is the line's admission rate. */
export function rules(perSecond: number, overrides: Partial<LineRules> = {}): LineRules {
  return { perSecond, ticketTtlMs: 60_000, etaHalfLifeMs: 10_000, keepMs: 600_000, ...overrides };
}

/** A Space id no other test uses (the Redis suites share one server). */
export function freshSpace(): string {
  return `sp_${randomBytes(6).toString('hex')}`;
}

/** Takes a number (the room made with `epoch` if new) and returns it: one must be issued. */
export async function take(
  store: LineStore,
  spaceId: string,
  perSecond = 0,
  epoch = 'e1',
): Promise<{ number: number; epoch: string }> {
  const r = await store.issue(spaceId, rules(perSecond), { epoch, onlyIfWaiting: false });
  assert.ok(r.issued !== undefined, 'a number was issued');
  return r.issued;
}

/**
 * The behaviour every `LineStore` shares, registered inside the caller's `describe`. `harness` is
 * read when each test runs (a Redis suite makes its server in `before`).
 */
export function lineStoreBehaviour(harness: () => LineStoreHarness): void {
  test('numbers are dense and per Space; a deleted room starts again at 1 under a new epoch', async () => {
    const store = harness().node();
    const [a, b] = [freshSpace(), freshSpace()];
    const first = await take(store, a, 0, 'epoch_1');
    assert.deepEqual(first, { number: 1, epoch: 'epoch_1' });
    assert.deepEqual([(await take(store, a, 0, 'other')).number, (await take(store, a)).number], [2, 3]);
    assert.equal((await take(store, a)).epoch, 'epoch_1', 'the epoch is the room’s, chosen once');
    assert.equal((await take(store, b)).number, 1, 'each Space has its own line');
    await store.delete(a);
    assert.deepEqual(await take(store, a, 0, 'epoch_2'), { number: 1, epoch: 'epoch_2' });
    assert.deepEqual(await store.redeem(a, 1, 'epoch_1', rules(1e9)), { kind: 'gone' }, 'the old room’s tickets are refused');
  });

  test('only-if-waiting takes no number and makes no room while nobody waits', async () => {
    const store = harness().node();
    const sp = freshSpace();
    const none = await store.issue(sp, rules(5), { epoch: 'e1', onlyIfWaiting: true });
    assert.deepEqual(none, { issued: undefined, line: { served: 0, lastIssued: 0, perSecond: 5 } });
    assert.deepEqual(await store.status(sp, rules(5)), { served: 0, lastIssued: 0, perSecond: 5 });
    await take(store, sp);
    const behind = await store.issue(sp, rules(0), { epoch: 'e2', onlyIfWaiting: true });
    assert.deepEqual(behind.issued, { number: 2, epoch: 'e1' }, 'someone waits: the newcomer queues');
    await store.release(sp, 2, rules(0));
    const drained = await store.issue(sp, rules(0), { epoch: 'e1', onlyIfWaiting: true });
    assert.equal(drained.issued, undefined, 'the line drained');
    assert.equal(drained.line.lastIssued, 2);
  });

  test('a stopped line (rate 0) stays put; release jumps it, never past the last number', async () => {
    const store = harness().node();
    const sp = freshSpace();
    for (let i = 0; i < 10; i++) await take(store, sp);
    await harness().elapse(5);
    assert.equal((await store.status(sp, rules(0))).served, 0);
    assert.equal((await store.release(sp, 3, rules(0))).served, 3);
    assert.equal((await store.release(sp, 2.7, rules(0))).served, 5, 'whole numbers only');
    assert.equal((await store.release(sp, 100, rules(0))).served, 10, 'never past the last number issued');
    assert.deepEqual(
      await store.release(freshSpace(), 5, rules(0)),
      { served: 0, lastIssued: 0, perSecond: 0 },
      'no room, no jump',
    );
  });

  test('now-serving moves at the rate each step passes in, up to the last number', async () => {
    const store = harness().node();
    const sp = freshSpace();
    for (let i = 0; i < 5; i++) await take(store, sp);
    await harness().elapse(2);
    const line = await store.status(sp, rules(1e9)); // 1e6 numbers per millisecond: all of them at once
    assert.deepEqual([line.served, line.lastIssued], [5, 5]);
    assert.equal((await take(store, sp)).number, 6);
    assert.equal((await store.status(sp, rules(0))).served, 5, 'at rate 0 the newcomer waits');
  });

  test('a number is redeemed once, only after it came up, only in its own room', async () => {
    const h = harness();
    const [one, other] = [h.node(), h.node()];
    const sp = freshSpace();
    const { epoch } = await take(one, sp);
    await take(one, sp);
    const early = await other.redeem(sp, 1, epoch, rules(0));
    assert.deepEqual(early, { kind: 'not_yet', line: { served: 0, lastIssued: 2, perSecond: 0 } });
    await other.release(sp, 1, rules(0));
    assert.deepEqual(await other.redeem(sp, 1, epoch, rules(0)), { kind: 'ok' });
    assert.deepEqual(await one.redeem(sp, 1, epoch, rules(0)), { kind: 'reused' }, 'on any node');
    assert.deepEqual(await one.redeem(sp, 1, 'forged_epoch', rules(0)), { kind: 'gone' });
    assert.equal((await one.redeem(sp, 2, epoch, rules(0))).kind, 'not_yet');
    assert.deepEqual(await one.redeem(freshSpace(), 1, epoch, rules(0)), { kind: 'gone' }, 'no such room');
  });

  test('a number expires the TTL after it came up, and only then', async () => {
    const h = harness();
    const store = h.node();
    const sp = freshSpace();
    const { epoch } = await take(store, sp);
    await take(store, sp);
    await store.release(sp, 2, rules(0));
    await h.elapse(5);
    assert.deepEqual(await store.redeem(sp, 1, epoch, rules(0)), { kind: 'ok' }, 'came up 5 ms ago, TTL 60 s');
    assert.deepEqual(
      await store.redeem(sp, 2, epoch, rules(0, { ticketTtlMs: 1 })),
      { kind: 'expired' },
      'came up 5 ms ago, TTL 1 ms',
    );
  });

  test('concurrent steps from four nodes: no number twice, none skipped, each redeemed once', async () => {
    const h = harness();
    const nodes = [h.node(), h.node(), h.node(), h.node()];
    const sp = freshSpace();
    const issued = await Promise.all(Array.from({ length: 400 }, (_, i) => take(nodes[i % 4]!, sp)));
    const numbers = issued.map((t) => t.number).sort((x, y) => x - y);
    assert.deepEqual(
      numbers,
      Array.from({ length: 400 }, (_, i) => i + 1),
    );
    assert.equal(new Set(issued.map((t) => t.epoch)).size, 1, 'one room');
    await nodes[0]!.release(sp, 400, rules(0));
    const tries = await Promise.all(nodes.flatMap((n) => numbers.map((k) => n.redeem(sp, k, issued[0]!.epoch, rules(0)))));
    assert.equal(tries.filter((r) => r.kind === 'ok').length, 400);
    assert.equal(tries.filter((r) => r.kind === 'reused').length, 1200);
  });
}
