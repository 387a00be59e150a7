import Database from 'better-sqlite3';
import { OneAtATime } from '../../core/one-at-a-time.js';
import { takeWhenFree } from '../../core/take-when-free.js';

/**
 * An exclusive lock between the processes of one machine, on a file of its own: SQLite's exclusive
 * transaction on it, which SQLite takes with POSIX advisory locks (fcntl), so the kernel drops it when
 * its process ends, however it ends. Taken without blocking the event loop (an attempt that finds it
 * held is retried after a pause), and one holder at a time within this process (one connection
 * holds one transaction).
 */
export class FileLock {
  readonly #db: Database.Database;
  readonly #inProcess = new OneAtATime();

  constructor(readonly path: string) {
    this.#db = new Database(path);
    this.#db.pragma('busy_timeout = 0');
  }

  hold<T>(fn: () => Promise<T>): Promise<T> {
    return this.#inProcess.run('', async () => {
      await takeWhenFree(() => {
        try {
          this.#db.exec('BEGIN EXCLUSIVE');
          return true;
        } catch (e) {
          if ((e as { code?: string }).code !== 'SQLITE_BUSY') throw e;
          return false;
        }
      }, this.path);
      try {
        return await fn();
      } finally {
        this.#db.exec('COMMIT');
      }
    });
  }

  close(): void {
    this.#db.close();
  }
}
