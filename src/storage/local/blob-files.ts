/**
 * The bytes of objects and parts, one file per blob under `<root>/blobs/`, named by a random id the
 * store generates: no key, bucket or client-supplied text ever becomes part of a path.
 *
 * A blob is written under `<root>/tmp/`, flushed to disk, and only then renamed into `blobs/`, so a
 * file in `blobs/` is always complete. Files are opened with O_NOFOLLOW and the two directories are
 * checked to be the very directories found at start-up, so a symlink planted in the store cannot
 * redirect a read or a write outside it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, type Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { storeCorrupted } from './store-errors.js';

const BLOB_ID = /^[0-9a-f]{32}$/;
/** Small network chunks are gathered up to this size before a write, to keep syscalls few. */
const WRITE_BATCH_BYTES = 1024 * 1024;

export interface WrittenBlob {
  id: string;
  size: number;
  /** MD5 of the bytes (the ETag of a single-part object). */
  md5: Buffer;
}

interface DirIdentity {
  path: string;
  dev: number;
  ino: number;
}

export class BlobFiles {
  private constructor(
    private readonly blobsDir: DirIdentity,
    private readonly tmpDir: DirIdentity,
  ) {}

  /**
   * Creates the directories if needed and, with `emptyTmp`, empties `tmp/` (what is there was
   * interrupted, unless another process sharing the store is writing it).
   */
  static async open(rootDir: string, options: { emptyTmp: boolean }): Promise<BlobFiles> {
    const blobsDir = await realDirectory(join(rootDir, 'blobs'));
    const tmpDir = await realDirectory(join(rootDir, 'tmp'));
    if (options.emptyTmp) {
      for (const name of await readdir(tmpDir.path)) {
        await rm(join(tmpDir.path, name), { recursive: true, force: true });
      }
    }
    return new BlobFiles(blobsDir, tmpDir);
  }

  static isBlobId(name: string): boolean {
    return BLOB_ID.test(name);
  }

  pathOf(id: string): string {
    if (!BLOB_ID.test(id)) throw storeCorrupted(`'${id}' is not a blob id`);
    return join(this.blobsDir.path, id);
  }

  /**
   * Streams `body` into a new blob and returns it once it is durable. If `body` throws (a failed
   * checksum, a dropped connection), nothing is left behind and the error propagates.
   */
  async write(body: AsyncIterable<Uint8Array>): Promise<WrittenBlob> {
    this.assertUnchanged(this.tmpDir);
    const tmpPath = join(this.tmpDir.path, `${newBlobId()}.tmp`);
    const file = await open(
      tmpPath,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    const md5 = createHash('md5');
    let size = 0;
    try {
      let batch: Uint8Array[] = [];
      let batchBytes = 0;
      const flush = async () => {
        if (batchBytes > 0) await file.writev(batch);
        batch = [];
        batchBytes = 0;
      };
      for await (const chunk of body) {
        if (chunk.byteLength === 0) continue;
        md5.update(chunk);
        size += chunk.byteLength;
        batch.push(chunk);
        batchBytes += chunk.byteLength;
        if (batchBytes >= WRITE_BATCH_BYTES) await flush();
      }
      await flush();
      await file.sync();
      await file.close();
    } catch (e) {
      await file.close().catch(() => undefined);
      await unlink(tmpPath).catch(() => undefined);
      throw e;
    }
    const id = newBlobId();
    try {
      this.assertUnchanged(this.blobsDir);
      await rename(tmpPath, join(this.blobsDir.path, id));
      await syncDirectory(this.blobsDir.path);
    } catch (e) {
      await unlink(tmpPath).catch(() => undefined);
      throw e;
    }
    return { id, size, md5: md5.digest() };
  }

  /**
   * Opens a blob for reading, synchronously, so that a caller who has just read the index can open
   * the file before any other request gets the chance to replace and unlink it.
   */
  openForRead(id: string): number {
    this.assertUnchanged(this.blobsDir);
    let fd: number;
    try {
      fd = openSync(this.pathOf(id), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw storeCorrupted(`blob ${id} is a symbolic link`);
      if (code === 'ENOENT') throw storeCorrupted(`blob ${id} is missing`);
      throw e;
    }
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      throw storeCorrupted(`blob ${id} is not a regular file`);
    }
    return fd;
  }

  /** The blob's path, after checking it is a regular file of the store (not a link to elsewhere). */
  verifiedPath(id: string): string {
    this.assertUnchanged(this.blobsDir);
    const path = this.pathOf(id);
    let stats: Stats;
    try {
      stats = lstatSync(path);
    } catch {
      throw storeCorrupted(`blob ${id} is missing`);
    }
    if (!stats.isFile()) throw storeCorrupted(`blob ${id} is not a regular file`);
    return path;
  }

  /** Removes a blob; one that is already gone is fine (removal is retried after crashes). */
  async remove(id: string): Promise<void> {
    await unlink(this.pathOf(id)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  /** Ids of every blob file present (other names are not the store's and are left alone). */
  async listIds(): Promise<string[]> {
    return (await readdir(this.blobsDir.path)).filter((name) => BLOB_ID.test(name));
  }

  private assertUnchanged(dir: DirIdentity): void {
    let stats: Stats;
    try {
      stats = lstatSync(dir.path);
    } catch {
      throw storeCorrupted(`${dir.path} has disappeared`);
    }
    if (!stats.isDirectory() || stats.dev !== dir.dev || stats.ino !== dir.ino) {
      throw storeCorrupted(`${dir.path} has been replaced since the store was opened`);
    }
  }
}

export function newBlobId(): string {
  return randomBytes(16).toString('hex');
}

/** The directory at `path` (created if missing), which must be a real directory, not a symlink. */
async function realDirectory(path: string): Promise<DirIdentity> {
  await mkdir(path, { recursive: true });
  const stats = await lstat(path);
  if (!stats.isDirectory()) throw storeCorrupted(`${path} is not a directory (a symbolic link?)`);
  return { path, dev: stats.dev, ino: stats.ino };
}

/** Makes a rename in `path` durable: the directory entry itself must reach the disk. */
async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
