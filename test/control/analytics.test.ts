import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { pino } from 'pino';
import { ANALYTICS_FLUSH_MS, ListenerAnalytics } from '../../src/control/analytics.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import type { CommunityStore } from '../../src/storage/community-store.ts';
import { SqlStore } from '../../src/storage/sql-store.ts';
import { SqliteDriver } from '../../src/storage/sqlite.ts';
import type { Store } from '../../src/storage/store.ts';
import { eventually } from '../helpers/eventually.ts';
import { spaceRecord, T0 } from '../storage/records.ts';

/**
 * The hosts' analytics as counted in memory and written every 5 s (`ListenerAnalytics`), on a manual
 * clock over a real SQLite store: what each minute's row holds, what renewals do, and that a failed
 * write loses nothing and counts nothing twice.
 */

const MINUTE = 60_000;
const log = pino({ level: 'silent' });

// One store, clock and ListenerAnalytics per test (made by `fixture`).
let dir: string;
let real: SqlStore;
let clock: ManualClock;
/** Which community writes fail next (each entry once). */
let failNext: ('addStats' | 'recordAudience')[];
let store: Store;
let analytics: ListenerAnalytics;
const spaceId = 'sp_analytics1';
const otherSpace = 'sp_analytics2';
const stats = (id = spaceId) => real.community().listStats(id);
const audience = (id = spaceId) => real.community().countAudience(id);
const first = { renewal: false, replay: false };

function fixture(): void {
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'amphi-analytics-'));
    clock = new ManualClock(T0);
    real = await SqlStore.open(new SqliteDriver(join(dir, 'amphi.db')), T0);
    const host = await real.createAccount({ id: 'ac_analyticsh', handle: 'an_host', createdAt: T0, passwordHash: 'x' });
    assert.ok(host);
    await real.createSpace(spaceRecord(spaceId, host.id, { state: 'live', startedAt: T0 }));
    await real.createSpace(spaceRecord(otherSpace, host.id));
    failNext = [];
    const community = (): CommunityStore =>
      new Proxy(real.community(), {
        get(target, key) {
          const value: unknown = Reflect.get(target, key, target);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            if (failNext[0] === key) {
              failNext.shift();
              return Promise.reject(new Error(`${key} failed (test)`));
            }
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    store = new Proxy(real, {
      get(target, key) {
        if (key === 'community') return community;
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    analytics = new ListenerAnalytics(store, clock, log);
  });
  afterEach(async () => {
    await analytics.stop();
    await real.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

function countingTests(): void {
  test('each minute gets its own row: joins, replays, the line, its longest wait, reactions', async () => {
    analytics.joined(spaceId, 'ac_a', first);
    analytics.joined(spaceId, 'an_b', { ...first, waitedMs: 1234.6 });
    analytics.joined(spaceId, 'an_c', { ...first, waitedMs: 300 });
    analytics.joined(spaceId, 'an_d', { ...first, waitedMs: -50 });
    analytics.queued(spaceId);
    analytics.queued(spaceId);
    analytics.queued(spaceId);
    analytics.reacted(spaceId, 4);
    analytics.reacted(spaceId, 1);
    analytics.joined(otherSpace, 'ac_a', first);
    clock.advance(MINUTE + 10);
    analytics.joined(spaceId, 'ac_e', { renewal: false, replay: true });
    await analytics.flush();

    const [m1, m2, ...rest] = await stats();
    assert.deepEqual(rest, []);
    assert.deepEqual(m1, {
      spaceId,
      minute: T0,
      joins: 4,
      queued: 3,
      fromLine: 3,
      maxWaitMs: 1235,
      replayPlays: 0,
      reactions: 5,
      peakListeners: 0,
    });
    assert.deepEqual(m2, {
      ...m1,
      minute: T0 + MINUTE,
      joins: 1,
      queued: 0,
      fromLine: 0,
      maxWaitMs: 0,
      replayPlays: 1,
      reactions: 0,
    });
    assert.equal((await stats(otherSpace))[0]?.joins, 1, 'per Space');
    assert.deepEqual(await audience(), { accounts: 2, anonymous: 3 });

    await analytics.flush();
    assert.equal((await stats())[0]?.joins, 4, 'a flush with nothing new adds nothing');
  });

  test('renewals are not joins, but keep the listener in the audience (last seen moves on)', async () => {
    const fan = 'ac_analyticsh'; // an account that exists: the audience list joins accounts
    analytics.joined(spaceId, fan, first);
    await analytics.flush();
    clock.advance(30_000);
    analytics.joined(spaceId, fan, { renewal: true, replay: false });
    analytics.joined(spaceId, 'an_late', { renewal: true, replay: false });
    await analytics.flush();
    assert.deepEqual(
      (await stats()).map((m) => m.joins),
      [1],
      'the renewal added no join (and no row of its own)',
    );
    assert.deepEqual(await audience(), { accounts: 1, anonymous: 1 }, 'a renewal seen first still counts as a listener');
    const [seen] = await real.community().listAudience(spaceId, { limit: 10, offset: 0 });
    assert.equal(seen?.firstAt, T0);
    assert.equal(seen?.lastAt, T0 + 30_000);
  });

  test('peak listeners: sampled at each flush for live Spaces, the largest in the minute kept', async () => {
    const now = new Map([
      [spaceId, 7],
      [otherSpace, 99],
    ]);
    analytics.watch((id) => now.get(id) ?? 0);
    await analytics.flush();
    now.set(spaceId, 3);
    await analytics.flush();
    assert.equal((await stats())[0]?.peakListeners, 7, 'a maximum, not the last sample nor a sum');
    assert.deepEqual(await stats(otherSpace), [], 'a scheduled Space is not sampled');
    clock.advance(MINUTE);
    await analytics.flush();
    assert.deepEqual(
      (await stats()).map((m) => m.peakListeners),
      [7, 3],
    );
  });
}

function failureTests(): void {
  test('a failed write of the counts keeps them for the next flush: nothing lost, nothing counted twice', async () => {
    analytics.joined(spaceId, 'ac_a', { ...first, waitedMs: 900 });
    analytics.reacted(spaceId, 2);
    failNext = ['addStats'];
    await assert.rejects(analytics.flush(), /addStats failed/);
    assert.deepEqual(await stats(), []);
    assert.deepEqual(await audience(), { accounts: 0, anonymous: 0 }, 'the audience was not written either');
    analytics.joined(spaceId, 'an_b', { ...first, waitedMs: 200 });
    await analytics.flush();
    const [m] = await stats();
    assert.equal(m?.joins, 2);
    assert.equal(m?.fromLine, 2);
    assert.equal(m?.maxWaitMs, 900, 'the maximum survives the failure');
    assert.equal(m?.reactions, 2);
    assert.deepEqual(await audience(), { accounts: 1, anonymous: 1 });
    await analytics.flush();
    assert.equal((await stats())[0]?.joins, 2);
  });

  test('a failed write of the audience after the counts were written: counts not written again', async () => {
    analytics.joined(spaceId, 'ac_a', first);
    analytics.joined(spaceId, 'an_b', first);
    failNext = ['recordAudience'];
    await assert.rejects(analytics.flush(), /recordAudience failed/);
    assert.equal((await stats())[0]?.joins, 2);
    assert.deepEqual(await audience(), { accounts: 0, anonymous: 0 });
    await analytics.flush();
    assert.equal((await stats())[0]?.joins, 2, 'no double count');
    assert.deepEqual(await audience(), { accounts: 1, anonymous: 1 }, 'the audience is written on the next flush');
  });

  test('start(): the counts are written every 5 s on the clock; a failing write is retried at the next tick', async () => {
    analytics.start();
    analytics.joined(spaceId, 'ac_a', first);
    failNext = ['addStats'];
    clock.advance(ANALYTICS_FLUSH_MS);
    await eventually('the failed write', () => failNext.length === 0);
    analytics.joined(spaceId, 'ac_b', first);
    clock.advance(ANALYTICS_FLUSH_MS - 1);
    assert.deepEqual(await stats(), [], 'not before the next tick');
    clock.advance(1);
    const m = await eventually('the retried write', async () => (await stats())[0]);
    assert.equal(m.joins, 2);
  });
}

describe('ListenerAnalytics', () => {
  fixture();
  describe('counting', countingTests);
  describe('failed writes and the timer', failureTests);
});
