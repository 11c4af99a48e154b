import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { SqlDriver } from '../../src/storage/driver.ts';
import { migrations } from '../../src/storage/migrations.ts';
import { PostgresDriver } from '../../src/storage/postgres.ts';
import { SqlStore } from '../../src/storage/sql-store.ts';
import { SqliteDriver } from '../../src/storage/sqlite.ts';
import type { SpaceRecord } from '../../src/storage/store.ts';
import { optionalSuite } from '../helpers/skip.ts';
import { spaceRecord, T0 } from './records.ts';

/**
 * Storage for the security hardening: bans of anonymous listeners (no account row), kept across a
 * restart and listed for the edge; system accounts told apart by a mark, not by their handle. Both
 * databases, from a database created before these migrations.
 */

const ANON = 'an_AbCdEfGhIjKl';
const BOUNDED = { timeout: 30_000 };

function space(id: string, hostId: string, state: SpaceRecord['state']): SpaceRecord {
  return spaceRecord(id, hostId, { state });
}

/** A database as the first release left it: migration 1 only, with a user, a Space and a ban. */
async function firstRelease(driver: SqlDriver): Promise<void> {
  await driver.transaction(async (tx) => {
    await tx.run('CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    for (const statement of migrations[0]!.sql.split(';').map((s) => s.trim())) if (statement !== '') await tx.run(statement);
    await tx.run('INSERT INTO schema_migrations (id, name, applied_at) VALUES (1, ?, ?)', [migrations[0]!.name, T0]);
    for (const [id, handle] of [
      ['ac_host', 'host'],
      ['ac_troll', 'troll'],
      ['ac_squatter', 'amphi_demo'],
    ]) {
      await tx.run('INSERT INTO accounts (id, handle, handle_key, password_hash, created_at) VALUES (?, ?, ?, ?, ?)', [
        id!,
        handle!,
        handle!,
        'hash',
        T0,
      ]);
    }
    await tx.run(
      `INSERT INTO spaces (id, host_id, title, state, allow_anonymous, created_at, version) VALUES ('sp_old', 'ac_host', 'Old', 'live', 1, ?, 1)`,
      [T0],
    );
    await tx.run(`INSERT INTO bans (space_id, account_id, banned_by, created_at) VALUES ('sp_old', 'ac_troll', 'ac_host', ?)`, [
      T0,
    ]);
  });
}

function suite(name: string, open: () => Promise<{ driver: () => SqlDriver; close(): Promise<void> }>): void {
  describe(name, () => {
    let db: { driver: () => SqlDriver; close(): Promise<void> };
    before(async () => {
      db = await open();
      const first = db.driver();
      await firstRelease(first);
      await first.close();
    }, BOUNDED);
    after(() => db.close(), BOUNDED);

    test('an anonymous listener can be banned, the ban outlives a restart, and the edge can list it', BOUNDED, async () => {
      const store = await SqlStore.open(db.driver(), T0);
      try {
        assert.deepEqual(await store.listBanned('sp_old'), ['ac_troll'], 'bans made before the migration are kept');
        await store.createSpace(space('sp_new', 'ac_host', 'scheduled'));
        await store.createSpace(space('sp_done', 'ac_host', 'ended'));
        await store.ban('sp_old', ANON, 'ac_host', T0 + 1);
        await store.ban('sp_new', 'ac_troll', 'ac_host', T0 + 2);
        await store.ban('sp_done', ANON, 'ac_host', T0 + 3);
        await store.ban('sp_old', ANON, 'ac_host', T0 + 4); // idempotent
      } finally {
        await store.close();
      }
      const restarted = await SqlStore.open(db.driver(), T0 + 1000);
      try {
        assert.deepEqual(await restarted.listBanned('sp_old'), [ANON, 'ac_troll'].sort());
        assert.ok(await restarted.isBanned('sp_old', ANON));
        assert.deepEqual(
          await restarted.listActiveBans(),
          [
            { spaceId: 'sp_new', subject: 'ac_troll' },
            { spaceId: 'sp_old', subject: 'ac_troll' },
            { spaceId: 'sp_old', subject: ANON },
          ],
          'bans of Spaces not ended: scheduled and live',
        );
        await assert.rejects(restarted.ban('sp_old', 'an_other', 'ac_missing', T0), 'who banned is still an account');
      } finally {
        await restarted.close();
      }
    });

    test('a system account is found by its mark, never by its handle; one per role', BOUNDED, async () => {
      const store = await SqlStore.open(db.driver(), T0);
      try {
        assert.equal(await store.findSystemAccount('demo'), undefined, 'the squatter holding amphi_demo is not the demo');
        const demo = { id: 'ac_demo', handle: 'amphi_demo_1a2b', passwordHash: 'x', createdAt: T0 };
        assert.deepEqual(await store.createAccount(demo, 'demo'), { id: 'ac_demo', handle: 'amphi_demo_1a2b', createdAt: T0 });
        assert.deepEqual(await store.findSystemAccount('demo'), { id: 'ac_demo', handle: 'amphi_demo_1a2b', createdAt: T0 });
        const second = { id: 'ac_demo2', handle: 'amphi_demo_ffff', passwordHash: 'x', createdAt: T0 };
        assert.equal(await store.createAccount(second, 'demo'), undefined, 'a second demo account is refused');
        assert.ok(await store.createAccount({ ...second, id: 'ac_user' }), 'user accounts carry no mark');
      } finally {
        await store.close();
      }
    });

    test('listSpaces filters by host', BOUNDED, async () => {
      const store = await SqlStore.open(db.driver(), T0);
      try {
        await store.createSpace(space('sp_troll', 'ac_troll', 'live'));
        const ids = async (q: { state?: 'live'; hostId?: string }) =>
          (await store.listSpaces({ ...q, limit: 10, offset: 0 })).map((s) => s.id).sort();
        assert.deepEqual(await ids({ state: 'live', hostId: 'ac_troll' }), ['sp_troll']);
        assert.deepEqual(await ids({ state: 'live', hostId: 'ac_host' }), ['sp_old']);
        assert.deepEqual(await ids({ hostId: 'ac_troll' }), ['sp_troll']);
        assert.deepEqual(await ids({ state: 'live' }), ['sp_old', 'sp_troll']);
      } finally {
        await store.close();
      }
    });
  });
}

describe('storage for bans and system accounts', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'amphi-storage-security-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  suite('sqlite', () => {
    const file = join(dir, 'amphi.db');
    return Promise.resolve({ driver: () => new SqliteDriver(file), close: () => Promise.resolve() });
  });

  const pgEnabled = process.env.AMPHI_TEST_PG === '1';
  optionalSuite(
    'postgres backend',
    { skip: pgEnabled ? false : 'PostgreSQL suites skipped: set AMPHI_TEST_PG=1 (CI does)', timeout: 120_000 },
    () => {
      const url = process.env.AMPHI_TEST_DATABASE_URL ?? 'postgres://amphi:amphi@127.0.0.1:5432/amphi';
      suite('postgres', async () => {
        const schema = `t_${randomBytes(8).toString('hex')}`;
        const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
        await admin.connect();
        await admin.query(`CREATE SCHEMA ${schema}`);
        return {
          driver: () => new PostgresDriver(url, { schema, maxConnections: 2 }),
          async close() {
            try {
              await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
            } finally {
              await admin.end();
            }
          },
        };
      });
    },
  );
});
