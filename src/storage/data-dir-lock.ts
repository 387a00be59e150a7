import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One server per data dir: the embedded store assumes no other process holds task leases, so a
 * second server on the same directory is refused.
 *
 * The lock is an exclusive SQLite lock on `<dataDir>/server.lock`, which SQLite takes with a POSIX
 * advisory lock (fcntl) and, in exclusive locking mode, keeps until the connection closes. The
 * kernel drops it when the holding process ends, however it ends, so only a live server on this
 * data dir can hold it: a crashed server's leftovers never block a start, and a pid that names some
 * other process (pid 1 after a container restart) means nothing. Forked task processes do not
 * inherit fcntl locks. `server.pid` is written beside it for people and error messages only.
 */
export function acquireDataDirLock(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const pidPath = join(dataDir, 'server.pid');
  const lock = new Database(join(dataDir, 'server.lock'), { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    // An exclusive transaction opens a rollback journal; this one's is kept in memory, so the lock
    // adds no file beside server.lock.
    lock.pragma('journal_mode = MEMORY');
    // A transaction left open holds the exclusive lock and writes nothing, so no crash can leave
    // the file damaged; closing the connection ends it.
    lock.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    lock.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') {
      throw new Error(`data dir ${dataDir} is in use by another doppel server${holderDescription(pidPath)}`);
    }
    throw e;
  }
  writeFileSync(pidPath, `${process.pid}\n`);
  return () => {
    rmSync(pidPath, { force: true });
    lock.close();
  };
}

/** " (pid N)" from the holder's server.pid, when it has written one. */
function holderDescription(pidPath: string): string {
  try {
    const pid = readFileSync(pidPath, 'utf8').trim();
    return /^\d+$/.test(pid) ? ` (pid ${pid})` : '';
  } catch {
    return '';
  }
}
