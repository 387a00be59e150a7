import type { Readable } from 'node:stream';
import {
  noSuchBucket,
  ObjectStoreError,
  type BucketInfo,
  type CompletedPart,
  type CompleteOptions,
  type ByteRange,
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
  type WriteConditions,
} from './object-store.js';

/**
 * The object store as one account sees it, as in S3: every bucket belongs to the account that
 * created it, and a call on another account's bucket fails with AccessDenied. The S3 endpoint
 * serves each request through the signer's view and each task run reads and writes through its
 * account's view, so this is the one place the rule is enforced.
 *
 * A missing bucket is left to the store (NoSuchBucket and the like): only an existing bucket of
 * another account is refused. Every write also hands the store this account as the bucket's
 * expected owner, which the store checks atomically with the write: a bucket deleted and re-created
 * by another account after the check here never receives this account's object.
 */
export class AccountObjectStore implements ObjectStore {
  constructor(
    private readonly store: ObjectStore,
    readonly account: string,
  ) {}

  get kind(): ObjectStore['kind'] {
    return this.store.kind;
  }

  async listBuckets(): Promise<BucketInfo[]> {
    return (await this.store.listBuckets()).filter((bucket) => bucket.owner === this.account);
  }

  async createBucket(bucket: string, owner: string, region?: string): Promise<void> {
    if (owner !== this.account) throw accessDenied(bucket, this.account);
    await this.store.createBucket(bucket, owner, region);
  }

  async deleteBucket(bucket: string): Promise<void> {
    await this.requireAccess(bucket);
    await this.store.deleteBucket(bucket, this.account);
  }

  async bucketOwner(bucket: string): Promise<string | undefined> {
    return this.store.bucketOwner(bucket);
  }

  async bucketInfo(bucket: string): Promise<BucketInfo | undefined> {
    return this.store.bucketInfo(bucket);
  }

  async putObject(bucket: string, key: string, body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<ObjectInfo> {
    await this.requireAccess(bucket);
    return this.store.putObject(bucket, key, body, { ...options, conditions: this.ownConditions(options.conditions) });
  }

  async getObject(bucket: string, key: string, range?: ByteRange): Promise<{ info: ObjectInfo; body: Readable; range?: ByteRange }> {
    await this.requireAccess(bucket);
    return this.store.getObject(bucket, key, range);
  }

  async headObject(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    await this.requireAccess(bucket);
    return this.store.headObject(bucket, key);
  }

  async deleteObject(bucket: string, key: string, conditions?: WriteConditions): Promise<void> {
    await this.requireAccess(bucket);
    return this.store.deleteObject(bucket, key, this.ownConditions(conditions));
  }

  async getObjectTagging(bucket: string, key: string): Promise<ObjectTag[]> {
    await this.requireAccess(bucket);
    return this.store.getObjectTagging(bucket, key);
  }

  async putObjectTagging(bucket: string, key: string, tags: ObjectTag[]): Promise<void> {
    await this.requireAccess(bucket);
    return this.store.putObjectTagging(bucket, key, tags);
  }

  async listObjects(bucket: string, options: ListOptions): Promise<ListResult> {
    await this.requireAccess(bucket);
    return this.store.listObjects(bucket, options);
  }

  async createMultipartUpload(bucket: string, key: string, options: PutOptions = {}): Promise<string> {
    await this.requireAccess(bucket);
    return this.store.createMultipartUpload(bucket, key, { ...options, conditions: this.ownConditions(options.conditions) });
  }

  async uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: AsyncIterable<Uint8Array>, options?: PartOptions): Promise<PartInfo> {
    await this.requireAccess(bucket);
    return this.store.uploadPart(bucket, key, uploadId, partNumber, body, options);
  }

  async completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletedPart[],
    options: CompleteOptions = {},
  ): Promise<ObjectInfo> {
    await this.requireAccess(bucket);
    return this.store.completeMultipartUpload(bucket, key, uploadId, parts, { ...options, conditions: this.ownConditions(options.conditions) });
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.requireAccess(bucket);
    return this.store.abortMultipartUpload(bucket, key, uploadId);
  }

  async listMultipartUploads(bucket: string, options: ListUploadsOptions): Promise<ListUploadsResult> {
    await this.requireAccess(bucket);
    return this.store.listMultipartUploads(bucket, options);
  }

  async uploadHeaders(bucket: string, key: string, uploadId: string): Promise<Record<string, string>> {
    await this.requireAccess(bucket);
    return this.store.uploadHeaders(bucket, key, uploadId);
  }

  async listParts(bucket: string, key: string, uploadId: string, options?: ListPartsOptions): Promise<ListPartsResult> {
    await this.requireAccess(bucket);
    return this.store.listParts(bucket, key, uploadId, options);
  }

  async localCopy(bucket: string, key: string): Promise<{ path: string; release: () => Promise<void> }> {
    await this.requireAccess(bucket);
    return this.store.localCopy(bucket, key);
  }

  /** The view does not own the store it looks through: the store is closed by whoever opened it. */
  async close(): Promise<void> {}

  /** AccessDenied when the bucket is another account's; a missing bucket passes. */
  async requireAccess(bucket: string): Promise<void> {
    const owner = await this.store.bucketOwner(bucket);
    if (owner !== undefined && owner !== this.account) throw accessDenied(bucket, this.account);
  }

  /** The bucket: NoSuchBucket when there is no such bucket, AccessDenied when it is another account's. */
  async requireBucket(bucket: string): Promise<BucketInfo> {
    const info = await this.store.bucketInfo(bucket);
    if (info === undefined) throw noSuchBucket(bucket);
    if (info.owner !== this.account) throw accessDenied(bucket, this.account);
    return info;
  }

  /** `conditions` with this account as the bucket's expected owner. */
  private ownConditions(conditions: WriteConditions | undefined): WriteConditions {
    return { ...conditions, expectedBucketOwner: this.account };
  }
}

/**
 * S3 answers a foreign bucket with a bare "Access Denied" (the S3 endpoint sends exactly that);
 * the message says why, for task runs, whose ErrorString it becomes.
 */
function accessDenied(bucket: string, account: string): ObjectStoreError {
  return new ObjectStoreError(
    'AccessDenied',
    `Access Denied: bucket ${bucket} belongs to another account, and account ${account} may use only its own buckets.`,
    403,
  );
}
