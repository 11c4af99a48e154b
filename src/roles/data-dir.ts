import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../lib/logger.ts';

/** The database and its journal files: password hashes and sessions live here. */
const DATABASE_FILES = ['amphi.db', 'amphi.db-wal', 'amphi.db-shm'];

/**
 * Makes the data directory private before anything is written to it: the directory 0700 and the
 * SQLite files 0600, whatever the umask. The database file is created 0600 before SQLite opens it, so
 * the WAL and shared-memory files SQLite makes next to it copy that mode. An existing install with
 * looser modes is tightened (and says so once).
 */
export function secureDataDir(dataDir: string, sqlite: boolean, log: Logger): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  tighten(dataDir, 0o700, log);
  if (!sqlite) return;
  const database = join(dataDir, 'amphi.db');
  closeSync(openSync(database, 'a', 0o600));
  for (const name of DATABASE_FILES) tighten(join(dataDir, name), 0o600, log);
}

function tighten(path: string, mode: number, log: Logger): void {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined || (stat.mode & 0o777 & ~mode) === 0) return;
  chmodSync(path, mode);
  log.warn({ path, was: (stat.mode & 0o777).toString(8), now: mode.toString(8) }, 'data file was readable by others: tightened');
}
