import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { FileMediaStorage } from '../../src/origin/storage.ts';
import { secureDataDir } from '../../src/roles/data-dir.ts';
import { SqliteDriver } from '../../src/storage/sqlite.ts';

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('the data directory is private (password hashes, sessions, the signing key)', () => {
  const root = mkdtempSync(join(tmpdir(), 'amphi-datadir-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const previousUmask = process.umask(0o022);
  after(() => process.umask(previousUmask));

  test('a new data directory is 0700 and the database with its WAL and shared-memory files 0600', async () => {
    const dataDir = join(root, 'fresh');
    secureDataDir(dataDir, true, pino({ level: 'silent' }));
    assert.equal(modeOf(dataDir), 0o700);
    const driver = new SqliteDriver(join(dataDir, 'amphi.db'));
    await driver.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);');
    for (const name of ['amphi.db', 'amphi.db-wal', 'amphi.db-shm']) assert.equal(modeOf(join(dataDir, name)), 0o600, name);
    await driver.close();
  });

  test('an existing install with world-readable files is tightened', () => {
    const dataDir = join(root, 'old');
    secureDataDir(dataDir, true, pino({ level: 'silent' }));
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'amphi.db'), 0o644);
    writeFileSync(join(dataDir, 'amphi.db-wal'), '', { mode: 0o644 });
    secureDataDir(dataDir, true, pino({ level: 'silent' }));
    assert.equal(modeOf(dataDir), 0o700);
    assert.equal(modeOf(join(dataDir, 'amphi.db')), 0o600);
    assert.equal(modeOf(join(dataDir, 'amphi.db-wal')), 0o600);
  });

  test('with PostgreSQL no database file is made', () => {
    const dataDir = join(root, 'pg');
    secureDataDir(dataDir, false, pino({ level: 'silent' }));
    assert.equal(modeOf(dataDir), 0o700);
    assert.equal(statSync(join(dataDir, 'amphi.db'), { throwIfNoEntry: false }), undefined);
  });

  test('media files are 0640 in 0750 folders: the group may back them up, others may not read them', () => {
    const storage = new FileMediaStorage(join(root, 'media'));
    storage.write('sp_000000000001', 'recording.json', '{}');
    storage.create('sp_000000000001', 's0.m4s', new Uint8Array([1, 2, 3]));
    assert.equal(modeOf(join(root, 'media', 'sp_000000000001')), 0o750);
    assert.equal(modeOf(join(root, 'media', 'sp_000000000001', 'recording.json')), 0o640);
    assert.equal(modeOf(join(root, 'media', 'sp_000000000001', 's0.m4s')), 0o640);
  });
});
