import type { Readable } from 'node:stream';

/**
 * Where doppel's S3 paths live: the embedded store under the data dir (also served as an
 * S3-compatible endpoint on the API port) or an external S3-compatible service.
 *
 * Keys are opaque strings: no implementation may map a key onto a file-system path, so no key can
 * reach outside the store.
 */
export interface ObjectStore {
  readonly kind: 'local' | 's3';

  /** Every bucket, each with the account that owns it. */
  listBuckets(): Promise<BucketInfo[]>;
  /**
   * Creates a bucket owned by account `owner` in `region` (none: the default region, us-east-1).
   * Fails with BucketAlreadyOwnedByYou (the name is `owner`'s already), BucketAlreadyExists
   * (another account's) or InvalidBucketName.
   */
  createBucket(bucket: string, owner: string, region?: string): Promise<void>;
  /** Fails with NoSuchBucket / BucketNotEmpty, and AccessDenied when `expectedOwner` does not own it. */
  deleteBucket(bucket: string, expectedOwner?: string): Promise<void>;
  /** The account that owns the bucket; undefined when there is no such bucket. */
  bucketOwner(bucket: string): Promise<string | undefined>;
  /** The bucket's owner, creation time and region; undefined when there is no such bucket. */
  bucketInfo(bucket: string): Promise<BucketInfo | undefined>;

  /**
   * Stores the object atomically: readers see the old object or the new one, never a part.
   * Fails with NoSuchBucket, and as `options.conditions` say (checked atomically with the write).
   */
  putObject(bucket: string, key: string, body: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<ObjectInfo>;
  /** Fails with NoSuchBucket / NoSuchKey / InvalidRange. `range` is inclusive, like HTTP's. */
  getObject(bucket: string, key: string, range?: ByteRange): Promise<{ info: ObjectInfo; body: Readable; range?: ByteRange }>;
  headObject(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  /**
   * Deleting a missing key is not an error (as in S3), unless `conditions.ifMatch` asks for an
   * object (NoSuchKey).
   */
  deleteObject(bucket: string, key: string, conditions?: WriteConditions): Promise<void>;
  /** The object's tags. Fails with NoSuchBucket / NoSuchKey. */
  getObjectTagging(bucket: string, key: string): Promise<ObjectTag[]>;
  /**
   * Replaces the object's tags (none: removes them), leaving its bytes and ETag as they are.
   * Fails with NoSuchBucket / NoSuchKey.
   */
  putObjectTagging(bucket: string, key: string, tags: ObjectTag[]): Promise<void>;
  /** Keys in ascending UTF-8 byte order, as S3 lists them. */
  listObjects(bucket: string, options: ListOptions): Promise<ListResult>;

  createMultipartUpload(bucket: string, key: string, options?: PutOptions): Promise<string>;
  /**
   * Fails with NoSuchUpload. Part numbers 1..10000; a re-sent part replaces the earlier one. The part
   * keeps `options.headers` and those of `options.bodyHeaders` (its checksums).
   */
  uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: AsyncIterable<Uint8Array>,
    options?: PartOptions,
  ): Promise<PartInfo>;
  /**
   * Fails with NoSuchUpload / InvalidPart / InvalidPartOrder / EntityTooSmall. The object keeps the
   * upload's headers, or `options.headers` instead when given, and those of `options.bodyHeaders`,
   * fed the assembled bytes; it fails as `options.conditions` say. Completing an upload that was
   * just completed answers the object it made (as S3 does).
   */
  completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletedPart[],
    options?: CompleteOptions,
  ): Promise<ObjectInfo>;
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  /**
   * The headers kept with an open upload (PutOptions.headers of createMultipartUpload), which its
   * object will have. Fails with NoSuchUpload.
   */
  uploadHeaders(bucket: string, key: string, uploadId: string): Promise<Record<string, string>>;
  /** One page of the upload's parts, by part number (S3's ListParts paging). */
  listParts(bucket: string, key: string, uploadId: string, options?: ListPartsOptions): Promise<ListPartsResult>;
  /**
   * The multipart uploads in progress, by key then initiation, as S3's ListMultipartUploads pages
   * them (prefix, delimiter, key-marker / upload-id-marker, max-uploads).
   */
  listMultipartUploads(bucket: string, options: ListUploadsOptions): Promise<ListUploadsResult>;

  /**
   * A local file holding the object's bytes, for readers that need a path (DuckDB). The embedded
   * store hands out its own file; an external store downloads to a temporary file that `release`
   * removes.
   */
  localCopy(bucket: string, key: string): Promise<{ path: string; release: () => Promise<void> }>;

  close(): Promise<void>;
}

export interface BucketInfo {
  name: string;
  createdOn: number;
  /** The 12-digit id of the account that created it. */
  owner: string;
  /** The region it was created in; undefined: the default region (us-east-1). */
  region?: string;
}

/** S3's default region: buckets created without a LocationConstraint, and those from before regions. */
export const DEFAULT_BUCKET_REGION = 'us-east-1';

/**
 * What must hold for a write to happen, checked atomically with it: S3's conditional writes and
 * deletes (If-Match / If-None-Match) and the bucket's owner (x-amz-expected-bucket-owner; the
 * account views pass their account, so a bucket re-created by another account in the meantime is
 * never written to).
 */
export interface WriteConditions {
  /** AccessDenied unless this account owns the bucket. */
  expectedBucketOwner?: string;
  /** The object's current ETag (quotes optional; `*`: any object): PreconditionFailed when it differs, NoSuchKey when there is no object. */
  ifMatch?: string;
  /** `*`: PreconditionFailed when the key has an object. */
  ifNoneMatch?: '*';
}

export interface PutOptions {
  contentType?: string;
  /** x-amz-meta-* user metadata (lower-cased names without the prefix). */
  metadata?: Record<string, string>;
  /**
   * Other S3 headers kept with the object and answered by GetObject / HeadObject as given
   * (lower-cased names, e.g. `content-encoding`, `x-amz-storage-class`).
   */
  headers?: Record<string, string>;
  /** Tags of the new object (S3's x-amz-tagging). */
  tags?: ObjectTag[];
  /** Headers computed from the bytes as they are stored (see BodyHeaders), added to `headers`. */
  bodyHeaders?: BodyHeaders;
  conditions?: WriteConditions;
}

/**
 * Headers that depend on the stored bytes (S3's flexible checksums): fed every chunk as it is
 * stored, then asked for its headers once the body has ended, before the write commits. A store
 * that cannot see the bytes (an external service assembling a multipart upload) does not ask.
 */
export interface BodyHeaders {
  update(chunk: Uint8Array): void;
  headers(): Promise<Record<string, string>>;
}

/** The body, each chunk fed to `bodyHeaders` (when given) on its way into a store. */
export function fedTo(body: AsyncIterable<Uint8Array>, bodyHeaders: BodyHeaders | undefined): AsyncIterable<Uint8Array> {
  if (!bodyHeaders) return body;
  return (async function* () {
    for await (const chunk of body) {
      bodyHeaders.update(chunk);
      yield chunk;
    }
  })();
}

export type PartOptions = Pick<PutOptions, 'headers' | 'bodyHeaders'>;
export type CompleteOptions = Pick<PutOptions, 'headers' | 'bodyHeaders' | 'conditions'>;

/** A part CompleteMultipartUpload names. */
export interface CompletedPart {
  partNumber: number;
  etag: string;
  /**
   * The part's checksums as the client listed them (`x-amz-checksum-<algorithm>` → value), passed
   * on to an external service, which checks them itself.
   */
  checksums?: Record<string, string>;
}

export interface PartInfo {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: number;
  /** The headers kept with the part (its checksums). */
  headers?: Record<string, string>;
}

export interface ObjectTag {
  key: string;
  value: string;
}

/** Tags as S3's x-amz-tagging header carries them: URL-encoded `key=value` pairs joined by `&`. */
export function encodeTagging(tags: readonly ObjectTag[]): string {
  return tags.map((tag) => `${encodeURIComponent(tag.key)}=${encodeURIComponent(tag.value)}`).join('&');
}

/** The tags of an x-amz-tagging value (`+` is a space, as in a URL query). */
export function decodeTagging(tagging: string): ObjectTag[] {
  return [...new URLSearchParams(tagging)].map(([key, value]) => ({ key, value }));
}

export interface ObjectInfo {
  key: string;
  size: number;
  /** Quoted, as S3 returns it: "<md5 hex>" or "<md5 of part md5s>-<parts>". */
  etag: string;
  lastModified: number;
  contentType?: string;
  metadata?: Record<string, string>;
  /** The stored S3 headers (PutOptions.headers). */
  headers?: Record<string, string>;
  /** How many tags the object has; absent when it has none. */
  tagCount?: number;
}

export interface ByteRange {
  start: number;
  end: number;
}

export interface ListOptions {
  prefix?: string;
  delimiter?: string;
  /** List keys strictly after this one (S3's StartAfter / ContinuationToken / Marker). */
  startAfter?: string;
  /** 1..1000, default 1000. */
  maxKeys?: number;
}

export interface ListResult {
  objects: ObjectInfo[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** Where the next page starts (exclusive), when truncated. */
  nextStartAfter?: string;
}

export interface ListUploadsOptions {
  prefix?: string;
  delimiter?: string;
  /** List uploads of keys after this one, and of this key after `uploadIdMarker`. */
  keyMarker?: string;
  uploadIdMarker?: string;
  /** At most this many uploads and common prefixes together (default 1000). */
  maxUploads?: number;
}

export interface ListPartsOptions {
  /** Parts with numbers above this one (default 0). */
  partNumberMarker?: number;
  /** At most this many (default 1000). */
  maxParts?: number;
}

export interface ListPartsResult {
  parts: PartInfo[];
  isTruncated: boolean;
  /** The last part number of this page (where the next one starts), or the marker when it is empty. */
  nextPartNumberMarker: number;
}

export interface UploadInfo {
  key: string;
  uploadId: string;
  initiated: number;
  /** The headers kept with the upload (see ObjectStore.uploadHeaders). */
  headers?: Record<string, string>;
}

export interface ListUploadsResult {
  uploads: UploadInfo[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** Where the next page starts, when truncated. */
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
}

/** An error with S3's code (NoSuchKey, NoSuchBucket, ...) and HTTP status. */
export class ObjectStoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    /** Members S3 adds to the error document (ActualObjectSize, ...). */
    readonly details: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ObjectStoreError';
  }
}

export const noSuchBucket = (bucket: string) =>
  new ObjectStoreError('NoSuchBucket', `The specified bucket does not exist: ${bucket}`, 404);
export const bucketAlreadyExists = () =>
  new ObjectStoreError(
    'BucketAlreadyExists',
    'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
    409,
  );
export const noSuchKey = (bucket: string, key: string) =>
  new ObjectStoreError('NoSuchKey', `The specified key does not exist: s3://${bucket}/${key}`, 404, { Key: key });
export const preconditionFailed = (condition: 'If-Match' | 'If-None-Match') =>
  new ObjectStoreError('PreconditionFailed', `At least one of the pre-conditions you specified did not hold: ${condition}`, 412, {
    Condition: condition,
  });
