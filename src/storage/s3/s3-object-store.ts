/**
 * The ObjectStore contract on an external S3-compatible service (AWS S3, MinIO, Ceph, ...), used
 * when DOPPEL_S3_ENDPOINT is set. Bodies stream both ways: a large object is never held in memory.
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
  type ChecksumAlgorithm,
  type ChecksumType,
  type ServerSideEncryption,
  type StorageClass,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import {
  DEFAULT_BUCKET_REGION,
  ObjectStoreError,
  encodeTagging,
  fedTo,
  noSuchBucket,
  type BucketInfo,
  type CompletedPart,
  type CompleteOptions,
  type ByteRange,
  type ListOptions,
  type ListPartsOptions,
  type ListPartsResult,
  type ListUploadsOptions,
  type ListUploadsResult,
  type ListResult,
  type ObjectInfo,
  type ObjectStore,
  type ObjectTag,
  type PartInfo,
  type PartOptions,
  type PutOptions,
  type WriteConditions,
} from '../object-store.js';
import { createTempFile, fixedSizePieces, spoolBody } from './body-pieces.js';
import { toObjectStoreError, type S3RequestTarget } from './s3-errors.js';
import type { S3StoreConfig } from './s3-store-config.js';

export { s3StoreConfigFrom, type S3StoreConfig } from './s3-store-config.js';

const MiB = 1024 * 1024;
/** Part size of a streamed put; an object that fits in one part is sent with a single PutObject. */
const PART_SIZE = 8 * MiB;
/** S3 allows 10,000 parts: doubling the part size every 1,000 parts reaches S3's 5 TiB object limit. */
const partSizeOf = (partNumber: number) => PART_SIZE * 2 ** Math.floor((partNumber - 1) / 1000);
/** An uploadPart body larger than this is spooled to a temporary file to learn its length. */
const PART_MEMORY_LIMIT = 8 * MiB;
const MAX_KEYS = 1000;
/**
 * How long what HeadBucket said of a bucket (there, or not) is trusted. Every call through an
 * account's view asks who owns the bucket first, so without this each object operation would cost
 * a HeadBucket more; buckets created or deleted through this store are known at once, and those
 * created or deleted on the service directly are seen within this time.
 */
export const BUCKET_STATE_TTL_MS = 5_000;
/** Past this many remembered buckets, the expired ones are forgotten. */
const MAX_REMEMBERED_BUCKETS = 1024;

export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  /** The SDK client; exposed so tests can observe the requests it sends. */
  readonly client: S3Client;
  readonly endpoint: string;

  /**
   * `bucketOwnerAccount` owns every bucket of the service: doppel reaches it with one identity and
   * records no owners there, so the buckets go to one account and others are refused.
   */
  /** What HeadBucket last said of a bucket, and until when it is trusted (see BUCKET_STATE_TTL_MS). */
  private readonly knownBuckets = new Map<string, { state: 'exists' | 'missing'; until: number }>();

  constructor(
    config: S3StoreConfig,
    private readonly bucketOwnerAccount: string,
    private readonly bucketStateTtlMs = BUCKET_STATE_TTL_MS,
  ) {
    this.endpoint = config.endpoint;
    this.client = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      credentials: {
        accessKeyId: config.accessKeyId,
        secretAccessKey: config.secretAccessKey,
        ...(config.sessionToken === undefined ? {} : { sessionToken: config.sessionToken }),
      },
      // Since v3.729 (January 2025) the SDK adds a CRC32 checksum to every upload by default: in a
      // header for an in-memory body, but for a streamed body (spooled parts) by re-encoding it as
      // aws-chunked with a trailing checksum. Servers that do not decode aws-chunked store the
      // framing as the object's bytes (s3rver keeps "b\r\nhello world\r\n0\r\nx-amz-checksum-
      // crc32:...\r\n" for an 11-byte stream); older MinIO and Ceph releases and many gateways
      // refuse or mangle it too. Checksums only where an operation requires them keep bodies
      // plain; integrity still rests on TLS and the MD5 ETag the service returns.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async listBuckets(): Promise<BucketInfo[]> {
    const out = await this.send({ operation: 'ListBuckets' }, () => this.client.send(new ListBucketsCommand({})));
    return (out.Buckets ?? []).map((b) => ({
      name: b.Name ?? '',
      createdOn: b.CreationDate?.getTime() ?? 0,
      owner: this.bucketOwnerAccount,
      ...optional('region', b.BucketRegion),
    }));
  }

  /** A region other than the default goes to the service as the LocationConstraint, which it checks by its own rules. */
  async createBucket(bucket: string, owner: string, region?: string): Promise<void> {
    if (owner !== this.bucketOwnerAccount) {
      throw new ObjectStoreError(
        'AccessDenied',
        `Access Denied: the buckets of the external store at ${this.endpoint} belong to account ${this.bucketOwnerAccount}; account ${owner} cannot create one.`,
        403,
      );
    }
    // In us-east-1 S3 answers 200 to a repeated CreateBucket by the owner, and some servers answer
    // BucketAlreadyExists instead; asking first gives the contract's BucketAlreadyOwnedByYou
    // everywhere. Someone else's bucket (HeadBucket 403) is left to CreateBucket, which answers
    // S3's BucketAlreadyExists.
    checkBucketName(bucket);
    const state = await this.bucketState(bucket);
    if (state !== 'missing' && state !== 'forbidden') {
      throw new ObjectStoreError('BucketAlreadyOwnedByYou', `You already own the bucket ${bucket}`, 409);
    }
    await this.send({ operation: 'CreateBucket', bucket }, () =>
      this.client.send(
        new CreateBucketCommand({
          Bucket: bucket,
          ...(region !== undefined && region !== DEFAULT_BUCKET_REGION
            ? { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }
            : {}),
        }),
      ),
    );
    this.remember(bucket, 'exists');
  }

  async deleteBucket(bucket: string, expectedOwner?: string): Promise<void> {
    this.checkExpectedOwner(bucket, expectedOwner);
    await this.send({ operation: 'DeleteBucket', bucket }, () =>
      this.client.send(new DeleteBucketCommand({ Bucket: bucket })),
    );
    this.remember(bucket, 'missing');
  }

  async bucketOwner(bucket: string): Promise<string | undefined> {
    const known = this.knownBuckets.get(bucket);
    let state = known !== undefined && known.until > Date.now() ? known.state : undefined;
    if (state === undefined) {
      const asked = await this.bucketState(bucket);
      if (asked === 'forbidden') {
        // HeadBucket has no body, so the SDK cannot say more than "forbidden": the bucket exists
        // but these credentials may not use it (or the credentials are wrong).
        throw new ObjectStoreError('AccessDenied', `Access denied to bucket ${bucket} at ${this.endpoint}`, 403);
      }
      state = asked === 'missing' ? 'missing' : 'exists';
      this.remember(bucket, state);
    }
    return state === 'missing' ? undefined : this.bucketOwnerAccount;
  }

  private remember(bucket: string, state: 'exists' | 'missing'): void {
    if (this.knownBuckets.size >= MAX_REMEMBERED_BUCKETS) {
      const now = Date.now();
      for (const [name, known] of this.knownBuckets) if (known.until <= now) this.knownBuckets.delete(name);
    }
    if (this.knownBuckets.size < MAX_REMEMBERED_BUCKETS || this.knownBuckets.has(bucket)) {
      this.knownBuckets.set(bucket, { state, until: Date.now() + this.bucketStateTtlMs });
    }
  }

  async bucketInfo(bucket: string): Promise<BucketInfo | undefined> {
    const state = await this.bucketState(bucket);
    if (state === 'forbidden') throw new ObjectStoreError('AccessDenied', `Access denied to bucket ${bucket} at ${this.endpoint}`, 403);
    if (state === 'missing') return undefined;
    // HeadBucket names no creation date.
    return { name: bucket, createdOn: 0, owner: this.bucketOwnerAccount, ...optional('region', state.region) };
  }

  private async bucketState(bucket: string): Promise<{ region?: string } | 'missing' | 'forbidden'> {
    try {
      const out = await this.send({ operation: 'HeadBucket', bucket }, () =>
        this.client.send(new HeadBucketCommand({ Bucket: bucket })),
      );
      return optional('region', out.BucketRegion);
    } catch (err) {
      if (err instanceof ObjectStoreError && err.status === 404) return 'missing';
      if (err instanceof ObjectStoreError && err.status === 403) return 'forbidden';
      throw err;
    }
  }

  /** Every bucket of the service is `bucketOwnerAccount`'s: any other expected owner is refused. */
  private checkExpectedOwner(bucket: string, expectedOwner: string | undefined): void {
    if (expectedOwner !== undefined && expectedOwner !== this.bucketOwnerAccount) {
      throw new ObjectStoreError(
        'AccessDenied',
        `Access Denied: the buckets of the external store at ${this.endpoint} belong to account ${this.bucketOwnerAccount}, not ${expectedOwner}: ${bucket}`,
        403,
      );
    }
  }

  async putObject(
    bucket: string,
    key: string,
    body: AsyncIterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<ObjectInfo> {
    this.checkExpectedOwner(bucket, options.conditions?.expectedBucketOwner);
    const pieces = fixedSizePieces(fedTo(body, options.bodyHeaders), partSizeOf);
    const first = await pieces.next();
    const firstBytes = first.done ? Buffer.alloc(0) : first.value;
    if (firstBytes.length < partSizeOf(1)) {
      // The stream ended within one part: one atomic PutObject, with the checksums computed on the
      // way, which the service verifies and keeps.
      const computed = await options.bodyHeaders?.headers();
      const out = await this.send({ operation: 'PutObject', bucket, key }, () =>
        this.client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: firstBytes,
            ContentLength: firstBytes.length,
            ...headersOf(options),
            ...checksumMembers(computed),
            ...conditionParameters(options.conditions),
          }),
        ),
      );
      return { key, size: firstBytes.length, etag: out.ETag ?? '', lastModified: Date.now(), ...echoed(options, computed) };
    }
    return this.putInParts(bucket, key, firstBytes, pieces, options);
  }

  /** A multipart upload of a stream too long for one part; aborted if anything fails. */
  private async putInParts(
    bucket: string,
    key: string,
    firstPart: Buffer,
    rest: AsyncIterator<Buffer>,
    options: PutOptions,
  ): Promise<ObjectInfo> {
    const uploadId = await this.createMultipartUpload(bucket, key, options);
    try {
      const parts: Array<{ partNumber: number; etag: string }> = [];
      let size = 0;
      let part: Buffer | undefined = firstPart;
      for (let partNumber = 1; part !== undefined; partNumber++) {
        parts.push({ partNumber, etag: await this.sendPart(bucket, key, uploadId, partNumber, part, part.length) });
        size += part.length;
        const next = await rest.next();
        part = next.done ? undefined : next.value;
      }
      const etag = await this.sendComplete(bucket, key, uploadId, parts, options.conditions);
      return { key, size, etag, lastModified: Date.now(), ...echoed(options, await options.bodyHeaders?.headers()) };
    } catch (err) {
      await rest.return?.(undefined); // stop reading the caller's stream
      await this.abortMultipartUpload(bucket, key, uploadId).catch(() => {}); // the original error matters more
      throw err;
    }
  }

  async getObject(
    bucket: string,
    key: string,
    range?: ByteRange,
  ): Promise<{ info: ObjectInfo; body: Readable; range?: ByteRange }> {
    if (range) checkRange(range);
    const out = await this.send({ operation: 'GetObject', bucket, key }, () =>
      this.client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ChecksumMode: 'ENABLED',
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      ),
    );
    const served = range ? parseContentRange(out.ContentRange) : undefined;
    // With a range, Content-Length is the range's length; Content-Range carries the object's size.
    const info = objectInfoOf(key, out, served?.size ?? out.ContentLength ?? 0);
    const body = out.Body as Readable;
    return served ? { info, body, range: { start: served.start, end: served.end } } : { info, body };
  }

  async headObject(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.send({ operation: 'HeadObject', bucket, key }, () =>
        this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' })),
      );
      return objectInfoOf(key, out, out.ContentLength ?? 0);
    } catch (err) {
      // A HEAD response has no body, so a missing bucket and a missing key look alike (404).
      if (err instanceof ObjectStoreError && err.status === 404) return undefined;
      throw err;
    }
  }

  async deleteObject(bucket: string, key: string, conditions?: WriteConditions): Promise<void> {
    this.checkExpectedOwner(bucket, conditions?.expectedBucketOwner);
    await this.send({ operation: 'DeleteObject', bucket, key }, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, ...optional('IfMatch', conditions?.ifMatch) })),
    );
  }

  async getObjectTagging(bucket: string, key: string): Promise<ObjectTag[]> {
    const out = await this.send({ operation: 'GetObjectTagging', bucket, key }, () =>
      this.client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key })),
    );
    return (out.TagSet ?? []).map((tag) => ({ key: tag.Key ?? '', value: tag.Value ?? '' }));
  }

  async putObjectTagging(bucket: string, key: string, tags: ObjectTag[]): Promise<void> {
    if (tags.length === 0) {
      await this.send({ operation: 'DeleteObjectTagging', bucket, key }, () =>
        this.client.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: key })),
      );
      return;
    }
    await this.send({ operation: 'PutObjectTagging', bucket, key }, () =>
      this.client.send(
        new PutObjectTaggingCommand({
          Bucket: bucket,
          Key: key,
          Tagging: { TagSet: tags.map((tag) => ({ Key: tag.key, Value: tag.value })) },
        }),
      ),
    );
  }

  async listObjects(bucket: string, options: ListOptions): Promise<ListResult> {
    const maxKeys = options.maxKeys ?? MAX_KEYS;
    if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > MAX_KEYS) {
      const message = `maxKeys must be an integer from 1 to ${MAX_KEYS}, got ${maxKeys}`;
      throw new ObjectStoreError('InvalidArgument', message, 400);
    }
    // A page that ended on a common prefix continues after it (nextStartAfter is the prefix). S3
    // lists the keys under it again and rolls them up into the same prefix, so that repeat is
    // dropped here; if a page held nothing else, the next one is fetched with S3's own token.
    const alreadyListed = options.delimiter ? options.startAfter : undefined;
    let continuationToken: string | undefined;
    for (;;) {
      const out = await this.send({ operation: 'ListObjectsV2', bucket }, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            MaxKeys: maxKeys,
            ...optional('Prefix', options.prefix || undefined),
            ...optional('Delimiter', options.delimiter || undefined),
            ...(continuationToken !== undefined
              ? { ContinuationToken: continuationToken }
              : optional('StartAfter', options.startAfter || undefined)),
          }),
        ),
      );
      const objects: ObjectInfo[] = (out.Contents ?? []).map((o) => ({
        key: o.Key ?? '',
        size: o.Size ?? 0,
        etag: o.ETag ?? '',
        lastModified: o.LastModified?.getTime() ?? 0,
        ...optional('headers', storageClassHeader(o.StorageClass)),
      }));
      const commonPrefixes = (out.CommonPrefixes ?? [])
        .map((p) => p.Prefix ?? '')
        .filter((p) => p !== alreadyListed);
      const isTruncated = out.IsTruncated === true;
      if (isTruncated && objects.length === 0 && commonPrefixes.length === 0 && out.NextContinuationToken) {
        continuationToken = out.NextContinuationToken;
        continue;
      }
      const result: ListResult = { objects, commonPrefixes, isTruncated };
      if (isTruncated) {
        const last = lastInByteOrder([objects.at(-1)?.key, commonPrefixes.at(-1)]);
        if (last !== undefined) result.nextStartAfter = last;
      }
      return result;
    }
  }

  async createMultipartUpload(bucket: string, key: string, options: PutOptions = {}): Promise<string> {
    this.checkExpectedOwner(bucket, options.conditions?.expectedBucketOwner);
    const out = await this.send({ operation: 'CreateMultipartUpload', bucket, key }, () =>
      this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          ...headersOf(options),
          ...optional('ChecksumAlgorithm', options.headers?.[ALGORITHM_HEADER] as ChecksumAlgorithm | undefined),
          ...optional('ChecksumType', options.headers?.[TYPE_HEADER] as ChecksumType | undefined),
        }),
      ),
    );
    if (!out.UploadId) {
      const message = `S3 endpoint ${this.endpoint} returned no UploadId for s3://${bucket}/${key}`;
      throw new ObjectStoreError('InternalError', message, 500);
    }
    return out.UploadId;
  }

  async uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: AsyncIterable<Uint8Array>,
    options: PartOptions = {},
  ): Promise<PartInfo> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
      const message = `Part number must be an integer between 1 and 10000, got ${partNumber}`;
      throw new ObjectStoreError('InvalidArgument', message, 400);
    }
    const spooled = await spoolBody(fedTo(body, options.bodyHeaders), PART_MEMORY_LIMIT);
    try {
      const computed = await options.bodyHeaders?.headers();
      const etag = await this.sendPart(bucket, key, uploadId, partNumber, spooled.open(), spooled.length, computed);
      const headers = { ...options.headers, ...computed };
      return { partNumber, etag, size: spooled.length, lastModified: Date.now(), ...optional('headers', nonEmpty(headers)) };
    } finally {
      await spooled.dispose();
    }
  }

  private async sendPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Buffer | Readable,
    length: number,
    checksums?: Record<string, string>,
  ): Promise<string> {
    const out = await this.send({ operation: 'UploadPart', bucket, key }, () =>
      this.client.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: length,
          ...checksumMembers(checksums),
        }),
      ),
    );
    return out.ETag ?? '';
  }

  async completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletedPart[],
    options: CompleteOptions = {},
  ): Promise<ObjectInfo> {
    this.checkExpectedOwner(bucket, options.conditions?.expectedBucketOwner);
    const etag = await this.sendComplete(bucket, key, uploadId, parts, options.conditions);
    // The response names no size or date; the object as stored does. (Should another writer
    // replace it in between, the size is theirs; the ETag stays the one of this upload.)
    const object = await this.headObject(bucket, key);
    return object ? { ...object, etag } : { key, size: 0, etag, lastModified: Date.now() };
  }

  /** Completes an upload and returns the object's ETag. */
  private async sendComplete(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletedPart[],
    conditions: WriteConditions | undefined,
  ): Promise<string> {
    const out = await this.send({ operation: 'CompleteMultipartUpload', bucket, key }, () =>
      this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag, ...checksumMembers(p.checksums) })),
          },
          ...conditionParameters(conditions),
        }),
      ),
    );
    return out.ETag ?? '';
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.send({ operation: 'AbortMultipartUpload', bucket, key }, () =>
      this.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
    );
  }

  async listMultipartUploads(bucket: string, options: ListUploadsOptions): Promise<ListUploadsResult> {
    const out = await this.send({ operation: 'ListMultipartUploads', bucket }, () =>
      this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          ...optional('Prefix', options.prefix),
          ...optional('Delimiter', options.delimiter),
          ...optional('KeyMarker', options.keyMarker),
          ...optional('UploadIdMarker', options.uploadIdMarker),
          ...optional('MaxUploads', options.maxUploads),
        }),
      ),
    );
    return {
      uploads: (out.Uploads ?? []).map((upload) => ({
        key: upload.Key ?? '',
        uploadId: upload.UploadId ?? '',
        initiated: upload.Initiated?.getTime() ?? 0,
        ...optional('headers', nonEmpty({ ...storageClassHeader(upload.StorageClass), ...uploadChecksumHeaders(upload) })),
      })),
      commonPrefixes: (out.CommonPrefixes ?? []).flatMap((prefix) => (prefix.Prefix !== undefined ? [prefix.Prefix] : [])),
      isTruncated: out.IsTruncated === true,
      ...optional('nextKeyMarker', out.NextKeyMarker),
      ...optional('nextUploadIdMarker', out.NextUploadIdMarker),
    };
  }

  /**
   * ListParts names the upload's storage class and checksum settings; the service tells nothing else
   * kept with an upload (its SSE headers) before it is completed.
   */
  async uploadHeaders(bucket: string, key: string, uploadId: string): Promise<Record<string, string>> {
    const out = await this.send({ operation: 'ListParts', bucket, key }, () =>
      this.client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MaxParts: 1 })),
    );
    return { ...storageClassHeader(out.StorageClass), ...uploadChecksumHeaders(out) };
  }

  async listParts(bucket: string, key: string, uploadId: string, options: ListPartsOptions = {}): Promise<ListPartsResult> {
    const marker = options.partNumberMarker ?? 0;
    const out = await this.send({ operation: 'ListParts', bucket, key }, () =>
      this.client.send(
        new ListPartsCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          ...(marker > 0 ? { PartNumberMarker: String(marker) } : {}),
          ...optional('MaxParts', options.maxParts),
        }),
      ),
    );
    const parts: PartInfo[] = (out.Parts ?? []).map((p) => ({
      partNumber: p.PartNumber ?? 0,
      etag: p.ETag ?? '',
      size: p.Size ?? 0,
      lastModified: p.LastModified?.getTime() ?? 0,
      ...optional('headers', checksumHeadersOf(p)),
    }));
    return {
      parts,
      isTruncated: out.IsTruncated === true,
      nextPartNumberMarker: out.NextPartNumberMarker ? Number(out.NextPartNumberMarker) : (parts[parts.length - 1]?.partNumber ?? marker),
    };
  }

  async localCopy(bucket: string, key: string): Promise<{ path: string; release: () => Promise<void> }> {
    const { body } = await this.getObject(bucket, key);
    // The key's extension is kept (data.csv.gz → object.csv.gz): DuckDB picks format and
    // compression from it.
    const file = await createTempFile(`object${extensionOf(key)}`);
    try {
      await pipeline(body, createWriteStream(file.path));
    } catch (err) {
      body.destroy();
      await file.remove();
      throw toObjectStoreError(err, this.endpoint, { operation: 'GetObject', bucket, key });
    }
    let released = false;
    return {
      path: file.path,
      release: async () => {
        if (released) return;
        released = true;
        await file.remove();
      },
    };
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** Runs one SDK call; any failure comes back as an ObjectStoreError naming the target. */
  private async send<T>(target: S3RequestTarget, call: () => Promise<T>): Promise<T> {
    // The SDK refuses such names before sending anything; no bucket can have one.
    if (target.bucket?.includes('/')) throw noSuchBucket(target.bucket);
    try {
      return await call();
    } catch (err) {
      throw toObjectStoreError(err, this.endpoint, target);
    }
  }
}

/**
 * S3's naming rules, checked here so every service (including lenient test servers) refuses the
 * same names with the same error.
 */
function checkBucketName(bucket: string): void {
  const valid =
    bucket.length >= 3 &&
    bucket.length <= 63 &&
    /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket) &&
    !bucket.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(bucket) &&
    !bucket.startsWith('xn--') &&
    !bucket.endsWith('-s3alias');
  if (!valid) throw new ObjectStoreError('InvalidBucketName', `The specified bucket is not valid: ${bucket}`, 400);
}

/** Rejected before sending: S3 ignores a malformed Range header and would return the whole object. */
function checkRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new ObjectStoreError('InvalidRange', `The requested range is not satisfiable: bytes=${start}-${end}`, 416);
  }
}

/** `bytes 0-99/1234` → the served range and the object's size. */
function parseContentRange(header: string | undefined): { start: number; end: number; size?: number } | undefined {
  const m = header ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), ...(m[3] === '*' ? {} : { size: Number(m[3]) }) };
}

/** The SDK members of a GetObject or HeadObject response that carry what ObjectInfo holds. */
interface StoredObjectMembers {
  ETag?: string;
  LastModified?: Date;
  ContentType?: string;
  Metadata?: Record<string, string>;
  CacheControl?: string;
  ContentDisposition?: string;
  ContentEncoding?: string;
  ContentLanguage?: string;
  ExpiresString?: string;
  StorageClass?: string;
  WebsiteRedirectLocation?: string;
  ServerSideEncryption?: string;
  SSEKMSKeyId?: string;
  BucketKeyEnabled?: boolean;
  TagCount?: number;
}

/** An object's info from the headers of a GetObject or HeadObject response. */
function objectInfoOf(key: string, out: StoredObjectMembers & ChecksumMembers, size: number): ObjectInfo {
  const headers: Record<string, string> = {
    ...optional('cache-control', out.CacheControl),
    ...optional('content-disposition', out.ContentDisposition),
    ...optional('content-encoding', out.ContentEncoding),
    ...optional('content-language', out.ContentLanguage),
    ...optional('expires', out.ExpiresString),
    ...storageClassHeader(out.StorageClass),
    ...optional('x-amz-website-redirect-location', out.WebsiteRedirectLocation),
    ...optional('x-amz-server-side-encryption', out.ServerSideEncryption),
    ...optional('x-amz-server-side-encryption-aws-kms-key-id', out.SSEKMSKeyId),
    ...optional('x-amz-server-side-encryption-bucket-key-enabled', out.BucketKeyEnabled?.toString()),
    ...checksumHeadersOf(out),
  };
  return {
    key,
    size,
    etag: out.ETag ?? '',
    lastModified: out.LastModified?.getTime() ?? 0,
    ...optional('contentType', out.ContentType),
    ...optional('metadata', nonEmpty(out.Metadata)),
    ...optional('headers', nonEmpty(headers)),
    ...optional('tagCount', out.TagCount || undefined),
  };
}

/** S3 omits STANDARD on HeadObject / GetObject, and so does ObjectInfo.headers; listings name it. */
function storageClassHeader(storageClass: string | undefined): Record<string, string> | undefined {
  return storageClass === undefined || storageClass === 'STANDARD' ? undefined : { 'x-amz-storage-class': storageClass };
}

/** The PutObject / CreateMultipartUpload members carrying what PutOptions holds. */
function headersOf(options: PutOptions) {
  const kept = options.headers ?? {};
  const expires = kept['expires'] !== undefined ? new Date(kept['expires']) : undefined;
  const bucketKey = kept['x-amz-server-side-encryption-bucket-key-enabled'];
  return {
    ...optional('ContentType', options.contentType),
    ...optional('Metadata', nonEmpty(options.metadata)),
    ...optional('CacheControl', kept['cache-control']),
    ...optional('ContentDisposition', kept['content-disposition']),
    ...optional('ContentEncoding', kept['content-encoding']),
    ...optional('ContentLanguage', kept['content-language']),
    // The SDK sends a Date; an Expires that is no date is kept by the embedded store only.
    ...optional('Expires', expires && !Number.isNaN(expires.getTime()) ? expires : undefined),
    ...optional('StorageClass', kept['x-amz-storage-class'] as StorageClass | undefined),
    ...optional('WebsiteRedirectLocation', kept['x-amz-website-redirect-location']),
    ...optional('ServerSideEncryption', kept['x-amz-server-side-encryption'] as ServerSideEncryption | undefined),
    ...optional('SSEKMSKeyId', kept['x-amz-server-side-encryption-aws-kms-key-id']),
    ...optional('SSEKMSEncryptionContext', kept['x-amz-server-side-encryption-context']),
    ...optional('BucketKeyEnabled', bucketKey !== undefined ? bucketKey === 'true' : undefined),
    ...optional('Tagging', options.tags?.length ? encodeTagging(options.tags) : undefined),
  };
}

function echoed(
  options: PutOptions,
  computed: Record<string, string> | undefined,
): Pick<ObjectInfo, 'contentType' | 'metadata' | 'headers' | 'tagCount'> {
  return {
    ...optional('contentType', options.contentType),
    ...optional('metadata', nonEmpty(options.metadata)),
    ...optional('headers', nonEmpty({ ...options.headers, ...computed })),
    ...optional('tagCount', options.tags?.length || undefined),
  };
}

/** The SDK's members for S3's flexible checksums, by the stored header (`x-amz-checksum-<alg>`) each maps to. */
const CHECKSUM_MEMBERS = {
  'x-amz-checksum-crc32': 'ChecksumCRC32',
  'x-amz-checksum-crc32c': 'ChecksumCRC32C',
  'x-amz-checksum-crc64nvme': 'ChecksumCRC64NVME',
  'x-amz-checksum-sha1': 'ChecksumSHA1',
  'x-amz-checksum-sha256': 'ChecksumSHA256',
} as const;
type ChecksumMembers = { [M in (typeof CHECKSUM_MEMBERS)[keyof typeof CHECKSUM_MEMBERS]]?: string | undefined } & {
  ChecksumType?: string | undefined;
};
const ALGORITHM_HEADER = 'x-amz-checksum-algorithm';
const TYPE_HEADER = 'x-amz-checksum-type';

/** Stored checksum headers → the SDK's Checksum* members of a request. */
function checksumMembers(headers: Record<string, string> | undefined): ChecksumMembers {
  const members: ChecksumMembers = {};
  for (const [header, member] of Object.entries(CHECKSUM_MEMBERS)) {
    const value = headers?.[header];
    if (value !== undefined) members[member] = value;
  }
  return members;
}

/** The SDK's Checksum* members of a response → stored checksum headers (undefined when none). */
function checksumHeadersOf(out: ChecksumMembers): Record<string, string> | undefined {
  const headers: Record<string, string> = {};
  for (const [header, member] of Object.entries(CHECKSUM_MEMBERS)) {
    const value = out[member];
    if (value !== undefined) headers[header] = value;
  }
  if (out.ChecksumType !== undefined && Object.keys(headers).length > 0) headers[TYPE_HEADER] = out.ChecksumType;
  return nonEmpty(headers);
}

/** An upload's checksum algorithm and type (ListParts, ListMultipartUploads) → its stored headers. */
function uploadChecksumHeaders(out: { ChecksumAlgorithm?: string | undefined; ChecksumType?: string | undefined }) {
  return nonEmpty({ ...optional(ALGORITHM_HEADER, out.ChecksumAlgorithm), ...optional(TYPE_HEADER, out.ChecksumType) });
}

/** S3's conditional-write parameters; the service checks them atomically with the write. */
function conditionParameters(conditions: WriteConditions | undefined): { IfMatch?: string; IfNoneMatch?: string } {
  return { ...optional('IfMatch', conditions?.ifMatch), ...optional('IfNoneMatch', conditions?.ifNoneMatch) };
}

function nonEmpty(record: Record<string, string> | undefined): Record<string, string> | undefined {
  return record && Object.keys(record).length > 0 ? record : undefined;
}

/** `{ [name]: value }` when the value is defined, `{}` otherwise (absent members stay absent). */
function optional<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V };
}

/** The greatest of the strings in UTF-8 byte order, the order S3 lists keys in. */
function lastInByteOrder(candidates: Array<string | undefined>): string | undefined {
  let last: string | undefined;
  for (const c of candidates) {
    if (c !== undefined && (last === undefined || Buffer.compare(Buffer.from(c), Buffer.from(last)) > 0)) last = c;
  }
  return last;
}

/** `.csv.gz` for `dir/data.csv.gz`: letters and digits only, so no key can shape the temp path. */
function extensionOf(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.indexOf('.', 1);
  if (dot < 0) return '';
  const ext = name.slice(dot);
  return /^(\.[A-Za-z0-9]{1,16}){1,3}$/.test(ext) ? ext : '';
}
