import pg from 'pg';
import { takeWhenFree } from '../../core/take-when-free.js';

/**
 * Session advisory locks, held on one connection of their own outside the pool. A holder runs its
 * statements on pooled connections while it holds the lock, so the lock must not occupy one of
 * them: holders of different keys would then wait on the pool for each other. Keys are taken with
 * pg_try_advisory_lock and retried here, never waited for in the server, so a key held elsewhere
 * does not hold up the connection for the other keys. A broken connection drops its locks in the
 * server; the holders at that moment finish without one, and the next call connects anew.
 */
export class PgSessionLocks {
  #client: Promise<pg.Client> | undefined;

  constructor(private readonly connect: () => Promise<pg.Client>) {}

  /** Runs `fn` holding `key` against every process of every node using the database. */
  async hold<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const client = await this.#connection();
    await takeWhenFree(async () => {
      const { rows } = await client.query<{ taken: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS taken', [key]);
      return rows[0]!.taken;
    }, `lock ${key}`);
    try {
      return await fn();
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.then((c) => c.end()).catch(() => undefined);
  }

  #connection(): Promise<pg.Client> {
    if (!this.#client) {
      const opening = this.connect().then((client) => {
        // A broken or closed connection is replaced at the next call; without a listener its error
        // would end the process.
        const forget = () => {
          if (this.#client === opening) this.#client = undefined;
        };
        client.on('error', forget);
        client.on('end', forget);
        return client;
      });
      opening.catch(() => {
        if (this.#client === opening) this.#client = undefined;
      });
      this.#client = opening;
    }
    return this.#client;
  }
}
