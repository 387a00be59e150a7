/**
 * The whole FindMatches loop with the real matcher, as a user drives it through the SDKs: records
 * into the embedded S3, a catalog table and a transform over them, a generated labeling set labeled
 * from truth.csv and imported, an evaluation, then `findmatches` jobs writing CSV, JSON lines and
 * Parquet, and the `doppel find-matches` command.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  CreateDatabaseCommand,
  GetMLTaskRunCommand,
  GetMLTaskRunsCommand,
  StartJobRunCommand,
  StartMLEvaluationTaskRunCommand,
  type GlueClient,
} from '@aws-sdk/client-glue';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { createFindMatchesJob, createOpenCsvTable, createOpenCsvTransform, getTransform, glueClient, teachOnce, waitForJobRun, waitForRun, waitForTransform } from '../support/glue-client.js';
import { loadDataset, type Dataset } from '../support/datasets.js';
import { findMatchesRunProperties, rawGlueCall } from '../support/raw-glue.js';
import { s3Client } from '../support/s3-tools.js';
import { runCli } from '../support/cli.js';
import { startServer, untilLogged, type TestServer } from '../support/server.js';

/** A point of the PrecisionRecallCurve extension member. */
interface PRPoint {
  Threshold: number;
  Precision: number;
  Recall: number;
}

const BUCKET = 'find-matches-e2e';

async function getText(s3: S3Client, key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return out.Body!.transformToString('utf8');
}

async function getBytes(s3: S3Client, key: string): Promise<Uint8Array> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return out.Body!.transformToByteArray();
}

async function keysUnder(s3: S3Client, prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!.slice(prefix.length)).sort();
}

/** Pairwise precision / recall / F1 of predicted groups against the truth (datasets/README.md). */
function pairwiseF1(groups: Map<string, string[]>, truth: Map<string, string>): { precision: number; recall: number; f1: number } {
  const pairs = (n: number) => (n * (n - 1)) / 2;
  let predicted = 0;
  let tp = 0;
  for (const ids of groups.values()) {
    predicted += pairs(ids.length);
    const cells = new Map<string, number>();
    for (const id of ids) cells.set(truth.get(id)!, (cells.get(truth.get(id)!) ?? 0) + 1);
    for (const n of cells.values()) tp += pairs(n);
  }
  const entities = new Map<string, number>();
  for (const e of truth.values()) entities.set(e, (entities.get(e) ?? 0) + 1);
  let actual = 0;
  for (const n of entities.values()) actual += pairs(n);
  const precision = predicted === 0 ? 1 : tp / predicted;
  const recall = actual === 0 ? 1 : tp / actual;
  return { precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) };
}

describe('FindMatches end to end (restaurant)', { timeout: 600_000 }, () => {
  let server: TestServer;
  let glue: GlueClient;
  let s3: S3Client;
  let ds: Dataset;
  let transformId: string;
  const jobName = 'dedupe-restaurants';

  before(async () => {
    ds = loadDataset('restaurant');
    server = await startServer();
    glue = glueClient(server);
    s3 = s3Client(server);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'data/records.csv', Body: readFileSync(ds.recordsCsvPath) }));
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'eats' } }));
    transformId = await createOpenCsvTransform(glue, {
      database: 'eats',
      table: 'restaurants',
      columns: ds.header,
      location: `s3://${BUCKET}/data/`,
      name: 'restaurants',
    });
    await createFindMatchesJob(glue, { name: jobName, transformId, ExecutionProperty: { MaxConcurrentRuns: 5 } });
  });

  after(async () => {
    glue?.destroy();
    s3?.destroy();
    await server?.stop();
    await server?.cleanup();
  });

  it('a run before any label fails: the transform is not READY', async () => {
    const { JobRunId } = await glue.send(
      new StartJobRunCommand({ JobName: jobName, Arguments: { '--output-path': `s3://${BUCKET}/early/` } }),
    );
    const run = await waitForJobRun(glue, jobName, JobRunId!);
    assert.equal(run.JobRunState, 'FAILED');
    assert.match(run.ErrorMessage!, /is not READY/);
  });

  it('teach: generate labeling sets, label them from the truth, import (two rounds)', async () => {
    for (let round = 1; round <= 2; round++) {
      const labelingPrefix = `labeling/round-${round}/`;
      const rows = await teachOnce(glue, { transformId, s3, bucket: BUCKET, labelingPrefix, labelsKey: `labels/round-${round}.csv`, truth: ds.truth });
      assert.deepEqual(await keysUnder(s3, labelingPrefix), ['_SUCCESS', 'part-00000.csv']);
      assert.deepEqual(rows[0], ['labeling_set_id', 'label', ...ds.header]);
      assert.ok(rows.length > 10, `labeling file has ${rows.length - 1} rows`);
      for (const r of rows.slice(1)) assert.ok(r[1]!.length > 0, 'label pre-filled');
    }
    await waitForTransform(glue, transformId, (t) => t.Status === 'READY');
  });

  it('evaluation stores FindMatchesMetrics within [0, 1]', async () => {
    const { TaskRunId } = await glue.send(new StartMLEvaluationTaskRunCommand({ TransformId: transformId }));
    const run = await waitForRun(glue, transformId, TaskRunId!, undefined, 120_000);
    assert.equal(run.Status, 'SUCCEEDED', run.ErrorString);
    const t = await getTransform(glue, transformId);
    assert.equal(t.EvaluationMetrics?.TransformType, 'FIND_MATCHES');
    const m = t.EvaluationMetrics!.FindMatchesMetrics!;
    for (const k of ['AreaUnderPRCurve', 'Precision', 'Recall', 'F1'] as const) {
      if (m[k] !== undefined) assert.ok(m[k]! >= 0 && m[k]! <= 1, `${k} = ${m[k]}`);
    }
    assert.ok(m.ConfusionMatrix);
    // F1 describes the same threshold as the Precision and Recall beside it.
    assert.ok(m.Precision !== undefined && m.Recall !== undefined && m.F1 !== undefined);
    assert.ok(Math.abs(m.F1 - (2 * m.Precision * m.Recall) / (m.Precision + m.Recall)) < 1e-9, `F1 ${m.F1}, P ${m.Precision}, R ${m.Recall}`);
    const importances = (m.ColumnImportances ?? []).map((c) => c.Importance!);
    assert.deepEqual(importances, [...importances].sort((a, b) => b - a));
    for (const i of importances) assert.ok(i >= 0 && i <= 1);

    // doppel's extension member, on the raw wire (the SDK drops members it does not model).
    const raw = await rawGlueCall(server, 'GetMLTransform', { TransformId: transformId });
    assert.equal(raw.status, 200);
    const rawMetrics = (raw.body['EvaluationMetrics'] as { FindMatchesMetrics: Record<string, unknown> }).FindMatchesMetrics;
    const blockingRecall = rawMetrics['BlockingRecall'];
    assert.equal(typeof blockingRecall, 'number', 'labeled matching pairs exist, so BlockingRecall is measured');
    assert.ok((blockingRecall as number) >= 0 && (blockingRecall as number) <= 1, `BlockingRecall = ${blockingRecall}`);
    // The second round's labeling sets held audit sets: the estimates say how many audit pairs they were counted on.
    const counts = rawMetrics['AuditPairCounts'] as { Precision: number; Recall: number; BlockingRecall: number };
    for (const k of ['Precision', 'Recall', 'BlockingRecall'] as const) assert.ok(Number.isInteger(counts[k]) && counts[k] >= 0, JSON.stringify(counts));
    assert.ok(counts.BlockingRecall > 0 && counts.Recall <= counts.BlockingRecall, JSON.stringify(counts));
    const listed = await rawGlueCall(server, 'GetMLTransforms', {});
    const mine = (listed.body['Transforms'] as Array<Record<string, unknown>>).find((x) => x['TransformId'] === transformId)!;
    assert.deepEqual(mine['EvaluationMetrics'], raw.body['EvaluationMetrics'], 'GetMLTransforms shows the same metrics');

    // The precision-recall curve (doppel extension): descending thresholds, ascending recall, and
    // the operating point where the confusion matrix was counted.
    const curve = rawMetrics['PrecisionRecallCurve'] as { Points: PRPoint[]; OperatingPoint: PRPoint };
    assert.ok(curve.Points.length >= 2 && curve.Points.length <= 100, `${curve.Points.length} points`);
    for (let i = 1; i < curve.Points.length; i++) {
      assert.ok(curve.Points[i]!.Threshold < curve.Points[i - 1]!.Threshold);
      assert.ok(curve.Points[i]!.Recall >= curve.Points[i - 1]!.Recall);
    }
    assert.equal(curve.Points.at(-1)!.Recall, 1, 'the curve ends where every held-out pair is taken');
    const cm = m.ConfusionMatrix!;
    const near = (a: number, b: number) => Math.abs(a - b) < 1e-12;
    assert.ok(near(curve.OperatingPoint.Recall, cm.NumTruePositives! / (cm.NumTruePositives! + cm.NumFalseNegatives!)), JSON.stringify(curve.OperatingPoint));
    assert.ok(near(curve.OperatingPoint.Precision, cm.NumTruePositives! / (cm.NumTruePositives! + cm.NumFalsePositives!)), JSON.stringify(curve.OperatingPoint));
    // The area under the steps is the AreaUnderPRCurve beside it, up to the thinning.
    const area = curve.Points.reduce((sum, pt, i) => sum + (pt.Recall - (i > 0 ? curve.Points[i - 1]!.Recall : 0)) * pt.Precision, 0);
    assert.ok(Math.abs(area - m.AreaUnderPRCurve!) < 0.05, `area ${area}, AreaUnderPRCurve ${m.AreaUnderPRCurve}`);

    // The run keeps its metrics and the labeled rows they were measured on (doppel extension).
    const rawRun = await rawGlueCall(server, 'GetMLTaskRun', { TransformId: transformId, TaskRunId });
    const evaluation = (rawRun.body['Properties'] as Record<string, unknown>)['EvaluationTaskRunProperties'] as Record<string, unknown>;
    assert.equal(evaluation['LabelCount'], t.LabelCount);
    assert.deepEqual(evaluation['EvaluationMetrics'], raw.body['EvaluationMetrics']);
    const listedRuns = await rawGlueCall(server, 'GetMLTaskRuns', { TransformId: transformId, Filter: { TaskRunType: 'EVALUATION' } });
    const listedRun = (listedRuns.body['TaskRuns'] as Array<Record<string, unknown>>).find((r) => r['TaskRunId'] === TaskRunId)!;
    assert.deepEqual(listedRun['Properties'], rawRun.body['Properties'], 'GetMLTaskRuns shows the same');
    // The SDK, parsing by Glue's model, reads the run as Glue's.
    const sdkRun = await glue.send(new GetMLTaskRunCommand({ TransformId: transformId, TaskRunId }));
    assert.equal(sdkRun.Properties?.TaskType, 'EVALUATION');
  });

  it('a findmatches job writes every row once with a match_id (CSV, with confidence scores)', async (t) => {
    const { JobRunId } = await glue.send(
      new StartJobRunCommand({
        JobName: jobName,
        Arguments: { '--output-path': `s3://${BUCKET}/out/csv/`, '--compute-match-confidence-scores': 'true' },
      }),
    );
    const run = await waitForJobRun(glue, jobName, JobRunId!);
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    assert.ok(run.CompletedOn instanceof Date);
    const keys = await keysUnder(s3, 'out/csv/');
    // The incremental state for a later incremental run lies beside the output, in a hidden folder readers skip.
    assert.deepEqual(keys, ['_SUCCESS', '_doppel/incremental-state.bin', 'part-00000.csv']);
    const rows = parse(await getText(s3, 'out/csv/part-00000.csv'), { columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(Object.keys(rows[0]!), [...ds.header, 'match_id', 'match_confidence_score']);
    assert.equal(rows.length, ds.records.length);
    const ids = rows.map((r) => r['id']!);
    assert.equal(new Set(ids).size, ids.length, 'every row once');
    const groups = new Map<string, string[]>();
    const original = new Map(ds.records.map((r) => [r['id']!, r]));
    for (const r of rows) {
      assert.match(r['match_id']!, /^\d+$/);
      const score = Number(r['match_confidence_score']);
      assert.ok(score >= 0 && score <= 1, `score ${score}`);
      for (const h of ds.header) assert.equal(r[h], original.get(r['id']!)![h], `column ${h} copied`);
      groups.set(r['match_id']!, [...(groups.get(r['match_id']!) ?? []), r['id']!]);
    }
    const q = pairwiseF1(groups, ds.truth);
    t.diagnostic(`restaurant after 2 rounds: ${groups.size} groups, precision ${q.precision.toFixed(3)}, recall ${q.recall.toFixed(3)}, F1 ${q.f1.toFixed(3)}`);

    const { TaskRuns } = await glue.send(
      new GetMLTaskRunsCommand({ TransformId: transformId, Filter: { TaskRunType: 'FIND_MATCHES', Status: 'SUCCEEDED' } }),
    );
    const task = TaskRuns!.find((r) => r.Properties?.FindMatchesTaskRunProperties?.JobRunId === JobRunId);
    assert.equal(task?.Properties?.FindMatchesTaskRunProperties?.JobName, jobName);

    // doppel's extension members of FindMatchesTaskRunProperties, on the raw wire.
    const raw = await rawGlueCall(server, 'GetMLTaskRun', { TransformId: transformId, TaskRunId: task!.TaskRunId! });
    assert.equal(raw.status, 200);
    const props = (raw.body['Properties'] as { FindMatchesTaskRunProperties: Record<string, unknown> })
      .FindMatchesTaskRunProperties;
    const n = ds.records.length;
    assert.equal(props['InputRecordCount'], n);
    assert.equal(props['OutputRecordCount'], n);
    assert.equal(props['MatchGroupCount'], groups.size);
    const counts = ['CandidatePairCount', 'ScoredPairCount', 'MatchedPairCount'].map((k) => {
      const v = props[k];
      assert.ok(Number.isSafeInteger(v) && (v as number) >= 0, `${k} = ${String(v)}`);
      return v as number;
    });
    const [candidates, scored, matched] = counts as [number, number, number];
    assert.ok(candidates > 0 && candidates <= (n * (n - 1)) / 2, `CandidatePairCount ${candidates} of ${n} rows`);
    assert.ok(scored <= candidates, `ScoredPairCount ${scored} ≤ CandidatePairCount ${candidates}`);
    assert.ok(matched <= scored, `MatchedPairCount ${matched} ≤ ScoredPairCount ${scored}`);
    assert.ok(matched > 0, 'restaurant has duplicates and the matcher finds some');
    t.diagnostic(`candidate pairs ${candidates}, scored ${scored}, matched ${matched}`);
    const listed = await rawGlueCall(server, 'GetMLTaskRuns', { TransformId: transformId });
    const same = (listed.body['TaskRuns'] as Array<Record<string, unknown>>).find((r) => r['TaskRunId'] === task!.TaskRunId);
    assert.deepEqual(same?.['Properties'], raw.body['Properties'], 'GetMLTaskRuns shows the same properties');
  });

  it('--remove-duplicates keeps the lowest primary key of each group (JSON lines)', async () => {
    // A misspelling beside the argument it resembles is ignored, and said so; Glue's own arguments are ignored silently.
    const all = await glue.send(
      new StartJobRunCommand({
        JobName: jobName,
        Arguments: { '--output-path': `s3://${BUCKET}/out/all/`, '--output-format': 'json', '--output-fromat': 'csv', '--TempDir': `s3://${BUCKET}/tmp/` },
      }),
    );
    const dedup = await glue.send(
      new StartJobRunCommand({
        JobName: jobName,
        Arguments: { '--output-path': `s3://${BUCKET}/out/dedup/`, '--output-format': 'json', '--remove-duplicates': 'true' },
      }),
    );
    assert.equal((await waitForJobRun(glue, jobName, all.JobRunId!)).JobRunState, 'SUCCEEDED');
    assert.equal((await waitForJobRun(glue, jobName, dedup.JobRunId!)).JobRunState, 'SUCCEEDED');
    await untilLogged(server, /task run tsk-\w+ \(FIND_MATCHES\) 0%: Argument --output-fromat is not an argument of findmatches jobs and is ignored: did you mean --output-format\?/);
    assert.doesNotMatch(server.output(), /--TempDir/);
    assert.deepEqual(await keysUnder(s3, 'out/dedup/'), ['_SUCCESS', 'part-00000.json']);
    const lines = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const full = lines(await getText(s3, 'out/all/part-00000.json'));
    const kept = lines(await getText(s3, 'out/dedup/part-00000.json'));
    assert.equal(full.length, ds.records.length);
    assert.equal(typeof full[0]!['match_id'], 'number');
    const lowest = new Map<unknown, string>();
    for (const r of full) {
      const id = r['id'] as string;
      const cur = lowest.get(r['match_id']);
      if (cur === undefined || id < cur) lowest.set(r['match_id'], id);
    }
    assert.equal(kept.length, lowest.size, 'one row per group');
    assert.deepEqual(kept.map((r) => r['id']).sort(), [...lowest.values()].sort());
  });

  it('--input-database / --input-table run the transform over another table; labeled records it lacks are trained on from the transform\'s', async () => {
    await createOpenCsvTable(glue, { database: 'eats', table: 'restaurants_copy', columns: ds.header, location: `s3://${BUCKET}/copy/` });
    // The other table: 100 records no label names (the labels name records of the transform's table).
    const labeledIds = new Set<string>();
    for (const key of ['labels/round-1.csv', 'labels/round-2.csv']) {
      for (const r of (parse(await getText(s3, key)) as string[][]).slice(1)) labeledIds.add(r[2]!);
    }
    const lines = readFileSync(ds.recordsCsvPath, 'utf8').trim().split('\n');
    const idOf = (line: string) => (parse(line) as string[][])[0]![0]!;
    const unlabeled = lines.slice(1).filter((line) => !labeledIds.has(idOf(line))).slice(0, 100);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'copy/part.csv', Body: [lines[0], ...unlabeled].join('\n') + '\n' }));
    const { JobRunId } = await glue.send(
      new StartJobRunCommand({
        JobName: jobName,
        Arguments: { '--output-path': `s3://${BUCKET}/out/copy/`, '--input-database': 'eats', '--input-table': 'restaurants_copy' },
      }),
    );
    const run = await waitForJobRun(glue, jobName, JobRunId!);
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    const rows = parse(await getText(s3, 'out/copy/part-00000.csv'), { columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(rows.map((r) => r['id']), unlabeled.map(idOf), 'the other table\'s records alone');
    const props = await findMatchesRunProperties(server, transformId, JobRunId!);
    assert.equal(props['InputRecordCount'], 100);
    assert.equal(props['LabeledRecordsFromTransformTable'], labeledIds.size, 'every labeled record, from the transform\'s table');
    assert.equal(props['LabeledRecordsNotFound'], 0);
    assert.deepEqual(await keysUnder(s3, 'out/copy/'), ['_SUCCESS', 'part-00000.csv'], 'no incremental state: it would stand for the labeled records too');

    const missing = await glue.send(
      new StartJobRunCommand({
        JobName: jobName,
        Arguments: { '--output-path': `s3://${BUCKET}/out/none/`, '--input-database': 'eats', '--input-table': 'nope' },
      }),
    );
    const failed = await waitForJobRun(glue, jobName, missing.JobRunId!);
    assert.equal(failed.JobRunState, 'FAILED');
    assert.match(failed.ErrorMessage!, /Table eats.nope \(--input-database \/ --input-table\) does not exist/);
  });

  it('Parquet output, and `doppel find-matches` runs the same job from the command line', async () => {
    const { JobRunId } = await glue.send(
      new StartJobRunCommand({ JobName: jobName, Arguments: { '--output-path': `s3://${BUCKET}/out/pq/`, '--output-format': 'parquet' } }),
    );
    const run = await waitForJobRun(glue, jobName, JobRunId!);
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    assert.deepEqual(await keysUnder(s3, 'out/pq/'), ['_SUCCESS', '_doppel/incremental-state.bin', 'part-00000.parquet']);
    const bytes = await getBytes(s3, 'out/pq/part-00000.parquet');
    assert.equal(Buffer.from(bytes.subarray(0, 4)).toString('latin1'), 'PAR1');

    const cli = await runCli(['find-matches', '--endpoint', server.endpoint, '--transform-id', transformId, '--output-path', `s3://${BUCKET}/out/cli/`]);
    assert.equal(cli.status, 0, `${cli.stdout}\n${cli.stderr}`);
    assert.equal(cli.stdout.trim(), `s3://${BUCKET}/out/cli/`);
    const rows = parse(await getText(s3, 'out/cli/part-00000.csv'), { columns: true }) as Array<Record<string, string>>;
    assert.equal(rows.length, ds.records.length);
    const stateless = await runCli(['find-matches', '--endpoint', server.endpoint, '--transform-id', transformId, '--output-path', `s3://${BUCKET}/out/cli-stateless/`, '--no-incremental-state']);
    assert.equal(stateless.status, 0, `${stateless.stdout}\n${stateless.stderr}`);
    assert.deepEqual(await keysUnder(s3, 'out/cli-stateless/'), ['_SUCCESS', 'part-00000.csv']);
    // The job argument's own form, as the README's argument table writes it.
    const asArgument = await runCli(['find-matches', '--endpoint', server.endpoint, '--transform-id', transformId, '--output-path', `s3://${BUCKET}/out/cli-keep-false/`, '--keep-incremental-state', 'false']);
    assert.equal(asArgument.status, 0, `${asArgument.stdout}\n${asArgument.stderr}`);
    assert.deepEqual(await keysUnder(s3, 'out/cli-keep-false/'), ['_SUCCESS', 'part-00000.csv']);

    const bad = await runCli(['find-matches', '--endpoint', server.endpoint, '--transform-id', 'tfm-nope', '--output-path', `s3://${BUCKET}/out/x/`]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /FAILED: Argument --transform-id: no ML transform tfm-nope/);
  });
});
