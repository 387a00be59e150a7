/**
 * The ObjectStore contract (src/storage/object-store.ts) as one test suite, run against every
 * implementation: the embedded store and the external S3 adapter. The expectations are S3's own;
 * a store that cannot meet one (a test server's limitation) names it in `limitations`, and that
 * check is skipped with the reason instead of being weakened.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { ObjectStore } from '../../src/storage/object-store.js';

/** Checks a store may be excused from, each with the reason it cannot pass. */
export type ContractCheck =
  | 'firstByteRange'
  | 'keyByteOrder'
  | 'delimiterPagination'
  | 'dotSegmentKeys'
  | 'listParts'
  | 'abortMultipartUpload'
  | 'multipartEtag'
  | 'noSuchUpload'
  | 'partValidation'
  | 'encryptionHeaders'
  | 'listedStorageClass'
  | 'tagsOnWrite'
  | 'removeTags';

export interface ContractOptions {
  /** Skips the whole suite with this message (e.g. the server under test could not start). */
  skip?: string | false;
  limitations?: Partial<Record<ContractCheck, string>>;
}

const MiB = 1024 * 1024;
/** What PutOptions.headers can hold that every store keeps (see `encryptionHeaders` for SSE). */
const KEPT_HEADERS = {
  'cache-control': 'max-age=60',
  'content-disposition': 'attachment; filename="kept.txt"',
  'content-encoding': 'gzip',
  'content-language': 'fr-FR',
  expires: 'Wed, 02 Jan 2030 03:04:05 GMT',
  'x-amz-storage-class': 'STANDARD_IA',
  'x-amz-website-redirect-location': '/elsewhere',
};
const MULTIPART_HEADERS = { 'content-encoding': 'gzip', 'x-amz-storage-class': 'ONEZONE_IA' };
/** The account the contract's buckets are created for. */
export const CONTRACT_OWNER = '111111111111';

export function objectStoreContract(name: string, makeStore: () => Promise<ObjectStore>, options: ContractOptions = {}): void {
  describe(`ObjectStore contract: ${name}`, { skip: options.skip || false }, () => {
    let store: ObjectStore;
    const buckets: string[] = [];
    const limited = (t: TestContext, check: ContractCheck): boolean => {
      const reason = options.limitations?.[check];
      if (reason) t.skip(reason);
      return reason !== undefined;
    };
    /** A fresh bucket per test, so tests share no state. */
    const newBucket = async (): Promise<string> => {
      const bucket = uniqueBucketName();
      await store.createBucket(bucket, CONTRACT_OWNER);
      buckets.push(bucket);
      return bucket;
    };

    before(async () => {
      store = await makeStore();
    });
    after(async () => {
      if (!store) return;
      for (const bucket of buckets) await emptyAndDelete(store, bucket).catch(() => {});
      await store.close();
    });

    describe('buckets', () => {
      it('creates, lists and deletes a bucket', async () => {
        const bucket = uniqueBucketName();
        assert.equal(await store.bucketOwner(bucket), undefined);
        await store.createBucket(bucket, CONTRACT_OWNER);
        assert.equal(await store.bucketOwner(bucket), CONTRACT_OWNER);
        const listed = (await store.listBuckets()).find((b) => b.name === bucket);
        assert.ok(listed, `${bucket} is listed`);
        assert.equal(listed.owner, CONTRACT_OWNER);
        assertRecentMillis(listed.createdOn, 'createdOn');
        await store.deleteBucket(bucket);
        assert.equal(await store.bucketOwner(bucket), undefined);
        assert.equal((await store.listBuckets()).some((b) => b.name === bucket), false);
      });

      it('refuses to create a bucket it already owns', async () => {
        const bucket = await newBucket();
        await rejectsWith(store.createBucket(bucket, CONTRACT_OWNER), 'BucketAlreadyOwnedByYou', 409);
      });

      it('refuses invalid bucket names', async () => {
        for (const bad of ['Upper-Case', 'ab', 'x'.repeat(64), '-leading-hyphen', 'under_score', 'a..b', '../up']) {
          await rejectsWith(store.createBucket(bad, CONTRACT_OWNER), 'InvalidBucketName', 400, bad);
        }
      });

      it('deletes only existing, empty buckets', async () => {
        await rejectsWith(store.deleteBucket(uniqueBucketName()), 'NoSuchBucket', 404);
        const bucket = await newBucket();
        await store.putObject(bucket, 'k', chunks('x'));
        await rejectsWith(store.deleteBucket(bucket), 'BucketNotEmpty', 409);
        await store.deleteObject(bucket, 'k');
        await store.deleteBucket(bucket);
      });
    });

    describe('objects', () => {
      it('puts, heads, gets and deletes an object', async () => {
        const bucket = await newBucket();
        const body = Buffer.from('id,name\n1,Ada\n2,Grace\n');
        const put = await store.putObject(bucket, 'people/names.csv', chunks(body.subarray(0, 5), body.subarray(5)), {
          contentType: 'text/csv',
          metadata: { origin: 'contract-test', 'row-count': '2' },
        });
        assert.equal(put.key, 'people/names.csv');
        assert.equal(put.size, body.length);
        assert.equal(put.etag, quotedMd5(body));

        const head = await store.headObject(bucket, 'people/names.csv');
        assert.ok(head);
        assert.equal(head.size, body.length);
        assert.equal(head.etag, put.etag);
        assert.equal(head.contentType, 'text/csv');
        assert.deepEqual(head.metadata, { origin: 'contract-test', 'row-count': '2' });
        assertRecentMillis(head.lastModified, 'lastModified');

        const got = await store.getObject(bucket, 'people/names.csv');
        assert.deepEqual(await readAll(got.body), body);
        assert.equal(got.info.size, body.length);
        assert.equal(got.info.etag, put.etag);
        assert.equal(got.info.contentType, 'text/csv');
        assert.equal(got.range, undefined);

        await store.deleteObject(bucket, 'people/names.csv');
        assert.equal(await store.headObject(bucket, 'people/names.csv'), undefined);
        await rejectsWith(store.getObject(bucket, 'people/names.csv'), 'NoSuchKey', 404);
      });

      it('keeps content headers, storage class and website redirect with an object', async () => {
        const bucket = await newBucket();
        await store.putObject(bucket, 'k', chunks('kept'), { contentType: 'text/plain', headers: KEPT_HEADERS });
        assert.deepEqual((await store.headObject(bucket, 'k'))?.headers, KEPT_HEADERS);
        const got = await store.getObject(bucket, 'k');
        got.body.destroy();
        assert.deepEqual(got.info.headers, KEPT_HEADERS);
        await store.putObject(bucket, 'plain', chunks('none'));
        assert.equal((await store.headObject(bucket, 'plain'))?.headers, undefined, 'STANDARD is not named, as S3 omits it');
      });

      it('keeps SSE headers with an object', async (t) => {
        if (limited(t, 'encryptionHeaders')) return;
        const bucket = await newBucket();
        const sse = { 'x-amz-server-side-encryption': 'AES256' };
        await store.putObject(bucket, 'k', chunks('sse'), { headers: sse });
        assert.deepEqual((await store.headObject(bucket, 'k'))?.headers, sse);
      });

      it('lists each object with its storage class', async (t) => {
        if (limited(t, 'listedStorageClass')) return;
        const bucket = await newBucket();
        await store.putObject(bucket, 'cold', chunks('c'), { headers: { 'x-amz-storage-class': 'GLACIER' } });
        await store.putObject(bucket, 'warm', chunks('w'));
        const listed = (await store.listObjects(bucket, {})).objects;
        assert.deepEqual(
          listed.map((o) => [o.key, o.headers?.['x-amz-storage-class']]),
          [
            ['cold', 'GLACIER'],
            ['warm', undefined],
          ],
        );
      });

      it('keeps the tags given on a write and counts them', async (t) => {
        if (limited(t, 'tagsOnWrite')) return;
        const bucket = await newBucket();
        const tags = [
          { key: 'team', value: 'data' },
          { key: 'note', value: 'two words & more' },
        ];
        await store.putObject(bucket, 'k', chunks('tagged'), { tags });
        assert.deepEqual(await store.getObjectTagging(bucket, 'k'), tags);
        assert.equal((await store.headObject(bucket, 'k'))?.tagCount, 2);
        const uploadId = await store.createMultipartUpload(bucket, 'm', { tags: [{ key: 'a', value: 'b' }] });
        const part = await store.uploadPart(bucket, 'm', uploadId, 1, chunks('only part'));
        await store.completeMultipartUpload(bucket, 'm', uploadId, [{ partNumber: 1, etag: part.etag }]);
        assert.deepEqual(await store.getObjectTagging(bucket, 'm'), [{ key: 'a', value: 'b' }]);
      });

      it("replaces an object's tags, leaving its bytes", async () => {
        const bucket = await newBucket();
        const put = await store.putObject(bucket, 'k', chunks('bytes stay'));
        assert.deepEqual(await store.getObjectTagging(bucket, 'k'), []);
        await store.putObjectTagging(bucket, 'k', [{ key: 'stage', value: 'raw' }]);
        assert.deepEqual(await store.getObjectTagging(bucket, 'k'), [{ key: 'stage', value: 'raw' }]);
        const got = await store.getObject(bucket, 'k');
        assert.equal((await readAll(got.body)).toString(), 'bytes stay');
        assert.equal(got.info.etag, put.etag);
        await rejectsWith(store.getObjectTagging(bucket, 'missing'), 'NoSuchKey', 404);
        await rejectsWith(store.putObjectTagging(bucket, 'missing', [{ key: 'a', value: 'b' }]), 'NoSuchKey', 404);
      });

      it("removes an object's tags", async (t) => {
        if (limited(t, 'removeTags')) return;
        const bucket = await newBucket();
        await store.putObject(bucket, 'k', chunks('x'));
        await store.putObjectTagging(bucket, 'k', [{ key: 'stage', value: 'raw' }]);
        await store.putObjectTagging(bucket, 'k', []);
        assert.deepEqual(await store.getObjectTagging(bucket, 'k'), []);
        assert.equal((await store.headObject(bucket, 'k'))?.tagCount, undefined);
        await rejectsWith(store.putObjectTagging(bucket, 'missing', []), 'NoSuchKey', 404);
      });

      it('replaces an object on a second put', async () => {
        const bucket = await newBucket();
        await store.putObject(bucket, 'k', chunks('first version'));
        const second = await store.putObject(bucket, 'k', chunks('second'));
        assert.equal(second.etag, quotedMd5('second'));
        assert.equal((await readAll((await store.getObject(bucket, 'k')).body)).toString(), 'second');
        assert.equal((await store.headObject(bucket, 'k'))?.size, 6);
      });

      it('stores an empty object', async () => {
        const bucket = await newBucket();
        const put = await store.putObject(bucket, 'empty', chunks());
        assert.equal(put.size, 0);
        assert.equal(put.etag, quotedMd5(''));
        assert.equal((await store.headObject(bucket, 'empty'))?.size, 0);
        assert.equal((await readAll((await store.getObject(bucket, 'empty')).body)).length, 0);
      });

      it('keeps keys with spaces, symbols and non-ASCII characters apart', async () => {
        const bucket = await newBucket();
        const keys = ['with space.txt', 'symbols !$&\'()*+,;=@[]~%20.txt', 'ünïcödé/日本語.csv', 'q?x=1#frag', 'tab\there', 'plus+sign'];
        for (const key of keys) await store.putObject(bucket, key, chunks(`content of ${key}`));
        for (const key of keys) {
          const body = await readAll((await store.getObject(bucket, key)).body);
          assert.equal(body.toString(), `content of ${key}`, key);
        }
        const listed = (await store.listObjects(bucket, {})).objects.map((o) => o.key);
        assert.deepEqual(listed, [...keys].sort(byteOrder));
      });

      it('treats dot segments and empty segments in keys as plain characters', async (t) => {
        if (limited(t, 'dotSegmentKeys')) return;
        const bucket = await newBucket();
        const keys = ['../outside', 'a/../b', './here', 'double//slash', 'trailing/', '/leading'];
        for (const key of keys) await store.putObject(bucket, key, chunks(`content of ${key}`));
        for (const key of keys) {
          assert.equal((await readAll((await store.getObject(bucket, key)).body)).toString(), `content of ${key}`, key);
        }
        assert.deepEqual((await store.listObjects(bucket, {})).objects.map((o) => o.key), [...keys].sort(byteOrder));
        assert.equal(await store.headObject(bucket, 'b'), undefined, 'a/../b is not b');
      });

      it('reports missing buckets and keys with S3 error codes', async () => {
        const bucket = await newBucket();
        const missingBucket = uniqueBucketName();
        await rejectsWith(store.getObject(bucket, 'nope'), 'NoSuchKey', 404);
        await rejectsWith(store.getObject(missingBucket, 'k'), 'NoSuchBucket', 404);
        await rejectsWith(store.putObject(missingBucket, 'k', chunks('x')), 'NoSuchBucket', 404);
        await rejectsWith(store.listObjects(missingBucket, {}), 'NoSuchBucket', 404);
        await rejectsWith(store.createMultipartUpload(missingBucket, 'k'), 'NoSuchBucket', 404);
        await rejectsWith(store.localCopy(bucket, 'nope'), 'NoSuchKey', 404);
        assert.equal(await store.headObject(bucket, 'nope'), undefined);
        await store.deleteObject(bucket, 'nope'); // deleting a missing key is not an error
      });
    });

    describe('byte ranges', () => {
      const alphabet = 'abcdefghijklmnopqrstuvwxyz';
      let bucket: string;
      before(async () => {
        bucket = await newBucket();
        await store.putObject(bucket, 'alphabet', chunks(alphabet));
      });

      it('reads an inclusive range', async () => {
        const got = await store.getObject(bucket, 'alphabet', { start: 2, end: 5 });
        assert.equal((await readAll(got.body)).toString(), 'cdef');
        assert.deepEqual(got.range, { start: 2, end: 5 });
        assert.equal(got.info.size, 26, 'info.size is the whole object');
        assert.equal(got.info.etag, quotedMd5(alphabet));
      });

      it('reads the first byte alone', async (t) => {
        if (limited(t, 'firstByteRange')) return;
        const first = await store.getObject(bucket, 'alphabet', { start: 0, end: 0 });
        assert.equal((await readAll(first.body)).toString(), 'a');
        assert.deepEqual(first.range, { start: 0, end: 0 });
      });

      it('reads the last byte alone', async () => {
        const last = await store.getObject(bucket, 'alphabet', { start: 25, end: 25 });
        assert.equal((await readAll(last.body)).toString(), 'z');
        assert.deepEqual(last.range, { start: 25, end: 25 });
      });

      it('shortens a range that runs past the end', async () => {
        const got = await store.getObject(bucket, 'alphabet', { start: 20, end: 1000 });
        assert.equal((await readAll(got.body)).toString(), 'uvwxyz');
        assert.deepEqual(got.range, { start: 20, end: 25 });
      });

      it('refuses unsatisfiable ranges with InvalidRange', async () => {
        await rejectsWith(store.getObject(bucket, 'alphabet', { start: 26, end: 30 }), 'InvalidRange', 416);
        await rejectsWith(store.getObject(bucket, 'alphabet', { start: 5, end: 2 }), 'InvalidRange', 416);
        await rejectsWith(store.getObject(bucket, 'missing', { start: 0, end: 1 }), 'NoSuchKey', 404);
      });
    });

    describe('listing', () => {
      const keys = ['data/x.csv', 'data/y.csv', 'logs/2024/a.txt', 'logs/2024/b.txt', 'logs/2025/c.txt', 'logs/readme', 'top.txt'];
      let bucket: string;
      before(async () => {
        bucket = await newBucket();
        for (const key of keys) await store.putObject(bucket, key, chunks(`<${key}>`));
      });

      it('lists every key in order with size and ETag', async () => {
        const page = await store.listObjects(bucket, {});
        assert.deepEqual(page.objects.map((o) => o.key), keys);
        assert.equal(page.isTruncated, false);
        assert.equal(page.nextStartAfter, undefined);
        assert.deepEqual(page.commonPrefixes, []);
        for (const o of page.objects) {
          assert.equal(o.size, `<${o.key}>`.length, o.key);
          assert.equal(o.etag, quotedMd5(`<${o.key}>`), o.key);
          assertRecentMillis(o.lastModified, `${o.key} lastModified`);
        }
      });

      it('filters by prefix', async () => {
        const page = await store.listObjects(bucket, { prefix: 'logs/2024/' });
        assert.deepEqual(page.objects.map((o) => o.key), ['logs/2024/a.txt', 'logs/2024/b.txt']);
        assert.deepEqual((await store.listObjects(bucket, { prefix: 'nothing-here/' })).objects, []);
      });

      it('rolls keys up into common prefixes at the delimiter', async () => {
        const root = await store.listObjects(bucket, { delimiter: '/' });
        assert.deepEqual(root.objects.map((o) => o.key), ['top.txt']);
        assert.deepEqual(root.commonPrefixes, ['data/', 'logs/']);
        const logs = await store.listObjects(bucket, { prefix: 'logs/', delimiter: '/' });
        assert.deepEqual(logs.objects.map((o) => o.key), ['logs/readme']);
        assert.deepEqual(logs.commonPrefixes, ['logs/2024/', 'logs/2025/']);
      });

      it('starts strictly after the given key', async () => {
        const page = await store.listObjects(bucket, { startAfter: 'logs/2024/a.txt' });
        assert.deepEqual(page.objects.map((o) => o.key), keys.slice(3));
        const between = await store.listObjects(bucket, { startAfter: 'logs/2024/a.txt.' });
        assert.deepEqual(between.objects.map((o) => o.key), keys.slice(3), 'a start that is not a key works too');
        assert.deepEqual((await store.listObjects(bucket, { startAfter: 'top.txt' })).objects, []);
      });

      it('pages with maxKeys and nextStartAfter', async () => {
        const seen: string[] = [];
        let startAfter: string | undefined;
        let pages = 0;
        for (;;) {
          const page = await store.listObjects(bucket, { maxKeys: 2, ...(startAfter ? { startAfter } : {}) });
          pages += 1;
          assert.ok(page.objects.length <= 2, 'a page holds at most maxKeys keys');
          seen.push(...page.objects.map((o) => o.key));
          if (!page.isTruncated) break;
          assert.ok(page.nextStartAfter, 'a truncated page says where the next one starts');
          startAfter = page.nextStartAfter;
          assert.ok(pages < 10, 'paging ends');
        }
        assert.deepEqual(seen, keys);
        assert.equal(pages, 4);
        const one = await store.listObjects(bucket, { prefix: 'logs/', maxKeys: 1 });
        assert.deepEqual(one.objects.map((o) => o.key), ['logs/2024/a.txt']);
        assert.equal(one.isTruncated, true);
        assert.equal(one.nextStartAfter, 'logs/2024/a.txt');
      });

      it('pages through common prefixes without repeating them', async (t) => {
        if (limited(t, 'delimiterPagination')) return;
        const objects: string[] = [];
        const prefixes: string[] = [];
        let startAfter: string | undefined;
        for (let pages = 1; ; pages++) {
          const page = await store.listObjects(bucket, { delimiter: '/', maxKeys: 1, ...(startAfter ? { startAfter } : {}) });
          assert.equal(page.objects.length + page.commonPrefixes.length, 1, 'keys and prefixes count against maxKeys');
          objects.push(...page.objects.map((o) => o.key));
          prefixes.push(...page.commonPrefixes);
          if (!page.isTruncated) break;
          startAfter = page.nextStartAfter;
          assert.ok(pages < 10, 'paging ends');
        }
        assert.deepEqual(prefixes, ['data/', 'logs/']);
        assert.deepEqual(objects, ['top.txt']);
      });

      it('orders keys by UTF-8 bytes', async (t) => {
        if (limited(t, 'keyByteOrder')) return;
        const b = await newBucket();
        // '-' < '/' < '0' in bytes; U+FF5A (3 bytes, EF ..) sorts before U+1F600 (4 bytes, F0 ..)
        // in UTF-8 although its UTF-16 code unit is greater than the emoji's surrogate pair.
        const tricky = ['a', 'a-b', 'a/b', 'a0', 'B', 'é', '\u{FF5A}', '\u{1F600}', 'Z', '_'];
        for (const key of tricky) await store.putObject(b, key, chunks(key));
        const expected = [...tricky].sort(byteOrder);
        assert.deepEqual((await store.listObjects(b, {})).objects.map((o) => o.key), expected);
        const paged: string[] = [];
        let startAfter: string | undefined;
        for (;;) {
          const page = await store.listObjects(b, { maxKeys: 3, ...(startAfter ? { startAfter } : {}) });
          paged.push(...page.objects.map((o) => o.key));
          if (!page.isTruncated) break;
          startAfter = page.nextStartAfter;
        }
        assert.deepEqual(paged, expected);
      });
    });

    describe('multipart uploads', () => {
      it('assembles an object from its parts; a re-sent part replaces the earlier one', async () => {
        const bucket = await newBucket();
        const uploadId = await store.createMultipartUpload(bucket, 'big.bin', {
          contentType: 'application/octet-stream',
          metadata: { source: 'multipart' },
        });
        assert.ok(uploadId.length > 0);
        const part1 = patterned(5 * MiB, 1);
        const part2 = Buffer.from('the last part may be small');
        await store.uploadPart(bucket, 'big.bin', uploadId, 1, chunks(patterned(5 * MiB, 9)));
        const p1 = await store.uploadPart(bucket, 'big.bin', uploadId, 1, chunks(part1.subarray(0, MiB), part1.subarray(MiB)));
        const p2 = await store.uploadPart(bucket, 'big.bin', uploadId, 2, chunks(part2));
        assert.equal(p1.etag, quotedMd5(part1));
        assert.equal(p1.size, part1.length);
        assert.equal(p2.etag, quotedMd5(part2));
        assert.equal(await store.headObject(bucket, 'big.bin'), undefined, 'nothing is visible before completion');

        const done = await store.completeMultipartUpload(bucket, 'big.bin', uploadId, [
          { partNumber: 1, etag: p1.etag },
          { partNumber: 2, etag: p2.etag },
        ]);
        const whole = Buffer.concat([part1, part2]);
        assert.equal(done.key, 'big.bin');
        assert.equal(done.size, whole.length);
        const head = await store.headObject(bucket, 'big.bin');
        assert.equal(head?.size, whole.length);
        assert.equal(head?.etag, done.etag);
        assert.equal(head?.contentType, 'application/octet-stream');
        assert.deepEqual(head?.metadata, { source: 'multipart' });
        assert.equal(md5Hex(await readAll((await store.getObject(bucket, 'big.bin')).body)), md5Hex(whole));
      });

      it('gives the completed object the headers given at creation', async () => {
        const bucket = await newBucket();
        const uploadId = await store.createMultipartUpload(bucket, 'k', { headers: MULTIPART_HEADERS });
        const part = await store.uploadPart(bucket, 'k', uploadId, 1, chunks('only part'));
        await store.completeMultipartUpload(bucket, 'k', uploadId, [{ partNumber: 1, etag: part.etag }]);
        assert.deepEqual((await store.headObject(bucket, 'k'))?.headers, MULTIPART_HEADERS);
      });

      it("answers an open upload's headers", async (t) => {
        // The external store asks the service with ListParts.
        if (limited(t, 'listParts')) return;
        const bucket = await newBucket();
        const uploadId = await store.createMultipartUpload(bucket, 'k', { headers: MULTIPART_HEADERS });
        assert.deepEqual(await store.uploadHeaders(bucket, 'k', uploadId), MULTIPART_HEADERS);
        await store.abortMultipartUpload(bucket, 'k', uploadId);
        await rejectsWith(store.uploadHeaders(bucket, 'k', uploadId), 'NoSuchUpload', 404);
      });

      it('gives the assembled object an ETag of the part MD5s and the part count', async (t) => {
        if (limited(t, 'multipartEtag')) return;
        const bucket = await newBucket();
        const parts = [patterned(5 * MiB, 2), Buffer.from('end')];
        const uploadId = await store.createMultipartUpload(bucket, 'k');
        const etags = [];
        for (const [i, part] of parts.entries()) etags.push(await store.uploadPart(bucket, 'k', uploadId, i + 1, chunks(part)));
        const done = await store.completeMultipartUpload(bucket, 'k', uploadId, etags.map((p, i) => ({ partNumber: i + 1, etag: p.etag })));
        const partMd5s = Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()));
        assert.equal(done.etag, `"${md5Hex(partMd5s)}-2"`);
      });

      it('lists the uploaded parts, in pages', async (t) => {
        if (limited(t, 'listParts')) return;
        const bucket = await newBucket();
        const uploadId = await store.createMultipartUpload(bucket, 'k');
        const p2 = await store.uploadPart(bucket, 'k', uploadId, 2, chunks('second'));
        const p1 = await store.uploadPart(bucket, 'k', uploadId, 1, chunks(patterned(5 * MiB, 3)));
        const all = await store.listParts(bucket, 'k', uploadId);
        assert.equal(all.isTruncated, false);
        assert.equal(all.nextPartNumberMarker, 2);
        const parts = all.parts;
        const first = await store.listParts(bucket, 'k', uploadId, { maxParts: 1 });
        assert.deepEqual([first.parts.map((p) => p.partNumber), first.isTruncated, first.nextPartNumberMarker], [[1], true, 1]);
        const second = await store.listParts(bucket, 'k', uploadId, { maxParts: 1, partNumberMarker: 1 });
        assert.deepEqual([second.parts.map((p) => p.etag), second.isTruncated, second.nextPartNumberMarker], [[p2.etag], false, 2]);
        assert.deepEqual(
          parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag, size: p.size })),
          [
            { partNumber: 1, etag: p1.etag, size: 5 * MiB },
            { partNumber: 2, etag: p2.etag, size: 6 },
          ],
        );
        for (const p of parts) assertRecentMillis(p.lastModified, 'part lastModified');
        await store.abortMultipartUpload(bucket, 'k', uploadId);
      });

      it('discards an aborted upload', async (t) => {
        if (limited(t, 'abortMultipartUpload')) return;
        const bucket = await newBucket();
        const uploadId = await store.createMultipartUpload(bucket, 'k');
        const p1 = await store.uploadPart(bucket, 'k', uploadId, 1, chunks('only part'));
        await store.abortMultipartUpload(bucket, 'k', uploadId);
        await rejectsWith(store.listParts(bucket, 'k', uploadId), 'NoSuchUpload', 404);
        await rejectsWith(store.uploadPart(bucket, 'k', uploadId, 2, chunks('late')), 'NoSuchUpload', 404);
        await rejectsWith(
          store.completeMultipartUpload(bucket, 'k', uploadId, [{ partNumber: 1, etag: p1.etag }]),
          'NoSuchUpload',
          404,
        );
        assert.equal(await store.headObject(bucket, 'k'), undefined);
      });

      it('answers NoSuchUpload for an unknown upload id', async (t) => {
        if (limited(t, 'noSuchUpload')) return;
        const bucket = await newBucket();
        const unknown = 'no-such-upload-id';
        await rejectsWith(store.uploadPart(bucket, 'k', unknown, 1, chunks('x')), 'NoSuchUpload', 404);
        await rejectsWith(store.completeMultipartUpload(bucket, 'k', unknown, [{ partNumber: 1, etag: quotedMd5('x') }]), 'NoSuchUpload', 404);
      });

      it('refuses a wrong ETag, parts out of order and a small part before the last', async (t) => {
        if (limited(t, 'partValidation')) return;
        const bucket = await newBucket();
        const uploadId = await store.createMultipartUpload(bucket, 'k');
        const p1 = await store.uploadPart(bucket, 'k', uploadId, 1, chunks('small first part'));
        const p2 = await store.uploadPart(bucket, 'k', uploadId, 2, chunks('second'));
        const complete = (parts: Array<{ partNumber: number; etag: string }>) =>
          store.completeMultipartUpload(bucket, 'k', uploadId, parts);
        const [first, second] = [{ partNumber: 1, etag: p1.etag }, { partNumber: 2, etag: p2.etag }];
        await rejectsWith(complete([{ partNumber: 1, etag: quotedMd5('other bytes') }]), 'InvalidPart', 400);
        await rejectsWith(complete([second, first]), 'InvalidPartOrder', 400);
        await rejectsWith(complete([first, second]), 'EntityTooSmall', 400);
        // A failed completion leaves the upload usable.
        const done = await complete([second]);
        assert.equal(done.size, 6);
      });
    });

    describe('large objects and local copies', () => {
      it('streams a 30 MB object in and out', async () => {
        const bucket = await newBucket();
        const size = 30 * MiB;
        const sent = createHash('md5');
        const put = await store.putObject(bucket, 'large.bin', generated(size, (c) => sent.update(c)));
        const sentMd5 = sent.digest('hex');
        assert.equal(put.size, size);
        assert.equal((await store.headObject(bucket, 'large.bin'))?.size, size);

        const got = await store.getObject(bucket, 'large.bin');
        const received = createHash('md5');
        let length = 0;
        for await (const chunk of got.body as AsyncIterable<Buffer>) {
          received.update(chunk);
          length += chunk.length;
        }
        assert.equal(length, size);
        assert.equal(received.digest('hex'), sentMd5);

        // A range across the 8 MiB boundary where a multipart put would have cut a part.
        const middle = await store.getObject(bucket, 'large.bin', { start: 8 * MiB - 4, end: 8 * MiB + 3 });
        const expected = Buffer.alloc(8);
        for (let i = 0; i < 8; i++) expected[i] = generatedByte(8 * MiB - 4 + i);
        assert.deepEqual(await readAll(middle.body), expected);
      });

      it('hands out a local copy that release cleans up', async () => {
        const bucket = await newBucket();
        const body = Buffer.from('a,b\n1,2\n');
        await store.putObject(bucket, 'tables/t.csv', chunks(body));
        const copy = await store.localCopy(bucket, 'tables/t.csv');
        assert.deepEqual(readFileSync(copy.path), body);
        await copy.release();
        if (store.kind === 's3') {
          assert.ok(copy.path.startsWith(tmpdir()), `a temporary file under ${tmpdir()}: ${copy.path}`);
          assert.equal(existsSync(copy.path), false, 'release removes the downloaded file');
        }
        await copy.release(); // a second release is harmless
        assert.equal((await readAll((await store.getObject(bucket, 'tables/t.csv')).body)).toString(), body.toString());
      });
    });
  });
}

/** The error a store operation must fail with: S3's code and HTTP status. */
async function rejectsWith(promise: Promise<unknown>, code: string, status: number, what = ''): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    const e = err as { code?: unknown; status?: unknown; message?: unknown };
    assert.equal(e.code, code, `${what} error code (message: ${String(e.message)})`);
    assert.equal(e.status, status, `${what} HTTP status for ${code}`);
    return true;
  });
}

function assertRecentMillis(value: number, what: string): void {
  assert.ok(Math.abs(value - Date.now()) < 10 * 60_000, `${what} is epoch milliseconds close to now: ${value}`);
}

async function emptyAndDelete(store: ObjectStore, bucket: string): Promise<void> {
  for (;;) {
    const page = await store.listObjects(bucket, {});
    for (const o of page.objects) await store.deleteObject(bucket, o.key);
    if (!page.isTruncated) break;
  }
  await store.deleteBucket(bucket);
}

export function uniqueBucketName(): string {
  return `contract-${randomBytes(6).toString('hex')}`;
}

/** An async iterable over the given pieces, as a request body would arrive. */
export async function* chunks(...pieces: Array<string | Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) yield typeof piece === 'string' ? Buffer.from(piece) : piece;
}

export async function readAll(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}

export const md5Hex = (data: string | Uint8Array) => createHash('md5').update(data).digest('hex');
export const quotedMd5 = (data: string | Uint8Array) => `"${md5Hex(data)}"`;

/** Compares strings as S3 orders keys: by their UTF-8 bytes. */
export const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** `size` bytes that differ from part to part (so a mixed-up part shows), seeded by `seed`. */
function patterned(size: number, seed: number): Buffer {
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) buf.writeUInt32LE((Math.imul(i + 1, 2654435761) ^ seed) >>> 0, i);
  return buf;
}

/** Byte `i` of the generated large object; computable, so ranges can be checked without a copy. */
function generatedByte(i: number): number {
  return (Math.imul(i, 31) + (i >>> 16)) & 0xff;
}

/** A stream of `size` generated bytes in 64 KiB chunks; `observe` sees each chunk once. */
export async function* generated(size: number, observe: (chunk: Buffer) => void = () => {}): AsyncGenerator<Uint8Array> {
  const chunkSize = 64 * 1024;
  for (let offset = 0; offset < size; offset += chunkSize) {
    const chunk = Buffer.alloc(Math.min(chunkSize, size - offset));
    for (let i = 0; i < chunk.length; i++) chunk[i] = generatedByte(offset + i);
    observe(chunk);
    yield chunk;
  }
}
