/**
 * No key or URI reaches outside the object store. Keys are sent both through the SDK (which encodes
 * them) and as raw request paths (dot segments, encoded slashes, double encoding); every one is
 * stored under its exact bytes, comes back byte-identical, and lists as itself. The file system is
 * checked afterwards: nothing exists outside `<dataDir>/objects` that a key could have named, a
 * directory outside the data dir is untouched, and symlinks planted inside the store are never
 * followed.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startServer, stopAndRemove, type TestServer } from '../support/server.js';
import { errorCode, rawS3Request, s3Client, silenceSdkNodeVersionWarning } from '../support/s3-tools.js';

silenceSdkNodeVersionWarning();

const BUCKET = 'safety';

/** Keys as S3 sees them (after the one percent-decoding of the request path). */
const ODD_KEYS = [
  '../../etc/passwd',
  '../../../../../../tmp/doppel-escape',
  '/abs/path',
  '//double/leading',
  'a/../../b',
  'a/./b/./c',
  '%2e%2e/x',
  '..%2f..%2fx',
  '%252e%252e%252fy',
  '.',
  '..',
  './',
  '../',
  '...',
  'trailing/',
  'back\\slash\\..\\..\\win',
  'C:\\Windows\\system.ini',
  'full\uFF0Fwidth\uFF0E\uFF0E\uFF0Fslash',
  '\u2024\u2024/one-dot-leaders',
  'caf\u00e9', // é precomposed (NFC)
  'cafe\u0301', // e + combining acute (NFD): a different key
  '\u202eright-to-left\u202c',
  '\uFEFFbom',
  'emoji/\u{1F600}/\u{1F4A9}',
  'space and+plus?question#hash%percent&amp',
  '~user/$HOME/`cmd`',
];

/** Raw request paths whose decoded keys contain dot segments; what each must be stored as. */
const RAW_PATHS: Array<[path: string, key: string]> = [
  ['../../raw-dots', '../../raw-dots'],
  ['a/../../raw-mixed', 'a/../../raw-mixed'],
  ['..%2f..%2fraw-encoded-slash', '../../raw-encoded-slash'],
  ['%2e%2e/%2e%2e/raw-encoded-dots', '../../raw-encoded-dots'],
  ['%2E%2E%2F%2E%2E%2Fraw-upper', '../../raw-upper'],
  ['%252e%252e/raw-double', '%2e%2e/raw-double'],
  ['%2Fabsolute%2Fraw', '/absolute/raw'],
  ['.', '.'],
  ['..', '..'],
];

let server: TestServer;
let s3: S3Client;
let outside: string;

function objectsDir(): string {
  return join(server.dataDir, 'objects');
}

/** Where a naive implementation would have written a key. None of these may come into existence. */
function naivePaths(key: string): string[] {
  return [join(objectsDir(), BUCKET, key), join(objectsDir(), 'blobs', key), join(objectsDir(), key), join(server.dataDir, key)].map((p) =>
    resolve(p),
  );
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (current: string) => {
    for (const name of readdirSync(current)) {
      const path = join(current, name);
      const stats = lstatSync(path);
      if (stats.isDirectory()) walk(path);
      else out[relative(dir, path)] = stats.isSymbolicLink() ? 'symlink' : readFileSync(path, 'base64');
    }
  };
  walk(dir);
  return out;
}

async function getBytes(key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function listAll(prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

describe('object keys never reach outside the store', { timeout: 90_000 }, () => {
  let preexisting: Set<string>;
  let outsideBefore: Record<string, string>;

  before(async () => {
    server = await startServer();
    s3 = s3Client(server);
    outside = mkdtempSync(join(tmpdir(), 'doppel-outside-'));
    writeFileSync(join(outside, 'secret'), 'outside the store');
    outsideBefore = snapshot(outside);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    preexisting = new Set(
      [...ODD_KEYS, ...RAW_PATHS.map(([, key]) => key)].flatMap(naivePaths).filter((path) => existsSync(path)),
    );
  });

  after(async () => {
    s3?.destroy();
    await stopAndRemove(server);
    rmSync(outside, { recursive: true, force: true });
  });

  test('odd keys sent through the SDK are stored, read and listed byte for byte', async () => {
    for (const key of ODD_KEYS) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `content of ${key}` }));
    }
    for (const key of ODD_KEYS) {
      assert.deepEqual(await getBytes(key), Buffer.from(`content of ${key}`), JSON.stringify(key));
    }
    const listed = await listAll();
    for (const key of ODD_KEYS) {
      assert.ok(listed.some((k) => Buffer.from(k).equals(Buffer.from(key))), `listed byte-identical: ${JSON.stringify(key)}`);
    }
    assert.equal(listed.filter((k) => k.normalize('NFC') === 'caf\u00e9').length, 2, 'NFC and NFD forms stay two keys');
    assert.deepEqual(await listAll('../'), ['../', '../../../../../../tmp/doppel-escape', '../../etc/passwd']);
  });

  test('raw request paths with dot segments and encodings name literal keys', async () => {
    for (const [path, key] of RAW_PATHS) {
      const put = await rawS3Request(server, { method: 'PUT', target: `/${BUCKET}/${path}`, body: `raw ${key}` });
      assert.equal(put.status, 200, `${path}: ${put.body.toString()}`);
      const get = await rawS3Request(server, { method: 'GET', target: `/${BUCKET}/${path}` });
      assert.equal(get.body.toString(), `raw ${key}`, path);
      assert.deepEqual(await getBytes(key), Buffer.from(`raw ${key}`), `${path} is the key ${JSON.stringify(key)}`);
    }
    // Dot segments before the bucket are not resolved either: the first segment is the bucket.
    const escape = await rawS3Request(server, { method: 'GET', target: `/../${BUCKET}/x` });
    assert.equal(escape.status, 404);
    assert.equal(errorCode(escape), 'NoSuchBucket');
  });

  test('keys are limited to 1024 UTF-8 bytes', async () => {
    const longest = `${'€'.repeat(341)}a`; // 1023 + 1 bytes
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: longest, Body: 'longest' }));
    assert.equal((await getBytes(longest)).toString(), 'longest');
    await assert.rejects(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${longest}a`, Body: 'x' })), (e: unknown) => {
      assert.equal((e as { name?: string }).name, 'KeyTooLongError');
      assert.equal((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 400);
      return true;
    });
  });

  test('a symlink planted in the blob directory is never followed', async () => {
    const blobs = join(objectsDir(), 'blobs');
    // A stray link that is not one of the store's blobs.
    symlinkSync(join(outside, 'secret'), join(blobs, 'planted-link'));
    symlinkSync(outside, join(blobs, 'planted-dir-link'));

    // An object whose blob is swapped for a link to a file outside the store.
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'victim', Body: 'inside' }));
    const blob = readdirSync(blobs).find((name) => /^[0-9a-f]{32}$/.test(name) && readFileSync(join(blobs, name), 'utf8') === 'inside');
    assert.ok(blob, 'found the blob of the object');
    unlinkSync(join(blobs, blob));
    symlinkSync(join(outside, 'secret'), join(blobs, blob));

    const read = await rawS3Request(server, { method: 'GET', target: `/${BUCKET}/victim` });
    assert.equal(read.status, 500, 'refuses to read through the link');
    assert.ok(!read.body.toString().includes('outside the store'));
    // Overwriting replaces the link itself (and removes it as the old blob), never what it points to.
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'victim', Body: 'overwritten' }));
    assert.equal((await getBytes('victim')).toString(), 'overwritten');

    // The temp directory swapped for a link to the outside: uploads fail instead of writing there.
    const tmpDir = join(objectsDir(), 'tmp');
    renameSync(tmpDir, `${tmpDir}.real`);
    symlinkSync(outside, tmpDir);
    try {
      const put = await rawS3Request(server, { method: 'PUT', target: `/${BUCKET}/through-tmp-link`, body: 'must not land outside' });
      assert.equal(put.status, 500);
    } finally {
      unlinkSync(tmpDir);
      renameSync(`${tmpDir}.real`, tmpDir);
    }
    const put = await rawS3Request(server, { method: 'PUT', target: `/${BUCKET}/after-restore`, body: 'fine again' });
    assert.equal(put.status, 200);
    assert.deepEqual(snapshot(outside), outsideBefore, 'nothing outside the store was written');
  });

  test('the file system holds only the store\'s own files', async () => {
    assert.deepEqual(snapshot(outside), outsideBefore);
    for (const path of [...ODD_KEYS, ...RAW_PATHS.map(([, key]) => key)].flatMap(naivePaths)) {
      if (preexisting.has(path)) continue;
      assert.ok(!existsSync(path), `a key named a path that now exists: ${path}`);
    }
    const topLevel = readdirSync(server.dataDir).filter((name) => name !== 'objects');
    for (const name of topLevel) {
      assert.match(name, /^(metadata\.sqlite(-wal|-shm)?|job-starts\.lock|nodes|disk-reserve)$/, `unexpected entry in the data dir: ${name}`);
    }
    const store = snapshot(objectsDir());
    for (const path of Object.keys(store)) {
      const ok =
        /^index\.sqlite(-wal|-shm)?$/.test(path) ||
        /^blobs\/[0-9a-f]{32}$/.test(path) ||
        path === 'blobs/planted-link' ||
        path === 'blobs/planted-dir-link';
      assert.ok(ok, `unexpected file in the store: ${path}`);
    }
    assert.deepEqual(readdirSync(join(objectsDir(), 'tmp')), []);
  });
});
