import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import pg from 'pg';
import { PostgresDriver } from '../../src/storage/postgres.ts';
import { SqlStore } from '../../src/storage/sql-store.ts';
import { SqliteDriver } from '../../src/storage/sqlite.ts';
import { optionalSuite } from '../helpers/skip.ts';
import { T0 } from './records.ts';

const BOUNDED = { timeout: 30_000 };

/** Opens a fresh store on one engine; `close` also drops what it made. */
export type OpenStore = () => Promise<{ store: SqlStore; close(): Promise<void> }>;

/**
 * The same suite on both engines: SQLite in a temp dir always, PostgreSQL (a schema of its own per
 * store, dropped at close) where AMPHI_TEST_PG=1 (CI), skipped with a notice elsewhere.
 */
export function onBothEngines(name: string, suite: (engine: string, open: OpenStore) => void): void {
  describe(name, () => {
    describe('sqlite', () => {
      let dir: string;
      before(() => {
        dir = mkdtempSync(join(tmpdir(), 'amphi-store-'));
      });
      after(() => rmSync(dir, { recursive: true, force: true }));
      suite('sqlite', async () => {
        const store = await SqlStore.open(new SqliteDriver(join(dir, `${randomUUID()}.db`)), T0);
        return { store, close: () => store.close() };
      });
    });

    const skip = process.env.AMPHI_TEST_PG === '1' ? false : 'PostgreSQL suite skipped: set AMPHI_TEST_PG=1 (CI does)';
    optionalSuite('postgres', { skip, timeout: 300_000 }, () => {
      const url = process.env.AMPHI_TEST_DATABASE_URL ?? 'postgres://amphi:amphi@127.0.0.1:5432/amphi';
      let admin: pg.Client;
      before(async () => {
        admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
        await admin.connect();
      }, BOUNDED);
      after(() => admin.end(), BOUNDED);
      suite('postgres', async () => {
        const schema = `t_${randomBytes(8).toString('hex')}`;
        await admin.query(`CREATE SCHEMA ${schema}`);
        const store = await SqlStore.open(new PostgresDriver(url, { schema, maxConnections: 4 }), T0);
        return {
          store,
          async close() {
            await store.close();
            await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          },
        };
      });
    });
  });
}
