/**
 * The external S3 adapter against a real S3-compatible server process (s3rver): the full
 * ObjectStore contract, then what is particular to the adapter (multipart streaming, temporary
 * copies, connection and credential failures, how often it asks who owns a bucket).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { AccountObjectStore } from '../../src/storage/account-object-store.js';
import { S3ObjectStore, type S3StoreConfig } from '../../src/storage/s3/s3-object-store.js';
import {
  chunks,
  CONTRACT_OWNER,
  generated,
  md5Hex,
  objectStoreContract,
  readAll,
  uniqueBucketName,
  type ContractCheck,
} from '../support/object-store-contract.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';

const started = await startS3rver().catch((err: Error) => err);
const s3rver: S3rver | undefined = started instanceof Error ? undefined : started;
const skip = started instanceof Error ? `s3rver could not be started, so the external S3 adapter is untested: ${started.message}` : false;
after(async () => s3rver?.stop());

const configFor = (server: S3rver, overrides: Partial<S3StoreConfig> = {}): S3StoreConfig => ({
  endpoint: server.endpoint,
  region: 'us-east-1',
  accessKeyId: server.accessKeyId,
  secretAccessKey: server.secretAccessKey,
  forcePathStyle: true,
  ...overrides,
});

/**
 * Where s3rver 3.7 differs from S3. These checks stay S3-correct in the contract and are skipped
 * here only; each reason is what s3rver does (see node_modules/s3rver/lib).
 */
const S3RVER_LIMITATIONS: Partial<Record<ContractCheck, string>> = {
  // controllers/object.js parses 'bytes=0-0' to end 0, and the store reads `end || Infinity`.
  firstByteRange: "s3rver treats the range 'bytes=0-0' as 'bytes=0-' and returns the whole object",
  // FilesystemStore.listObjects walks its directory tree depth-first, so 'a/b' (inside
  // directory 'a') comes before 'a-b' and 'a' (files beside it), and compares with JS
  // (UTF-16) string order.
  keyByteOrder: 's3rver lists keys in directory-walk order, not UTF-8 byte order',
  // s3rver counts only keys against max-keys, adds every common prefix it walks past, and
  // bases its continuation on the last key only.
  delimiterPagination: 's3rver does not count common prefixes against max-keys',
  // s3rver turns keys into file paths with path.join, which resolves '..' and '//' (a key
  // starting with '../' even lands outside its data directory).
  dotSegmentKeys: "s3rver maps keys onto file paths, so '..' and empty segments are not kept",
  // routes.js: GET /bucket/key?uploadId=... answers MethodNotAllowed.
  listParts: 's3rver does not implement ListParts',
  // routes.js: DELETE /bucket/key?uploadId=... answers MethodNotAllowed.
  abortMultipartUpload: 's3rver does not implement AbortMultipartUpload',
  // putObjectMultipart stores the MD5 of the whole object as its ETag.
  multipartEtag: "s3rver gives a multipart object the MD5 of all its bytes as ETag, not S3's '<md5 of part md5s>-<n>'",
  // putPart creates the upload directory for any id; completing an unknown id fails with 500.
  noSuchUpload: 's3rver accepts parts for any upload id and answers 500 when completing an unknown one',
  // completeMultipartUpload concatenates the listed parts without checking them.
  partValidation: "s3rver does not check part ETags, part order or S3's 5 MiB minimum part size",
  // models/object.js keeps only content headers, storage class and website redirect.
  encryptionHeaders: 's3rver does not keep x-amz-server-side-encryption',
  // controllers/bucket.js lists every object with StorageClass STANDARD.
  listedStorageClass: 's3rver lists every object as STANDARD',
  // Tags are a sub-resource there; the x-amz-tagging header of a write is dropped.
  tagsOnWrite: 's3rver ignores x-amz-tagging on PutObject and CreateMultipartUpload',
  // routes.js: DELETE /bucket/key?tagging answers NotImplemented.
  removeTags: 's3rver does not implement DeleteObjectTagging',
};

objectStoreContract(
  'S3ObjectStore on s3rver',
  async () => new S3ObjectStore(configFor(s3rver!), CONTRACT_OWNER),
  { skip, limitations: S3RVER_LIMITATIONS },
);

describe('S3ObjectStore specifics on s3rver', { skip }, () => {
  let store: S3ObjectStore;
  let bucket: string;
  /** Names of the SDK commands the store sent, in order. */
  let sent: string[] = [];
  before(async () => {
    store = new S3ObjectStore(configFor(s3rver!), CONTRACT_OWNER);
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize', name: 'recordCommandNames' },
    );
    bucket = uniqueBucketName();
    await store.createBucket(bucket, CONTRACT_OWNER);
  });
  after(async () => store?.close());

  it('puts a small stream with one PutObject', async () => {
    sent = [];
    await store.putObject(bucket, 'small', chunks('a', 'b', 'c'));
    assert.deepEqual(sent, ['PutObjectCommand']);
  });

  it('puts a 30 MB stream as a multipart upload in 8 MiB parts', async () => {
    sent = [];
    const info = await store.putObject(bucket, 'streamed.bin', generated(30 * 1024 * 1024));
    assert.equal(info.size, 30 * 1024 * 1024);
    assert.deepEqual(sent, [
      'CreateMultipartUploadCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'CompleteMultipartUploadCommand',
    ]);
    assert.equal((await store.headObject(bucket, 'streamed.bin'))?.size, 30 * 1024 * 1024);
  });

  it("aborts the multipart upload when the caller's stream fails", async () => {
    sent = [];
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield* generated(9 * 1024 * 1024);
      throw new Error('client went away');
    }
    await assert.rejects(store.putObject(bucket, 'broken.bin', failing()), /client went away/);
    assert.equal(sent.at(-1), 'AbortMultipartUploadCommand');
    assert.equal(await store.headObject(bucket, 'broken.bin'), undefined, 'no partial object appears');
  });

  it('spools an uploadPart body larger than 8 MiB through a temporary file', async () => {
    // The spooled part is sent as a file stream: the path where the SDK's default checksums
    // would re-encode the body as aws-chunked (see the S3ObjectStore constructor).
    const size = 12 * 1024 * 1024;
    const sentMd5 = createHash('md5');
    const uploadId = await store.createMultipartUpload(bucket, 'spooled.bin');
    const part = await store.uploadPart(bucket, 'spooled.bin', uploadId, 1, generated(size, (c) => sentMd5.update(c)));
    assert.equal(part.size, size);
    const expectedMd5 = sentMd5.digest('hex');
    assert.equal(part.etag, `"${expectedMd5}"`);
    const done = await store.completeMultipartUpload(bucket, 'spooled.bin', uploadId, [{ partNumber: 1, etag: part.etag }]);
    assert.equal(done.size, size);
    assert.equal(md5Hex(await readAll((await store.getObject(bucket, 'spooled.bin')).body)), expectedMd5);
  });

  it('downloads a local copy under the temp dir, keeping the extension', async () => {
    await store.putObject(bucket, 'exports/part-0001.csv.gz', chunks('not really gzip'));
    const copy = await store.localCopy(bucket, 'exports/part-0001.csv.gz');
    assert.ok(copy.path.startsWith(tmpdir()));
    assert.ok(copy.path.endsWith('.csv.gz'), copy.path);
    const other = await store.localCopy(bucket, 'exports/part-0001.csv.gz');
    assert.notEqual(other.path, copy.path, 'every copy gets its own file');
    await Promise.all([copy.release(), other.release()]);
    assert.equal(existsSync(copy.path) || existsSync(other.path), false);
  });

  it('reads a range as a stream', async () => {
    await store.putObject(bucket, 'digits', chunks('0123456789'));
    const got = await store.getObject(bucket, 'digits', { start: 3, end: 6 });
    assert.equal((await readAll(got.body)).toString(), '3456');
  });

  it('gives every bucket of the service to its one account and refuses other accounts a new one', async () => {
    assert.equal(await store.bucketOwner(bucket), CONTRACT_OWNER);
    assert.equal(await store.bucketOwner(uniqueBucketName()), undefined);
    assert.ok((await store.listBuckets()).some((b) => b.name === bucket && b.owner === CONTRACT_OWNER));
    const refused = uniqueBucketName();
    await assert.rejects(store.createBucket(refused, '222222222222'), (e: Error & { code?: string; status?: number }) => {
      assert.equal(e.code, 'AccessDenied');
      assert.equal(e.status, 403);
      assert.match(e.message, /belong to account 111111111111; account 222222222222 cannot create one/);
      return true;
    });
    assert.equal(await store.bucketOwner(refused), undefined);
  });

  it("asks HeadBucket about a bucket once per BUCKET_STATE_TTL_MS for all the calls through an account's view, and knows its own creates and deletes at once", async () => {
    /** Runs puts, heads and gets of three objects through an account's view; the HeadBuckets they cost. */
    const headBucketsOf = async (ttlMs: number): Promise<{ calls: number; headBuckets: number; afterDelete: string | undefined; deleteHeadBuckets: number }> => {
      const counted = new S3ObjectStore(configFor(s3rver!), CONTRACT_OWNER, ttlMs);
      const commands: string[] = [];
      counted.client.middlewareStack.add(
        (next, context) => async (args) => {
          commands.push(context.commandName ?? '?');
          return next(args);
        },
        { step: 'initialize', name: 'countCommands' },
      );
      try {
        const view = new AccountObjectStore(counted, CONTRACT_OWNER);
        const fresh = uniqueBucketName();
        await view.createBucket(fresh, CONTRACT_OWNER);
        commands.length = 0;
        let calls = 0;
        for (const key of ['a', 'b', 'c']) {
          await view.putObject(fresh, key, chunks(key));
          assert.equal((await view.headObject(fresh, key))?.size, 1);
          assert.equal((await readAll((await view.getObject(fresh, key)).body)).toString(), key);
          await view.deleteObject(fresh, key);
          calls += 4;
        }
        const headBuckets = commands.filter((c) => c === 'HeadBucketCommand').length;
        await view.deleteBucket(fresh);
        commands.length = 0;
        const afterDelete = await view.bucketOwner(fresh);
        return { calls, headBuckets, afterDelete, deleteHeadBuckets: commands.filter((c) => c === 'HeadBucketCommand').length };
      } finally {
        await counted.close();
      }
    };
    const asking = await headBucketsOf(0);
    assert.equal(asking.headBuckets, asking.calls, 'trusting nothing, every call asks first');
    const remembering = await headBucketsOf(60_000);
    assert.equal(remembering.headBuckets, 0, 'the bucket it created is known');
    assert.equal(remembering.afterDelete, undefined);
    assert.equal(remembering.deleteHeadBuckets, 0, 'the bucket it deleted is known to be gone');
  });

  it('sees a bucket created on the service directly once what it knew has expired', async () => {
    const ttlMs = 300;
    const remembering = new S3ObjectStore(configFor(s3rver!), CONTRACT_OWNER, ttlMs);
    try {
      const elsewhere = uniqueBucketName();
      assert.equal(await remembering.bucketOwner(elsewhere), undefined);
      await store.createBucket(elsewhere, CONTRACT_OWNER);
      assert.equal(await remembering.bucketOwner(elsewhere), undefined, 'still what HeadBucket said a moment ago');
      await new Promise((r) => setTimeout(r, ttlMs + 50));
      assert.equal(await remembering.bucketOwner(elsewhere), CONTRACT_OWNER);
    } finally {
      await remembering.close();
    }
  });

  it('refuses an unknown access key with a 403 and S3 code', async () => {
    // Only the key is checked: s3rver does not verify SigV4 signatures, so a wrong secret would
    // pass (S3 answers SignatureDoesNotMatch, which the error mapping passes on like any code).
    const unknownKey = new S3ObjectStore(configFor(s3rver!, { accessKeyId: 'NOBODY' }), CONTRACT_OWNER);
    try {
      await assert.rejects(unknownKey.getObject(bucket, 'small'), { code: 'InvalidAccessKeyId', status: 403 });
      await assert.rejects(unknownKey.bucketOwner(bucket), { code: 'AccessDenied', status: 403 });
      await assert.rejects(unknownKey.createBucket(uniqueBucketName(), CONTRACT_OWNER), { code: 'InvalidAccessKeyId', status: 403 });
    } finally {
      await unknownKey.close();
    }
  });

  it('names the endpoint when it cannot be reached', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const unreachable = new S3ObjectStore(configFor(s3rver!, { endpoint }), CONTRACT_OWNER);
    try {
      await assert.rejects(unreachable.getObject('some-bucket', 'k'), (err: Error & { code?: string; status?: number }) => {
        assert.equal(err.code, 'ServiceUnavailable');
        assert.equal(err.status, 503);
        assert.match(err.message, new RegExp(`cannot reach the S3 endpoint ${endpoint}`));
        assert.match(err.message, /ECONNREFUSED/);
        return true;
      });
    } finally {
      await unreachable.close();
    }
  });
});

/** A port nothing listens on: bound once by us, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
