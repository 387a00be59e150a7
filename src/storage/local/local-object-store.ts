/**
 * The embedded object store: an S3-like store under the data dir (`<dataDir>/objects`), served on
 * the API port by the S3 endpoint and read directly by the data plane.
 *
 * Layout: `index.sqlite` (buckets, objects, uploads, parts; see object-index.ts), `blobs/<random id>`
 * (the bytes; see blob-files.ts) and `tmp/` (blobs being written). Keys live only in the index.
 *
 * Writes go: stream into tmp/ (hashing) → fsync → rename into blobs/ → one index transaction points
 * the key at the new blob → the blob it pointed at before is unlinked. A crash at any point leaves
 * either the old object or the new one readable; blobs orphaned by a crash are removed at the next
 * open.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  bucketAlreadyExists,
  decodeTagging,
  encodeTagging,
  fedTo,
  noSuchBucket,
  noSuchKey,
  type BodyHeaders,
  ObjectStoreError,
  preconditionFailed,
  type BucketInfo,
  type ByteRange,
  type CompletedPart,
  type CompleteOptions,
  type ListOptions,
  type ListPartsOptions,
  type ListPartsResult,
  type ListResult,
  type ListUploadsOptions,
  type ListUploadsResult,
  type ObjectInfo,
  type ObjectStore,
  type ObjectTag,
  type PartInfo,
  type PartOptions,
  type PutOptions,
  type UploadInfo,
  type WriteConditions,
} from '../object-store.js';
import { BlobFiles } from './blob-files.js';
import { assertValidBucketName } from './bucket-names.js';
import { isDiskFull } from '../../core/errors.js';
import { DiskReserve } from '../disk-reserve.js';
import {
  COMPLETED_UPLOAD_MEMORY_MS,
  ObjectIndex,
  type BucketRow,
  type ObjectIndexOptions,
  type ObjectRow,
  type Refusal,
  type UploadPosition,
  type UploadRow,
  type WriteGuard,
} from './object-index.js';
import { keyBytes, prefixUpperBound, successorOf, textBytes } from './object-keys.js';
import {
  bucketAlreadyOwnedByYou,
  bucketNotEmpty,
  entityTooSmall,
  invalidArgument,
  invalidPart,
  invalidPartOrder,
  insufficientStorage,
  invalidRange,
  malformedXml,
  noSuchUpload,
} from './store-errors.js';

/** S3's smallest part (all but the last). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PART_NUMBER = 10_000;
const DEFAULT_MAX_KEYS = 1000;

export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local' as const;
  /** Uploads whose parts are being assembled: their parts must not change underneath. */
  private readonly completing = new Set<string>();
  private closed = false;

  private constructor(
    private readonly index: ObjectIndex,
    private readonly blobs: BlobFiles,
    private readonly reserve: DiskReserve,
  ) {}

  /**
   * Opens the store under `rootDir`, by default removing what interrupted writes left behind (blobs
   * being written, blobs no index row refers to). Another process sharing a store that is already
   * open passes `removeLeftovers: false`: to it, another process's write in progress looks the same.
   * `reserve` is the data dir's disk reserve (none by default), which lets deletes work on a full
   * disk.
   */
  static async open(
    rootDir: string,
    options: { removeLeftovers?: boolean; reserve?: DiskReserve } & ObjectIndexOptions = {},
  ): Promise<LocalObjectStore> {
    const removeLeftovers = options.removeLeftovers ?? true;
    await mkdir(rootDir, { recursive: true });
    const blobs = await BlobFiles.open(rootDir, { emptyTmp: removeLeftovers });
    const index = new ObjectIndex(join(rootDir, 'index.sqlite'), options);
    const store = new LocalObjectStore(index, blobs, options.reserve ?? DiskReserve.none());
    try {
      if (removeLeftovers) await store.removeOrphanBlobs();
    } catch (e) {
      index.close();
      throw e;
    }
    return store;
  }

  // Buckets ---------------------------------------------------------------------------------------

  async listBuckets(): Promise<BucketInfo[]> {
    return this.index.buckets().map(toBucketInfo);
  }

  async createBucket(bucket: string, owner: string, region?: string): Promise<void> {
    return this.writing(async () => {
      assertValidBucketName(bucket);
      const refusal = this.index.createBucket(bucket, Date.now(), owner, region ?? null);
      if (refusal) throw refusalError(refusal, bucket);
    });
  }

  async deleteBucket(bucket: string, expectedOwner?: string): Promise<void> {
    return this.deleting(async () => {
      const result = this.index.deleteBucket(bucket, expectedOwner);
      if (typeof result === 'string') throw refusalError(result, bucket);
      await this.removeBlobs(result.partBlobs);
    });
  }

  async bucketOwner(bucket: string): Promise<string | undefined> {
    return this.index.bucket(bucket)?.owner;
  }

  async bucketInfo(bucket: string): Promise<BucketInfo | undefined> {
    const row = this.index.bucket(bucket);
    return row && toBucketInfo(row);
  }

  // Objects ---------------------------------------------------------------------------------------

  async putObject(
    bucket: string,
    key: string,
    body: AsyncIterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<ObjectInfo> {
    return this.writing(async () => {
      const keyBinary = keyBytes(key);
      const metadata = encodeMetadata(options.metadata);
      this.requireBucket(bucket);
      const blob = await this.blobs.write(fedTo(body, options.bodyHeaders));
      const storedHeaders = await this.withBodyHeaders(blob.id, options.headers, options.bodyHeaders);
      const headers = encodeHeaders({ ...options, ...(storedHeaders ? { headers: storedHeaders } : {}) });
      const lastModified = Date.now();
      const etag = quote(blob.md5.toString('hex'));
      const result = await this.recordBlob(blob.id, bucket, '', () =>
        this.index.putObject(
          {
            bucket,
            key: keyBinary,
            size: blob.size,
            etag,
            contentType: options.contentType ?? null,
            metadata,
            headers,
            lastModified,
            blob: blob.id,
          },
          writeGuard(options.conditions),
        ),
        key,
      );
      if (result.replacedBlob) await this.blobs.remove(result.replacedBlob);
      return toObjectInfo({
        key: keyBinary,
        size: blob.size,
        etag,
        content_type: options.contentType ?? null,
        metadata,
        headers,
        last_modified: lastModified,
      });
    });
  }

  async getObject(
    bucket: string,
    key: string,
    range?: ByteRange,
  ): Promise<{ info: ObjectInfo; body: Readable; range?: ByteRange }> {
    // No await before the file is open: a concurrent overwrite unlinks the old blob only after its
    // own index transaction, so the row read here and the file opened here belong together.
    const row = this.requireObject(bucket, key);
    const served = range === undefined ? undefined : satisfiableRange(range, row.size);
    const fd = this.blobs.openForRead(row.blob);
    const info = toObjectInfo(row);
    const start = served?.start ?? 0;
    const end = served?.end ?? row.size - 1;
    if (end < start) {
      closeSync(fd);
      return { info, body: Readable.from([]), ...(served ? { range: served } : {}) };
    }
    const body = createReadStream('', { fd, start, end, autoClose: true });
    return { info, body, ...(served ? { range: served } : {}) };
  }

  async headObject(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    const keyBinary = keyBytes(key);
    this.requireBucket(bucket);
    const row = this.index.object(bucket, keyBinary);
    return row && toObjectInfo(row);
  }

  async deleteObject(bucket: string, key: string, conditions?: WriteConditions): Promise<void> {
    return this.deleting(async () => {
      const result = this.index.deleteObject(bucket, keyBytes(key), writeGuard(conditions));
      if (typeof result === 'string') throw refusalError(result, bucket, '', key);
      if (result.removedBlob) await this.blobs.remove(result.removedBlob);
    });
  }

  async getObjectTagging(bucket: string, key: string): Promise<ObjectTag[]> {
    return splitStoredHeaders(this.requireObject(bucket, key).headers).tags;
  }

  async putObjectTagging(bucket: string, key: string, tags: ObjectTag[]): Promise<void> {
    return this.writing(async () => {
      const refusal = this.index.updateObjectHeaders(bucket, keyBytes(key), (stored) =>
        encodeHeaders({ headers: splitStoredHeaders(stored).headers, tags }),
      );
      if (refusal === 'no-such-key') throw noSuchKey(bucket, key);
      if (refusal) throw refusalError(refusal, bucket);
    });
  }

  async listObjects(bucket: string, options: ListOptions): Promise<ListResult> {
    this.requireBucket(bucket);
    const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    if (!Number.isInteger(maxKeys) || maxKeys < 0) throw invalidArgument('maxKeys must be a non-negative integer.');
    const empty: ListResult = { objects: [], commonPrefixes: [], isTruncated: false };
    if (maxKeys === 0) return empty;
    const prefix = options.prefix ?? '';
    const delimiter = options.delimiter === '' ? undefined : options.delimiter;
    const prefixBinary = textBytes(prefix);
    const upperBound = prefixUpperBound(prefixBinary);

    let from = prefixBinary;
    if (options.startAfter) {
      const skipTo = this.listingResumePoint(options.startAfter, prefix, delimiter);
      if (skipTo === undefined) return empty;
      if (Buffer.compare(skipTo, from) > 0) from = skipTo;
    }

    // One entry more than asked for tells whether the listing is truncated.
    const entries: Array<{ row: ObjectRow } | { commonPrefix: string }> = [];
    scan: while (entries.length <= maxKeys) {
      if (upperBound && Buffer.compare(from, upperBound) >= 0) break;
      const limit = maxKeys + 1 - entries.length;
      const rows = this.index.objectsInRange(bucket, from, upperBound, limit);
      for (const row of rows) {
        const key = row.key.toString('utf8');
        const cut = delimiter === undefined ? -1 : key.indexOf(delimiter, prefix.length);
        if (cut >= 0) {
          // Everything under this common prefix rolls up into one entry: jump past all of it.
          const commonPrefix = key.slice(0, cut + delimiter!.length);
          entries.push({ commonPrefix });
          const next = prefixUpperBound(Buffer.from(commonPrefix, 'utf8'));
          if (next === undefined) break scan;
          from = next;
          continue scan;
        }
        entries.push({ row });
        from = successorOf(row.key);
        if (entries.length > maxKeys) break scan;
      }
      if (rows.length < limit) break;
    }

    const isTruncated = entries.length > maxKeys;
    if (isTruncated) entries.length = maxKeys;
    const last = entries[entries.length - 1];
    return {
      objects: entries.flatMap((entry) => ('row' in entry ? [toObjectInfo(entry.row)] : [])),
      commonPrefixes: entries.flatMap((entry) => ('commonPrefix' in entry ? [entry.commonPrefix] : [])),
      isTruncated,
      ...(isTruncated && last ? { nextStartAfter: 'row' in last ? last.row.key.toString('utf8') : last.commonPrefix } : {}),
    };
  }

  // Multipart uploads -----------------------------------------------------------------------------

  async createMultipartUpload(bucket: string, key: string, options: PutOptions = {}): Promise<string> {
    return this.writing(async () => {
      const keyBinary = keyBytes(key);
      // Hex, not base64url: an id starting with '-' is read as an option by the AWS CLI's
      // `--upload-id <id>`, so one upload in 64 could not be continued from a shell.
      const uploadId = randomBytes(24).toString('hex');
      const refusal = this.index.createUpload(
        {
          upload_id: uploadId,
          bucket,
          key: keyBinary,
          content_type: options.contentType ?? null,
          metadata: encodeMetadata(options.metadata),
          headers: encodeHeaders(options),
          initiated: Date.now(),
        },
        options.conditions?.expectedBucketOwner,
      );
      if (refusal) throw refusalError(refusal, bucket, uploadId);
      return uploadId;
    });
  }

  async uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: AsyncIterable<Uint8Array>,
    options: PartOptions = {},
  ): Promise<PartInfo> {
    return this.writing(async () => {
      if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
        throw invalidArgument(`Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive.`);
      }
      this.requireOpenUpload(bucket, key, uploadId);
      const blob = await this.blobs.write(fedTo(body, options.bodyHeaders));
      const headers = await this.withBodyHeaders(blob.id, options.headers, options.bodyHeaders);
      const etag = quote(blob.md5.toString('hex'));
      const lastModified = Date.now();
      // Checked again: the upload may have been completed or aborted while the part was streaming.
      const result = await this.recordBlob(blob.id, bucket, uploadId, () =>
        this.completing.has(uploadId)
          ? 'no-such-upload'
          : this.index.putPart(uploadId, {
              part_number: partNumber,
              size: blob.size,
              etag,
              headers: encodeHeaders(headers ? { headers } : {}),
              last_modified: lastModified,
              blob: blob.id,
            }),
      );
      if (result.replacedBlob) await this.blobs.remove(result.replacedBlob);
      return { partNumber, etag, size: blob.size, lastModified, ...(headers ? { headers } : {}) };
    });
  }

  async completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletedPart[],
    options: CompleteOptions = {},
  ): Promise<ObjectInfo> {
    return this.writing(async () => {
      const done = this.justCompleted(bucket, key, uploadId);
      if (done) return done;
      const upload = this.requireOpenUpload(bucket, key, uploadId);
      if (parts.length === 0) throw malformedXml('a multipart upload is completed with at least one part');
      const stored = new Map(this.index.parts(uploadId).map((part) => [part.part_number, part]));
      const chosen = parts.map((part, i) => {
        if (i > 0 && part.partNumber <= parts[i - 1]!.partNumber) throw invalidPartOrder();
        const found = stored.get(part.partNumber);
        if (!found) throw invalidPart(part.partNumber, 'not uploaded');
        if (unquote(found.etag) !== unquote(part.etag).toLowerCase()) throw invalidPart(part.partNumber, 'ETag differs');
        return found;
      });
      chosen.forEach((part, i) => {
        if (i < chosen.length - 1 && part.size < MIN_PART_BYTES) throw entityTooSmall(part.part_number, part.size, MIN_PART_BYTES);
      });

      this.completing.add(uploadId);
      try {
        const blobs = this.blobs;
        const assembled = async function* (): AsyncGenerator<Uint8Array> {
          for (const part of chosen) {
            yield* createReadStream('', { fd: blobs.openForRead(part.blob), autoClose: true });
          }
        };
        let blob;
        try {
          blob = await this.blobs.write(fedTo(assembled(), options.bodyHeaders));
        } catch (e) {
          if (!this.index.upload(uploadId)) throw noSuchUpload(uploadId); // aborted meanwhile
          throw e;
        }
        const kept = splitStoredHeaders(upload.headers);
        const bodyHeaders = await this.withBodyHeaders(blob.id, options.headers ?? kept.headers, options.bodyHeaders);
        const headers = encodeHeaders({ ...(bodyHeaders ? { headers: bodyHeaders } : {}), tags: kept.tags });
        const partDigests = chosen.map((part) => Buffer.from(unquote(part.etag), 'hex'));
        const etag = quote(`${createHash('md5').update(Buffer.concat(partDigests)).digest('hex')}-${chosen.length}`);
        const lastModified = Date.now();
        const result = await this.recordBlob(
          blob.id,
          bucket,
          uploadId,
          () =>
            this.index.completeUpload(
              uploadId,
              {
                bucket,
                key: upload.key,
                size: blob.size,
                etag,
                contentType: upload.content_type,
                metadata: upload.metadata,
                headers,
                lastModified,
                blob: blob.id,
              },
              writeGuard(options.conditions),
              lastModified - COMPLETED_UPLOAD_MEMORY_MS,
            ),
          key,
        );
        await this.removeBlobs([...result.partBlobs, ...(result.replacedBlob ? [result.replacedBlob] : [])]);
        return toObjectInfo({ ...upload, size: blob.size, etag, headers, last_modified: lastModified });
      } finally {
        this.completing.delete(uploadId);
      }
    });
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    return this.deleting(async () => {
      this.requireOpenUpload(bucket, key, uploadId);
      const result = this.index.deleteUpload(uploadId);
      if (typeof result === 'string') throw refusalError(result, bucket, uploadId);
      await this.removeBlobs(result.partBlobs);
    });
  }

  async uploadHeaders(bucket: string, key: string, uploadId: string): Promise<Record<string, string>> {
    return splitStoredHeaders(this.requireOpenUpload(bucket, key, uploadId).headers).headers;
  }

  async listParts(bucket: string, key: string, uploadId: string, options: ListPartsOptions = {}): Promise<ListPartsResult> {
    this.requireOpenUpload(bucket, key, uploadId);
    const marker = options.partNumberMarker ?? 0;
    const maxParts = options.maxParts ?? DEFAULT_MAX_KEYS;
    // One part more than asked for tells whether the listing is truncated.
    const rows = this.index.partsAfter(uploadId, marker, maxParts + 1);
    const page = rows.slice(0, maxParts);
    return {
      parts: page.map((part) => ({
        partNumber: part.part_number,
        etag: part.etag,
        size: part.size,
        lastModified: part.last_modified,
        ...(part.headers !== null ? { headers: splitStoredHeaders(part.headers).headers } : {}),
      })),
      isTruncated: rows.length > maxParts,
      nextPartNumberMarker: page[page.length - 1]?.part_number ?? marker,
    };
  }

  async listMultipartUploads(bucket: string, options: ListUploadsOptions): Promise<ListUploadsResult> {
    this.requireBucket(bucket);
    const maxUploads = options.maxUploads ?? DEFAULT_MAX_KEYS;
    if (!Number.isInteger(maxUploads) || maxUploads < 0) throw invalidArgument('maxUploads must be a non-negative integer.');
    const prefix = options.prefix ?? '';
    const delimiter = options.delimiter === '' ? undefined : options.delimiter;
    const prefixBinary = textBytes(prefix);
    const keyMarker = options.keyMarker ?? '';
    // The upload-id-marker counts only with a key-marker (as in S3).
    const uploadIdMarker = keyMarker !== '' ? options.uploadIdMarker : undefined;
    // A key-marker that is a common prefix of this listing (a page ended on it) skips all it rolls up.
    const markerIsCommonPrefix =
      delimiter !== undefined &&
      keyMarker !== '' &&
      keyMarker.startsWith(prefix) &&
      keyMarker.indexOf(delimiter, prefix.length) === keyMarker.length - delimiter.length;
    const marker = this.uploadMarker(bucket, keyMarker, uploadIdMarker);
    const upperBound = prefixUpperBound(prefixBinary);

    // Rows are read in pages, in listing order, from the prefix or past the marker, whichever is later.
    let position: UploadPosition = { key: prefixBinary, initiated: -1, uploadId: '' };
    if (keyMarker !== '') {
      const markerPosition = markerIsCommonPrefix
        ? beforeKey(prefixUpperBound(textBytes(keyMarker)))
        : uploadMarkerPosition(textBytes(keyMarker), marker);
      if (markerPosition === null) return { uploads: [], commonPrefixes: [], isTruncated: false };
      if (Buffer.compare(markerPosition.key, position.key) >= 0) position = markerPosition;
    }

    // One entry more than asked for tells whether the listing is truncated.
    const entries: Array<{ upload: UploadInfo } | { commonPrefix: string }> = [];
    scan: while (entries.length <= maxUploads) {
      if (upperBound && Buffer.compare(position.key, upperBound) >= 0) break;
      const limit = maxUploads + 1 - entries.length;
      const rows = this.index.uploadsAfter(bucket, position, upperBound, limit);
      for (const row of rows) {
        position = { key: row.key, initiated: row.initiated, uploadId: row.upload_id };
        const key = row.key.toString('utf8');
        if (keyMarker !== '' && !isAfterMarker(row, key, keyMarker, marker)) continue;
        const cut = delimiter === undefined ? -1 : key.indexOf(delimiter, prefix.length);
        if (cut >= 0) {
          // Every upload under this common prefix rolls up into one entry: jump past all of them.
          const commonPrefix = key.slice(0, cut + delimiter!.length);
          entries.push({ commonPrefix });
          const next = beforeKey(prefixUpperBound(Buffer.from(commonPrefix, 'utf8')));
          if (next === null) break scan;
          position = next;
          continue scan;
        }
        entries.push({ upload: { key, uploadId: row.upload_id, initiated: row.initiated, headers: splitStoredHeaders(row.headers).headers } });
        if (entries.length > maxUploads) break scan;
      }
      if (rows.length < limit) break;
    }
    const isTruncated = entries.length > maxUploads;
    if (isTruncated) entries.length = maxUploads;
    const last = entries[entries.length - 1];
    return {
      uploads: entries.flatMap((entry) => ('upload' in entry ? [entry.upload] : [])),
      commonPrefixes: entries.flatMap((entry) => ('commonPrefix' in entry ? [entry.commonPrefix] : [])),
      isTruncated,
      ...(isTruncated && last
        ? 'upload' in last
          ? { nextKeyMarker: last.upload.key, nextUploadIdMarker: last.upload.uploadId }
          : { nextKeyMarker: last.commonPrefix }
        : {}),
    };
  }

  /**
   * Aborts the multipart uploads initiated before `time` (epoch ms) and removes their parts from
   * disk, except uploads being completed right now. Returns how many were aborted.
   */
  async abortUploadsInitiatedBefore(time: number): Promise<number> {
    let aborted = 0;
    for (const uploadId of this.index.uploadsInitiatedBefore(time)) {
      if (this.completing.has(uploadId)) continue;
      const removed = await this.deleting(async () => {
        const result = this.index.deleteUpload(uploadId);
        if (typeof result === 'string') return false; // aborted or completed meanwhile
        await this.removeBlobs(result.partBlobs);
        return true;
      });
      if (removed) aborted += 1;
    }
    return aborted;
  }

  // Direct access ---------------------------------------------------------------------------------

  /**
   * The blob file itself; nothing to release. The path stays readable until the object is
   * overwritten or deleted (a reader that already opened it keeps its bytes even then).
   */
  async localCopy(bucket: string, key: string): Promise<{ path: string; release: () => Promise<void> }> {
    const row = this.requireObject(bucket, key);
    return { path: this.blobs.verifiedPath(row.blob), release: async () => undefined };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.index.close();
  }

  // Helpers ---------------------------------------------------------------------------------------

  /**
   * Runs a write that takes space: refused up front while the disk reserve cannot be made whole
   * (the space left belongs to deletes), and answered InsufficientStorage if the disk fills under it.
   */
  private async writing<T>(write: () => Promise<T>): Promise<T> {
    if (!this.reserve.refill()) throw insufficientStorage();
    try {
      return await write();
    } catch (e) {
      throw isDiskFull(e) ? insufficientStorage() : e;
    }
  }

  /**
   * Runs the index transaction that makes a freshly written blob part of the store. If the index
   * refuses (or fails: a full disk), the blob is removed again, so it takes no space for nothing.
   */
  private async recordBlob<R extends object>(
    blobId: string,
    bucket: string,
    uploadId: string,
    record: () => Refusal | R,
    key = '',
  ): Promise<R> {
    let result: Refusal | R;
    try {
      result = record();
    } catch (e) {
      await this.blobs.remove(blobId);
      throw e;
    }
    if (typeof result === 'string') {
      await this.blobs.remove(blobId);
      throw refusalError(result, bucket, uploadId, key);
    }
    return result;
  }

  /**
   * `headers` with those computed from the stored bytes added; if computing them fails, the blob just
   * written is removed (nothing refers to it yet).
   */
  private async withBodyHeaders(
    blobId: string,
    headers: Record<string, string> | undefined,
    bodyHeaders: BodyHeaders | undefined,
  ): Promise<Record<string, string> | undefined> {
    if (!bodyHeaders) return headers;
    try {
      return { ...headers, ...(await bodyHeaders.headers()) };
    } catch (e) {
      await this.blobs.remove(blobId);
      throw e;
    }
  }

  /** Runs a delete, which may use the disk reserve to commit on a full disk (see DiskReserve). */
  private async deleting<T>(deletion: () => Promise<T>): Promise<T> {
    try {
      return await this.reserve.freeing(deletion);
    } catch (e) {
      throw isDiskFull(e) ? insufficientStorage() : e;
    }
  }

  private requireBucket(bucket: string): void {
    if (!this.index.bucket(bucket)) throw noSuchBucket(bucket);
  }

  private requireObject(bucket: string, key: string): ObjectRow {
    const keyBinary = keyBytes(key);
    this.requireBucket(bucket);
    const row = this.index.object(bucket, keyBinary);
    if (!row) throw noSuchKey(bucket, key);
    return row;
  }

  /**
   * The object an upload of this bucket and key made, when it was completed lately: S3 answers a
   * repeated CompleteMultipartUpload (a client retrying after a lost response) with it.
   */
  private justCompleted(bucket: string, key: string, uploadId: string): ObjectInfo | undefined {
    const done = this.index.completedUpload(uploadId, Date.now() - COMPLETED_UPLOAD_MEMORY_MS);
    if (!done || done.bucket !== bucket || !done.key.equals(keyBytes(key))) return undefined;
    const current = this.index.object(bucket, done.key);
    // The object as it is now when it still is the upload's; otherwise what the upload made.
    if (current && current.etag === done.etag) return toObjectInfo(current);
    return { key, size: done.size, etag: done.etag, lastModified: done.completed };
  }

  /** The upload, which must exist for this very bucket and key and not be completing. */
  private requireOpenUpload(bucket: string, key: string, uploadId: string) {
    const keyBinary = keyBytes(key);
    this.requireBucket(bucket);
    const upload = this.index.upload(uploadId);
    if (!upload || upload.bucket !== bucket || !upload.key.equals(keyBinary) || this.completing.has(uploadId)) {
      throw noSuchUpload(uploadId);
    }
    return upload;
  }

  /**
   * Where a listing continues after `startAfter`: just past it, or, when it is a common prefix this
   * listing would produce (a page ended on it), past everything that rolls up into it. Undefined
   * when nothing can follow.
   */
  private listingResumePoint(startAfter: string, prefix: string, delimiter: string | undefined): Buffer | undefined {
    const after = textBytes(startAfter);
    if (delimiter !== undefined && startAfter.startsWith(prefix)) {
      const cut = startAfter.indexOf(delimiter, prefix.length);
      if (cut >= 0 && cut + delimiter.length === startAfter.length) return prefixUpperBound(after);
    }
    return successorOf(after);
  }

  /** Where the upload named by a key-marker and upload-id-marker stands in listing order. */
  private uploadMarker(bucket: string, keyMarker: string, uploadIdMarker: string | undefined): UploadMarker | undefined {
    if (uploadIdMarker === undefined) return undefined;
    const upload = this.index.upload(uploadIdMarker);
    if (upload && upload.bucket === bucket && upload.key.toString('utf8') === keyMarker) {
      return { initiated: upload.initiated, uploadId: uploadIdMarker };
    }
    // An upload that is gone: S3 compares upload ids of the marker's key lexicographically.
    return { uploadId: uploadIdMarker };
  }

  private async removeBlobs(ids: readonly string[]): Promise<void> {
    for (const id of ids) await this.blobs.remove(id);
  }

  /** Blobs no index row refers to: left by a crash between the rename and the transaction, or after it. */
  private async removeOrphanBlobs(): Promise<void> {
    const referenced = this.index.referencedBlobs();
    for (const id of await this.blobs.listIds()) {
      if (!referenced.has(id)) await this.blobs.remove(id);
    }
  }
}

interface UploadMarker {
  initiated?: number;
  uploadId: string;
}

/** Whether an upload comes after the key-marker (and, within its key, after the upload-id-marker). */
function isAfterMarker(row: UploadRow, key: string, keyMarker: string, marker: UploadMarker | undefined): boolean {
  const byKey = Buffer.compare(row.key, textBytes(keyMarker));
  if (byKey !== 0) return byKey > 0;
  if (marker === undefined) return false;
  if (marker.initiated === undefined) return row.upload_id > marker.uploadId;
  return row.initiated > marker.initiated || (row.initiated === marker.initiated && row.upload_id > marker.uploadId);
}

/** Where a listing resumes after a key-marker (and upload-id-marker). */
function uploadMarkerPosition(keyMarker: Buffer, marker: UploadMarker | undefined): UploadPosition | null {
  if (marker === undefined) return beforeKey(successorOf(keyMarker)); // past every upload of the key
  if (marker.initiated !== undefined) return { key: keyMarker, initiated: marker.initiated, uploadId: marker.uploadId };
  // The marker's upload is gone: the uploads of its key are sorted out by id (isAfterMarker).
  return beforeKey(keyMarker);
}

/** The first place in listing order for uploads of `key` and later keys; null when there is no such key (no upper bound left). */
function beforeKey(key: Buffer | undefined): UploadPosition | null {
  return key === undefined ? null : { key, initiated: -1, uploadId: '' };
}

function writeGuard(conditions: WriteConditions | undefined): WriteGuard {
  if (!conditions) return {};
  return {
    ...(conditions.expectedBucketOwner !== undefined ? { owner: conditions.expectedBucketOwner } : {}),
    ...(conditions.ifMatch !== undefined ? { ifMatch: unquote(conditions.ifMatch.trim()) } : {}),
    ...(conditions.ifNoneMatch === '*' ? { ifNoneMatch: true } : {}),
  };
}

function toBucketInfo(row: BucketRow): BucketInfo {
  return { name: row.name, createdOn: row.createdOn, owner: row.owner, ...(row.region !== null ? { region: row.region } : {}) };
}

/** The bucket changed hands between an account view's check and the write (see account-object-store.ts). */
const bucketOfAnotherAccount = (bucket: string) =>
  new ObjectStoreError('AccessDenied', `Access Denied: bucket ${bucket} belongs to another account.`, 403);

function refusalError(refusal: Refusal, bucket: string, uploadId = '', key = '') {
  switch (refusal) {
    case 'no-such-bucket':
      return noSuchBucket(bucket);
    case 'bucket-exists':
      return bucketAlreadyOwnedByYou(bucket);
    case 'bucket-of-another-owner':
      return bucketAlreadyExists();
    case 'bucket-not-empty':
      return bucketNotEmpty(bucket);
    case 'no-such-upload':
      return noSuchUpload(uploadId);
    case 'access-denied':
      return bucketOfAnotherAccount(bucket);
    case 'no-such-key':
      return noSuchKey(bucket, key);
    case 'if-match-failed':
      return preconditionFailed('If-Match');
    case 'if-none-match-failed':
      return preconditionFailed('If-None-Match');
  }
}

/** The part of `range` that lies inside an object of `size` bytes, or InvalidRange. */
function satisfiableRange(range: ByteRange, size: number): ByteRange {
  const { start, end } = range;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || start >= size) {
    throw invalidRange(size);
  }
  return { start, end: Math.min(end, size - 1) };
}

function toObjectInfo(
  row: Pick<ObjectRow, 'key' | 'size' | 'etag' | 'content_type' | 'metadata' | 'headers' | 'last_modified'>,
): ObjectInfo {
  const { headers, tags } = splitStoredHeaders(row.headers);
  return {
    key: row.key.toString('utf8'),
    size: row.size,
    etag: row.etag,
    lastModified: row.last_modified,
    ...(row.content_type !== null ? { contentType: row.content_type } : {}),
    ...(row.metadata !== null ? { metadata: JSON.parse(row.metadata) as Record<string, string> } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(tags.length > 0 ? { tagCount: tags.length } : {}),
  };
}

/** The headers column keeps an object's (or upload's) tags too, as S3's x-amz-tagging header. */
const TAGGING_HEADER = 'x-amz-tagging';

function encodeHeaders(options: Pick<PutOptions, 'headers' | 'tags'>): string | null {
  const tags = options.tags ?? [];
  const stored = { ...options.headers, ...(tags.length > 0 ? { [TAGGING_HEADER]: encodeTagging(tags) } : {}) };
  return Object.keys(stored).length === 0 ? null : JSON.stringify(stored);
}

function splitStoredHeaders(json: string | null): { headers: Record<string, string>; tags: ObjectTag[] } {
  const { [TAGGING_HEADER]: tagging, ...headers } = json !== null ? (JSON.parse(json) as Record<string, string>) : {};
  return { headers, tags: tagging !== undefined ? decodeTagging(tagging) : [] };
}

function encodeMetadata(metadata: Record<string, string> | undefined): string | null {
  if (metadata === undefined) return null;
  for (const [name, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw invalidArgument(`Metadata value for '${name}' must be a string.`);
  }
  return JSON.stringify(metadata);
}

const quote = (hex: string) => `"${hex}"`;
const unquote = (etag: string) => etag.replace(/^"|"$/g, '');
