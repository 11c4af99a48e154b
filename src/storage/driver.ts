/**
 * The narrow SQL surface both databases offer. SQL is written once with `?` placeholders; the
 * PostgreSQL driver numbers them. Rows come back as plain objects with lower-case column names.
 */
export type SqlValue = string | number | bigint | null;
export type Row = Record<string, unknown>;

export interface SqlRunner {
  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** Runs a statement; returns the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

/** Where a store's statements go: the driver itself, or one open transaction (whose nested ones join it). */
export type SqlDb = SqlRunner & Pick<SqlDriver, 'transaction'>;

export interface SqlDriver extends SqlRunner {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs `fn` in one transaction: all of it commits, or none of it. */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /** Runs a multi-statement script (migrations). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** True when the error is a UNIQUE or PRIMARY KEY violation, in either database. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; errcode?: unknown; message?: unknown };
  return (
    e.code === '23505' || // PostgreSQL unique_violation
    (e.code === 'ERR_SQLITE_ERROR' && typeof e.message === 'string' && e.message.includes('UNIQUE constraint failed'))
  );
}
