import { redactedUrl } from '../../core/redacted-url.js';
import pg from 'pg';
import { PgSessionLocks } from './pg-session-locks.js';

/** A connection inside a transaction: what the stores' statements run on. */
export type PgClient = pg.PoolClient;

/** The settings of the PostgreSQL metadata store (DOPPEL_DATABASE_URL, DOPPEL_DATABASE_POOL_SIZE). */
export interface PgOptions {
  url: string;
  /** Connections this process keeps at most; requests beyond it wait for a free one. */
  poolSize: number;
  /** Called with errors of idle connections (the server restarted or went away): logged, never thrown. */
  onIdleError?: (e: Error) => void;
}

/** How long a new connection may take before the attempt counts as failed. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * BIGINT columns (epoch milliseconds, counts) come back as JS numbers rather than strings: every
 * value doppel stores in one is far below 2^53, and the records hold numbers.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary' ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * A connection pool with one-transaction-per-call helpers. Each store method takes a connection,
 * runs its statements between BEGIN and COMMIT (READ COMMITTED, with row locks or advisory locks
 * where a decision reads before it writes), and gives the connection back.
 */
export class PgDatabase {
  readonly pool: pg.Pool;
  /** Session locks for decisions that span several of the pool's transactions (pg-session-locks.ts). */
  readonly sessionLocks: PgSessionLocks;

  private constructor(pool: pg.Pool, config: pg.ClientConfig) {
    this.pool = pool;
    this.sessionLocks = new PgSessionLocks(async () => {
      const client = new pg.Client(config);
      await client.connect();
      return client;
    });
  }

  /** Opens the pool and checks that the server answers; fails with a message naming DOPPEL_DATABASE_URL. */
  static async open(options: PgOptions): Promise<PgDatabase> {
    const config: pg.ClientConfig = {
      connectionString: options.url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      types,
      application_name: 'doppel',
    };
    let pool: pg.Pool;
    try {
      pool = new pg.Pool({ ...config, max: options.poolSize });
    } catch (e) {
      throw new Error(`DOPPEL_DATABASE_URL ${redactedUrl(options.url)} is not usable: ${(e as Error).message}`);
    }
    // Without a listener, an idle connection's error (the server restarted) would end the process.
    pool.on('error', (e) => options.onIdleError?.(e));
    try {
      await pool.query('SELECT 1');
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw new Error(`cannot reach the PostgreSQL server of DOPPEL_DATABASE_URL (${redactedUrl(options.url)}): ${describe(e)}`);
    }
    return new PgDatabase(pool, config);
  }

  /** One statement in a transaction of its own. */
  async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(sql, params);
  }

  /**
   * Runs `fn` on a connection of its own, given back to the pool afterwards (closed instead when it
   * broke). While it is out of the pool the connection has an error listener of its own: the pool
   * listens only to idle ones, and a connection the server ends between two statements (a restart)
   * would otherwise raise an unhandled 'error' and end the process.
   */
  async withClient<T>(fn: (client: PgClient, broken: () => Error | undefined) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const onError = (e: Error) => (broken = e);
    client.on('error', onError);
    try {
      return await fn(client, () => broken);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  /** Runs `fn` in one transaction: committed when it returns, rolled back when it throws. */
  async tx<T>(fn: (client: PgClient) => Promise<T>): Promise<T> {
    return this.withClient(async (client, broken) => {
      await client.query('BEGIN');
      try {
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        // On a broken connection there is nothing to roll back (the server ended the transaction).
        if (!broken()) await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
  }

  async close(): Promise<void> {
    await this.sessionLocks.close();
    await this.pool.end();
  }
}

/** A connection error's message, which for a refused connection node leaves empty (an AggregateError). */
function describe(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0) return describe(e.errors[0]);
  const err = e as Error & { code?: string };
  return err.message || err.code || String(e);
}

/** A transaction-scoped advisory lock on `key`: writers deciding on the same key take turns. */
export async function lockKey(client: PgClient, key: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
}
