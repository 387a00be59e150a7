import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { StoreConflict } from '../../src/storage/metadata-store.js';
import type { TaskRunRecord, TransformRecord } from '../../src/storage/records.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite/sqlite-metadata-store.js';

const scope = { accountId: '123456789012', region: 'us-east-1' };

function transform(id: string, name = id): TransformRecord {
  return { ...scope, id, name, status: 'NOT_READY', createdOn: 1, lastModifiedOn: 1, labelCount: 0, doc: {} };
}

function run(id: string, transformId = 't1'): TaskRunRecord {
  return {
    ...scope,
    id,
    transformId,
    taskType: 'IMPORT_LABELS',
    status: 'STARTING',
    properties: { ImportLabelsTaskRunProperties: { InputS3Path: 's3://b/k', Replace: false } },
    args: {},
    startedOn: 1000,
    lastModifiedOn: 1000,
    executionMs: 0,
    attempt: 1,
    interruptions: 0,
  };
}

describe('SQLite task queue', () => {
  let store: SqliteMetadataStore;
  beforeEach(async () => {
    store = new SqliteMetadataStore(':memory:');
    await store.insertTransform(transform('t1'), {}, { maxTransforms: 10 }, 'arn:t1');
  });

  it('enforces the per-transform limit on active runs', async () => {
    await store.tasks.enqueue(run('a'), { maxActivePerTransform: 2 });
    await store.tasks.enqueue(run('b'), { maxActivePerTransform: 2 });
    await assert.rejects(
      store.tasks.enqueue(run('c'), { maxActivePerTransform: 2 }),
      (e: unknown) => e instanceof StoreConflict && e.kind === 'concurrency-limit' && e.detail['limit'] === 2,
    );
  });

  it('claims in order, leases, and commits the transform patch with SUCCEEDED', async () => {
    await store.tasks.enqueue(run('a'), { maxActivePerTransform: 5 });
    await store.tasks.enqueue(run('b'), { maxActivePerTransform: 5 });
    const claimed = await store.tasks.claimNext('w1', 2000, 1000);
    assert.equal(claimed?.id, 'a');
    assert.equal(claimed?.status, 'RUNNING');
    assert.equal(claimed?.leaseOwner, 'w1');
    assert.equal(await store.tasks.renewLease('a', 'w2', 2100, 1000), 'lost');
    assert.equal(await store.tasks.renewLease('a', 'w1', 2100, 1000), 'held');
    const ok = await store.tasks.finish(
      'a',
      'w1',
      { status: 'SUCCEEDED', transformPatch: { labelCount: 7, status: 'READY' } },
      4000,
    );
    assert.equal(ok, true);
    const done = await store.tasks.get(scope, 't1', 'a');
    assert.equal(done?.status, 'SUCCEEDED');
    assert.equal(done?.completedOn, 4000);
    assert.equal(done?.executionMs, 2000);
    const t = await store.getTransform(scope, 't1');
    assert.equal(t?.labelCount, 7);
    assert.equal(t?.status, 'READY');
  });

  it('does not apply the patch of a failed run', async () => {
    await store.tasks.enqueue(run('a'), { maxActivePerTransform: 5 });
    await store.tasks.claimNext('w1', 2000, 1000);
    await store.tasks.finish('a', 'w1', { status: 'FAILED', errorString: 'bad row 3', transformPatch: { labelCount: 9 } }, 3000);
    assert.equal((await store.getTransform(scope, 't1'))?.labelCount, 0);
    assert.equal((await store.tasks.get(scope, 't1', 'a'))?.errorString, 'bad row 3');
  });

  it('cancels: STARTING stops at once, RUNNING goes through STOPPING, terminal is untouched', async () => {
    await store.tasks.enqueue(run('a'), { maxActivePerTransform: 5 });
    await store.tasks.enqueue(run('b'), { maxActivePerTransform: 5 });
    await store.tasks.claimNext('w1', 2000, 1000);
    assert.equal((await store.tasks.requestCancel(scope, 't1', 'b', 2100))?.status, 'STOPPED');
    assert.equal((await store.tasks.requestCancel(scope, 't1', 'a', 2100))?.status, 'STOPPING');
    assert.equal(await store.tasks.renewLease('a', 'w1', 2200, 1000), 'cancel-requested');
    await store.tasks.finish('a', 'w1', { status: 'STOPPED' }, 2300);
    assert.equal((await store.tasks.requestCancel(scope, 't1', 'a', 2400))?.status, 'STOPPED');
    assert.equal(await store.tasks.requestCancel(scope, 't1', 'zzz', 2400), undefined);
  });

  it('recovers orphans: resumes what may be resumed, fails the rest, never leaves RUNNING', async () => {
    for (const id of ['a', 'b', 'c']) await store.tasks.enqueue(run(id), { maxActivePerTransform: 5 });
    for (let i = 0; i < 3; i++) await store.tasks.claimNext('dead', 2000, 1000);
    await store.tasks.requestCancel(scope, 't1', 'c', 2100);
    const touched = await store.tasks.recoverOrphans({
      now: 5000, // past every lease
      canResume: (r) => r.id === 'a',
      failMessage: () => 'interrupted',
    });
    assert.equal(touched, 3);
    const a = await store.tasks.get(scope, 't1', 'a');
    assert.equal(a?.status, 'STARTING');
    assert.equal(a?.attempt, 2);
    assert.equal(a?.interruptions, 1);
    assert.equal((await store.tasks.get(scope, 't1', 'b'))?.status, 'FAILED');
    assert.equal((await store.tasks.get(scope, 't1', 'b'))?.errorString, 'interrupted');
    assert.equal((await store.tasks.get(scope, 't1', 'c'))?.status, 'STOPPED');
    // A run whose lease is still valid belongs to a live worker and is left alone.
    await store.tasks.claimNext('alive', 6000, 10_000);
    assert.equal(await store.tasks.recoverOrphans({ now: 7000, canResume: () => true, failMessage: () => '' }), 0);
  });

  it('times out runs past their deadline once nobody holds them', async () => {
    await store.tasks.enqueue(run('a'), { maxActivePerTransform: 5 });
    await store.tasks.claimNext('dead', 2000, 1000);
    await store.tasks.setDeadline('a', 2500);
    assert.equal(await store.tasks.expireDeadlines(2600), 0, 'lease still held');
    assert.equal(await store.tasks.expireDeadlines(3100), 1);
    assert.equal((await store.tasks.get(scope, 't1', 'a'))?.status, 'TIMEOUT');
  });

  it('deletes a transform with its runs and tags in one go', async () => {
    await store.updateTags(scope, 'arn:t1', { k: 'v' }, [], { maxTags: 50 });
    await store.tasks.enqueue(run('a'), { maxActivePerTransform: 5 });
    assert.equal(await store.deleteTransform(scope, 't1', 'arn:t1'), true);
    assert.equal(await store.tasks.get(scope, 't1', 'a'), undefined);
    assert.deepEqual(await store.getTags(scope, 'arn:t1'), {});
    assert.equal(await store.deleteTransform(scope, 't1', 'arn:t1'), false);
  });

  it('rolls back a tag change that would exceed the limit', async () => {
    await store.updateTags(scope, 'arn:t1', { a: '1', b: '2' }, [], { maxTags: 3 });
    await assert.rejects(store.updateTags(scope, 'arn:t1', { c: '3', d: '4' }, [], { maxTags: 3 }), StoreConflict);
    assert.deepEqual(await store.getTags(scope, 'arn:t1'), { a: '1', b: '2' });
  });

  it('keeps names unique per account and region', async () => {
    await assert.rejects(
      store.insertTransform(transform('t2', 't1'), {}, { maxTransforms: 10 }, 'arn:t2'),
      (e: unknown) => e instanceof StoreConflict && e.kind === 'name-taken',
    );
    await store.insertTransform({ ...transform('t3', 't1'), region: 'eu-west-1' }, {}, { maxTransforms: 10 }, 'arn:t3');
  });
});
