import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { LABEL_BATCH_ROWS } from '../../src/storage/label-store.js';
import { LabelsReplaced, StoreConflict } from '../../src/storage/metadata-store.js';
import type { LabelRow, TaskRunRecord, TaskType, TransformRecord } from '../../src/storage/records.js';
import type { MetadataStore } from '../../src/storage/metadata-store.js';
import type { Release } from '../../src/storage/task-queue-store.js';
import { freshMetadataStore, TEST_DATABASE_URL } from '../support/server.js';

/** The store under test: SQLite, or PostgreSQL when DOPPEL_TEST_DATABASE_URL is set (CI's second pass). */
const KIND = TEST_DATABASE_URL === undefined ? 'SQLite' : 'PostgreSQL';

const scope = { accountId: '123456789012', region: 'us-east-1' };

/** recoverOrphans' `settle` that puts every orphan back in the queue. */
const resume = async (): Promise<Release> => ({ resume: true, interrupted: true });

function transform(id: string, name = id): TransformRecord {
  return { ...scope, id, name, status: 'NOT_READY', createdOn: 1, lastModifiedOn: 1, labelCount: 0, doc: {} };
}

function run(id: string, transformId = 't1', taskType: TaskType = 'LABELING_SET_GENERATION'): TaskRunRecord {
  return {
    ...scope,
    id,
    transformId,
    taskType,
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

describe(`${KIND} task queue`, () => {
  let store: MetadataStore;
  let closeStore: () => Promise<void>;
  afterEach(() => closeStore());
  beforeEach(async () => {
    ({ store, close: closeStore } = await freshMetadataStore());
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

  it('a find-matches run\'s parts do not count against the limit on active runs', async () => {
    await store.tasks.enqueue(run('a'), { maxActivePerTransform: 1 });
    await store.tasks.enqueue({ ...run('part', 't1', 'FIND_MATCHES'), args: { partOf: 'job-run' } }, { maxActivePerTransform: Number.MAX_SAFE_INTEGER });
    await assert.rejects(store.tasks.enqueue(run('b'), { maxActivePerTransform: 1 }), (e: unknown) => e instanceof StoreConflict && e.detail['count'] === 1);
  });

  it('claims one named run when asked: only while it is STARTING, whatever runs are older', async () => {
    await store.tasks.enqueue(run('a'), { maxActivePerTransform: 5 });
    await store.tasks.enqueue(run('b'), { maxActivePerTransform: 5 });
    const claimed = await store.tasks.claimNext('w1', 2000, 1000, { id: 'b' });
    assert.deepEqual([claimed?.id, claimed?.status, claimed?.leaseOwner], ['b', 'RUNNING', 'w1']);
    assert.equal(await store.tasks.claimNext('w2', 2000, 1000, { id: 'b' }), undefined);
    assert.equal(await store.tasks.claimNext('w2', 2000, 1000, { id: 'missing' }), undefined);
    assert.equal((await store.tasks.claimNext('w2', 2000, 1000))?.id, 'a');
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
    await store.tasks.renewLease('a', 'dead', 2600, 1000);
    await store.tasks.requestCancel(scope, 't1', 'c', 2100);
    const touched = await store.tasks.recoverOrphans({
      now: 5000, // past every lease
      settle: async (r) => (r.id === 'a' ? { resume: true, interrupted: true } : { resume: false, errorString: 'interrupted' }),
    });
    assert.deepEqual(touched.map((r) => r.id).sort(), ['a', 'b', 'c']);
    const a = await store.tasks.get(scope, 't1', 'a');
    assert.equal(a?.status, 'STARTING');
    assert.equal(a?.attempt, 2);
    assert.equal(a?.interruptions, 1);
    assert.equal(a?.executionMs, 600, 'the attempt ran until its owner last renewed the lease, not until it was found');
    assert.equal((await store.tasks.get(scope, 't1', 'b'))?.status, 'FAILED');
    assert.equal((await store.tasks.get(scope, 't1', 'b'))?.errorString, 'interrupted');
    assert.equal((await store.tasks.get(scope, 't1', 'c'))?.status, 'STOPPED');
    // A run whose lease is still valid belongs to a live worker and is left alone.
    await store.tasks.claimNext('alive', 6000, 10_000);
    assert.deepEqual(await store.tasks.recoverOrphans({ now: 7000, settle: resume }), []);
  });

  it('recovers an orphan only in the attempt its ending was decided for: one orphaned again meanwhile waits for the next look', async () => {
    await store.tasks.enqueue(run('a'), { maxActivePerTransform: 5 });
    await store.tasks.claimNext('dead', 2000, 1000);
    const decided: number[] = [];
    const touched = await store.tasks.recoverOrphans({
      now: 5000,
      settle: async (r) => {
        decided.push(r.attempt);
        // Meanwhile another node recovers it and its next attempt is orphaned too.
        await store.tasks.release('a', 'dead', 2500, { resume: true, interrupted: true });
        await store.tasks.claimNext('dead-too', 3000, 1000);
        return { resume: false, errorString: 'decided for attempt 1' };
      },
    });
    assert.deepEqual([touched, decided], [[], [1]]);
    const a = await store.tasks.get(scope, 't1', 'a');
    assert.deepEqual([a?.status, a?.attempt, a?.leaseOwner], ['RUNNING', 2, 'dead-too']);
    assert.deepEqual((await store.tasks.recoverOrphans({ now: 5000, settle: resume })).map((r) => [r.id, r.attempt]), [['a', 2]], 'as its orphaned attempt had it');
    assert.deepEqual([(await store.tasks.get(scope, 't1', 'a'))?.status, (await store.tasks.get(scope, 't1', 'a'))?.attempt], ['STARTING', 3]);
  });

  it('recovers the runs of owners known to be dead before their leases expire; live owners and the caller keep theirs', async () => {
    for (const id of ['a', 'b', 'c']) await store.tasks.enqueue(run(id), { maxActivePerTransform: 5 });
    await store.tasks.claimNext('dead', 2000, 60_000);
    await store.tasks.claimNext('alive', 2000, 60_000);
    await store.tasks.claimNext('me', 2000, 1000);
    assert.deepEqual((await store.tasks.leaseOwners()).sort(), ['alive', 'dead', 'me']);
    assert.deepEqual(
      await store.tasks.recoverOrphans({ now: 9000, self: { owner: 'me', executing: ['c'] }, settle: resume }),
      [],
      'no lease of "dead" or "alive" has expired, and "me" still executes its run however old its lease',
    );
    const recovered = await store.tasks.recoverOrphans({
      now: 9000,
      deadOwners: ['dead', 'me'],
      self: { owner: 'me', executing: ['c'] },
      settle: resume,
    });
    assert.deepEqual(recovered.map((r) => r.id), ['a'], 'only the dead owner\'s run');
    const a = await store.tasks.get(scope, 't1', 'a');
    assert.equal(a?.status, 'STARTING');
    assert.equal(a?.executionMs, 0, 'last seen when claimed');
    assert.equal((await store.tasks.get(scope, 't1', 'b'))?.leaseOwner, 'alive');
    assert.equal((await store.tasks.get(scope, 't1', 'c'))?.leaseOwner, 'me');
    assert.deepEqual((await store.tasks.leaseOwners()).sort(), ['alive', 'me']);
  });

  it("recovers the caller's own expired run once it no longer executes it (its ending could not be written)", async () => {
    for (const id of ['a', 'b']) await store.tasks.enqueue(run(id), { maxActivePerTransform: 5 });
    await store.tasks.claimNext('me', 2000, 1000);
    await store.tasks.claimNext('me', 2000, 1000);
    const recovered = await store.tasks.recoverOrphans({
      now: 9000,
      self: { owner: 'me', executing: ['b'] },
      settle: resume,
    });
    assert.deepEqual(recovered.map((r) => r.id), ['a']);
    const [a, b] = await Promise.all(['a', 'b'].map((id) => store.tasks.get(scope, 't1', id)));
    assert.deepEqual([a?.status, a?.interruptions], ['STARTING', 1]);
    assert.deepEqual([b?.status, b?.leaseOwner], ['RUNNING', 'me']);
  });

  it('releases an attempt: a crash counts an interruption, a hand-back does not, a cancel wins', async () => {
    for (const id of ['a', 'b', 'c', 'd']) await store.tasks.enqueue(run(id), { maxActivePerTransform: 5 });
    for (let i = 0; i < 4; i++) await store.tasks.claimNext('w1', 2000, 1000);
    assert.equal(await store.tasks.release('a', 'w2', 2500, { resume: true, interrupted: true }), false, 'not the owner');
    assert.equal(await store.tasks.release('a', 'w1', 2500, { resume: true, interrupted: true }), true);
    assert.equal(await store.tasks.release('b', 'w1', 2500, { resume: true, interrupted: false }), true);
    assert.equal(await store.tasks.release('c', 'w1', 2500, { resume: false, errorString: 'died' }), true);
    await store.tasks.requestCancel(scope, 't1', 'd', 2400);
    assert.equal(await store.tasks.release('d', 'w1', 2500, { resume: true, interrupted: true }), true);
    const [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map((id) => store.tasks.get(scope, 't1', id)));
    assert.deepEqual([a?.status, a?.attempt, a?.interruptions, a?.executionMs], ['STARTING', 2, 1, 500]);
    assert.deepEqual([b?.status, b?.attempt, b?.interruptions, b?.executionMs], ['STARTING', 1, 0, 500]);
    assert.deepEqual([c?.status, c?.errorString], ['FAILED', 'died']);
    assert.equal(d?.status, 'STOPPED');
    assert.equal(a?.leaseOwner, undefined);
  });

  it('reads lease states without writing: held, cancel-requested, ended, lost', async () => {
    for (const id of ['a', 'b']) await store.tasks.enqueue(run(id), { maxActivePerTransform: 5 });
    await store.tasks.claimNext('w1', 2000, 1000);
    await store.tasks.claimNext('w1', 2000, 1000);
    await store.tasks.requestCancel(scope, 't1', 'b', 2100);
    const states = await store.tasks.leaseStates('w1', ['a', 'b', 'gone']);
    assert.deepEqual(Object.fromEntries(states), { a: 'held', b: 'cancel-requested', gone: 'lost' });
    assert.equal((await store.tasks.leaseStates('w2', ['a'])).get('a'), 'lost');
    await store.tasks.finish('a', 'w1', { status: 'SUCCEEDED' }, 2200);
    assert.equal((await store.tasks.leaseStates('w1', ['a'])).get('a'), 'ended', 'committed: not to be confused with lost');
    assert.equal(await store.tasks.renewLease('a', 'w1', 2300, 1000), 'ended');
  });

  it('keeps progress while the attempt runs and drops it when the run goes back to the queue', async () => {
    await store.tasks.enqueue(run('a'), { maxActivePerTransform: 5 });
    await store.tasks.claimNext('w1', 2000, 1000);
    await store.tasks.reportProgress('a', 'w2', { stage: 'not mine', percent: 99 }, 2100);
    assert.equal((await store.tasks.get(scope, 't1', 'a'))?.progress, undefined);
    await store.tasks.reportProgress('a', 'w1', { stage: 'reading', percent: 20 }, 2200);
    assert.deepEqual((await store.tasks.get(scope, 't1', 'a'))?.progress, { stage: 'reading', percent: 20, updatedOn: 2200 });
    await store.tasks.release('a', 'w1', 2300, { resume: true, interrupted: true });
    assert.equal((await store.tasks.get(scope, 't1', 'a'))?.progress, undefined);
  });

  it('runs the label imports of one transform one at a time, in order', async () => {
    await store.insertTransform(transform('t2'), {}, { maxTransforms: 10 }, 'arn:t2');
    await store.tasks.enqueue(run('i1', 't1', 'IMPORT_LABELS'), { maxActivePerTransform: 5 });
    await store.tasks.enqueue(run('i2', 't1', 'IMPORT_LABELS'), { maxActivePerTransform: 5 });
    await store.tasks.enqueue(run('x', 't1'), { maxActivePerTransform: 5 });
    await store.tasks.enqueue(run('j1', 't2', 'IMPORT_LABELS'), { maxActivePerTransform: 5 });
    const claim = async () => (await store.tasks.claimNext('w1', 2000, 1000))?.id;
    assert.deepEqual([await claim(), await claim(), await claim(), await claim()], ['i1', 'x', 'j1', undefined]);
    await store.tasks.finish('i1', 'w1', { status: 'SUCCEEDED' }, 2500);
    assert.equal(await claim(), 'i2');
  });

  it('times out runs past their deadline once nobody holds them', async () => {
    await store.tasks.enqueue(run('a'), { maxActivePerTransform: 5 });
    await store.tasks.claimNext('dead', 2000, 1000);
    await store.tasks.setDeadline('a', 2500);
    assert.deepEqual(await store.tasks.expireDeadlines(2600), [], 'lease still held');
    assert.deepEqual((await store.tasks.expireDeadlines(3100)).map((r) => [r.id, r.status]), [['a', 'RUNNING']], 'as it was before');
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

describe(`${KIND} label generations`, () => {
  let store: MetadataStore;
  let closeStore: () => Promise<void>;
  afterEach(() => closeStore());
  const rows = (set: string, ...keys: string[]): LabelRow[] =>
    keys.map((id, i) => ({ labelingSetId: set, label: i % 2 ? 'B' : 'A', values: { id } }));
  /** The stored labels as `set:id`, read page by page. */
  async function stored(): Promise<string[]> {
    const all: string[] = [];
    for await (const page of store.labelPages(scope, 't1')) {
      assert.ok(page.length > 0 && page.length <= LABEL_BATCH_ROWS, `a page of ${page.length} rows`);
      for (const r of page) all.push(`${r.labelingSetId}:${r.values['id']}`);
    }
    return all;
  }

  /** One import run: claims it, fills a generation (carrying the rest over when appending) and commits it. */
  async function importRun(id: string, fileRows: LabelRow[], replace = false) {
    await store.tasks.enqueue(run(id, 't1', 'IMPORT_LABELS'), { maxActivePerTransform: 5 });
    assert.equal((await store.tasks.claimNext('w1', 2000, 1000))?.id, id);
    const { generation, basedOn } = await store.labels.beginGeneration(scope, 't1', id);
    for (let i = 0; i < fileRows.length; i += LABEL_BATCH_ROWS) {
      await store.labels.addRows(scope, 't1', generation, fileRows.slice(i, i + LABEL_BATCH_ROWS), i + 1);
    }
    const sets = new Set(fileRows.map((r) => r.labelingSetId));
    const carried = replace ? { rows: 0, someSetHasTwo: false } : await store.labels.carryOver(scope, 't1', basedOn, generation, sets);
    return {
      generation,
      commit: () =>
        store.tasks.finish(
          id,
          'w1',
          {
            status: 'SUCCEEDED',
            labelChange: { generation, basedOn: replace ? undefined : basedOn, labelCount: fileRows.length + carried.rows, ready: true },
          },
          3000,
        ),
    };
  }

  beforeEach(async () => {
    ({ store, close: closeStore } = await freshMetadataStore());
    await store.insertTransform(transform('t1'), {}, { maxTransforms: 10 }, 'arn:t1');
  });

  it('shows an import only once it commits; appending replaces the sets in the file and keeps the order', async () => {
    const first = await importRun('a', [...rows('s1', '1', '2'), ...rows('s2', '3', '4')]);
    assert.deepEqual(await stored(), [], 'staged rows are invisible');
    await first.commit();
    assert.deepEqual(await stored(), ['s1:1', 's1:2', 's2:3', 's2:4']);
    assert.equal((await store.getTransform(scope, 't1'))?.labelCount, 4);

    await (await importRun('b', [...rows('s3', '5'), ...rows('s1', '6', '7', '8')])).commit();
    assert.deepEqual(await stored(), ['s2:3', 's2:4', 's3:5', 's1:6', 's1:7', 's1:8']);
    await (await importRun('c', rows('s9', '9'))).commit();
    assert.deepEqual(await stored(), ['s2:3', 's2:4', 's3:5', 's1:6', 's1:7', 's1:8', 's9:9'], 'carried twice, order kept');
    await (await importRun('d', rows('s4', '1', '2'), true)).commit();
    assert.deepEqual(await stored(), ['s4:1', 's4:2'], 'ReplaceAllLabels');
    const t = await store.getTransform(scope, 't1');
    assert.deepEqual([t?.labelCount, t?.status], [2, 'READY']);
  });

  it('carries a large generation over batch by batch, in order, without the replaced sets', async () => {
    const many = Array.from({ length: 2 * LABEL_BATCH_ROWS + 7 }, (_, i) => ({ labelingSetId: `s${i >> 1}`, label: 'A', values: { id: String(i) } }));
    await (await importRun('a', many)).commit();
    await (await importRun('b', rows('s0', 'x'))).commit();
    const after = await stored();
    assert.equal(after.length, many.length - 2 + 1);
    assert.deepEqual([after[0], after[1], after.at(-2), after.at(-1)], ['s1:2', 's1:3', `s${(many.length - 1) >> 1}:${many.length - 1}`, 's0:x']);
    assert.equal((await store.getTransform(scope, 't1'))?.labelCount, many.length - 1);
  });

  it('fails a reader whose generation was replaced and collected before it had every page', async () => {
    const many = Array.from({ length: 2 * LABEL_BATCH_ROWS + 1 }, (_, i) => ({ labelingSetId: `s${i}`, label: 'A', values: { id: String(i) } }));
    await (await importRun('a', many)).commit();
    const pages = store.labelPages(scope, 't1')[Symbol.asyncIterator]();
    assert.equal((await pages.next()).value?.length, LABEL_BATCH_ROWS);
    await (await importRun('b', rows('x', '1'), true)).commit();
    await store.labels.collectGarbage();
    await assert.rejects(pages.next(), LabelsReplaced);
  });

  it('refuses to commit an append whose base is no longer current, instead of dropping labels', async () => {
    await (await importRun('a', rows('s1', '1', '2'))).commit();
    const stale = await importRun('b', rows('s2', '3'));
    // Another import committed meanwhile (what claimNext's one-import-at-a-time rule prevents).
    const { generation } = await store.labels.beginGeneration(scope, 't1', 'other');
    await store.labels.addRows(scope, 't1', generation, rows('s9', '9'), 1);
    // (Not an IMPORT_LABELS run, so that the queue lets it run beside the stale one.)
    await store.tasks.enqueue(run('other', 't1'), { maxActivePerTransform: 5 });
    assert.equal((await store.tasks.claimNext('w2', 2000, 1000))?.id, 'other');
    await store.tasks.finish('other', 'w2', { status: 'SUCCEEDED', labelChange: { generation, labelCount: 1, ready: false } }, 2500);
    await stale.commit();
    const b = await store.tasks.get(scope, 't1', 'b');
    assert.equal(b?.status, 'FAILED');
    assert.match(b?.errorString ?? '', /labels changed while this import ran/);
    assert.deepEqual(await stored(), ['s9:9']);
  });

  it('collects replaced, abandoned and deleted generations, and nothing still needed', async () => {
    const many = Array.from({ length: LABEL_BATCH_ROWS + 10 }, (_, i) => ({ labelingSetId: `s${i}`, label: 'A', values: { id: String(i) } }));
    await (await importRun('a', many)).commit();
    await (await importRun('b', rows('x', '1'), true)).commit();
    const failed = await importRun('c', rows('y', '2'), true);
    await store.tasks.finish('c', 'w1', { status: 'FAILED', errorString: 'bad file' }, 3000);
    const inFlight = await importRun('d', rows('z', '3'), true);
    assert.equal(await store.labels.collectGarbage(), many.length + 1, 'the replaced generation and the failed one');
    assert.equal(await store.labels.collectGarbage(), 0);
    assert.notEqual(failed.generation, inFlight.generation);
    await inFlight.commit();
    assert.deepEqual(await stored(), ['z:3'], 'the generation of a run in flight was kept');
    await store.deleteTransform(scope, 't1', 'arn:t1');
    assert.equal(await store.labels.collectGarbage(), 2, "a deleted transform's labels (and the one it replaced)");
  });
});
