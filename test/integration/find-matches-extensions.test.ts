/**
 * doppel's additions to FindMatches, through the SDKs and the raw wire, on a transform taught on
 * 80% of restaurant: incremental runs (FindIncrementalMatches: a full run on that base, then
 * `findmatches` job runs with `--existing-path` and the remaining records, from an S3 path and from
 * a catalog table, in CSV, JSON and Parquet), `--explain`, the ExplainMatches operation and
 * `doppel explain`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateDatabaseCommand, StartJobRunCommand, type GlueClient } from '@aws-sdk/client-glue';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { scorePairwise } from '../../src/evaluation/pairwise-score.js';
import { createFindMatchesJob, createOpenCsvTable, createTableTransform, glueClient, teachOnce, waitForJobRun, waitForTransform } from '../support/glue-client.js';
import { loadDataset, type Dataset } from '../support/datasets.js';
import { runCli } from '../support/cli.js';
import { findMatchesRunProperties, rawGlueCall } from '../support/raw-glue.js';
import { s3Client } from '../support/s3-tools.js';
import { startServer, type TestServer } from '../support/server.js';

const BUCKET = 'incremental-e2e';

describe('FindMatches extensions (restaurant, 80% base + 20% new)', { timeout: 600_000 }, () => {
  let server: TestServer;
  let glue: GlueClient;
  let s3: S3Client;
  let ds: Dataset;
  let transformId: string;
  let base: Array<Record<string, string>>;
  let added: Array<Record<string, string>>;
  const jobName = 'incremental-restaurants';

  const text = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString('utf8');
  const keysUnder = async (prefix: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!.slice(prefix.length)).sort();
  /** The records of every part file of an output, in part order. */
  const csvRows = async (prefix: string) => {
    const parts = (await keysUnder(prefix)).filter((k) => /^part-\d+\.csv$/.test(k));
    const rows: Array<Record<string, string>> = [];
    for (const part of parts) rows.push(...(parse(await text(`${prefix}${part}`), { columns: true }) as Array<Record<string, string>>));
    return rows;
  };
  const put = (key: string, body: string) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  const csvOf = (records: Array<Record<string, string>>) => stringify([ds.header, ...records.map((r) => ds.header.map((h) => r[h]!))]);
  const csvTable = (name: string, location: string) =>
    createOpenCsvTable(glue, { database: 'eats', table: name, columns: ds.header, location: `s3://${BUCKET}/${location}` });
  const runJob = async (args: Record<string, string>) => {
    const { JobRunId } = await glue.send(new StartJobRunCommand({ JobName: jobName, Arguments: args }));
    return waitForJobRun(glue, jobName, JobRunId!);
  };
  const f1 = (rows: Array<Record<string, string | number>>) => {
    const present = new Set(rows.map((r) => String(r['id'])));
    const truth = [...ds.truth].filter(([id]) => present.has(id)).map(([id, entityId]) => ({ id, entityId }));
    return scorePairwise(truth, rows.map((r) => ({ id: String(r['id']), matchId: String(r['match_id']) }))).f1;
  };

  before(async () => {
    ds = loadDataset('restaurant');
    const cut = Math.floor(ds.records.length * 0.8);
    base = ds.records.slice(0, cut);
    added = ds.records.slice(cut);
    server = await startServer();
    glue = glueClient(server);
    s3 = s3Client(server);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await put('base/records.csv', csvOf(base));
    await put('all/records.csv', csvOf(ds.records));
    await put('new/part-00000.csv', csvOf(added));
    await put('new-table/records.csv', csvOf(added));
    await put('odd/records.txt', csvOf(added));
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'eats' } }));
    await csvTable('base', 'base/');
    await csvTable('everything', 'all/');
    await csvTable('arrivals', 'new-table/');
    transformId = await createTableTransform(glue, { database: 'eats', table: 'base', name: 'incremental-restaurants' });
    await createFindMatchesJob(glue, { name: jobName, transformId, ExecutionProperty: { MaxConcurrentRuns: 5 } });
    // Two rounds of labels from the truth, on the base only.
    for (let round = 1; round <= 2; round++) {
      await teachOnce(glue, { transformId, s3, bucket: BUCKET, labelingPrefix: `labeling/${round}/`, labelsKey: `labels/${round}.csv`, truth: ds.truth });
    }
    await waitForTransform(glue, transformId, (t) => t.Status === 'READY');
  });

  after(async () => {
    glue?.destroy();
    s3?.destroy();
    await server?.stop();
    await server?.cleanup();
  });

  it('new records from an S3 path: existing ids kept, every record once, F1 within 0.01 of a full run', async (t) => {
    // The base's output explains each record's link to its group; an incremental run reads it like any other output.
    const first = await runJob({ '--output-path': `s3://${BUCKET}/out/base/`, '--compute-match-confidence-scores': 'true', '--explain': 'true' });
    assert.equal(first.JobRunState, 'SUCCEEDED', first.ErrorMessage);
    const run = await runJob({
      '--output-path': `s3://${BUCKET}/out/inc/`,
      '--existing-path': `s3://${BUCKET}/out/base/`,
      '--incremental-path': `s3://${BUCKET}/new/`,
      '--conflicts-path': `s3://${BUCKET}/out/conflicts/`,
      '--compute-match-confidence-scores': 'true',
    });
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    const before = await csvRows('out/base/');
    assert.deepEqual(Object.keys(before[0]!), [...ds.header, 'match_id', 'match_confidence_score', 'match_explanation']);
    const groupOf = new Map(before.map((r) => [r['id']!, r['match_id']!]));
    const size = new Map<string, number>();
    for (const r of before) size.set(r['match_id']!, (size.get(r['match_id']!) ?? 0) + 1);
    for (const r of before) {
      if (size.get(r['match_id']!) === 1) {
        assert.equal(r['match_explanation'], '', `record ${r['id']} is alone in its group`);
        continue;
      }
      const why = JSON.parse(r['match_explanation']!) as { partner: string; log_odds: number; bias: number; columns: Record<string, number> };
      assert.equal(groupOf.get(why.partner), r['match_id'], 'the partner is in the same group');
      assert.notEqual(why.partner, r['id']);
      assert.deepEqual(Object.keys(why.columns).sort(), ds.header.filter((h) => h !== 'id').sort());
      const sum = why.bias + Object.values(why.columns).reduce((a, b) => a + b, 0);
      // Each of the terms is rounded to 4 decimals.
      assert.ok(Math.abs(sum - why.log_odds) <= 5e-5 * (ds.header.length + 1), `record ${r['id']}: ${sum} vs ${why.log_odds}`);
    }
    const rows = await csvRows('out/inc/');
    assert.deepEqual(Object.keys(rows[0]!), [...ds.header, 'match_id', 'match_confidence_score']);
    assert.deepEqual(rows.map((r) => r['id']), ds.records.map((r) => r['id']), 'the existing records, then the new ones');
    const idBefore = new Map(before.map((r) => [r['id']!, r['match_id']!]));
    const scoreBefore = new Map(before.map((r) => [r['id']!, r['match_confidence_score']!]));
    for (const r of rows.slice(0, base.length)) {
      assert.equal(r['match_id'], idBefore.get(r['id']!), `record ${r['id']} kept its match_id`);
      assert.equal(r['match_confidence_score'], scoreBefore.get(r['id']!), `record ${r['id']} is written as it was`);
    }
    const existingIds = new Set(before.map((r) => Number(r['match_id'])));
    const highest = Math.max(...existingIds);
    for (const r of rows.slice(base.length)) {
      const id = Number(r['match_id']);
      assert.ok(Number.isSafeInteger(id) && (id > highest || existingIds.has(id)), `new record ${r['id']}: match_id ${r['match_id']}`);
      const score = Number(r['match_confidence_score']);
      assert.ok(score >= 0 && score <= 1);
    }
    assert.deepEqual(await keysUnder('out/conflicts/'), ['_SUCCESS', 'part-00000.csv']);
    assert.deepEqual(parse(await text('out/conflicts/part-00000.csv'))[0], ['id', 'match_id', 'existing_match_id', 'probability']);

    const full = await runJob({ '--output-path': `s3://${BUCKET}/out/full/`, '--input-database': 'eats', '--input-table': 'everything' });
    assert.equal(full.JobRunState, 'SUCCEEDED', full.ErrorMessage);
    const [incF1, fullF1] = [f1(rows), f1(await csvRows('out/full/'))];
    t.diagnostic(`F1 incremental ${incF1.toFixed(4)} (run ${run.ExecutionTime} s), full run on every record ${fullF1.toFixed(4)} (${full.ExecutionTime} s)`);
    assert.ok(Math.abs(incF1 - fullF1) <= 0.01, `F1 ${incF1} incremental, ${fullF1} in full`);

    // doppel's extension members of the run's FindMatchesTaskRunProperties.
    const props = await findMatchesRunProperties(server, transformId, run.Id!);
    assert.equal(props['InputRecordCount'], ds.records.length);
    assert.equal(props['IncrementalRecordCount'], added.length);
    assert.equal(props['ExistingRecordsCopied'], false, 'the existing output has match_explanation, this one not: its records are read and rewritten');
    assert.ok((props['JoinedExistingCount'] as number) > 0, 'some new restaurants are duplicates of existing ones');
    const conflicts = parse(await text('out/conflicts/part-00000.csv'), { columns: true }) as Array<Record<string, string>>;
    assert.equal(props['ConflictCount'], new Set(conflicts.map((r) => r['id'])).size);
  });

  it('chained runs keep an incremental state beside each output and use it; a damaged or stale one is ignored with the same result', async () => {
    const STATE = '_doppel/incremental-state.bin';
    const propsOf = (jobRunId: string) => findMatchesRunProperties(server, transformId, jobRunId);
    const bytes = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray();
    const half = Math.floor(added.length / 2);
    await put('st/first/part-00000.csv', csvOf(added.slice(0, half)));
    await put('st/second/part-00000.csv', csvOf(added.slice(half)));

    // Declined, no state is written, and one an earlier run left at the path is removed.
    const declined = await runJob({ '--output-path': `s3://${BUCKET}/st/base/`, '--keep-incremental-state': 'false' });
    assert.equal(declined.JobRunState, 'SUCCEEDED', declined.ErrorMessage);
    assert.deepEqual(await keysUnder('st/base/'), ['_SUCCESS', 'part-00000.csv']);

    const full = await runJob({ '--output-path': `s3://${BUCKET}/st/base/` });
    assert.equal(full.JobRunState, 'SUCCEEDED', full.ErrorMessage);
    assert.deepEqual(await keysUnder('st/base/'), ['_SUCCESS', STATE, 'part-00000.csv'], 'the state lies beside the output');
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `st/declined/${STATE}`, Body: await bytes(`st/base/${STATE}`) }));
    const over = await runJob({ '--output-path': `s3://${BUCKET}/st/declined/`, '--keep-incremental-state': 'false' });
    assert.equal(over.JobRunState, 'SUCCEEDED', over.ErrorMessage);
    assert.deepEqual(await keysUnder('st/declined/'), ['_SUCCESS', 'part-00000.csv'], 'a state left at the path is removed');
    const baseRows = await csvRows('st/base/');

    const one = await runJob({ '--output-path': `s3://${BUCKET}/st/one/`, '--existing-path': `s3://${BUCKET}/st/base/`, '--incremental-path': `s3://${BUCKET}/st/first/` });
    assert.equal(one.JobRunState, 'SUCCEEDED', one.ErrorMessage);
    assert.equal((await propsOf(one.Id!))['IncrementalStateUsed'], true);
    // The existing output is the one the state was written for, in the same format and columns:
    // its part is copied byte for byte, the new records follow in a part of their own.
    assert.equal((await propsOf(one.Id!))['ExistingRecordsCopied'], true);
    assert.deepEqual(await keysUnder('st/one/'), ['_SUCCESS', STATE, 'part-00000.csv', 'part-00001.csv']);
    assert.deepEqual(await bytes('st/one/part-00000.csv'), await bytes('st/base/part-00000.csv'));
    const oneRows = await csvRows('st/one/');
    assert.equal(oneRows.length, base.length + half);
    baseRows.forEach((r, i) => assert.equal(oneRows[i]!['match_id'], r['match_id'], `record ${r['id']} kept its match_id`));
    assert.deepEqual(oneRows.map((r) => r['id']), ds.records.slice(0, base.length + half).map((r) => r['id']), 'every record once, in order');

    // The same records, their output rewritten (a value edited, keys and order unchanged): the state
    // still stands for them, but the output is not the one it was written for, so it is read.
    const edited = Buffer.from(await bytes('st/base/part-00000.csv')).toString('utf8').replace(/\n([^,\n]*),([^,\n]*),/, '\n$1,$2 x,');
    await put('st/edited/part-00000.csv', edited);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `st/edited/${STATE}`, Body: await bytes(`st/base/${STATE}`) }));
    const reread = await runJob({ '--output-path': `s3://${BUCKET}/st/edited-out/`, '--existing-path': `s3://${BUCKET}/st/edited/`, '--incremental-path': `s3://${BUCKET}/st/first/` });
    assert.equal(reread.JobRunState, 'SUCCEEDED', reread.ErrorMessage);
    assert.equal((await propsOf(reread.Id!))['IncrementalStateUsed'], true);
    assert.equal((await propsOf(reread.Id!))['ExistingRecordsCopied'], false);
    assert.deepEqual(await keysUnder('st/edited-out/'), ['_SUCCESS', STATE, 'part-00000.csv']);
    const rereadRows = await csvRows('st/edited-out/');
    assert.deepEqual(rereadRows.map((r) => [r['id'], r['match_id']]), oneRows.map((r) => [r['id'], r['match_id']]), 'the same matches as when copied');

    // The same existing records with a damaged state, and with the state of other records (the first
    // incremental output's, which covers more rows): both ignored, and the result is the same.
    const partBytes = await bytes('st/base/part-00000.csv');
    const good = await bytes(`st/base/${STATE}`);
    const damaged = Uint8Array.from(good);
    damaged.fill(7, 100, 400);
    for (const [name, state] of [['damaged', damaged], ['stale', await bytes(`st/one/${STATE}`)]] as const) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `st/${name}/part-00000.csv`, Body: partBytes }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `st/${name}/${STATE}`, Body: state }));
      const run = await runJob({ '--output-path': `s3://${BUCKET}/st/${name}-out/`, '--existing-path': `s3://${BUCKET}/st/${name}/`, '--incremental-path': `s3://${BUCKET}/st/first/` });
      assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
      assert.equal((await propsOf(run.Id!))['IncrementalStateUsed'], false, `the ${name} state is not used`);
      assert.deepEqual(
        (await csvRows(`st/${name}-out/`)).map((r) => [r['id'], r['match_id']]),
        oneRows.map((r) => [r['id'], r['match_id']]),
        `with the ${name} state ignored, the same matches as with the state`,
      );
    }

    // The next run in the chain uses the state the first incremental run left.
    const two = await runJob({ '--output-path': `s3://${BUCKET}/st/two/`, '--existing-path': `s3://${BUCKET}/st/one/`, '--incremental-path': `s3://${BUCKET}/st/second/` });
    assert.equal(two.JobRunState, 'SUCCEEDED', two.ErrorMessage);
    assert.equal((await propsOf(two.Id!))['IncrementalStateUsed'], true);
    const twoRows = await csvRows('st/two/');
    assert.deepEqual(twoRows.map((r) => r['id']), ds.records.map((r) => r['id']));
    oneRows.forEach((r, i) => assert.equal(twoRows[i]!['match_id'], r['match_id'], `record ${r['id']} kept its match_id`));
    assert.ok(Math.abs(f1(twoRows) - f1(await csvRows('out/full/'))) <= 0.01, 'F1 steady along the chain');
    assert.deepEqual(await keysUnder('st/two/'), ['_SUCCESS', STATE, 'part-00000.csv', 'part-00001.csv', 'part-00002.csv']);

    // An incremental run's state is a delta of the full state it read (st/base's): smaller, and not
    // usable once that one is gone (then the run prepares the records itself).
    assert.ok((await bytes(`st/one/${STATE}`)).length < (await bytes(`st/base/${STATE}`)).length / 2, 'a delta');
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `st/base/${STATE}` }));
    const orphan = await runJob({ '--output-path': `s3://${BUCKET}/st/orphan/`, '--existing-path': `s3://${BUCKET}/st/one/`, '--incremental-path': `s3://${BUCKET}/st/second/` });
    assert.equal(orphan.JobRunState, 'SUCCEEDED', orphan.ErrorMessage);
    assert.equal((await propsOf(orphan.Id!))['IncrementalStateUsed'], false);
    assert.equal((await propsOf(orphan.Id!))['ExistingRecordsCopied'], false);
    const orphanRows = await csvRows('st/orphan/');
    assert.deepEqual(orphanRows.map((r) => r['id']), ds.records.map((r) => r['id']));
    oneRows.forEach((r, i) => assert.equal(orphanRows[i]!['match_id'], r['match_id'], `record ${r['id']} kept its match_id`));
    assert.ok(Math.abs(f1(orphanRows) - f1(twoRows)) <= 0.01);
  });

  it('--golden-records writes one merged record per group, its values taken from the group\'s records', async () => {
    const run = await runJob({ '--output-path': `s3://${BUCKET}/out/golden/`, '--golden-records': 'true', '--compute-match-confidence-scores': 'true' });
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    const all = await csvRows('out/base/');
    const golden = await csvRows('out/golden/');
    assert.deepEqual(Object.keys(golden[0]!), [...ds.header, 'match_id', 'match_confidence_score']);
    const groups = new Map<string, Array<Record<string, string>>>();
    for (const r of all) groups.set(r['match_id']!, [...(groups.get(r['match_id']!) ?? []), r]);
    assert.equal(golden.length, groups.size);
    assert.ok(golden.length < all.length, 'restaurant has groups of several records');
    for (const g of golden) {
      const members = groups.get(g['match_id']!)!;
      assert.ok(members.some((m) => m['id'] === g['id']), `golden record ${g['id']} is a record of group ${g['match_id']}`);
      for (const h of ds.header) assert.ok(members.some((m) => m[h] === g[h]), `${h} of group ${g['match_id']} comes from one of its records`);
    }
    const bad = await runJob({ '--output-path': `s3://${BUCKET}/out/golden-bad/`, '--golden-records': 'true', '--explain': 'true' });
    assert.equal(bad.JobRunState, 'FAILED');
    assert.match(bad.ErrorMessage!, /Argument --golden-records writes one merged record per group: it cannot be combined with --explain/);
  });

  it('existing matches in Parquet, new records from a catalog table, output in JSON lines', async () => {
    const first = await runJob({ '--output-path': `s3://${BUCKET}/out/base-pq/`, '--output-format': 'parquet' });
    assert.equal(first.JobRunState, 'SUCCEEDED', first.ErrorMessage);
    const run = await runJob({
      '--output-path': `s3://${BUCKET}/out/inc-json/`,
      '--output-format': 'json',
      '--existing-path': `s3://${BUCKET}/out/base-pq/`,
      '--incremental-database': 'eats',
      '--incremental-table': 'arrivals',
    });
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    const baseRun = await runJob({ '--output-path': `s3://${BUCKET}/out/base-csv/` });
    assert.equal(baseRun.JobRunState, 'SUCCEEDED', baseRun.ErrorMessage);
    const idBefore = new Map((await csvRows('out/base-csv/')).map((r) => [r['id']!, Number(r['match_id'])]));
    const lines = (await text('out/inc-json/part-00000.json')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, string | number>);
    assert.equal(lines.length, ds.records.length);
    for (const r of lines.slice(0, base.length)) assert.equal(r['match_id'], idBefore.get(String(r['id'])));

    // And again with the output of that run as the existing matches: nothing new is a duplicate key.
    await put('again/part-00000.csv', csvOf([{ ...added[0]!, id: 'brand-new' }]));
    const again = await runJob({
      '--output-path': `s3://${BUCKET}/out/again/`,
      '--existing-path': `s3://${BUCKET}/out/inc-json/`,
      '--incremental-path': `s3://${BUCKET}/again/`,
    });
    assert.equal(again.JobRunState, 'SUCCEEDED', again.ErrorMessage);
    const twice = await csvRows('out/again/');
    assert.equal(twice.length, ds.records.length + 1);
    for (const [i, r] of lines.entries()) assert.equal(twice[i]!['match_id'], String(r['match_id']));
    // A copy of a record joins that record's group.
    const copied = lines.find((r) => r['id'] === added[0]!['id'])!;
    assert.equal(twice[twice.length - 1]!['match_id'], String(copied['match_id']));

    // Parquet to Parquet: the existing part is copied, the new records are a Parquet part of their own,
    // and a later run reads both.
    const pq = await runJob({
      '--output-path': `s3://${BUCKET}/out/inc-pq/`,
      '--output-format': 'parquet',
      '--existing-path': `s3://${BUCKET}/out/base-pq/`,
      '--incremental-database': 'eats',
      '--incremental-table': 'arrivals',
    });
    assert.equal(pq.JobRunState, 'SUCCEEDED', pq.ErrorMessage);
    assert.deepEqual(await keysUnder('out/inc-pq/'), ['_SUCCESS', '_doppel/incremental-state.bin', 'part-00000.parquet', 'part-00001.parquet']);
    const bytes = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray();
    assert.deepEqual(await bytes('out/inc-pq/part-00000.parquet'), await bytes('out/base-pq/part-00000.parquet'));
    const fromPq = await runJob({ '--output-path': `s3://${BUCKET}/out/again-pq/`, '--existing-path': `s3://${BUCKET}/out/inc-pq/`, '--incremental-path': `s3://${BUCKET}/again/` });
    assert.equal(fromPq.JobRunState, 'SUCCEEDED', fromPq.ErrorMessage);
    assert.deepEqual((await csvRows('out/again-pq/')).map((r) => [r['id'], r['match_id']]), twice.map((r) => [r['id'], r['match_id']]));
  });

  it('bad arguments fail the run with a message naming the argument', async () => {
    const out = `s3://${BUCKET}/out/bad/`;
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ '--existing-path': `s3://${BUCKET}/out/base/` }, /Argument --existing-path needs the new records: either --incremental-path or --incremental-database/],
      [{ '--incremental-path': `s3://${BUCKET}/new/` }, /Argument --incremental-path needs --existing-path/],
      [{ '--existing-path': 'out/base', '--incremental-path': `s3://${BUCKET}/new/` }, /Argument --existing-path must be an S3 URI/],
      [
        { '--existing-path': `s3://${BUCKET}/out/base/`, '--incremental-database': 'eats' },
        /Arguments --incremental-database and --incremental-table must be given together/,
      ],
      [
        { '--existing-path': `s3://${BUCKET}/nothing/`, '--incremental-path': `s3://${BUCKET}/new/` },
        /Argument --existing-path: cannot read s3:\/\/incremental-e2e\/nothing\/: nothing at/,
      ],
      [
        { '--existing-path': `s3://${BUCKET}/out/base/`, '--incremental-path': `s3://${BUCKET}/odd/` },
        /Argument --incremental-path: cannot read .*odd\/: the data files at .* must all be \.csv, \.json or \.parquet files/,
      ],
      [
        { '--existing-path': `s3://${BUCKET}/out/base/`, '--incremental-path': `s3://${BUCKET}/base/` },
        /Argument --incremental-path: record id = \S+ is already in the existing matches/,
      ],
      [
        { '--existing-path': `s3://${BUCKET}/out/base/`, '--incremental-database': 'eats', '--incremental-table': 'nope' },
        /Table eats.nope \(--incremental-database \/ --incremental-table\) does not exist/,
      ],
      [
        { '--existing-path': `s3://${BUCKET}/out/base-pq/`, '--incremental-path': `s3://${BUCKET}/new/`, '--compute-match-confidence-scores': 'true' },
        /Argument --compute-match-confidence-scores: the existing matches at .* have no match_confidence_score/,
      ],
      [
        { '--existing-path': `s3://${BUCKET}/out/base/`, '--incremental-path': `s3://${BUCKET}/new/`, '--input-database': 'eats', '--input-table': 'base' },
        /cannot be combined with --existing-path/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await runJob({ '--output-path': out, ...args });
      assert.equal(run.JobRunState, 'FAILED', JSON.stringify(args));
      assert.match(run.ErrorMessage!, message);
    }
  });

  it('ExplainMatches (doppel extension): per-column contributions that add up to the pair\'s log-odds', async () => {
    const byEntity = new Map<string, string[]>();
    for (const r of base) byEntity.set(ds.truth.get(r['id']!)!, [...(byEntity.get(ds.truth.get(r['id']!)!) ?? []), r['id']!]);
    const duplicate = [...byEntity.values()].find((ids) => ids.length > 1)!;
    const strangers = [base[0]!['id']!, base.find((r) => ds.truth.get(r['id']!) !== ds.truth.get(base[0]!['id']!))!['id']!];
    const res = await rawGlueCall(server, 'ExplainMatches', {
      TransformId: transformId,
      RecordPairs: [{ Left: duplicate[0], Right: duplicate[1] }, { Left: strangers[0], Right: strangers[1] }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    type Explanation = {
      Left: string; Right: string; LogOdds: number; Probability: number; Bias: number;
      Columns: Array<{ ColumnName: string; Contribution: number }>;
      Features: Array<{ ColumnName: string; Feature: string; Value: number; Contribution: number }>;
    };
    const explanations = res.body['Explanations'] as Explanation[];
    assert.deepEqual(explanations.map((e) => [e.Left, e.Right]), [[duplicate[0], duplicate[1]], strangers]);
    for (const e of explanations) {
      const columns = e.Columns.reduce((s, c) => s + c.Contribution, 0);
      assert.ok(Math.abs(e.Bias + columns - e.LogOdds) < 1e-9, `${e.Bias} + ${columns} vs ${e.LogOdds}`);
      assert.ok(Math.abs(e.Features.reduce((s, f) => s + f.Contribution, 0) - columns) < 1e-9);
      assert.ok(Math.abs(e.Probability - 1 / (1 + Math.exp(-e.LogOdds))) < 1e-12);
      assert.deepEqual(e.Columns.map((c) => c.ColumnName).sort(), ds.header.filter((h) => h !== 'id').sort());
    }
    assert.ok(explanations[0]!.LogOdds > explanations[1]!.LogOdds, 'the duplicate scores above the strangers');
    // The run behind it is a task run of the transform like any other.
    assert.match(String(res.body['TaskRunId']), /^tsk-/);

    const unknown = await rawGlueCall(server, 'ExplainMatches', { TransformId: transformId, RecordPairs: [{ Left: duplicate[0], Right: 'nope' }] });
    assert.equal(unknown.status, 400);
    assert.match(String(unknown.body['__type']), /InvalidInputException/);
    assert.match(String(unknown.body['message'] ?? unknown.body['Message']), /RecordPairs\[0\]\.Right: no record with id = nope/);
    const itself = await rawGlueCall(server, 'ExplainMatches', {
      TransformId: transformId,
      RecordPairs: [{ Left: duplicate[0], Right: duplicate[1] }, { Left: duplicate[0], Right: duplicate[0] }],
    });
    assert.equal(itself.status, 400);
    assert.match(String(itself.body['message'] ?? itself.body['Message']), new RegExp(`RecordPairs\\[1\\] names record ${duplicate[0]} twice`));
    const empty = await rawGlueCall(server, 'ExplainMatches', { TransformId: transformId, RecordPairs: [] });
    assert.equal(empty.status, 400);
    assert.match(String(empty.body['message'] ?? empty.body['Message']), /RecordPairs must be a list of 1 to 100 pairs/);
    const missing = await rawGlueCall(server, 'ExplainMatches', { TransformId: 'tfm-nope', RecordPairs: [{ Left: 'a', Right: 'b' }] });
    assert.equal(missing.status, 400);
    assert.match(String(missing.body['__type']), /EntityNotFoundException/);

    // `doppel explain` asks the same and draws the waterfall.
    const cli = await runCli(['explain', '--endpoint', server.endpoint, '--transform-id', transformId, duplicate[0]!, duplicate[1]!]);
    assert.equal(cli.status, 0, cli.stderr);
    const lines = cli.stdout.trim().split('\n');
    assert.match(lines[0]!, new RegExp(`^${duplicate[0]} ~ ${duplicate[1]}: probability ${explanations[0]!.Probability.toFixed(4)}`));
    for (const h of ds.header.filter((x) => x !== 'id')) assert.ok(lines.some((l) => l.trimStart().startsWith(`${h} `)), `a line for ${h}`);
    const json = await runCli(['explain', '--endpoint', server.endpoint, '--transform-id', transformId, '--json', duplicate[0]!, duplicate[1]!]);
    assert.equal(json.status, 0, json.stderr);
    assert.deepEqual((JSON.parse(json.stdout) as { Explanations: Explanation[] }).Explanations, [explanations[0]]);
    const bad = await runCli(['explain', '--endpoint', server.endpoint, '--transform-id', transformId, duplicate[0]!]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /the primary keys must come in pairs, got an odd number \(1\)/);
  });
});
