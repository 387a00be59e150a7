/**
 * The embedded store's guarded writes and listing pages: conditional writes (If-Match /
 * If-None-Match) and the expected bucket owner checked inside the index transaction, a bucket
 * re-created by another account while a write streams, a repeated CompleteMultipartUpload, bucket
 * regions, and ListMultipartUploads / ListParts read page by page.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AccountObjectStore } from '../../src/storage/account-object-store.js';
import { ObjectStoreError, type ListUploadsResult } from '../../src/storage/object-store.js';
import { LocalObjectStore, MIN_PART_BYTES } from '../../src/storage/local/local-object-store.js';

const OWNER = '123456789012';
const OTHER_OWNER = '210987654321';

async function* chunks(...parts: Array<string | Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part) : part;
}

async function readAll(body: Readable): Promise<string> {
  const out: Buffer[] = [];
  for await (const chunk of body) out.push(chunk as Buffer);
  return Buffer.concat(out).toString('utf8');
}

function rejectsWith(code: string, status: number, details: Record<string, string> = {}) {
  return (e: unknown) => {
    assert.ok(e instanceof ObjectStoreError, `expected ObjectStoreError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.status, status);
    for (const [name, value] of Object.entries(details)) assert.equal(e.details[name], value);
    return true;
  };
}

describe('LocalObjectStore guarded writes', () => {
  let root: string;
  let store: LocalObjectStore;

  beforeEach(async () => {
    root = join(mkdtempSync(join(tmpdir(), 'doppel-guards-')), 'objects');
    store = await LocalObjectStore.open(root);
    await store.createBucket('bkt', OWNER);
  });
  afterEach(async () => {
    await store.close();
    rmSync(join(root, '..'), { recursive: true, force: true });
  });

  it('puts with If-None-Match only a new key, and with If-Match only over the given ETag', async () => {
    const first = await store.putObject('bkt', 'k', chunks('one'), { conditions: { ifNoneMatch: '*' } });
    await assert.rejects(
      store.putObject('bkt', 'k', chunks('two'), { conditions: { ifNoneMatch: '*' } }),
      rejectsWith('PreconditionFailed', 412, { Condition: 'If-None-Match' }),
    );
    await assert.rejects(
      store.putObject('bkt', 'k', chunks('two'), { conditions: { ifMatch: '"0123"' } }),
      rejectsWith('PreconditionFailed', 412, { Condition: 'If-Match' }),
    );
    assert.equal(await readAll((await store.getObject('bkt', 'k')).body), 'one');
    // The ETag quoted, unquoted or with one quote left: S3 takes all three.
    const second = await store.putObject('bkt', 'k', chunks('two'), { conditions: { ifMatch: first.etag } });
    const third = await store.putObject('bkt', 'k', chunks('three'), { conditions: { ifMatch: second.etag.replace(/"/g, '') } });
    await store.putObject('bkt', 'k', chunks('four'), { conditions: { ifMatch: third.etag.slice(1) } });
    assert.equal(await readAll((await store.getObject('bkt', 'k')).body), 'four');
    await assert.rejects(
      store.putObject('bkt', 'missing', chunks('x'), { conditions: { ifMatch: first.etag } }),
      rejectsWith('NoSuchKey', 404, { Key: 'missing' }),
    );
    assert.equal(await store.headObject('bkt', 'missing'), undefined);
  });

  it('deletes with If-Match only the object with that ETag', async () => {
    const put = await store.putObject('bkt', 'k', chunks('one'));
    await assert.rejects(store.deleteObject('bkt', 'k', { ifMatch: '"0123"' }), rejectsWith('PreconditionFailed', 412));
    assert.ok(await store.headObject('bkt', 'k'));
    await store.deleteObject('bkt', 'k', { ifMatch: put.etag });
    assert.equal(await store.headObject('bkt', 'k'), undefined);
    await assert.rejects(store.deleteObject('bkt', 'k', { ifMatch: put.etag }), rejectsWith('NoSuchKey', 404));
  });

  it('completes an upload with If-None-Match only when the key is free, keeping the upload when refused', async () => {
    await store.putObject('bkt', 'k', chunks('already here'));
    const uploadId = await store.createMultipartUpload('bkt', 'k');
    const part = await store.uploadPart('bkt', 'k', uploadId, 1, chunks('new'));
    const parts = [{ partNumber: 1, etag: part.etag }];
    await assert.rejects(
      store.completeMultipartUpload('bkt', 'k', uploadId, parts, { conditions: { ifNoneMatch: '*' } }),
      rejectsWith('PreconditionFailed', 412, { Condition: 'If-None-Match' }),
    );
    assert.equal(await readAll((await store.getObject('bkt', 'k')).body), 'already here');
    assert.equal((await store.listParts('bkt', 'k', uploadId)).parts.length, 1);
    await store.completeMultipartUpload('bkt', 'k', uploadId, parts);
    assert.equal(await readAll((await store.getObject('bkt', 'k')).body), 'new');
  });

  it('answers a repeated completion with the object the upload made, and only for its own bucket and key', async () => {
    const uploadId = await store.createMultipartUpload('bkt', 'k');
    const p1 = await store.uploadPart('bkt', 'k', uploadId, 1, chunks(Buffer.alloc(MIN_PART_BYTES, 1)));
    const p2 = await store.uploadPart('bkt', 'k', uploadId, 2, chunks('tail'));
    const parts = [
      { partNumber: 1, etag: p1.etag },
      { partNumber: 2, etag: p2.etag },
    ];
    const done = await store.completeMultipartUpload('bkt', 'k', uploadId, parts);
    // Even with If-None-Match: the retry is of the completion that made the object.
    const again = await store.completeMultipartUpload('bkt', 'k', uploadId, parts, { conditions: { ifNoneMatch: '*' } });
    assert.equal(again.etag, done.etag);
    assert.equal(again.size, MIN_PART_BYTES + 4);
    await assert.rejects(store.completeMultipartUpload('bkt', 'other', uploadId, parts), rejectsWith('NoSuchUpload', 404));
    await assert.rejects(store.uploadPart('bkt', 'k', uploadId, 3, chunks('late')), rejectsWith('NoSuchUpload', 404));
    // Remembered durably: the store opened again still knows it.
    await store.close();
    store = await LocalObjectStore.open(root);
    assert.equal((await store.completeMultipartUpload('bkt', 'k', uploadId, parts)).etag, done.etag);
    // The key written over since: still what the upload made.
    await store.putObject('bkt', 'k', chunks('newer'));
    const afterOverwrite = await store.completeMultipartUpload('bkt', 'k', uploadId, parts);
    assert.deepEqual([afterOverwrite.etag, afterOverwrite.size], [done.etag, MIN_PART_BYTES + 4]);
    assert.equal(await readAll((await store.getObject('bkt', 'k')).body), 'newer');
  });

  it('refuses a write into a bucket the expected owner does not own, inside the index transaction', async () => {
    await store.createBucket('theirs', OTHER_OWNER);
    await store.putObject('theirs', 'k', chunks('their object'));
    const mine = { expectedBucketOwner: OWNER };
    await assert.rejects(store.putObject('theirs', 'k', chunks('x'), { conditions: mine }), rejectsWith('AccessDenied', 403));
    await assert.rejects(store.deleteObject('theirs', 'k', mine), rejectsWith('AccessDenied', 403));
    await assert.rejects(store.createMultipartUpload('theirs', 'k', { conditions: mine }), rejectsWith('AccessDenied', 403));
    const uploadId = await store.createMultipartUpload('theirs', 'k');
    const part = await store.uploadPart('theirs', 'k', uploadId, 1, chunks('x'));
    await assert.rejects(
      store.completeMultipartUpload('theirs', 'k', uploadId, [{ partNumber: 1, etag: part.etag }], { conditions: mine }),
      rejectsWith('AccessDenied', 403),
    );
    await store.deleteObject('theirs', 'k');
    await assert.rejects(store.deleteBucket('theirs', OWNER), rejectsWith('AccessDenied', 403));
    assert.equal(await store.bucketOwner('theirs'), OTHER_OWNER);
  });

  it("never lands an account's streaming put in a bucket another account re-created meanwhile", async () => {
    const mine = new AccountObjectStore(store, OWNER);
    await store.createBucket('contested', OWNER);
    let bodyStarted!: () => void;
    const started = new Promise<void>((resolve) => (bodyStarted = resolve));
    let releaseBody!: () => void;
    const released = new Promise<void>((resolve) => (releaseBody = resolve));
    async function* slowBody(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('first half, ');
      bodyStarted();
      await released;
      yield Buffer.from('second half');
    }
    // The view's ownership check passes before the body streams...
    const put = mine.putObject('contested', 'k', slowBody());
    await started;
    // ...then the bucket changes hands while the body is still on its way.
    await store.deleteBucket('contested');
    await store.createBucket('contested', OTHER_OWNER);
    releaseBody();
    await assert.rejects(put, rejectsWith('AccessDenied', 403));
    assert.equal(await store.headObject('contested', 'k'), undefined);
    assert.deepEqual((await store.listObjects('contested', {})).objects, []);
  });

  it('keeps the region a bucket was created in; none is the default region', async () => {
    await store.createBucket('frankfurt', OWNER, 'eu-central-1');
    assert.equal((await store.bucketInfo('frankfurt'))?.region, 'eu-central-1');
    assert.equal((await store.bucketInfo('bkt'))?.region, undefined);
    assert.equal(await store.bucketInfo('missing'), undefined);
    assert.deepEqual(
      (await store.listBuckets()).map((bucket) => [bucket.name, bucket.region]),
      [
        ['bkt', undefined],
        ['frankfurt', 'eu-central-1'],
      ],
    );
  });

  it('pages many uploads, with and without a delimiter, reading a page at a time', async () => {
    const expected: Array<{ key: string; uploadId: string }> = [];
    for (let i = 0; i < 2600; i++) {
      const key = `dir${i % 3}/${String(i).padStart(5, '0')}`;
      expected.push({ key, uploadId: await store.createMultipartUpload('bkt', key) });
    }
    expected.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const seen: Array<{ key: string; uploadId: string }> = [];
    let page: ListUploadsResult | undefined;
    let pages = 0;
    do {
      page = await store.listMultipartUploads('bkt', {
        maxUploads: 1000,
        ...(page?.nextKeyMarker !== undefined ? { keyMarker: page.nextKeyMarker } : {}),
        ...(page?.nextUploadIdMarker !== undefined ? { uploadIdMarker: page.nextUploadIdMarker } : {}),
      });
      pages += 1;
      assert.ok(page.uploads.length <= 1000);
      seen.push(...page.uploads.map(({ key, uploadId }) => ({ key, uploadId })));
    } while (page.isTruncated);
    assert.equal(pages, 3);
    assert.deepEqual(seen, expected);

    const rolledUp = await store.listMultipartUploads('bkt', { delimiter: '/', maxUploads: 2 });
    assert.deepEqual([rolledUp.commonPrefixes, rolledUp.isTruncated, rolledUp.nextKeyMarker], [['dir0/', 'dir1/'], true, 'dir1/']);
    const rest = await store.listMultipartUploads('bkt', { delimiter: '/', maxUploads: 2, keyMarker: 'dir1/' });
    assert.deepEqual([rest.commonPrefixes, rest.uploads, rest.isTruncated], [['dir2/'], [], false]);
    const inPrefix = await store.listMultipartUploads('bkt', { prefix: 'dir2/', maxUploads: 5, keyMarker: 'dir2/00005' });
    assert.deepEqual(
      inPrefix.uploads.map((upload) => upload.key),
      ['dir2/00008', 'dir2/00011', 'dir2/00014', 'dir2/00017', 'dir2/00020'],
    );
  });
});
