/**
 * The S3 endpoint through @aws-sdk/client-s3 (path style), with the SDK's default behaviour: its
 * CRC32 checksums, sent as a header for buffered bodies and as an aws-chunked trailer
 * (STREAMING-UNSIGNED-PAYLOAD-TRAILER) for streams. Also raw requests for what the SDK does not
 * send: signed aws-chunked bodies (chunk and trailer signatures), virtual-hosted addressing, and
 * bodies that do not match what was signed.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketAclCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startServer, stopAndRemove, type TestServer } from '../support/server.js';
import { errorCode, rawS3Request, s3Client, silenceSdkNodeVersionWarning } from '../support/s3-tools.js';

silenceSdkNodeVersionWarning();

const MiB = 1024 * 1024;
const BUCKET = 'sdk-bucket';

let server: TestServer;
let s3: S3Client;

/** Records the final (signed) headers of every request the client sends. */
function recordRequests(client: S3Client): Array<Record<string, string>> {
  const seen: Array<Record<string, string>> = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = (args as { request?: { headers?: Record<string, string> } }).request;
      if (request?.headers) seen.push({ ...request.headers });
      return next(args);
    },
    { step: 'deserialize', priority: 'low', name: 'recordRequestHeaders' },
  );
  return seen;
}

async function text(body: unknown): Promise<string> {
  return (body as { transformToString(): Promise<string> }).transformToString();
}

async function expectS3Error(call: Promise<unknown>, name: string, status: number): Promise<void> {
  await assert.rejects(call, (e: unknown) => {
    const error = e as { name?: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
    assert.equal(error.name, name, `error name (${String(e)})`);
    assert.equal(error.$metadata?.httpStatusCode, status);
    assert.ok(error.$metadata?.requestId, 'x-amz-request-id');
    return true;
  });
}

async function exists(key: string, bucket = BUCKET): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (e) {
    if ((e as { name?: string }).name === 'NotFound') return false;
    throw e;
  }
}

describe('S3 endpoint with @aws-sdk/client-s3', { timeout: 120_000 }, () => {
  before(async () => {
    server = await startServer();
    s3 = s3Client(server);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  after(async () => {
    s3?.destroy();
    await stopAndRemove(server);
  });

  test('puts a buffer (checksum header) and a stream (aws-chunked with a CRC32 trailer)', async () => {
    const client = s3Client(server);
    const sent = recordRequests(client);
    try {
      const put = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'put/buffer.txt', Body: 'buffered body', ContentType: 'text/plain' }));
      assert.equal(put.ETag, `"${createHash('md5').update('buffered body').digest('hex')}"`);
      assert.ok(sent.at(-1)?.['x-amz-checksum-crc32'], 'the SDK sent a CRC32 header');

      const data = randomBytes(3 * MiB + 17);
      const streamed = await client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'put/stream.bin', Body: Readable.from([data.subarray(0, MiB), data.subarray(MiB)]), ContentLength: data.length }),
      );
      const headers = sent.at(-1)!;
      assert.equal(headers['x-amz-content-sha256'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
      assert.match(headers['content-encoding'] ?? '', /aws-chunked/);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(data));
      assert.equal(streamed.ChecksumCRC32, crc.toString('base64'), 'the verified trailer checksum is echoed');
      const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'put/stream.bin' }));
      assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), data);
      assert.equal(got.ContentLength, data.length);
      assert.equal(got.ContentType, headers['content-type'] ?? 'binary/octet-stream');
    } finally {
      client.destroy();
    }
  });

  test('ListBuckets refuses a MaxBuckets outside 1..10000 and a token it did not issue (boto3 checks the range before sending, so the JS SDK here)', async () => {
    await expectS3Error(s3.send(new ListBucketsCommand({ MaxBuckets: 0 })), 'InvalidArgument', 400);
    await expectS3Error(s3.send(new ListBucketsCommand({ MaxBuckets: 10_001 })), 'InvalidArgument', 400);
    await expectS3Error(s3.send(new ListBucketsCommand({ ContinuationToken: 'not-ours' })), 'InvalidArgument', 400);
  });

  test('verifies every trailer checksum algorithm the SDK offers', async () => {
    for (const algorithm of ['CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const) {
      const data = randomBytes(200_000);
      const key = `checksums/${algorithm}`;
      const out = await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Readable.from([data]), ContentLength: data.length, ChecksumAlgorithm: algorithm }),
      );
      assert.ok(out.ETag, algorithm);
      const back = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      assert.deepEqual(Buffer.from(await back.Body!.transformToByteArray()), data, algorithm);
    }
  });

  test('gets ranges, heads, conditional gets and metadata', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'range.txt', Body: 'abcdefghijklmnopqrstuvwxyz', Metadata: { team: 'data' } }));
    const middle = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'range.txt', Range: 'bytes=2-5' }));
    assert.equal(await text(middle.Body), 'cdef');
    assert.equal(middle.ContentRange, 'bytes 2-5/26');
    assert.equal(middle.ContentLength, 4);
    assert.equal(middle.$metadata.httpStatusCode, 206);
    const tail = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'range.txt', Range: 'bytes=-3' }));
    assert.equal(await text(tail.Body), 'xyz');
    const open = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'range.txt', Range: 'bytes=20-' }));
    assert.equal(await text(open.Body), 'uvwxyz');
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'range.txt', Range: 'bytes=30-40' })), 'InvalidRange', 416);

    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'range.txt' }));
    assert.equal(head.ContentLength, 26);
    assert.deepEqual(head.Metadata, { team: 'data' });
    assert.ok(head.LastModified instanceof Date);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'range.txt', IfMatch: '"nope"' })), 'PreconditionFailed', 412);
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'range.txt', IfNoneMatch: head.ETag })), (e: unknown) => {
      assert.equal((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 304);
      return true;
    });
    const since = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'range.txt', IfModifiedSince: new Date(Date.now() - 3_600_000) }));
    assert.equal(await text(since.Body), 'abcdefghijklmnopqrstuvwxyz');
  });

  test('copies objects, keeping or replacing metadata', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'copy/src.json', Body: '{"a":1}', ContentType: 'application/json', Metadata: { origin: 'src' } }));
    const copied = await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy/dst ü.json', CopySource: `${BUCKET}/${encodeURIComponent('copy/src.json')}` }));
    assert.equal(copied.CopyObjectResult?.ETag, `"${createHash('md5').update('{"a":1}').digest('hex')}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'copy/dst ü.json' }));
    assert.equal(head.ContentType, 'application/json');
    assert.deepEqual(head.Metadata, { origin: 'src' });
    await s3.send(new CopyObjectCommand({
      Bucket: BUCKET, Key: 'copy/replaced', CopySource: `/${BUCKET}/copy/src.json`, MetadataDirective: 'REPLACE', ContentType: 'text/plain', Metadata: { fresh: 'yes' },
    }));
    const replaced = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'copy/replaced' }));
    assert.deepEqual([replaced.ContentType, replaced.Metadata], ['text/plain', { fresh: 'yes' }]);
    await expectS3Error(s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'x', CopySource: `${BUCKET}/copy/missing` })), 'NoSuchKey', 404);
    await expectS3Error(
      s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'x', CopySource: `${BUCKET}/copy/src.json`, CopySourceIfMatch: '"other"' })),
      'PreconditionFailed',
      412,
    );
  });

  test('paginates ListObjectsV2 and rolls up common prefixes', async () => {
    const keys = ['list/a', 'list/b', 'list/c/1', 'list/c/2', 'list/d', 'list/é', 'list/😀'];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
    const pages = [];
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: BUCKET, Prefix: 'list/' })) pages.push(page);
    assert.equal(pages.length, 4);
    assert.deepEqual(pages.flatMap((p) => (p.Contents ?? []).map((o) => o.Key)), keys);
    assert.ok(pages.slice(0, -1).every((p) => p.IsTruncated && p.KeyCount === 2 && p.MaxKeys === 2));

    const rolled = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', Delimiter: '/', MaxKeys: 3 }));
    assert.deepEqual(rolled.Contents?.map((o) => o.Key), ['list/a', 'list/b']);
    assert.deepEqual(rolled.CommonPrefixes?.map((p) => p.Prefix), ['list/c/']);
    const rest = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', Delimiter: '/', ContinuationToken: rolled.NextContinuationToken }));
    assert.deepEqual(rest.Contents?.map((o) => o.Key), ['list/d', 'list/é', 'list/😀']);
    assert.equal(rest.CommonPrefixes, undefined);

    const after = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/', StartAfter: 'list/d', FetchOwner: true }));
    assert.deepEqual(after.Contents?.map((o) => o.Key), ['list/é', 'list/😀']);
    assert.ok(after.Contents?.[0]?.Owner?.ID);
    const encoded = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/é', EncodingType: 'url' }));
    assert.equal(encoded.Contents?.[0]?.Key, encodeURIComponent('list/é').replace('%2F', '/'));
    await expectS3Error(s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: '!!not-a-token' })), 'InvalidArgument', 400);
  });

  test('multipart upload with streamed parts, UploadPartCopy and ListParts', async () => {
    const part1 = randomBytes(5 * MiB);
    const part2 = randomBytes(1000);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp/big.bin', ContentType: 'application/x-big' }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mp/big.bin', UploadId, PartNumber: 1, Body: Readable.from([part1]), ContentLength: part1.length }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mp/big.bin', UploadId, PartNumber: 2, Body: part2 }));
    const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'mp/big.bin', UploadId }));
    assert.deepEqual(listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]), [[1, part1.length, p1.ETag], [2, part2.length, p2.ETag]]);
    await expectS3Error(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp/big.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: p2.ETag }, { PartNumber: 1, ETag: p1.ETag }] } })),
      'InvalidPartOrder',
      400,
    );
    const done = await s3.send(new CompleteMultipartUploadCommand({
      Bucket: BUCKET, Key: 'mp/big.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] },
    }));
    assert.match(done.ETag ?? '', /^"[0-9a-f]{32}-2"$/);
    const whole = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'mp/big.bin' }));
    assert.deepEqual(Buffer.from(await whole.Body!.transformToByteArray()), Buffer.concat([part1, part2]));
    assert.equal(whole.ContentType, 'application/x-big');

    // A new object assembled from byte ranges of the first one.
    const copy = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp/copy.bin' }));
    const c1 = await s3.send(new UploadPartCopyCommand({ Bucket: BUCKET, Key: 'mp/copy.bin', UploadId: copy.UploadId, PartNumber: 1, CopySource: `${BUCKET}/mp/big.bin`, CopySourceRange: `bytes=0-${5 * MiB - 1}` }));
    const c2 = await s3.send(new UploadPartCopyCommand({ Bucket: BUCKET, Key: 'mp/copy.bin', UploadId: copy.UploadId, PartNumber: 2, CopySource: `${BUCKET}/mp/big.bin`, CopySourceRange: `bytes=${5 * MiB}-${5 * MiB + 999}` }));
    // A range reaching one byte past the object is refused, not cut short.
    const size = part1.length + part2.length;
    await assert.rejects(
      s3.send(new UploadPartCopyCommand({ Bucket: BUCKET, Key: 'mp/copy.bin', UploadId: copy.UploadId, PartNumber: 3, CopySource: `${BUCKET}/mp/big.bin`, CopySourceRange: `bytes=${5 * MiB}-${size}` })),
      (e: Error) => e.name === 'InvalidArgument' && e.message === `Range specified is not valid for source object of size: ${size}`,
    );
    await s3.send(new CompleteMultipartUploadCommand({
      Bucket: BUCKET, Key: 'mp/copy.bin', UploadId: copy.UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: c1.CopyPartResult?.ETag }, { PartNumber: 2, ETag: c2.CopyPartResult?.ETag }] },
    }));
    const copied = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'mp/copy.bin' }));
    assert.deepEqual(Buffer.from(await copied.Body!.transformToByteArray()), Buffer.concat([part1, part2]));
  });

  test('deletes objects one by one and in batches', async () => {
    for (const key of ['del/1', 'del/2', 'del/3']) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' }));
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'del/1' }));
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'del/1' })); // already gone: fine
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'del/2' }, { Key: 'del/3' }] } }));
    assert.deepEqual(out.Deleted?.map((d) => d.Key).sort(), ['del/2', 'del/3']);
    assert.equal(await exists('del/2'), false);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'del/2' })), 'NoSuchKey', 404);
    await expectS3Error(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })), 'NoSuchBucket', 404);
    await expectS3Error(s3.send(new GetBucketAclCommand({ Bucket: BUCKET })), 'NotImplemented', 501);
  });

  test('auth: wrong secret, unknown key, tampered body', async () => {
    const wrongSecret = s3Client(server, { credentials: { accessKeyId: 'test', secretAccessKey: 'not-the-secret' } });
    const unknownKey = s3Client(server, { credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'test' } });
    // The tampering client sends no checksum, so only the signed SHA-256 speaks for the body.
    const tamperer = s3Client(server, { requestChecksumCalculation: 'WHEN_REQUIRED' });
    tamperer.middlewareStack.add(
      (next) => async (args) => {
        const request = (args as { request: { body?: unknown } }).request;
        if (typeof request.body === 'string' || request.body instanceof Uint8Array) {
          request.body = Buffer.from(Buffer.from(request.body as string).toString('utf8').replace('honest', 'forged'));
        }
        return next(args);
      },
      { step: 'deserialize', priority: 'low', name: 'tamperWithBody' },
    );
    try {
      await expectS3Error(wrongSecret.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'auth/x', Body: 'x' })), 'SignatureDoesNotMatch', 403);
      await expectS3Error(wrongSecret.send(new ListObjectsV2Command({ Bucket: BUCKET })), 'SignatureDoesNotMatch', 403);
      await expectS3Error(unknownKey.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'range.txt' })), 'InvalidAccessKeyId', 403);
      assert.equal(await exists('auth/x'), false);

      await expectS3Error(tamperer.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'auth/tampered', Body: 'an honest body' })), 'XAmzContentSHA256Mismatch', 400);
      assert.equal(await exists('auth/tampered'), false, 'nothing stored');
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'auth/kept', Body: 'original' }));
      await expectS3Error(tamperer.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'auth/kept', Body: 'an honest body' })), 'XAmzContentSHA256Mismatch', 400);
      assert.equal(await text((await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'auth/kept' }))).Body), 'original');

      const unsigned = await rawS3Request(server, { method: 'GET', target: `/${BUCKET}/range.txt`, sign: false });
      assert.equal(unsigned.status, 403);
      assert.equal(errorCode(unsigned), 'AccessDenied');
      assert.ok(unsigned.headers['x-amz-request-id']);
    } finally {
      wrongSecret.destroy();
      unknownKey.destroy();
      tamperer.destroy();
    }
  });

  test('signed aws-chunked uploads: chunk signatures and a signed trailer are verified', async () => {
    const data = randomBytes(150_000);
    const good = await signedChunkedPut('chunked/good.bin', data, { chunkSize: 64 * 1024 });
    assert.equal(good.status, 200, good.body.toString());
    assert.equal(good.headers['etag'], `"${createHash('md5').update(data).digest('hex')}"`);
    const back = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'chunked/good.bin' }));
    assert.deepEqual(Buffer.from(await back.Body!.transformToByteArray()), data);

    const trailer = await signedChunkedPut('chunked/trailer.bin', data, { chunkSize: 64 * 1024, crc32cTrailer: true });
    assert.equal(trailer.status, 200, trailer.body.toString());
    assert.equal(trailer.headers['x-amz-checksum-crc32c'], crc32cBase64(data));

    const badChunk = await signedChunkedPut('chunked/bad-chunk.bin', data, { chunkSize: 64 * 1024, corruptChunk: 1 });
    assert.equal(badChunk.status, 403);
    assert.equal(errorCode(badChunk), 'SignatureDoesNotMatch');
    assert.equal(await exists('chunked/bad-chunk.bin'), false);

    const badTrailer = await signedChunkedPut('chunked/bad-trailer.bin', data, { chunkSize: 64 * 1024, crc32cTrailer: true, corruptTrailerSignature: true });
    assert.equal(errorCode(badTrailer), 'SignatureDoesNotMatch');
    assert.equal(await exists('chunked/bad-trailer.bin'), false);

    const badChecksum = await signedChunkedPut('chunked/bad-checksum.bin', data, { chunkSize: 64 * 1024, crc32cTrailer: true, wrongChecksum: true });
    assert.equal(badChecksum.status, 400);
    assert.equal(errorCode(badChecksum), 'BadDigest');
    assert.equal(await exists('chunked/bad-checksum.bin'), false);
  });

  test('virtual-hosted style: <bucket>.localhost and <bucket>.s3.localhost', async () => {
    const port = new URL(server.endpoint).port;
    const put = await rawS3Request(server, { method: 'PUT', target: '/vhost/key.txt', host: `${BUCKET}.localhost:${port}`, body: 'virtual' });
    assert.equal(put.status, 200, put.body.toString());
    const get = await rawS3Request(server, { method: 'GET', target: '/vhost/key.txt', host: `${BUCKET}.s3.localhost:${port}` });
    assert.equal(get.body.toString(), 'virtual');
    const list = await rawS3Request(server, { method: 'GET', target: '/?list-type=2&prefix=vhost%2F', host: `${BUCKET}.localhost:${port}` });
    assert.match(list.body.toString(), /<Key>vhost\/key.txt<\/Key>/);
    assert.equal(await text((await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'vhost/key.txt' }))).Body), 'virtual');
  });
});

describe('S3 endpoint with --no-auth', { timeout: 60_000 }, () => {
  let open: TestServer;
  before(async () => {
    open = await startServer({ args: ['--no-auth'] });
  });
  after(() => stopAndRemove(open));

  test('accepts unsigned requests, still decoding aws-chunked bodies', async () => {
    assert.equal((await rawS3Request(open, { method: 'PUT', target: '/open-bucket', sign: false })).status, 200);
    const put = await rawS3Request(open, { method: 'PUT', target: '/open-bucket/k.txt', body: 'unsigned', sign: false });
    assert.equal(put.status, 200, put.body.toString());
    const chunked = await rawS3Request(open, {
      method: 'PUT',
      target: '/open-bucket/chunked.txt',
      sign: false,
      contentSha256: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5', 'x-amz-trailer': 'x-amz-checksum-crc32' },
      body: '5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n',
    });
    assert.equal(chunked.status, 200, chunked.body.toString());
    assert.equal((await rawS3Request(open, { method: 'GET', target: '/open-bucket/chunked.txt', sign: false })).body.toString(), 'hello');
    const list = await rawS3Request(open, { method: 'GET', target: '/open-bucket?list-type=2', sign: false });
    assert.match(list.body.toString(), /<Key>chunked.txt<\/Key>[\s\S]*<Key>k.txt<\/Key>/);
  });

  test('a client that disconnects mid-upload leaves nothing behind', async () => {
    const url = new URL(open.endpoint);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(`PUT /open-bucket/partial HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: 1000000\r\n\r\n`);
        socket.write(Buffer.alloc(400_000, 'x'), () => setTimeout(() => socket.destroy(), 200));
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    await new Promise((r) => setTimeout(r, 300));
    const get = await rawS3Request(open, { method: 'GET', target: '/open-bucket/partial', sign: false });
    assert.equal(get.status, 404);
    assert.deepEqual(readdirSync(join(open.dataDir, 'objects', 'tmp')), []);
    assert.doesNotMatch(open.output(), /failed: Error: aborted/, 'a client going away is not logged as a server fault');
  });
});

// ---------------------------------------------------------------------------------------------------
// Signed aws-chunked bodies, built here from the SigV4 streaming specification

interface ChunkedOptions {
  chunkSize: number;
  crc32cTrailer?: boolean;
  corruptChunk?: number;
  corruptTrailerSignature?: boolean;
  wrongChecksum?: boolean;
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const sha256Hex = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

async function signedChunkedPut(key: string, data: Buffer, options: ChunkedOptions) {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += options.chunkSize) pieces.push(data.subarray(offset, offset + options.chunkSize));
  pieces.push(Buffer.alloc(0));
  const checksum = options.wrongChecksum ? crc32cBase64(Buffer.from('something else')) : crc32cBase64(data);
  const trailerLine = `x-amz-checksum-crc32c:${checksum}`;
  const signatureLength = 64;
  const chunkLength = (size: number) => size.toString(16).length + ';chunk-signature='.length + signatureLength + 2 + size + 2;
  let encodedLength = pieces.reduce((sum, piece) => sum + chunkLength(piece.length), 0);
  if (options.crc32cTrailer) encodedLength += -2 + trailerLine.length + 2 + 'x-amz-trailer-signature:'.length + signatureLength + 2 + 2;

  const contentSha256 = options.crc32cTrailer ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
  return rawS3Request(server, {
    method: 'PUT',
    target: `/${BUCKET}/${key}`,
    contentSha256,
    headers: {
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(data.length),
      'content-length': String(encodedLength),
      ...(options.crc32cTrailer ? { 'x-amz-trailer': 'x-amz-checksum-crc32c' } : {}),
    },
    bodyAfterSigning: (headers) => {
      const authorization = headers['authorization'] ?? '';
      const seed = /Signature=([0-9a-f]{64})/.exec(authorization)![1]!;
      const amzDate = headers['x-amz-date']!;
      const date = amzDate.slice(0, 8);
      const scope = `${date}/us-east-1/s3/aws4_request`;
      const signingKey = hmac(hmac(hmac(hmac('AWS4test', date), 'us-east-1'), 's3'), 'aws4_request');
      let previous = seed;
      const out: Buffer[] = [];
      pieces.forEach((piece, index) => {
        const stringToSign = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, sha256Hex(''), sha256Hex(piece)].join('\n');
        let signature = hmac(signingKey, stringToSign).toString('hex');
        previous = signature;
        if (options.corruptChunk === index) signature = signature.replace(/^./, (c) => (c === '0' ? '1' : '0'));
        const last = index === pieces.length - 1;
        out.push(Buffer.from(`${piece.length.toString(16)};chunk-signature=${signature}\r\n`), piece);
        if (!last || !options.crc32cTrailer) out.push(Buffer.from('\r\n'));
      });
      if (options.crc32cTrailer) {
        const stringToSign = ['AWS4-HMAC-SHA256-TRAILER', amzDate, scope, previous, sha256Hex(`${trailerLine}\n`)].join('\n');
        let signature = hmac(signingKey, stringToSign).toString('hex');
        if (options.corruptTrailerSignature) signature = signature.replace(/^./, (c) => (c === '0' ? '1' : '0'));
        out.push(Buffer.from(`${trailerLine}\r\nx-amz-trailer-signature:${signature}\r\n\r\n`));
      }
      const body = Buffer.concat(out);
      assert.equal(body.length, encodedLength, 'framing length');
      return body;
    },
  });
}

/** CRC-32C, bit by bit (independent of the server's table-driven one). */
function crc32cBase64(data: Uint8Array): string {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}
