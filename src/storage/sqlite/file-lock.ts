import Database from 'better-sqlite3';
import { OneAtATime } from '../../core/one-at-a-time.js';

/** How long a holder waits for another process to let go before giving up. */
const WAIT_MS = 30_000;
/** Pause between two attempts while another process holds the lock: it keeps it for a few statements. */
const RETRY_MS = 5;

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
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        try {
          this.#db.exec('BEGIN EXCLUSIVE');
          break;
        } catch (e) {
          if ((e as { code?: string }).code !== 'SQLITE_BUSY') throw e;
          if (Date.now() > deadline) throw new Error(`${this.path} is still locked by another process after ${WAIT_MS / 1000} s`);
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        }
      }
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
