import { join } from 'node:path';
import { PostgresDriver } from './postgres.ts';
import { SqliteDriver } from './sqlite.ts';
import { SqlStore } from './sql-store.ts';

/** Opens PostgreSQL when a URL is given, otherwise SQLite at `<dataDir>/amphi.db`. */
export function openStore(options: {
  databaseUrl: string | null;
  dataDir: string;
  nowMs: number;
  /** Told when an idle database connection fails (the pool replaces it). */
  onConnectionError: (error: Error) => void;
}): Promise<SqlStore> {
  const driver =
    options.databaseUrl === null
      ? new SqliteDriver(join(options.dataDir, 'amphi.db'))
      : new PostgresDriver(options.databaseUrl, { onIdleError: options.onConnectionError });
  return SqlStore.open(driver, options.nowMs);
}
