import pg from 'pg';
import type { Row, SqlDriver, SqlRunner, SqlValue } from './driver.ts';

// BIGINT columns hold millisecond timestamps, well inside Number's exact range.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

const placeholderCache = new Map<string, string>();

/** Rewrites `?` placeholders as `$1, $2, ...`. Our SQL never contains a literal `?`. */
function numbered(sql: string): string {
  let out = placeholderCache.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    placeholderCache.set(sql, out);
  }
  return out;
}

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

function runnerFor(q: Queryable): SqlRunner {
  return {
    async all(sql, params = []) {
      const result = await q.query<Row>(numbered(sql), params as SqlValue[]);
      return result.rows;
    },
    async run(sql, params = []) {
      const result = await q.query(numbered(sql), params as SqlValue[]);
      return result.rowCount ?? 0;
    },
  };
}

/** PostgreSQL through `pg`'s pool. `schema` isolates test runs in their own namespace. */
export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #runner: SqlRunner;

  constructor(
    connectionString: string,
    options: { schema?: string; maxConnections?: number; onIdleError?: (error: Error) => void } = {},
  ) {
    const schema = options.schema;
    this.#pool = new pg.Pool({
      connectionString,
      max: options.maxConnections ?? 10,
      // A hung database must fail requests (503) rather than hold a Space's lock forever.
      connectionTimeoutMillis: 5_000,
      query_timeout: 10_000,
      ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
    });
    // An idle client that loses its connection must not crash the process; the pool replaces it,
    // and the owner hears of it (the embedded role logs it).
    this.#pool.on('error', options.onIdleError ?? (() => {}));
    this.#runner = runnerFor(this.#pool);
  }

  all(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    return this.#runner.all(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.#runner.run(sql, params);
  }

  async exec(sql: string): Promise<void> {
    await this.#pool.query(sql);
  }

  async transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(runnerFor(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
