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
  /** Keys in ascending UTF-8 byte order, as S3 lists them. */
  listObjects(bucket: string, options: ListOptions): Promise<ListResult>;

  createMultipartUpload(bucket: string, key: string, options?: PutOptions): Promise<string>;
  /** Fails with NoSuchUpload. Part numbers 1..10000; a re-sent part replaces the earlier one. */
  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: AsyncIterable<Uint8Array>): Promise<{ etag: string; size: number }>;
  /**
   * Fails with NoSuchUpload / InvalidPart / InvalidPartOrder / EntityTooSmall, and as `conditions`
   * say. Completing an upload that was just completed answers the object it made (as S3 does).
   */
  completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: Array<{ partNumber: number; etag: string }>,
    conditions?: WriteConditions,
  ): Promise<ObjectInfo>;
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void>;
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
  conditions?: WriteConditions;
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

export interface PartInfo {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: number;
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
