/**
 * Bucket regions, conditional writes, repeated completions and ListParts pages through
 * @aws-sdk/client-s3, as S3 documents them: CreateBucket's LocationConstraint rules for the region
 * a request is signed for, GetBucketLocation / HeadBucket / ListBuckets answering the bucket's
 * region, the account-regional namespace, If-Match / If-None-Match on PutObject, CopyObject,
 * CompleteMultipartUpload and DeleteObject, a CompleteMultipartUpload sent twice, and ListParts
 * with MaxParts / PartNumberMarker.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type BucketLocationConstraint,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, silenceSdkNodeVersionWarning } from '../support/s3-tools.js';
import { DEFAULT_ACCOUNT_ID, startServer, stopAndRemove, type TestServer } from '../support/server.js';

silenceSdkNodeVersionWarning();

const MiB = 1024 * 1024;

let server: TestServer;
let s3: S3Client;
let oregon: S3Client;
let oregonWithoutConstraint: S3Client;

before(async () => {
  server = await startServer();
  s3 = s3Client(server);
  oregon = s3Client(server, { region: 'us-west-2' });
  // The SDK fills in an absent LocationConstraint with the client's region (in its initialize step);
  // this client sends CreateBucket without any, as other clients (boto3, curl) can.
  oregonWithoutConstraint = s3Client(server, { region: 'us-west-2' });
  oregonWithoutConstraint.middlewareStack.add(
    (next) => async (args) => {
      delete (args.input as { CreateBucketConfiguration?: unknown }).CreateBucketConfiguration;
      return next(args);
    },
    { step: 'serialize', priority: 'high', name: 'sendNoLocationConstraint' },
  );
});

after(async () => {
  s3?.destroy();
  oregon?.destroy();
  oregonWithoutConstraint?.destroy();
  await stopAndRemove(server);
});

let counter = 0;
const uniqueName = (stem: string) => `${stem}-${process.pid}-${++counter}`;

/** The S3 error the call fails with: code, HTTP status, message and the error document's members. */
async function s3ErrorOf(call: Promise<unknown>): Promise<{ code: string; status: number; message: string; members: Record<string, unknown> }> {
  try {
    await call;
  } catch (e) {
    const error = e as Error & { Code?: string; $metadata?: { httpStatusCode?: number } } & Record<string, unknown>;
    return { code: error.name, status: error.$metadata?.httpStatusCode ?? 0, message: error.message, members: error };
  }
  assert.fail('expected the call to fail');
}

const location = (constraint: string) => ({ LocationConstraint: constraint as BucketLocationConstraint });

describe('bucket regions', () => {
  it('creates through us-east-1 in the LocationConstraint region, or us-east-1 without one', async () => {
    const virginia = uniqueName('virginia');
    const frankfurt = uniqueName('frankfurt');
    await s3.send(new CreateBucketCommand({ Bucket: virginia }));
    await s3.send(new CreateBucketCommand({ Bucket: frankfurt, CreateBucketConfiguration: location('eu-central-1') }));

    // us-east-1 is an empty LocationConstraint, as S3 spells it.
    assert.equal((await s3.send(new GetBucketLocationCommand({ Bucket: virginia }))).LocationConstraint, undefined);
    assert.equal((await s3.send(new GetBucketLocationCommand({ Bucket: frankfurt }))).LocationConstraint, 'eu-central-1');
    assert.equal((await s3.send(new HeadBucketCommand({ Bucket: virginia }))).BucketRegion, 'us-east-1');
    assert.equal((await s3.send(new HeadBucketCommand({ Bucket: frankfurt }))).BucketRegion, 'eu-central-1');

    const listed = await s3.send(new ListBucketsCommand({}));
    const regions = Object.fromEntries((listed.Buckets ?? []).map((bucket) => [bucket.Name, bucket.BucketRegion]));
    assert.equal(regions[virginia], 'us-east-1');
    assert.equal(regions[frankfurt], 'eu-central-1');
    const inFrankfurt = await s3.send(new ListBucketsCommand({ BucketRegion: 'eu-central-1', Prefix: 'frankfurt-' }));
    assert.deepEqual(inFrankfurt.Buckets?.map((bucket) => bucket.Name), [frankfurt]);
  });

  it('refuses us-east-1 as a LocationConstraint, and a constraint that is no region', async () => {
    for (const constraint of ['us-east-1', 'not a region']) {
      const error = await s3ErrorOf(s3.send(new CreateBucketCommand({ Bucket: uniqueName('refused'), CreateBucketConfiguration: location(constraint) })));
      assert.deepEqual([error.code, error.status, error.message], ['InvalidLocationConstraint', 400, 'The specified location-constraint is not valid']);
    }
  });

  it('through another region, creates only in that region', async () => {
    for (const constraint of [undefined, 'us-east-1', 'eu-central-1']) {
      const error = await s3ErrorOf(
        constraint === undefined
          ? oregonWithoutConstraint.send(new CreateBucketCommand({ Bucket: uniqueName('oregon') }))
          : oregon.send(new CreateBucketCommand({ Bucket: uniqueName('oregon'), CreateBucketConfiguration: location(constraint) })),
      );
      assert.deepEqual(
        [error.code, error.status, error.message],
        [
          'IllegalLocationConstraintException',
          400,
          `The ${constraint ?? 'unspecified'} location constraint is incompatible for the region specific endpoint this request was sent to.`,
        ],
      );
    }
    const bucket = uniqueName('oregon');
    await oregon.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: location('us-west-2') }));
    assert.equal((await s3.send(new GetBucketLocationCommand({ Bucket: bucket }))).LocationConstraint, 'us-west-2');
  });

  it('answers 200 to creating an own us-east-1 bucket again through us-east-1, BucketAlreadyOwnedByYou otherwise', async () => {
    const virginia = uniqueName('again');
    await s3.send(new CreateBucketCommand({ Bucket: virginia }));
    await s3.send(new CreateBucketCommand({ Bucket: virginia }));
    const oregonBucket = uniqueName('again');
    await oregon.send(new CreateBucketCommand({ Bucket: oregonBucket, CreateBucketConfiguration: location('us-west-2') }));
    // Each call's rejection is caught as it starts (s3ErrorOf): one settling before another is awaited
    // would otherwise be an unhandled rejection that fails the test.
    const errors = await Promise.all([
      s3ErrorOf(s3.send(new CreateBucketCommand({ Bucket: oregonBucket }))),
      s3ErrorOf(oregon.send(new CreateBucketCommand({ Bucket: oregonBucket, CreateBucketConfiguration: location('us-west-2') }))),
      s3ErrorOf(s3.send(new CreateBucketCommand({ Bucket: virginia, CreateBucketConfiguration: location('eu-central-1') }))),
    ]);
    for (const error of errors) assert.deepEqual([error.code, error.status], ['BucketAlreadyOwnedByYou', 409]);
    assert.equal((await s3.send(new HeadBucketCommand({ Bucket: oregonBucket }))).BucketRegion, 'us-west-2');
  });

  it('creates in the account-regional namespace only names ending with the account, region and -an', async () => {
    const bucket = `ns-${process.pid}-${DEFAULT_ACCOUNT_ID}-us-west-2-an`;
    await oregon.send(new CreateBucketCommand({ Bucket: bucket, BucketNamespace: 'account-regional', CreateBucketConfiguration: location('us-west-2') }));
    assert.equal((await s3.send(new HeadBucketCommand({ Bucket: bucket }))).BucketRegion, 'us-west-2');
    for (const name of [`ns-${process.pid}-wrong-suffix`, `ns-${process.pid}-${DEFAULT_ACCOUNT_ID}-us-east-1-an`, `ns-${process.pid}-210987654321-us-west-2-an`]) {
      const error = await s3ErrorOf(
        oregon.send(new CreateBucketCommand({ Bucket: name, BucketNamespace: 'account-regional', CreateBucketConfiguration: location('us-west-2') })),
      );
      assert.deepEqual([error.code, error.status], ['InvalidNamespaceHeader', 400], name);
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  });
});

describe('conditional writes', () => {
  let bucket: string;
  before(async () => {
    bucket = uniqueName('conditions');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  it('PutObject with If-None-Match: * writes only a new key', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'first', IfNoneMatch: '*' }));
    const error = await s3ErrorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'second', IfNoneMatch: '*' })));
    assert.deepEqual(
      [error.code, error.status, error.message, error.members['Condition']],
      ['PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', 'If-None-Match'],
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'once' }));
    assert.equal(await got.Body!.transformToString(), 'first');
    const other = await s3ErrorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'once', Body: 'x', IfNoneMatch: '"abc"' })));
    assert.deepEqual([other.code, other.status], ['NotImplemented', 501]);
  });

  it('PutObject with If-Match replaces only the object with that ETag', async () => {
    const first = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'swap', Body: 'one' }));
    const error = await s3ErrorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'swap', Body: 'two', IfMatch: '"0000"' })));
    assert.deepEqual([error.code, error.status, error.members['Condition']], ['PreconditionFailed', 412, 'If-Match']);
    const second = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'swap', Body: 'two', IfMatch: first.ETag! }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'swap', Body: 'three', IfMatch: second.ETag!.replace(/"/g, '') }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'swap' }))).Body!.transformToString(), 'three');
    const missing = await s3ErrorOf(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'never-written', Body: 'x', IfMatch: first.ETag! })));
    assert.deepEqual([missing.code, missing.status], ['NoSuchKey', 404]);
  });

  it('CopyObject with If-None-Match: * copies only to a key that has no object', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy-source', Body: 'source' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy-taken', Body: 'taken' }));
    const CopySource = `${bucket}/copy-source`;
    const error = await s3ErrorOf(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-taken', CopySource, IfNoneMatch: '*' })));
    assert.deepEqual([error.code, error.status, error.members['Condition']], ['PreconditionFailed', 412, 'If-None-Match']);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy-taken' }))).Body!.transformToString(), 'taken');
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-free', CopySource, IfNoneMatch: '*' }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy-free' }))).Body!.transformToString(), 'source');
  });

  it('DeleteObject with If-Match deletes only the object with that ETag', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doomed', Body: 'x' }));
    const error = await s3ErrorOf(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'doomed', IfMatch: '"0000"' })));
    assert.deepEqual([error.code, error.status, error.members['Condition']], ['PreconditionFailed', 412, 'If-Match']);
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'doomed' }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'doomed', IfMatch: put.ETag! }));
    const gone = await s3ErrorOf(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'doomed', IfMatch: put.ETag! })));
    assert.deepEqual([gone.code, gone.status], ['NoSuchKey', 404]);
  });

  it('CompleteMultipartUpload with If-None-Match: * refuses an existing key; sent again after success, answers the same ETag', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: 'small object' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big' }));
    const address = { Bucket: bucket, Key: 'big', UploadId: UploadId! };
    const p1 = await s3.send(new UploadPartCommand({ ...address, PartNumber: 1, Body: Buffer.alloc(5 * MiB, 7) }));
    const p2 = await s3.send(new UploadPartCommand({ ...address, PartNumber: 2, Body: 'tail' }));
    const MultipartUpload = { Parts: [{ PartNumber: 1, ETag: p1.ETag! }, { PartNumber: 2, ETag: p2.ETag! }] };

    const refused = await s3ErrorOf(s3.send(new CompleteMultipartUploadCommand({ ...address, MultipartUpload, IfNoneMatch: '*' })));
    assert.deepEqual([refused.code, refused.status, refused.members['Condition']], ['PreconditionFailed', 412, 'If-None-Match']);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big' }))).Body!.transformToString(), 'small object');

    const done = await s3.send(new CompleteMultipartUploadCommand({ ...address, MultipartUpload }));
    const again = await s3.send(new CompleteMultipartUploadCommand({ ...address, MultipartUpload, IfNoneMatch: '*' }));
    assert.match(done.ETag ?? '', /^"[0-9a-f]{32}-2"$/);
    assert.equal(again.ETag, done.ETag);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big' }))).ContentLength, 5 * MiB + 4);
  });
});

describe('ListParts pages', () => {
  it('pages with MaxParts and PartNumberMarker, naming where the next page starts', async () => {
    const bucket = uniqueName('parts');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'k' }));
    const address = { Bucket: bucket, Key: 'k', UploadId: UploadId! };

    const empty = await s3.send(new ListPartsCommand(address));
    assert.deepEqual([empty.Parts ?? [], empty.PartNumberMarker, empty.NextPartNumberMarker, empty.IsTruncated], [[], '0', '0', false]);

    const etags: string[] = [];
    for (let n = 1; n <= 5; n++) etags.push((await s3.send(new UploadPartCommand({ ...address, PartNumber: n, Body: `part ${n}` }))).ETag!);
    const pages: Array<{ numbers: number[]; marker?: string; next?: string; truncated?: boolean }> = [];
    let marker: string | undefined;
    for (;;) {
      const page = await s3.send(new ListPartsCommand({ ...address, MaxParts: 2, ...(marker ? { PartNumberMarker: marker } : {}) }));
      pages.push({ numbers: (page.Parts ?? []).map((part) => part.PartNumber!), marker: page.PartNumberMarker, next: page.NextPartNumberMarker, truncated: page.IsTruncated });
      if (!page.IsTruncated) break;
      marker = page.NextPartNumberMarker;
    }
    assert.deepEqual(pages, [
      { numbers: [1, 2], marker: '0', next: '2', truncated: true },
      { numbers: [3, 4], marker: '2', next: '4', truncated: true },
      { numbers: [5], marker: '4', next: '5', truncated: false },
    ]);
    const all = await s3.send(new ListPartsCommand(address));
    assert.deepEqual(all.Parts?.map((part) => part.ETag), etags);
  });
});
