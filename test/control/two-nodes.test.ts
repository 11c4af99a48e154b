import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import { createControlPlane, type ControlPlane } from '../../src/control/plane.ts';
import { AmphiError } from '../../src/errors.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';
import { ListenerFailures } from '../../src/lib/typed-emitter.ts';
import type { SqlDriver } from '../../src/storage/driver.ts';
import { PostgresDriver } from '../../src/storage/postgres.ts';
import { SqlStore } from '../../src/storage/sql-store.ts';
import { SqliteDriver } from '../../src/storage/sqlite.ts';
import type { Account } from '../../src/storage/store.ts';
import { optionalSuite } from '../helpers/skip.ts';

/**
 * Two control nodes on one database, as cluster mode runs them: each with its own connections, caches
 * and bus. What only one may win, exactly one wins, because the database's row lock decides it, not a
 * lock in either process.
 */
const T0 = Date.UTC(2026, 10, 29, 20);
const log = pino({ level: 'silent' });

async function node(driver: SqlDriver): Promise<{ plane: ControlPlane; store: SqlStore }> {
  const config = loadConfig({
    overrides: {
      auth: { passwordHashCostLog2: 10 },
      spaces: { maxSpeakers: 1, createPerAccount: { capacity: 1000, refillPerSecond: 1 } },
    },
  });
  const store = await SqlStore.open(driver, T0);
  const plane = createControlPlane({
    config,
    store,
    clock: new ManualClock(T0),
    signer: new TokenSigner([{ id: 'k', secret: 'a-two-node-test-key-long-enough-0123' }]),
    log,
    urls: { edge: () => 'http://edge.test', stage: () => 'http://stage.test' },
    failures: new ListenerFailures(log),
  });
  return { plane, store };
}

/** `database()` gives each test its database: a function that opens one node's driver on it. */
function lastSeatSuite(name: string, database: () => () => SqlDriver, done: () => Promise<void>) {
  test(`${name}: a host at spaces.maxLivePerAccount - 1 starting two Spaces through two nodes: one goes live`, async () => {
    const openDriver = database();
    const a = await node(openDriver());
    const b = await node(openDriver());
    try {
      const host = (await a.plane.accounts.signUp(`live_host_${name}`, 'a real password')).account;
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await a.plane.spaces.create(host, { title: `Show ${i}` })).space.id);
      await a.plane.spaces.start(host, ids[0]!);
      await b.plane.spaces.start(host, ids[1]!); // maxLivePerAccount is 3: one place left
      const outcomes = await Promise.allSettled([a.plane.spaces.start(host, ids[2]!), b.plane.spaces.start(host, ids[3]!)]);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, JSON.stringify(outcomes.map((o) => o.status)));
      const refused = outcomes.find((o) => o.status === 'rejected');
      assert.ok(refused?.reason instanceof AmphiError && refused.reason.code === 'LIVE_SPACES_LIMIT', String(refused?.reason));
    } finally {
      await a.plane.close();
      await b.plane.close();
      await a.store.close();
      await b.store.close();
    }
  });

  test(`${name}: 12 concurrent accepts of the last stage seat through two nodes: exactly one wins`, async () => {
    const openDriver = database();
    const a = await node(openDriver());
    const b = await node(openDriver());
    try {
      const host = (await a.plane.accounts.signUp('seat_host', 'a real password')).account;
      const fans: Account[] = [];
      for (let i = 0; i < 12; i++) fans.push((await a.plane.accounts.signUp(`seat_fan_${i}`, 'a real password')).account);
      const spaceId = (await a.plane.spaces.create(host, { title: 'The last seat' })).space.id;
      await a.plane.spaces.start(host, spaceId);
      for (const fan of fans) await b.plane.spaces.requestToSpeak(fan, spaceId);
      const outcomes = await Promise.allSettled(
        fans.map((fan, i) => (i % 2 === 0 ? a : b).plane.spaces.answerRequest(host, spaceId, fan.id, true)),
      );
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      assert.equal(won.length, 1, `winners: ${won.length}`);
      assert.ok(
        refused.every((e) => e instanceof AmphiError && e.code === 'STAGE_FULL'),
        String(refused[0]),
      );
      const members = await a.store.listMembers(spaceId);
      assert.equal(members.filter((m) => m.role === 'speaker').length, 1, 'one speaker in the database');
      // Every change bumped the version once: the start, 12 requests, the one accept.
      assert.equal((await b.store.getSpace(spaceId))?.version, 1 + 1 + 12 + 1);
    } finally {
      await a.plane.close();
      await b.plane.close();
      await a.store.close();
      await b.store.close();
      await done();
    }
  });
}

test('a change announced by another node drops the cached view at once (no waiting for its TTL)', async () => {
  const driver = new SqliteDriver(':memory:');
  const a = await node(driver);
  const b = await node(driver);
  try {
    const host = (await a.plane.accounts.signUp('cache_host', 'a real password')).account;
    const spaceId = (await a.plane.spaces.create(host, { title: 'Before' })).space.id;
    assert.equal((await b.plane.spaces.snapshot(spaceId)).space.title, 'Before'); // cached on b now
    await a.plane.spaces.setPinnedLink(host, spaceId, 'https://example.org/after');
    assert.equal((await b.plane.spaces.snapshot(spaceId)).space.pinnedLink, null, 'b still serves its cache');
    b.plane.bus.emit('space.changed', { spaceId }); // what b's bus bridge does when a's change arrives
    assert.equal((await b.plane.spaces.snapshot(spaceId)).space.pinnedLink, 'https://example.org/after');
  } finally {
    await a.plane.close();
    await b.plane.close();
    await driver.close();
  }
});

describe('two control nodes on one database', () => {
  // SQLite is one process's database (its locks block the thread): two nodes in one process share it.
  const dir = mkdtempSync(join(tmpdir(), 'amphi-two-nodes-'));
  let databases = 0;
  lastSeatSuite(
    'sqlite',
    () => {
      const shared = new SqliteDriver(join(dir, `amphi-${++databases}.db`));
      return () => shared;
    },
    () => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  );

  const pgEnabled = process.env.AMPHI_TEST_PG === '1';
  optionalSuite('postgres', { skip: pgEnabled ? false : 'set AMPHI_TEST_PG=1 (CI does)', timeout: 120_000 }, () => {
    const url = process.env.AMPHI_TEST_DATABASE_URL ?? 'postgres://amphi:amphi@127.0.0.1:5432/amphi';
    const schema = `t_${randomBytes(8).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    before(async () => {
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
    });
    lastSeatSuite(
      'postgres',
      () => () => new PostgresDriver(url, { schema, maxConnections: 8 }),
      async () => {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.end();
      },
    );
  });
});
