import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ObjectStoreError } from '../../src/storage/object-store.js';
import { LocalObjectStore, MIN_PART_BYTES } from '../../src/storage/local/local-object-store.js';
import { prefixUpperBound } from '../../src/storage/local/object-keys.js';

async function* chunks(...parts: Array<string | Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part) : part;
}

async function readAll(body: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of body) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('hex');

function rejectsWith(code: string, status?: number) {
  return (e: unknown) => {
    assert.ok(e instanceof ObjectStoreError, `expected ObjectStoreError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (status !== undefined) assert.equal(e.status, status);
    return true;
  };
}

const OWNER = '123456789012';
const OTHER_OWNER = '210987654321';

describe('LocalObjectStore', () => {
  let root: string;
  let store: LocalObjectStore;

  beforeEach(async () => {
    root = join(mkdtempSync(join(tmpdir(), 'doppel-los-')), 'objects');
    store = await LocalObjectStore.open(root);
    await store.createBucket('bkt', OWNER);
  });
  afterEach(async () => {
    await store.close();
    rmSync(join(root, '..'), { recursive: true, force: true });
  });

  it('gives upload ids a shell passes as one argument: never a leading dash (the AWS CLI reads those as options)', async () => {
    // 300 ids: base64url ids started with '-' one time in 64, so about five would.
    for (let i = 0; i < 300; i++) {
      const id = await store.createMultipartUpload('bkt', `k${i}`);
      assert.match(id, /^[0-9A-Za-z][0-9A-Za-z._~]*$/, id);
    }
  });

  it('creates, lists and deletes buckets with S3 rules and errors', async () => {
    await store.createBucket('other.bucket-2', OTHER_OWNER);
    assert.deepEqual((await store.listBuckets()).map((b) => [b.name, b.owner]), [['bkt', OWNER], ['other.bucket-2', OTHER_OWNER]]);
    assert.equal(await store.bucketOwner('bkt'), OWNER);
    assert.equal(await store.bucketOwner('other.bucket-2'), OTHER_OWNER);
    assert.equal(await store.bucketOwner('nope'), undefined);
    await assert.rejects(store.createBucket('bkt', OWNER), rejectsWith('BucketAlreadyOwnedByYou', 409));
    await assert.rejects(store.createBucket('bkt', OTHER_OWNER), rejectsWith('BucketAlreadyExists', 409));
    assert.equal(await store.bucketOwner('bkt'), OWNER);
    for (const bad of ['ab', 'A-bucket', 'a'.repeat(64), '-abc', 'abc-', 'a..b', '192.168.1.1', 'xn--abc', 'a_b', 'ab/c']) {
      await assert.rejects(store.createBucket(bad, OWNER), rejectsWith('InvalidBucketName', 400), bad);
    }
    await store.putObject('bkt', 'k', chunks('x'));
    await assert.rejects(store.deleteBucket('bkt'), rejectsWith('BucketNotEmpty', 409));
    await assert.rejects(store.deleteBucket('missing'), rejectsWith('NoSuchBucket', 404));
    await store.deleteObject('bkt', 'k');
    await store.deleteBucket('bkt');
    assert.equal(await store.bucketOwner('bkt'), undefined);
    // A deleted bucket's name is free for any account.
    await store.createBucket('bkt', OTHER_OWNER);
    assert.equal(await store.bucketOwner('bkt'), OTHER_OWNER);
  });

  it('puts, gets, heads and deletes objects with MD5 ETags and metadata', async () => {
    const data = randomBytes(300_000);
    const info = await store.putObject('bkt', 'dir/file.bin', chunks(data.subarray(0, 1000), data.subarray(1000)), {
      contentType: 'application/x-test',
      metadata: { color: 'blue' },
    });
    assert.equal(info.etag, `"${md5(data)}"`);
    assert.equal(info.size, data.length);
    const head = await store.headObject('bkt', 'dir/file.bin');
    assert.deepEqual(head, { ...info });
    const got = await store.getObject('bkt', 'dir/file.bin');
    assert.deepEqual(await readAll(got.body), data);
    assert.equal(got.info.contentType, 'application/x-test');
    assert.deepEqual(got.info.metadata, { color: 'blue' });

    const ranged = await store.getObject('bkt', 'dir/file.bin', { start: 10, end: 19 });
    assert.deepEqual(ranged.range, { start: 10, end: 19 });
    assert.deepEqual(await readAll(ranged.body), data.subarray(10, 20));
    const clamped = await store.getObject('bkt', 'dir/file.bin', { start: data.length - 5, end: data.length + 100 });
    assert.deepEqual(clamped.range, { start: data.length - 5, end: data.length - 1 });
    assert.deepEqual(await readAll(clamped.body), data.subarray(data.length - 5));
    await assert.rejects(store.getObject('bkt', 'dir/file.bin', { start: data.length, end: data.length + 1 }), rejectsWith('InvalidRange', 416));

    await assert.rejects(store.getObject('bkt', 'nope'), rejectsWith('NoSuchKey', 404));
    await assert.rejects(store.getObject('nobkt', 'k'), rejectsWith('NoSuchBucket', 404));
    await assert.rejects(store.putObject('nobkt', 'k', chunks('x')), rejectsWith('NoSuchBucket', 404));
    assert.equal(await store.headObject('bkt', 'nope'), undefined);

    await store.deleteObject('bkt', 'dir/file.bin');
    await store.deleteObject('bkt', 'dir/file.bin'); // missing: not an error
    assert.equal(await store.headObject('bkt', 'dir/file.bin'), undefined);
    assert.deepEqual(readdirSync(join(root, 'blobs')), [], 'the blob is removed with the object');
  });

  it('stores empty objects', async () => {
    const info = await store.putObject('bkt', 'empty', chunks());
    assert.equal(info.etag, '"d41d8cd98f00b204e9800998ecf8427e"');
    assert.equal((await readAll((await store.getObject('bkt', 'empty')).body)).length, 0);
  });

  it('overwrites atomically and keeps exactly one blob per object', async () => {
    await store.putObject('bkt', 'k', chunks('first'));
    const reader = await store.getObject('bkt', 'k'); // opened before the overwrite
    await store.putObject('bkt', 'k', chunks('second'));
    assert.equal((await readAll(reader.body)).toString(), 'first', 'an open reader keeps its bytes');
    assert.equal((await readAll((await store.getObject('bkt', 'k')).body)).toString(), 'second');
    assert.equal(readdirSync(join(root, 'blobs')).length, 1);
  });

  it('keeps the old object when a write fails part-way, and leaves no temp files', async () => {
    await store.putObject('bkt', 'k', chunks('old'));
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('partial new bytes');
      throw new Error('connection dropped');
    }
    await assert.rejects(store.putObject('bkt', 'k', failing()), /connection dropped/);
    assert.equal((await readAll((await store.getObject('bkt', 'k')).body)).toString(), 'old');
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
    assert.equal(readdirSync(join(root, 'blobs')).length, 1);
  });

  it('removes blobs orphaned by a crash when it is opened again', async () => {
    await store.putObject('bkt', 'k', chunks('kept'));
    await store.close();
    writeFileSync(join(root, 'blobs', '0123456789abcdef0123456789abcdef'), 'orphan');
    writeFileSync(join(root, 'tmp', 'half-written.tmp'), 'partial');
    store = await LocalObjectStore.open(root);
    assert.equal(readdirSync(join(root, 'blobs')).length, 1);
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
    assert.equal((await readAll((await store.getObject('bkt', 'k')).body)).toString(), 'kept');
  });

  it('enforces key rules: 1..1024 UTF-8 bytes, no lone surrogates; keys are opaque', async () => {
    await assert.rejects(store.putObject('bkt', 'é'.repeat(513), chunks('x')), rejectsWith('KeyTooLongError', 400));
    await store.putObject('bkt', 'é'.repeat(512), chunks('x')); // exactly 1024 bytes
    await assert.rejects(store.putObject('bkt', '', chunks('x')), rejectsWith('InvalidArgument'));
    await assert.rejects(store.putObject('bkt', 'a\uD800b', chunks('x')), rejectsWith('InvalidArgument'));
    const odd = ['../../etc/passwd', '/abs/path', 'a/../../b', '.', '..', '%2e%2e/x', '..%2f..%2fx', 'tab\tnew\nline', '\u0000nul', '🙂/ﬁ/\u202e'];
    for (const key of odd) await store.putObject('bkt', key, chunks(key));
    for (const key of odd) {
      assert.equal((await readAll((await store.getObject('bkt', key)).body)).toString(), key);
    }
    const listed = (await store.listObjects('bkt', {})).objects.map((o) => o.key);
    for (const key of odd) assert.ok(listed.includes(key), `listed ${JSON.stringify(key)}`);
    assert.ok(!existsSync(join(root, 'etc')) && !existsSync(join(root, '..', 'b')));
  });

  it('lists in UTF-8 byte order with prefix, start-after and pagination', async () => {
    // U+FF5E is EF BD 9E in UTF-8 and U+1F600 is F0 9F 98 80, so in byte order U+FF5E comes first,
    // while JavaScript's UTF-16 order (U+1F600 is D83D DE00) puts U+1F600 first.
    const keys = ['z', 'é', '\uFF5E', '😀', 'a', 'a/b', 'a/c', 'ab'];
    for (const key of keys) await store.putObject('bkt', key, chunks(key));
    const all = (await store.listObjects('bkt', {})).objects.map((o) => o.key);
    assert.deepEqual(all, ['a', 'a/b', 'a/c', 'ab', 'z', 'é', '\uFF5E', '😀']);
    assert.deepEqual(
      all,
      [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
    );

    const prefixed = await store.listObjects('bkt', { prefix: 'a/' });
    assert.deepEqual(prefixed.objects.map((o) => o.key), ['a/b', 'a/c']);
    const after = await store.listObjects('bkt', { startAfter: 'ab' });
    assert.deepEqual(after.objects.map((o) => o.key), ['z', 'é', '\uFF5E', '😀']);

    const pages: string[][] = [];
    let startAfter: string | undefined;
    for (;;) {
      const page = await store.listObjects('bkt', { maxKeys: 3, ...(startAfter ? { startAfter } : {}) });
      pages.push(page.objects.map((o) => o.key));
      if (!page.isTruncated) break;
      startAfter = page.nextStartAfter;
    }
    assert.deepEqual(pages, [['a', 'a/b', 'a/c'], ['ab', 'z', 'é'], ['\uFF5E', '😀']]);
  });

  it('rolls keys up into common prefixes with a delimiter, across pages', async () => {
    const keys = ['top.txt', 'logs/2024/a', 'logs/2024/b', 'logs/2025/a', 'logs/readme', 'photos/x.jpg', 'photos/y.jpg', 'zeta'];
    for (const key of keys) await store.putObject('bkt', key, chunks(key));
    const root1 = await store.listObjects('bkt', { delimiter: '/' });
    assert.deepEqual(root1.objects.map((o) => o.key), ['top.txt', 'zeta']);
    assert.deepEqual(root1.commonPrefixes, ['logs/', 'photos/']);

    const logs = await store.listObjects('bkt', { prefix: 'logs/', delimiter: '/' });
    assert.deepEqual(logs.objects.map((o) => o.key), ['logs/readme']);
    assert.deepEqual(logs.commonPrefixes, ['logs/2024/', 'logs/2025/']);

    // One entry per page: a page that ends on a common prefix resumes after all of its keys.
    const seen: string[] = [];
    let startAfter: string | undefined;
    for (;;) {
      const page = await store.listObjects('bkt', { delimiter: '/', maxKeys: 1, ...(startAfter ? { startAfter } : {}) });
      seen.push(...page.commonPrefixes, ...page.objects.map((o) => o.key));
      if (!page.isTruncated) break;
      startAfter = page.nextStartAfter;
    }
    assert.deepEqual(seen, ['logs/', 'photos/', 'top.txt', 'zeta']);

    const multiChar = await store.listObjects('bkt', { delimiter: '20' });
    assert.deepEqual(multiChar.commonPrefixes, ['logs/20']);
  });

  it('assembles multipart uploads with the S3 multipart ETag', async () => {
    const uploadId = await store.createMultipartUpload('bkt', 'big', { contentType: 'text/csv', metadata: { a: '1' } });
    const part1 = randomBytes(MIN_PART_BYTES);
    const part2 = randomBytes(1234);
    const stale = await store.uploadPart('bkt', 'big', uploadId, 1, chunks('replaced later'));
    const p1 = await store.uploadPart('bkt', 'big', uploadId, 1, chunks(part1));
    const p2 = await store.uploadPart('bkt', 'big', uploadId, 2, chunks(part2));
    assert.notEqual(stale.etag, p1.etag);
    assert.deepEqual((await store.listParts('bkt', 'big', uploadId)).parts.map((p) => [p.partNumber, p.etag, p.size]), [
      [1, p1.etag, part1.length],
      [2, p2.etag, part2.length],
    ]);

    await assert.rejects(
      store.completeMultipartUpload('bkt', 'big', uploadId, [{ partNumber: 1, etag: stale.etag }]),
      rejectsWith('InvalidPart'),
    );
    await assert.rejects(
      store.completeMultipartUpload('bkt', 'big', uploadId, [p2, p1].map((p, i) => ({ partNumber: 2 - i, etag: p.etag }))),
      rejectsWith('InvalidPartOrder'),
    );
    await assert.rejects(store.uploadPart('bkt', 'big', uploadId, 0, chunks('x')), rejectsWith('InvalidArgument'));
    await assert.rejects(store.uploadPart('bkt', 'big', 'nope', 1, chunks('x')), rejectsWith('NoSuchUpload', 404));
    await assert.rejects(store.uploadPart('bkt', 'other-key', uploadId, 1, chunks('x')), rejectsWith('NoSuchUpload', 404));

    const info = await store.completeMultipartUpload('bkt', 'big', uploadId, [
      { partNumber: 1, etag: p1.etag },
      { partNumber: 2, etag: p2.etag.replace(/"/g, '') },
    ]);
    const expected = createHash('md5')
      .update(Buffer.concat([Buffer.from(md5(part1), 'hex'), Buffer.from(md5(part2), 'hex')]))
      .digest('hex');
    assert.equal(info.etag, `"${expected}-2"`);
    assert.equal(info.size, part1.length + part2.length);
    const got = await store.getObject('bkt', 'big');
    assert.deepEqual(await readAll(got.body), Buffer.concat([part1, part2]));
    assert.equal(got.info.contentType, 'text/csv');
    assert.deepEqual(got.info.metadata, { a: '1' });
    assert.equal(readdirSync(join(root, 'blobs')).length, 1, 'part blobs are removed after completion');
    await assert.rejects(store.listParts('bkt', 'big', uploadId), rejectsWith('NoSuchUpload'));
  });

  it('refuses small non-final parts, and aborts uploads', async () => {
    const uploadId = await store.createMultipartUpload('bkt', 'k');
    const a = await store.uploadPart('bkt', 'k', uploadId, 1, chunks('small'));
    const b = await store.uploadPart('bkt', 'k', uploadId, 2, chunks('small'));
    await assert.rejects(
      store.completeMultipartUpload('bkt', 'k', uploadId, [
        { partNumber: 1, etag: a.etag },
        { partNumber: 2, etag: b.etag },
      ]),
      rejectsWith('EntityTooSmall'),
    );
    await assert.rejects(store.completeMultipartUpload('bkt', 'k', uploadId, []), rejectsWith('MalformedXML'));
    await store.abortMultipartUpload('bkt', 'k', uploadId);
    await assert.rejects(store.abortMultipartUpload('bkt', 'k', uploadId), rejectsWith('NoSuchUpload'));
    assert.deepEqual(readdirSync(join(root, 'blobs')), []);
    assert.equal(await store.headObject('bkt', 'k'), undefined);
  });

  it('hands out the blob itself as the local copy', async () => {
    await store.putObject('bkt', 'data.csv', chunks('a,b\n1,2\n'));
    const copy = await store.localCopy('bkt', 'data.csv');
    assert.ok(copy.path.startsWith(join(root, 'blobs')));
    assert.equal(readFileSync(copy.path, 'utf8'), 'a,b\n1,2\n');
    await copy.release();
    assert.ok(existsSync(copy.path));
  });

  it('never follows a symlink planted in place of a blob', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'doppel-outside-'));
    try {
      writeFileSync(join(outside, 'secret'), 'outside the store');
      await store.putObject('bkt', 'k', chunks('inside'));
      const [blob] = readdirSync(join(root, 'blobs'));
      unlinkSync(join(root, 'blobs', blob!));
      symlinkSync(join(outside, 'secret'), join(root, 'blobs', blob!));
      await assert.rejects(store.getObject('bkt', 'k'), rejectsWith('InternalError', 500));
      await assert.rejects(store.localCopy('bkt', 'k'), rejectsWith('InternalError', 500));
      await store.putObject('bkt', 'k', chunks('replaced'));
      assert.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'outside the store');
      assert.deepEqual(readdirSync(outside), ['secret']);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('keeps the headers given with an object, a multipart upload and its completion', async () => {
    const headers = { 'content-encoding': 'gzip', 'x-amz-storage-class': 'STANDARD_IA' };
    await store.putObject('bkt', 'plain', chunks('a'));
    await store.putObject('bkt', 'with', chunks('a'), { headers });
    assert.equal((await store.headObject('bkt', 'plain'))?.headers, undefined);
    assert.deepEqual((await store.headObject('bkt', 'with'))?.headers, headers);
    const uploadId = await store.createMultipartUpload('bkt', 'multi', { headers });
    const part = await store.uploadPart('bkt', 'multi', uploadId, 1, chunks('b'));
    const done = await store.completeMultipartUpload('bkt', 'multi', uploadId, [{ partNumber: 1, etag: part.etag }]);
    assert.deepEqual(done.headers, headers);
    assert.deepEqual((await store.headObject('bkt', 'multi'))?.headers, headers);
  });

  it('computes prefix upper bounds in byte order', () => {
    assert.deepEqual(prefixUpperBound(Buffer.from('ab')), Buffer.from('ac'));
    assert.deepEqual(prefixUpperBound(Buffer.from([0x61, 0xff, 0xff])), Buffer.from([0x62]));
    assert.equal(prefixUpperBound(Buffer.from([0xff])), undefined);
    assert.equal(prefixUpperBound(Buffer.alloc(0)), undefined);
  });
});

describe('LocalObjectStore opened on an index from before bucket owners (schema version 1)', () => {
  let root: string;

  beforeEach(() => {
    root = join(mkdtempSync(join(tmpdir(), 'doppel-los-v1-')), 'objects');
    mkdirSync(root, { recursive: true });
    // The version 1 schema as it was stored: buckets without an owner column.
    const db = new Database(join(root, 'index.sqlite'));
    db.exec(`
      CREATE TABLE buckets (name TEXT PRIMARY KEY, created_on INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE objects (bucket TEXT NOT NULL REFERENCES buckets(name), key BLOB NOT NULL, size INTEGER NOT NULL,
        etag TEXT NOT NULL, content_type TEXT, metadata TEXT, last_modified INTEGER NOT NULL, blob TEXT NOT NULL,
        PRIMARY KEY (bucket, key)) WITHOUT ROWID;
      CREATE TABLE uploads (upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL REFERENCES buckets(name), key BLOB NOT NULL,
        content_type TEXT, metadata TEXT, initiated INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX uploads_by_bucket ON uploads (bucket);
      CREATE TABLE parts (upload_id TEXT NOT NULL REFERENCES uploads(upload_id), part_number INTEGER NOT NULL,
        size INTEGER NOT NULL, etag TEXT NOT NULL, last_modified INTEGER NOT NULL, blob TEXT NOT NULL,
        PRIMARY KEY (upload_id, part_number)) WITHOUT ROWID;
      INSERT INTO buckets VALUES ('legacy-a', 1700000000000), ('legacy-b', 1700000001000);
      PRAGMA user_version = 1;
    `);
    db.close();
  });
  afterEach(() => rmSync(join(root, '..'), { recursive: true, force: true }));

  it('gives every existing bucket to the default owner, once and for good', async () => {
    const store = await LocalObjectStore.open(root, { defaultBucketOwner: OWNER });
    try {
      assert.deepEqual(await store.listBuckets(), [
        { name: 'legacy-a', createdOn: 1700000000000, owner: OWNER },
        { name: 'legacy-b', createdOn: 1700000001000, owner: OWNER },
      ]);
      await store.createBucket('new-bucket', OTHER_OWNER);
      // The upgraded index keeps the headers stored with an object (schema version 3).
      await store.putObject('legacy-a', 'k', chunks('x'), { headers: { 'content-encoding': 'gzip' } });
      assert.deepEqual((await store.headObject('legacy-a', 'k'))?.headers, { 'content-encoding': 'gzip' });
      // It remembers completed uploads (schema version 4): a repeated completion answers the object.
      const uploadId = await store.createMultipartUpload('legacy-b', 'm');
      const part = await store.uploadPart('legacy-b', 'm', uploadId, 1, chunks('only part'));
      const done = await store.completeMultipartUpload('legacy-b', 'm', uploadId, [{ partNumber: 1, etag: part.etag }]);
      const again = await store.completeMultipartUpload('legacy-b', 'm', uploadId, [{ partNumber: 1, etag: part.etag }]);
      assert.equal(again.etag, done.etag);
    } finally {
      await store.close();
    }
    // Opened again with another default (other credentials configured), the owners stay as stored.
    const reopened = await LocalObjectStore.open(root, { defaultBucketOwner: OTHER_OWNER });
    try {
      assert.equal(await reopened.bucketOwner('legacy-a'), OWNER);
      assert.equal(await reopened.bucketOwner('new-bucket'), OTHER_OWNER);
    } finally {
      await reopened.close();
    }
  });

  it('is refused without a default owner, leaving the index as it was', async () => {
    await assert.rejects(LocalObjectStore.open(root), /predates bucket owners/);
    const db = new Database(join(root, 'index.sqlite'), { readonly: true });
    try {
      assert.equal(db.pragma('user_version', { simple: true }), 1);
    } finally {
      db.close();
    }
  });
});
