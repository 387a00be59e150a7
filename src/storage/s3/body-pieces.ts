import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

/**
 * Cuts a stream into pieces of exactly `sizeOf(n)` bytes for piece n = 1, 2, ... (the last one may
 * be shorter; an empty stream yields nothing). Only one piece is held in memory at a time: the
 * generator does not read on until the consumer asks for the next piece.
 */
export async function* fixedSizePieces(
  body: AsyncIterable<Uint8Array>,
  sizeOf: (pieceNumber: number) => number,
): AsyncGenerator<Buffer> {
  let pieceNumber = 1;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for await (const chunk of body) {
    if (chunk.length === 0) continue;
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes >= sizeOf(pieceNumber)) {
      const size = sizeOf(pieceNumber);
      const joined = Buffer.concat(pending, pendingBytes);
      yield joined.subarray(0, size);
      pieceNumber += 1;
      pending = pendingBytes > size ? [joined.subarray(size)] : [];
      pendingBytes -= size;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

/** A body whose length is known before it is sent, as S3 requires of a part. */
export interface SpooledBody {
  length: number;
  /** A fresh reader of the bytes (a Buffer while small, a file stream once spilled to disk). */
  open(): Buffer | Readable;
  dispose(): Promise<void>;
}

/**
 * Reads a stream of unknown length so its length can be declared: in memory up to
 * `memoryLimit` bytes, beyond that in a temporary file, so a large part never sits in memory.
 */
export async function spoolBody(body: AsyncIterable<Uint8Array>, memoryLimit: number): Promise<SpooledBody> {
  const iterator = body[Symbol.asyncIterator]();
  const held: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) {
      const bytes = Buffer.concat(held, length);
      return { length, open: () => bytes, dispose: async () => {} };
    }
    held.push(next.value);
    length += next.value.length;
    if (length > memoryLimit) break;
  }

  const file = await createTempFile('part');
  try {
    const out = createWriteStream(file.path);
    const outDone = finished(out);
    outDone.catch(() => {}); // observed below; keeps an early write error from going unhandled
    const write = async (chunk: Uint8Array) => {
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), outDone]);
    };
    for (const chunk of held) await write(chunk);
    held.length = 0;
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      length += next.value.length;
      await write(next.value);
    }
    out.end();
    await outDone;
  } catch (err) {
    await file.remove();
    throw err;
  }
  return { length, open: () => createReadStream(file.path), dispose: file.remove };
}

/** A file name nobody else uses, in a directory of its own under os.tmpdir(). */
export async function createTempFile(name: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'doppel-s3-'));
  return { path: join(dir, name), remove: () => rm(dir, { recursive: true, force: true }) };
}
