/**
 * S3 flexible checksums through @aws-sdk/client-s3: kept with objects and parts, answered by
 * PutObject, GetObject / HeadObject (ChecksumMode), CopyObject, ListObjectsV2, ListParts,
 * ListMultipartUploads and CompleteMultipartUpload (composite and full-object). Expected values are
 * computed here, independently of doppel's implementation (bitwise CRCs, node:crypto hashes).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, silenceSdkNodeVersionWarning } from '../support/s3-tools.js';
import { startServer, stopAndRemove, type TestServer } from '../support/server.js';

silenceSdkNodeVersionWarning();

const BUCKET = 'sums';
const PART_BYTES = 5 * 1024 * 1024;

/** A reflected CRC of `width` bits computed bit by bit (init and final xor all ones), as big-endian base64. */
function reflectedCrc(bytes: Uint8Array, width: 32 | 64, polynomial: bigint): string {
  const mask = (1n << BigInt(width)) - 1n;
  let crc = mask;
  for (const byte of bytes) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ polynomial : crc >> 1n;
  }
  const value = crc ^ mask;
  const out = Buffer.alloc(width / 8);
  if (width === 32) out.writeUInt32BE(Number(value));
  else out.writeBigUInt64BE(value);
  return out.toString('base64');
}
const crc32 = (bytes: Uint8Array) => reflectedCrc(bytes, 32, 0xedb88320n);
const crc32c = (bytes: Uint8Array) => reflectedCrc(bytes, 32, 0x82f63b78n);
const crc64nvme = (bytes: Uint8Array) => reflectedCrc(bytes, 64, 0x9a6c9329ac4bc9b5n);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64');
const sdkError = (name: string) => (e: unknown) => (e as Error).name === name;

describe('S3 flexible checksums', () => {
  let server: TestServer;
  let s3: S3Client;
  /** A client that sends no checksum of its own and validates none. */
  let plain: S3Client;

  before(async () => {
    server = await startServer();
    s3 = s3Client(server);
    plain = s3Client(server, { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  after(async () => {
    s3?.destroy();
    plain?.destroy();
    await stopAndRemove(server);
  });

  test('PutObject keeps the checksum sent; GetObject/HeadObject answer it only with ChecksumMode, not for a range', async () => {
    const body = Buffer.from('checksummed body');
    const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sha', Body: body, ChecksumAlgorithm: 'SHA256' }));
    assert.equal(put.ChecksumSHA256, sha256(body));
    assert.equal(put.ChecksumType, 'FULL_OBJECT');

    const quiet = await plain.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sha' }));
    assert.equal(quiet.ChecksumSHA256, undefined);
    assert.equal(quiet.ChecksumType, undefined);
    const head = await plain.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'sha', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumSHA256, sha256(body));
    assert.equal(head.ChecksumType, 'FULL_OBJECT');

    const get = await plain.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sha', ChecksumMode: 'ENABLED' }));
    assert.equal(get.ChecksumSHA256, sha256(body));
    assert.deepEqual(Buffer.from(await get.Body!.transformToByteArray()), body);
    const ranged = await plain.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'sha', ChecksumMode: 'ENABLED', Range: 'bytes=0-3' }));
    assert.equal(ranged.ChecksumSHA256, undefined);
    assert.equal(Buffer.from(await ranged.Body!.transformToByteArray()).toString(), 'chec');
  });

  test('an object uploaded without a checksum gets a CRC64NVME one; a wrong checksum is BadDigest', async () => {
    const body = randomBytes(100_000);
    const put = await plain.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'default', Body: body }));
    assert.equal(put.ChecksumCRC64NVME, crc64nvme(body));
    const head = await plain.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'default', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumCRC64NVME, crc64nvme(body));
    assert.equal(head.ChecksumType, 'FULL_OBJECT');
    // The SDK validates the checksum it is answered with when reading the object.
    const get = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'default', ChecksumMode: 'ENABLED' }));
    assert.deepEqual(Buffer.from(await get.Body!.transformToByteArray()), body);

    const sent = await plain.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'crc64', Body: body, ChecksumCRC64NVME: crc64nvme(body) }));
    assert.equal(sent.ChecksumCRC64NVME, crc64nvme(body));
    await assert.rejects(
      plain.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'crc64', Body: body, ChecksumCRC64NVME: crc64nvme(Buffer.from('other')) })),
      sdkError('BadDigest'),
    );
  });

  test('ListObjectsV2 names each object’s checksum algorithm and type', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'list/a', Body: 'a', ChecksumAlgorithm: 'CRC32' }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'list/b', Body: 'b', ChecksumAlgorithm: 'SHA1' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/' }));
    assert.deepEqual(
      listed.Contents?.map((object) => [object.Key, object.ChecksumAlgorithm, object.ChecksumType]),
      [
        ['list/a', ['CRC32'], 'FULL_OBJECT'],
        ['list/b', ['SHA1'], 'FULL_OBJECT'],
      ],
    );
  });

  test('CopyObject keeps the source’s algorithm, or computes the one asked for', async () => {
    const body = Buffer.from('copy me, checksums and all');
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'copy/source', Body: body, ChecksumAlgorithm: 'SHA256' }));
    const kept = await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy/kept', CopySource: `${BUCKET}/copy/source` }));
    assert.equal(kept.CopyObjectResult?.ChecksumSHA256, sha256(body));
    assert.equal(kept.CopyObjectResult?.ChecksumType, 'FULL_OBJECT');

    const changed = await s3.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy/crc32c', CopySource: `${BUCKET}/copy/source`, ChecksumAlgorithm: 'CRC32C' }),
    );
    assert.equal(changed.CopyObjectResult?.ChecksumCRC32C, crc32c(body));
    assert.equal(changed.CopyObjectResult?.ChecksumSHA256, undefined);
    const head = await plain.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'copy/crc32c', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumCRC32C, crc32c(body));
    assert.equal(head.ChecksumSHA256, undefined);
  });

  test('a composite multipart checksum is the checksum of the part checksums, with -<parts>', async () => {
    const key = 'multipart/composite';
    const parts = [randomBytes(PART_BYTES), randomBytes(1000)];
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ChecksumAlgorithm: 'SHA256' }));
    assert.equal(created.ChecksumAlgorithm, 'SHA256');
    assert.equal(created.ChecksumType, 'COMPOSITE');
    const uploadId = created.UploadId!;
    const uploaded = [];
    for (const [i, part] of parts.entries()) {
      const out = await s3.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: part, ChecksumAlgorithm: 'SHA256' }),
      );
      assert.equal(out.ChecksumSHA256, sha256(part));
      uploaded.push({ PartNumber: i + 1, ETag: out.ETag!, ChecksumSHA256: out.ChecksumSHA256! });
    }

    const listedParts = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId }));
    assert.equal(listedParts.ChecksumAlgorithm, 'SHA256');
    assert.equal(listedParts.ChecksumType, 'COMPOSITE');
    assert.deepEqual(listedParts.Parts?.map((part) => part.ChecksumSHA256), parts.map(sha256));
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: key }));
    assert.deepEqual(uploads.Uploads?.map((upload) => [upload.ChecksumAlgorithm, upload.ChecksumType]), [['SHA256', 'COMPOSITE']]);

    const wrong = [uploaded[0]!, { ...uploaded[1]!, ChecksumSHA256: sha256(Buffer.from('not the part')) }];
    await assert.rejects(
      s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MultipartUpload: { Parts: wrong } })),
      sdkError('InvalidPart'),
    );

    const composite = `${createHash('sha256')
      .update(Buffer.concat(parts.map((part) => createHash('sha256').update(part).digest())))
      .digest('base64')}-2`;
    const completed = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, MultipartUpload: { Parts: uploaded } }),
    );
    assert.equal(completed.ChecksumSHA256, composite);
    assert.equal(completed.ChecksumType, 'COMPOSITE');
    const head = await plain.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumSHA256, composite);
    assert.equal(head.ChecksumType, 'COMPOSITE');
  });

  test('UploadPartCopy gives the part the checksum of its upload’s algorithm', async () => {
    const source = randomBytes(3000);
    await plain.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'copy-part/source', Body: source }));
    const created = await plain.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'copy-part/target', ChecksumAlgorithm: 'CRC32C' }));
    const copied = await plain.send(
      new UploadPartCopyCommand({
        Bucket: BUCKET,
        Key: 'copy-part/target',
        UploadId: created.UploadId!,
        PartNumber: 1,
        CopySource: `${BUCKET}/copy-part/source`,
        CopySourceRange: 'bytes=100-1099',
      }),
    );
    assert.equal(copied.CopyPartResult?.ChecksumCRC32C, crc32c(source.subarray(100, 1100)));
    const completed = await plain.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'copy-part/target',
        UploadId: created.UploadId!,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: copied.CopyPartResult!.ETag!, ChecksumCRC32C: copied.CopyPartResult!.ChecksumCRC32C! }] },
      }),
    );
    const composite = `${crc32c(Buffer.from(crc32c(source.subarray(100, 1100)), 'base64'))}-1`;
    assert.equal(completed.ChecksumCRC32C, composite);
  });

  test('a full-object multipart checksum is computed over the assembled object and checked against the one sent', async () => {
    const parts = [randomBytes(PART_BYTES), randomBytes(2000)];
    const whole = Buffer.concat(parts);
    const upload = async (key: string) => {
      const created = await plain.send(
        new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ChecksumAlgorithm: 'CRC32', ChecksumType: 'FULL_OBJECT' }),
      );
      assert.equal(created.ChecksumType, 'FULL_OBJECT');
      const uploaded = [];
      for (const [i, part] of parts.entries()) {
        const out = await plain.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: created.UploadId!, PartNumber: i + 1, Body: part }));
        assert.equal(out.ChecksumCRC32, crc32(part));
        uploaded.push({ PartNumber: i + 1, ETag: out.ETag! });
      }
      return { uploadId: created.UploadId!, parts: uploaded };
    };

    const good = await upload('multipart/full');
    const completed = await plain.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'multipart/full',
        UploadId: good.uploadId,
        MultipartUpload: { Parts: good.parts },
        ChecksumCRC32: crc32(whole),
        ChecksumType: 'FULL_OBJECT',
      }),
    );
    assert.equal(completed.ChecksumCRC32, crc32(whole));
    assert.equal(completed.ChecksumType, 'FULL_OBJECT');
    const head = await plain.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'multipart/full', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumCRC32, crc32(whole));

    const bad = await upload('multipart/bad');
    await assert.rejects(
      plain.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'multipart/bad',
          UploadId: bad.uploadId,
          MultipartUpload: { Parts: bad.parts },
          ChecksumCRC32: crc32(parts[0]!),
        }),
      ),
      sdkError('BadDigest'),
    );
    await assert.rejects(plain.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'multipart/bad' })), sdkError('NotFound'));

    // Without an algorithm, the object gets a full-object CRC64NVME.
    const created = await plain.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'multipart/default' }));
    const out = await plain.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: 'multipart/default', UploadId: created.UploadId!, PartNumber: 1, Body: parts[1]! }),
    );
    const done = await plain.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'multipart/default',
        UploadId: created.UploadId!,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: out.ETag! }] },
      }),
    );
    assert.equal(done.ChecksumCRC64NVME, crc64nvme(parts[1]!));
    assert.equal(done.ChecksumType, 'FULL_OBJECT');
  });

  test('CreateMultipartUpload refuses a checksum type its algorithm does not allow', async () => {
    for (const [algorithm, type] of [
      ['SHA256', 'FULL_OBJECT'],
      ['SHA1', 'FULL_OBJECT'],
      ['CRC64NVME', 'COMPOSITE'],
    ] as const) {
      await assert.rejects(
        plain.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'refused', ChecksumAlgorithm: algorithm, ChecksumType: type })),
        (e: unknown) => sdkError('InvalidRequest')(e) && new RegExp(`${type}.*${algorithm}`).test((e as Error).message),
      );
    }
    const crc64 = await plain.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'allowed', ChecksumAlgorithm: 'CRC64NVME' }));
    assert.equal(crc64.ChecksumType, 'FULL_OBJECT');
  });
});
