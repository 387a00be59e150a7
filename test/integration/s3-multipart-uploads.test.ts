/**
 * ListMultipartUploads through @aws-sdk/client-s3 (prefix, delimiter, key-marker / upload-id-marker
 * paging, max-uploads, encoding), and the expiry of abandoned uploads, whose parts leave the disk.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  UploadPartCommand,
  type ListMultipartUploadsCommandInput,
  type ListMultipartUploadsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { errorCode, rawS3Request, s3Client, silenceSdkNodeVersionWarning } from '../support/s3-tools.js';
import { startServer, stopAndRemove, untilLogged, type TestServer } from '../support/server.js';

silenceSdkNodeVersionWarning();

const BUCKET = 'uploads';

describe('ListMultipartUploads', () => {
  let server: TestServer;
  let s3: S3Client;
  /** Every upload created, in S3's listing order: by key, then by initiation. */
  const all: Array<{ key: string; uploadId: string }> = [];

  const create = async (key: string) => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    assert.ok(UploadId);
    return { key, uploadId: UploadId };
  };
  const list = (input: Omit<ListMultipartUploadsCommandInput, 'Bucket'> = {}) =>
    s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, ...input }));
  const uploadsOf = (out: ListMultipartUploadsCommandOutput) =>
    (out.Uploads ?? []).map((upload) => ({ key: upload.Key!, uploadId: upload.UploadId! }));

  before(async () => {
    server = await startServer();
    s3 = s3Client(server);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const created: Array<{ key: string; uploadId: string }> = [];
    // Two uploads of `b` a little apart, so that they are listed in the order they were initiated.
    for (const key of ['d', 'b', 'a/2', 'c/x/y', 'a/1']) created.push(await create(key));
    await sleep(5);
    created.push(await create('b'));
    created.push(await create('a b+c'));
    const order = ['a b+c', 'a/1', 'a/2', 'b', 'c/x/y', 'd'];
    all.push(...created.sort((x, y) => order.indexOf(x.key) - order.indexOf(y.key)));
  });

  after(async () => {
    s3?.destroy();
    await stopAndRemove(server);
  });

  test('lists every upload in progress, by key and then by initiation, with S3 members', async () => {
    const out = await list();
    assert.deepEqual(uploadsOf(out), all);
    assert.equal(out.Bucket, BUCKET);
    assert.equal(out.IsTruncated, false);
    assert.equal(out.MaxUploads, 1000);
    const first = out.Uploads![0]!;
    assert.equal(first.StorageClass, 'STANDARD');
    assert.ok(first.Initiated instanceof Date && Math.abs(first.Initiated.getTime() - Date.now()) < 60_000);
    assert.ok(first.Owner?.ID && first.Initiator?.ID);
  });

  test('Prefix selects keys; Delimiter rolls keys up into CommonPrefixes', async () => {
    assert.deepEqual(uploadsOf(await list({ Prefix: 'a/' })), all.filter((u) => u.key.startsWith('a/')));
    const rolled = await list({ Delimiter: '/' });
    assert.deepEqual(uploadsOf(rolled), all.filter((u) => !u.key.includes('/')));
    assert.deepEqual(rolled.CommonPrefixes?.map((p) => p.Prefix), ['a/', 'c/']);
    const nested = await list({ Prefix: 'c/', Delimiter: '/' });
    assert.deepEqual(uploadsOf(nested), []);
    assert.deepEqual(nested.CommonPrefixes?.map((p) => p.Prefix), ['c/x/']);
  });

  test('MaxUploads pages with NextKeyMarker / NextUploadIdMarker, also between uploads of one key', async () => {
    for (const maxUploads of [1, 2, 3]) {
      const seen: Array<{ key: string; uploadId: string }> = [];
      let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
      for (let page = 0; page < 20; page++) {
        const out = await list({ MaxUploads: maxUploads, ...markers });
        assert.ok((out.Uploads ?? []).length <= maxUploads);
        seen.push(...uploadsOf(out));
        if (!out.IsTruncated) break;
        assert.ok(out.NextKeyMarker && out.NextUploadIdMarker, 'a truncated page says where the next starts');
        markers = { KeyMarker: out.NextKeyMarker, UploadIdMarker: out.NextUploadIdMarker };
      }
      assert.deepEqual(seen, all, `pages of ${maxUploads}`);
    }
  });

  test('KeyMarker alone lists the keys after it; pages of CommonPrefixes do not repeat a prefix', async () => {
    assert.deepEqual(uploadsOf(await list({ KeyMarker: 'b' })), all.filter((u) => u.key > 'b'));
    const entries: string[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (let page = 0; page < 20; page++) {
      const out = await list({ Delimiter: '/', MaxUploads: 1, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker });
      entries.push(...uploadsOf(out).map((u) => u.key), ...(out.CommonPrefixes ?? []).map((p) => p.Prefix!));
      if (!out.IsTruncated) break;
      keyMarker = out.NextKeyMarker;
      uploadIdMarker = out.NextUploadIdMarker;
    }
    assert.deepEqual(entries, ['a b+c', 'a/', 'b', 'b', 'c/', 'd']);
  });

  test('EncodingType url encodes keys and prefixes (the JS SDK hands them over encoded)', async () => {
    const out = await list({ EncodingType: 'url', Prefix: 'a b' });
    const decoded = uploadsOf(out).map((u) => ({ ...u, key: decodeURIComponent(u.key.replace(/\+/g, ' ')) }));
    assert.deepEqual(decoded, all.filter((u) => u.key === 'a b+c'));
    assert.equal(out.Prefix, 'a+b');
    const raw = await rawS3Request(server, { method: 'GET', target: `/${BUCKET}?uploads&encoding-type=url&prefix=a%20b` });
    assert.equal(raw.status, 200);
    assert.match(raw.body.toString(), /<Key>a\+b%2Bc<\/Key>/);
  });

  test('completed and aborted uploads are no longer listed', async () => {
    const done = await create('finished');
    const part = await s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: 'finished', UploadId: done.uploadId, PartNumber: 1, Body: 'bytes' }),
    );
    const dropped = await create('dropped');
    assert.ok(uploadsOf(await list()).some((u) => u.uploadId === done.uploadId));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'finished',
        UploadId: done.uploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'dropped', UploadId: dropped.uploadId }));
    assert.deepEqual(uploadsOf(await list()), all);
  });

  test('errors: an unknown bucket is NoSuchBucket, a bad max-uploads InvalidArgument', async () => {
    await assert.rejects(s3.send(new ListMultipartUploadsCommand({ Bucket: 'no-such-bucket' })), { name: 'NoSuchBucket' });
    const raw = await rawS3Request(server, { method: 'GET', target: `/${BUCKET}?uploads&max-uploads=many` });
    assert.equal(raw.status, 400);
    assert.equal(errorCode(raw), 'InvalidArgument');
  });
});

describe('abandoned multipart uploads expire (DOPPEL_MULTIPART_EXPIRY_HOURS)', () => {
  let server: TestServer;
  let s3: S3Client;

  before(async () => {
    // 0.0005 h = 1.8 s.
    server = await startServer({ env: { DOPPEL_MULTIPART_EXPIRY_HOURS: '0.0005' } });
    s3 = s3Client(server);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  after(async () => {
    s3?.destroy();
    await stopAndRemove(server);
  });

  test('an upload older than the expiry age is aborted and its parts leave the disk', async () => {
    const blobsDir = join(server.dataDir, 'objects', 'blobs');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'abandoned' }));
    await s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: 'abandoned', UploadId, PartNumber: 1, Body: Buffer.alloc(256 * 1024, 7) }),
    );
    await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'abandoned', UploadId, PartNumber: 2, Body: 'tail' }));
    assert.equal(readdirSync(blobsDir).length, 2, 'the two parts are on disk');

    const deadline = Date.now() + 20_000;
    while ((await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads?.length) {
      assert.ok(Date.now() < deadline, `the upload never expired:\n${server.output()}`);
      await sleep(200);
    }
    // The parts' files go after the index no longer lists the upload.
    while (readdirSync(blobsDir).length > 0 && Date.now() < deadline) await sleep(50);
    assert.deepEqual(readdirSync(blobsDir), [], 'its parts are removed from disk');
    await assert.rejects(
      s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'abandoned', UploadId, PartNumber: 3, Body: 'late' })),
      { name: 'NoSuchUpload' },
    );
    await untilLogged(server, /aborted 1 multipart upload\(s\) initiated more than 1\.8 s ago/);
  });
});

describe('ListMultipartUploads through an external S3-compatible store (DOPPEL_S3_ENDPOINT)', () => {
  let backing: TestServer;
  let server: TestServer;
  let s3: S3Client;

  before(async () => {
    // The external store is another doppel: its S3 endpoint implements ListMultipartUploads.
    backing = await startServer();
    server = await startServer({
      env: { DOPPEL_S3_ENDPOINT: backing.endpoint, DOPPEL_S3_ACCESS_KEY_ID: 'test', DOPPEL_S3_SECRET_ACCESS_KEY: 'test' },
    });
    s3 = s3Client(server);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  after(async () => {
    s3?.destroy();
    await stopAndRemove(server);
    await stopAndRemove(backing);
  });

  test('the listing, its paging and its common prefixes come from the external store', async () => {
    const created: string[] = [];
    for (const key of ['k/1', 'k/2', 'top']) {
      created.push((await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }))).UploadId!);
    }
    const first = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, MaxUploads: 2 }));
    assert.equal(first.IsTruncated, true);
    const second = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: BUCKET, KeyMarker: first.NextKeyMarker, UploadIdMarker: first.NextUploadIdMarker }),
    );
    assert.deepEqual([...(first.Uploads ?? []), ...(second.Uploads ?? [])].map((u) => u.UploadId), created);
    const rolled = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Delimiter: '/' }));
    assert.deepEqual(rolled.CommonPrefixes?.map((p) => p.Prefix), ['k/']);
    assert.deepEqual(rolled.Uploads?.map((u) => u.Key), ['top']);

    const direct = s3Client(backing);
    try {
      const stored = await direct.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
      assert.deepEqual(stored.Uploads?.map((u) => u.UploadId), created, 'the uploads live in the external store');
    } finally {
      direct.destroy();
    }
  });
});
