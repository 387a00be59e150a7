/**
 * Space held back on the data dir's filesystem, so that deletes can still commit when the disk is
 * full: SQLite needs room in its write-ahead log to record a delete before the deleted bytes are
 * freed, and a disk filled to the last block would otherwise refuse the very requests that free it.
 *
 * The reserve is a file of random bytes (`<data dir>/disk-reserve`): zeros would take no space on
 * a compressing filesystem (ZFS, btrfs). A delete that fails for lack of space
 * releases it and runs again; afterwards the reserve is refilled from the space the delete freed.
 * Writes of the object store require the reserve to be whole (refilling it first when it is not),
 * so they can never eat the space deletes depend on. Several processes share one reserve file:
 * each looks at the file itself, never at a remembered state.
 */
import { randomFillSync } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isDiskFull } from '../core/errors.js';

const CHUNK_BYTES = 64 * 1024;

export class DiskReserve {
  /** `bytes` 0 means no reserve: nothing is held back and deletes get no second chance. */
  constructor(
    readonly path: string,
    readonly bytes: number,
  ) {}

  /** No reserve (a store without a data dir of its own, or DOPPEL_DISK_RESERVE_MB=0). */
  static none(): DiskReserve {
    return new DiskReserve('', 0);
  }

  /** Whether the reserve holds all its bytes. */
  isWhole(): boolean {
    if (this.bytes === 0) return true;
    try {
      return statSync(this.path).size >= this.bytes;
    } catch {
      return false;
    }
  }

  /**
   * Allocates what the reserve lacks (writing incompressible bytes, so the blocks are really taken).
   * False when the disk has no room for all of it; what did fit stays reserved.
   */
  refill(): boolean {
    if (this.isWhole()) return true;
    const fd = openSync(this.path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW, 0o600);
    const chunk = Buffer.alloc(CHUNK_BYTES);
    try {
      // The size is read again before every chunk: another process may be refilling the same file.
      for (let size = fstatSync(fd).size; size < this.bytes; size = fstatSync(fd).size) {
        writeSync(fd, randomFillSync(chunk), 0, Math.min(CHUNK_BYTES, this.bytes - size));
      }
      return true;
    } catch (e) {
      if (isDiskFull(e)) return false;
      throw e;
    } finally {
      closeSync(fd);
    }
  }

  /** Gives the reserved space back to the filesystem. */
  release(): void {
    if (this.bytes === 0) return;
    try {
      unlinkSync(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  /**
   * Runs a delete; when it fails for lack of space, releases the reserve and runs it once more (a
   * failed delete changed nothing, so it can be repeated). Then refills the reserve from the space
   * freed, as far as it goes.
   */
  async freeing<T>(deletion: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await deletion();
    } catch (e) {
      if (!isDiskFull(e) || this.bytes === 0) throw e;
      this.release();
      result = await deletion();
    }
    this.refill();
    return result;
  }
}

/** The disk reserve of a data dir. */
export function diskReserveOf(dataDir: string, bytes: number): DiskReserve {
  return new DiskReserve(join(dataDir, 'disk-reserve'), bytes);
}
