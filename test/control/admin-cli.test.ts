import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { main } from '../../src/cli.ts';
import { SqliteDriver } from '../../src/storage/sqlite.ts';
import { SqlStore } from '../../src/storage/sql-store.ts';

/** `amphi admin grant|revoke <handle>` on the embedded database: the operator role, by handle. */
describe('amphi admin', () => {
  let dir: string;
  const open = () => SqlStore.open(new SqliteDriver(join(dir, 'amphi.db')), Date.now());
  const isAdmin = async (id: string) => {
    const store = await open();
    try {
      return (await store.community().getProfile(id))?.admin;
    } finally {
      await store.close();
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'amphi-admin-'));
    const store = await open();
    await store.createAccount({ id: 'ac_AAAAAAAAAAAA', handle: 'Operator', passwordHash: 'x', createdAt: 1 });
    await store.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('grant makes the account an operator (any case of the handle); revoke takes it back', async () => {
    assert.equal(await isAdmin('ac_AAAAAAAAAAAA'), false);
    assert.equal(await main(['admin', 'grant', 'operator', '--data-dir', dir, '--log-level', 'silent']), 0);
    assert.equal(await isAdmin('ac_AAAAAAAAAAAA'), true);
    assert.equal(await main(['admin', 'revoke', 'Operator', '--data-dir', dir]), 0);
    assert.equal(await isAdmin('ac_AAAAAAAAAAAA'), false);
  });

  test('an unknown handle is exit code 1 and changes nothing; a malformed command is a usage error (2)', async () => {
    assert.equal(await main(['admin', 'grant', 'nobody', '--data-dir', dir]), 1);
    assert.equal(await isAdmin('ac_AAAAAAAAAAAA'), false);
    assert.equal(await main(['admin', 'promote', 'operator', '--data-dir', dir]), 2);
    assert.equal(await main(['admin', 'grant', '--data-dir', dir]), 2);
  });
});
