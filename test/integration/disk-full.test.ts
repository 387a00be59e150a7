/**
 * A full disk, for real: the server's data dir is a 16 MiB tmpfs. The disk is filled through the S3
 * API, writes through S3 and Glue answer errors that say the disk is full, deletes through both APIs
 * still work, and so does a task process's label garbage collection, writes work again once space is freed, and both SQLite databases pass
 * `PRAGMA integrity_check`.
 *
 * Mounting needs root (CI runs as root); elsewhere the suite is skipped with a message.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateDatabaseCommand,
  CreateJobCommand,
  DeleteDatabaseCommand,
  DeleteJobCommand,
  GetDatabaseCommand,
  GetJobCommand,
  GetTagsCommand,
  GlueServiceException,
  UntagResourceCommand,
  type GlueClient,
} from '@aws-sdk/client-glue';
import { glueClient } from '../support/glue-client.js';
import { s3Client, silenceSdkNodeVersionWarning } from '../support/s3-tools.js';
import { startServer, untilLogged, type TestServer } from '../support/server.js';
import { diskReserveOf } from '../../src/storage/disk-reserve.js';
import { LABEL_BATCH_ROWS } from '../../src/storage/label-store.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite/sqlite-metadata-store.js';

silenceSdkNodeVersionWarning();

const MiB = 1024 * 1024;
const BUCKET = 'full-disk';

const mountPoint = mkdtempSync(join(tmpdir(), 'doppel-small-fs-'));
const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mountPoint], { encoding: 'utf8' });
const mounted = mount.status === 0;
if (!mounted) {
  console.log(`# disk-full suite skipped: cannot mount a small tmpfs here (needs root): ${mount.stderr || mount.error?.message}`);
}

/** Runs `request` until it fails; returns how many succeeded and the error. Bounded, never endless. */
async function untilFailure(request: (i: number) => Promise<unknown>, max: number): Promise<{ done: number; error: unknown }> {
  for (let i = 0; i < max; i++) {
    try {
      await request(i);
    } catch (error) {
      return { done: i, error };
    }
  }
  throw new Error(`still no failure after ${max} requests: the disk never filled`);
}

function assertInsufficientStorage(error: unknown): void {
  assert.ok(error instanceof S3ServiceException, `expected an S3 error, got ${String(error)}`);
  assert.equal(error.name, 'InsufficientStorage');
  assert.equal(error.$metadata.httpStatusCode, 507);
  assert.match(error.message, /disk is full/);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const GARBAGE_SCOPE = { accountId: '123456789012', region: 'us-east-1' };
/** 6,000 label rows of about 300 bytes: some 2 MiB of the database, more than the 1 MiB reserve. */
const GARBAGE_BATCHES = 6;

/** Rows of a table of the metadata database, counted by a connection of its own (one that can read the write-ahead log). */
function countRows(table: 'labels' | 'label_generations'): number {
  const db = new Database(join(mountPoint, 'metadata.sqlite'));
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}
const labelRows = () => countRows('labels');
const labelGenerations = () => countRows('label_generations');

describe('a full disk', { skip: !mounted }, () => {
  let server: TestServer;
  /** The metadata store as a task process opens it (with the data dir's disk reserve). */
  let taskProcessStore: SqliteMetadataStore;
  let s3: S3Client;
  let glue: GlueClient;
  /** The objects stored, by key, with the SHA-256 of their bytes. */
  const stored = new Map<string, string>();
  let unfinishedUpload: string;

  before(async () => {
    // One task process, whose label garbage collection at start is awaited below.
    // The embedded SQLite store always (an empty DOPPEL_DATABASE_URL), also in the PostgreSQL pass:
    // what is tested is the data dir's own disk, which holds the metadata only in SQLite.
    server = await startServer({
      dataDir: mountPoint,
      env: { DOPPEL_DISK_RESERVE_MB: '1', DOPPEL_WORKERS: '1', DOPPEL_DATABASE_URL: '' },
    });
    // Label rows nobody needs, as an import that failed (or a deleted transform) leaves them, for
    // label garbage collection to delete once the disk is full. Task processes collect when they
    // start and after each run, so the rows go in once the task process has collected at its start
    // (a generation with no rows, gone when it has) and stay: this suite starts no run.
    taskProcessStore = new SqliteMetadataStore(join(mountPoint, 'metadata.sqlite'), { reserve: diskReserveOf(mountPoint, MiB) });
    await taskProcessStore.labels.beginGeneration(GARBAGE_SCOPE, 'tfm-deleted', 'tsk-sentinel');
    for (let waited = 0; labelGenerations() > 0; waited += 50) {
      assert.ok(waited < 20_000, 'the task process never collected label garbage at its start');
      await new Promise((r) => setTimeout(r, 50));
    }
    const { generation } = await taskProcessStore.labels.beginGeneration(GARBAGE_SCOPE, 'tfm-deleted', 'tsk-failed-import');
    for (let batch = 0; batch < GARBAGE_BATCHES; batch++) {
      const rows = Array.from({ length: LABEL_BATCH_ROWS }, (_, i) => ({
        labelingSetId: `set-${batch}`,
        label: `label-${i}`,
        values: { id: `${batch}-${i}`, name: randomBytes(100).toString('hex') },
      }));
      await taskProcessStore.labels.addRows(GARBAGE_SCOPE, 'tfm-deleted', generation, rows, batch * LABEL_BATCH_ROWS);
    }
    // Into the database file, with the write-ahead log emptied, as after a restart (the last
    // connection to close moves the log into the database and removes it): a delete then needs the
    // log to grow, which the full disk refuses.
    const db = new Database(join(mountPoint, 'metadata.sqlite'));
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
    s3 = s3Client(server);
    glue = glueClient(server);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'kept' } }));
    await glue.send(new CreateJobCommand({ Name: 'kept-job', Role: 'arn:aws:iam::123456789012:role/GlueRole', Command: { Name: 'findmatches' }, Tags: { team: 'data' } }));
    // An upload left open, with a part on disk, to abort once the disk is full.
    unfinishedUpload = (await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'unfinished' }))).UploadId!;
    await s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: 'unfinished', UploadId: unfinishedUpload, PartNumber: 1, Body: randomBytes(MiB) }),
    );
  });

  after(async () => {
    await taskProcessStore?.close();
    s3?.destroy();
    glue?.destroy();
    await server?.stop();
    if (mounted) spawnSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  test('filling the disk through S3 ends in 507 InsufficientStorage, which the SDK does not retry', async () => {
    const put = (key: string, size: number) => {
      const body = randomBytes(size);
      return s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body })).then(() => stored.set(key, sha256(body)));
    };
    const large = await untilFailure((i) => put(`large/${i}`, MiB), 64);
    assert.ok(large.done >= 5, `only ${large.done} objects of 1 MiB fit on 16 MiB`);
    assertInsufficientStorage(large.error);
    const small = await untilFailure((i) => put(`small/${i}`, 16 * 1024), 4096);
    assertInsufficientStorage(small.error);

    // With the SDK's default retry policy: one attempt, since retrying cannot help.
    const retrying = s3Client(server, { maxAttempts: 3 });
    try {
      const error = await retrying.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'one-more', Body: randomBytes(64 * 1024) })).then(
        () => assert.fail('a write on a full disk succeeded'),
        (e: unknown) => e,
      );
      assertInsufficientStorage(error);
      assert.equal((error as S3ServiceException).$metadata.attempts, 1);
    } finally {
      retrying.destroy();
    }
  });

  test("label garbage collection (a task process's delete of unused label rows) works on the full disk", async () => {
    assert.equal(labelRows(), GARBAGE_BATCHES * LABEL_BATCH_ROWS);
    assert.equal(await taskProcessStore.labels.collectGarbage(), GARBAGE_BATCHES * LABEL_BATCH_ROWS);
    assert.equal(labelRows(), 0);
    assert.equal(labelGenerations(), 0);
  });

  test('Glue writes on the full disk answer InternalServiceException saying the disk is full', async () => {
    const create = await untilFailure((i) => glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: `filler-${i}` } })), 20_000);
    const error = create.error;
    assert.ok(error instanceof GlueServiceException, `expected a Glue error, got ${String(error)}`);
    assert.equal(error.name, 'InternalServiceException');
    assert.equal(error.$metadata.httpStatusCode, 500);
    assert.match(error.message, /disk is full/);
    await untilLogged(server, /request \S+ failed: .*(SQLITE_FULL|database or disk is full)/);
  });

  test('deletes work on the full disk: Glue UntagResource, DeleteJob, DeleteDatabase, S3 AbortMultipartUpload, DeleteObject, DeleteObjects', async () => {
    const jobArn = 'arn:aws:glue:us-east-1:123456789012:job/kept-job';
    await glue.send(new UntagResourceCommand({ ResourceArn: jobArn, TagsToRemove: ['team'] }));
    assert.deepEqual((await glue.send(new GetTagsCommand({ ResourceArn: jobArn }))).Tags, {});
    await glue.send(new DeleteJobCommand({ JobName: 'kept-job' }));
    await assert.rejects(glue.send(new GetJobCommand({ JobName: 'kept-job' })), { name: 'EntityNotFoundException' });
    await glue.send(new DeleteDatabaseCommand({ Name: 'kept' }));
    await assert.rejects(glue.send(new GetDatabaseCommand({ Name: 'kept' })), { name: 'EntityNotFoundException' });

    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'unfinished', UploadId: unfinishedUpload }));
    assert.equal((await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads, undefined);

    const largeKeys = [...stored.keys()].filter((key) => key.startsWith('large/'));
    for (const key of largeKeys.slice(0, 2)) {
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
      stored.delete(key);
    }
    const batch = largeKeys.slice(2, 4);
    const deleted = await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: batch.map((Key) => ({ Key })) } }));
    assert.deepEqual(deleted.Errors, undefined);
    assert.deepEqual(deleted.Deleted?.map((d) => d.Key), batch);
    for (const key of batch) stored.delete(key);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'large/' }));
    assert.deepEqual(
      (listed.Contents ?? []).map((object) => object.Key).sort(),
      [...stored.keys()].filter((key) => key.startsWith('large/')).sort(),
    );
  });

  test('once space is freed, writes through S3 and Glue succeed again', async () => {
    const body = randomBytes(MiB);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'after-delete', Body: body }));
    stored.set('after-delete', sha256(body));
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'after-delete' } }));
    assert.equal((await glue.send(new GetDatabaseCommand({ Name: 'after-delete' }))).Database?.Name, 'after-delete');
  });

  test('every stored object reads back intact, failed writes left no blob behind, and both databases pass integrity_check', async () => {
    for (const [key, digest] of stored) {
      const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      assert.equal(sha256(await object.Body!.transformToByteArray()), digest, key);
    }
    const blobFiles = readdirSync(join(mountPoint, 'objects', 'blobs'));
    assert.equal(blobFiles.length, stored.size, 'one blob file per stored object');
    assert.deepEqual(readdirSync(join(mountPoint, 'objects', 'tmp')), []);

    assert.equal(await server.stop(), 0);
    for (const file of ['metadata.sqlite', join('objects', 'index.sqlite')]) {
      const db = new Database(join(mountPoint, file), { readonly: true });
      try {
        assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }], file);
      } finally {
        db.close();
      }
    }
  });
});
