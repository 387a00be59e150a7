/**
 * A findmatches job scored in parts (README "Partitioned find-matches runs"), driven through the
 * SDKs against a real server with a small DOPPEL_PARTITION_ROWS: the output equals a single run's
 * byte for byte (one task process: the run executes its own parts; three: a part killed mid-run is
 * resumed), parts stay out of GetMLTaskRuns, a stopped job run stops every part, and the parts'
 * folder beside the output is gone afterwards; a run whose own task process dies ends its parts
 * and removes its folder whether it fails or starts again.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  BatchStopJobRunCommand,
  CreateDatabaseCommand,
  GetMLTaskRunsCommand,
  StartImportLabelsTaskRunCommand,
  StartJobRunCommand,
  UpdateMLTransformCommand,
  type GlueClient,
} from '@aws-sdk/client-glue';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { stringify } from 'csv-stringify/sync';
import { createFindMatchesJob, createOpenCsvTable, createTableTransform, glueClient, waitForJobRun, waitForRun, waitForTransform } from '../support/glue-client.js';
import { loadDataset, type Dataset } from '../support/datasets.js';
import { rawGlueCall } from '../support/raw-glue.js';
import { s3Client } from '../support/s3-tools.js';
import { startServer, taskProcessOf, untilLogged, withTestPostgres, type TestServer } from '../support/server.js';

const BUCKET = 'split-runs';
const JOB = 'dedupe';

interface Setup {
  server: TestServer;
  glue: GlueClient;
  s3: S3Client;
  transformId: string;
}

/**
 * A server (`env`), the dataset's records as a catalog table, a transform over it taught with
 * labeling sets built from the truth (two entities per set: matches and non-matches), and a job.
 */
async function setUp(ds: Dataset, env: Record<string, string>): Promise<Setup> {
  const server = await startServer({ env: { DOPPEL_POLL_MS: '50', DOPPEL_LEASE_MS: '2000', ...env } });
  const glue = glueClient(server);
  const s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'data/records.csv', Body: readFileSync(ds.recordsCsvPath) }));
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'people' } }));
  await createOpenCsvTable(glue, { database: 'people', table: 'records', columns: ds.header, location: `s3://${BUCKET}/data/` });
  const transformId = await createTableTransform(glue, { database: 'people', table: 'records', name: 'people', WorkerType: 'G.1X', NumberOfWorkers: 3 });
  const byEntity = new Map<string, Array<Record<string, string>>>();
  for (const r of ds.records) {
    const e = ds.truth.get(r['id']!)!;
    byEntity.set(e, [...(byEntity.get(e) ?? []), r]);
  }
  const groups = [...byEntity.values()].filter((g) => g.length >= 2).slice(0, 60);
  const lines: string[][] = [['labeling_set_id', 'label', ...ds.header]];
  for (let i = 0; i + 1 < groups.length; i += 2) {
    for (const [j, g] of [groups[i]!, groups[i + 1]!].entries()) {
      for (const r of g) lines.push([`set-${i / 2}`, `L${j}`, ...ds.header.map((h) => r[h]!)]);
    }
  }
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'labels.csv', Body: stringify(lines) }));
  const imported = await glue.send(new StartImportLabelsTaskRunCommand({ TransformId: transformId, InputS3Path: `s3://${BUCKET}/labels.csv` }));
  const done = await waitForRun(glue, transformId, imported.TaskRunId!, undefined, 60_000);
  assert.equal(done.Status, 'SUCCEEDED', done.ErrorString);
  await waitForTransform(glue, transformId, (t) => t.Status === 'READY');
  await createFindMatchesJob(glue, {
    name: JOB,
    transformId,
    defaultArguments: { '--compute-match-confidence-scores': 'true' },
    ExecutionProperty: { MaxConcurrentRuns: 3 },
    // A part whose task process is killed starts again within the job's MaxRetries.
    MaxRetries: 1,
  });
  return { server, glue, s3, transformId };
}

async function setWorkers({ glue, transformId }: Setup, workers: number): Promise<void> {
  await glue.send(new UpdateMLTransformCommand({ TransformId: transformId, WorkerType: 'G.1X', NumberOfWorkers: workers }));
}

async function startJob({ glue }: Setup, output: string, jobName = JOB): Promise<string> {
  const { JobRunId } = await glue.send(new StartJobRunCommand({ JobName: jobName, Arguments: { '--output-path': `s3://${BUCKET}/${output}/` } }));
  return JobRunId!;
}

/** The keys under a prefix of the bucket. */
async function keysUnder({ s3 }: Setup, prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key!);
}

/** The id of the job's running FIND_MATCHES task run (the job run's, once it has started). */
async function runningTaskRun(setup: Setup): Promise<string> {
  return until('the job\'s task run', async () => {
    const listed = await setup.glue.send(new GetMLTaskRunsCommand({ TransformId: setup.transformId, Filter: { TaskRunType: 'FIND_MATCHES' } }));
    return listed.TaskRuns?.find((r) => r.Status === 'STARTING' || r.Status === 'RUNNING')?.TaskRunId;
  });
}

/** The output's files (every key under it) and the bytes of its part files. */
async function outputOf({ s3 }: Setup, output: string): Promise<{ keys: string[]; parts: Map<string, string> }> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${output}/` }));
  const keys = (listed.Contents ?? []).map((o) => o.Key!.slice(output.length + 1)).sort();
  const parts = new Map<string, string>();
  for (const key of keys.filter((k) => k.startsWith('part-'))) {
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${output}/${key}` }));
    parts.set(key, await out.Body!.transformToString('utf8'));
  }
  return { keys, parts };
}

/** The job run's FIND_MATCHES task run as GetMLTaskRuns lists it (raw: doppel's members included). */
async function taskRunOf(setup: Setup, jobRunId: string): Promise<Record<string, unknown>> {
  const listed = await rawGlueCall(setup.server, 'GetMLTaskRuns', { TransformId: setup.transformId, Filter: { TaskRunType: 'FIND_MATCHES' } });
  const runs = listed.body['TaskRuns'] as Array<Record<string, unknown>>;
  const run = runs.find((r) => (r['Properties'] as Record<string, Record<string, unknown>>)['FindMatchesTaskRunProperties']!['JobRunId'] === jobRunId);
  assert.ok(run, `job run ${jobRunId} has a task run`);
  return run;
}

/**
 * A part of the run that a task process claimed (not the run executing a part itself), frozen
 * with SIGSTOP while it is RUNNING, so that it is surely still running when the test goes on.
 */
async function frozenPart(setup: Setup, taskRunId: string): Promise<{ id: string; pid: number }> {
  return until('a part running in a task process of its own', async () => {
    for (const p of await partsOf(setup.server, taskRunId)) {
      // Claimed by a node's supervisor, not by the run executing a part itself (part-executor-*).
      if (p.status !== 'RUNNING' || !p.lease_owner || p.lease_owner.startsWith('part-executor-')) continue;
      const pid = await taskProcessOf(setup.server, p.id);
      process.kill(pid, 'SIGSTOP');
      if ((await partsOf(setup.server, taskRunId)).find((q) => q.id === p.id)?.status === 'RUNNING') return { id: p.id, pid };
      process.kill(pid, 'SIGCONT');
    }
    return undefined;
  }, 120_000);
}

const findMatchesProps = (run: Record<string, unknown>) =>
  (run['Properties'] as Record<string, Record<string, unknown>>)['FindMatchesTaskRunProperties']!;

type PartRow = { id: string; status: string; lease_owner: string | null; attempt: number; interruptions: number };

/** The part runs of a task run, as the metadata database holds them (they are hidden from the API). */
async function partsOf(server: TestServer, taskRunId: string): Promise<PartRow[]> {
  if (server.databaseUrl !== undefined) {
    return withTestPostgres(
      async (c) =>
        (
          await c.query<PartRow>(
            `SELECT id, status, lease_owner, attempt::int AS attempt, interruptions::int AS interruptions FROM task_runs WHERE args::jsonb ->> 'partOf' = $1 ORDER BY seq`,
            [taskRunId],
          )
        ).rows,
      server.databaseUrl,
    );
  }
  const db = new Database(join(server.dataDir, 'metadata.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare(`SELECT id, status, lease_owner, attempt, interruptions FROM task_runs WHERE json_extract(args, '$.partOf') = ? ORDER BY seq`)
      .all(taskRunId) as PartRow[];
  } finally {
    db.close();
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stopServer(setup: Setup | undefined): Promise<void> {
  if (!setup) return;
  setup.glue.destroy();
  setup.s3.destroy();
  await setup.server.stop();
  await setup.server.cleanup();
}

describe('find-matches runs scored in parts', { timeout: 600_000 }, () => {
  let one: Setup | undefined;
  let three: Setup | undefined;
  let dying: Setup | undefined;
  after(async () => {
    await stopServer(one);
    await stopServer(three);
    await stopServer(dying);
  });

  it('one task process: the run executes its 3 parts itself; the output equals a single run\'s', async () => {
    one = await setUp(loadDataset('febrl3'), { DOPPEL_WORKERS: '1', DOPPEL_PARTITION_ROWS: '1000' });
    const split = await startJob(one, 'split');
    const run = await waitForJobRun(one.glue, JOB, split, 180_000);
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    const task = await taskRunOf(one, split);
    assert.equal(findMatchesProps(task)['PartCount'], 3, 'NumberOfWorkers 3 bounds 5 parts of 1,000 rows to 3');
    const parts = await partsOf(one.server, task['TaskRunId'] as string);
    assert.deepEqual(parts.map((p) => p.status), ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    // Parts are the run's own work: GetMLTaskRuns lists the import and the job's run only.
    const listed = await one.glue.send(new GetMLTaskRunsCommand({ TransformId: one.transformId }));
    assert.deepEqual(listed.TaskRuns!.map((r) => r.Properties?.TaskType).sort(), ['FIND_MATCHES', 'IMPORT_LABELS']);
    const notFound = await rawGlueCall(one.server, 'GetMLTaskRun', { TransformId: one.transformId, TaskRunId: parts[0]!.id });
    assert.equal(notFound.status, 400);

    await setWorkers(one, 1);
    const single = await startJob(one, 'single');
    const singleRun = await waitForJobRun(one.glue, JOB, single, 180_000);
    assert.equal(singleRun.JobRunState, 'SUCCEEDED', singleRun.ErrorMessage);
    assert.equal(findMatchesProps(await taskRunOf(one, single))['PartCount'], 1);

    const [a, b] = [await outputOf(one, 'split'), await outputOf(one, 'single')];
    assert.deepEqual(a.keys, ['_SUCCESS', '_doppel/incremental-state.bin', 'part-00000.csv'], 'the parts\' folder is gone');
    assert.deepEqual(a.keys, b.keys);
    assert.ok(a.parts.get('part-00000.csv')!.split('\n').length > 5000);
    assert.equal(a.parts.get('part-00000.csv'), b.parts.get('part-00000.csv'), 'match ids and confidence scores byte for byte');
    const counts = (id: string) => taskRunOf(one!, id).then((t) => {
      const p = findMatchesProps(t);
      return [p['CandidatePairCount'], p['ScoredPairCount'], p['FullyScoredPairCount'], p['MatchedPairCount'], p['MatchGroupCount']];
    });
    assert.deepEqual(await counts(split), await counts(single));
  });

  it('three task processes: a part killed mid-run is resumed and the output still equals a single run\'s; a stopped job run stops every part', async () => {
    three = await setUp(loadDataset('splink_historical_50k'), { DOPPEL_WORKERS: '3', DOPPEL_PARTITION_ROWS: '1000' });
    const split = await startJob(three, 'split');
    const taskRunId = await runningTaskRun(three);
    const { id: killed, pid } = await frozenPart(three, taskRunId);
    process.kill(pid, 'SIGKILL');
    await untilLogged(three.server, new RegExp(`task run ${killed} \\(FIND_MATCHES\\) interrupted: its task process \\(pid ${pid}\\) was killed by SIGKILL.*; resumed`));
    const run = await waitForJobRun(three.glue, JOB, split, 300_000);
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    const resumed = (await partsOf(three.server, taskRunId)).find((p) => p.id === killed)!;
    assert.deepEqual([resumed.status, resumed.attempt, resumed.interruptions], ['SUCCEEDED', 2, 1]);

    await setWorkers(three, 1);
    const single = await startJob(three, 'single');
    const singleRun = await waitForJobRun(three.glue, JOB, single, 300_000);
    assert.equal(singleRun.JobRunState, 'SUCCEEDED', singleRun.ErrorMessage);
    const [a, b] = [await outputOf(three, 'split'), await outputOf(three, 'single')];
    assert.deepEqual(a.keys, b.keys);
    assert.equal(a.parts.get('part-00000.csv'), b.parts.get('part-00000.csv'), 'match ids and confidence scores byte for byte');

    // BatchStopJobRun while parts run: the job run and every part end STOPPED.
    await setWorkers(three, 3);
    const stopped = await startJob(three, 'stopped');
    const stoppedTask = await runningTaskRun(three);
    await until('a running part', async () => ((await partsOf(three!.server, stoppedTask)).some((p) => p.status === 'RUNNING') ? true : undefined), 120_000);
    const stop = await three.glue.send(new BatchStopJobRunCommand({ JobName: JOB, JobRunIds: [stopped] }));
    assert.deepEqual(stop.Errors, []);
    assert.equal((await waitForJobRun(three.glue, JOB, stopped, 60_000)).JobRunState, 'STOPPED');
    // Parts that had finished before the stop keep SUCCEEDED; every other one ends STOPPED.
    const ended = await until(
      'every part ended',
      async () => {
        const parts = await partsOf(three!.server, stoppedTask);
        return parts.every((p) => p.status === 'STOPPED' || p.status === 'SUCCEEDED') ? parts : undefined;
      },
      30_000,
    );
    assert.ok(ended.some((p) => p.status === 'STOPPED'), `parts: ${ended.map((p) => p.status).join(', ')}`);

    // The next run to the same output removes what the stopped run left there.
    const again = await startJob(three, 'stopped');
    const againRun = await waitForJobRun(three.glue, JOB, again, 300_000);
    assert.equal(againRun.JobRunState, 'SUCCEEDED', againRun.ErrorMessage);
    assert.deepEqual((await outputOf(three, 'stopped')).keys, ['_SUCCESS', '_doppel/incremental-state.bin', 'part-00000.csv']);
  });

  it("a run whose task process dies while its parts run: a failed run ends its parts and removes its folder at once, a resumed one before its next attempt goes on", async () => {
    // A lease long enough that no attempt loses it on a busy machine (a task process busy with one
    // long computation sees its renewals late): only the kills end attempts. The parts a dead run
    // was executing itself end when it expires.
    dying = await setUp(loadDataset('splink_historical_50k'), { DOPPEL_WORKERS: '3', DOPPEL_PARTITION_ROWS: '1000', DOPPEL_LEASE_MS: '60000' });
    const partsPrefix = (output: string, taskRunId: string) => `${output}/_doppel/parts/${taskRunId}/`;
    const everyPartEnded = async (taskRunId: string) => {
      const parts = await partsOf(dying!.server, taskRunId);
      return parts.every((p) => ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(p.status)) ? parts : undefined;
    };

    // MaxRetries allows more attempts: the run starts again (and again, should an attempt on a busy
    // machine see its lease renewed too late). Its next attempt is frozen as soon as it starts (for
    // less than a lease), so whatever ends the first attempt's parts and removes their data is not
    // that attempt.
    await createFindMatchesJob(dying.glue, { name: 'dedupe-again', transformId: dying.transformId, MaxRetries: 3 });
    const resumedRun = await startJob(dying, 'resumed', 'dedupe-again');
    const resumedTask = await runningTaskRun(dying);
    const stuck = await frozenPart(dying, resumedTask);
    const parent = await taskProcessOf(dying.server, resumedTask);
    assert.ok((await keysUnder(dying, partsPrefix('resumed', resumedTask))).length > 0, 'the first attempt wrote its parts\' data');
    const firstParts = (await partsOf(dying.server, resumedTask)).map((p) => p.id);
    process.kill(parent, 'SIGKILL');
    await untilLogged(dying.server, new RegExp(`task run ${resumedTask} \\(FIND_MATCHES\\) interrupted: its task process \\(pid ${parent}\\).*; resumed`));
    // A task process to take it may have to start first (the killed ones are replaced).
    const second = await taskProcessOf(dying.server, resumedTask, 2, 60_000);
    process.kill(second, 'SIGSTOP');
    try {
      const statusOf = async (id: string) => (await partsOf(dying!.server, resumedTask)).find((p) => p.id === id)?.status;
      await until('the first attempt\'s frozen part stopped', async () => ((await statusOf(stuck.id)) === 'STOPPED' ? true : undefined), 10_000);
      await until('the first attempt\'s data removed', async () => ((await keysUnder(dying!, partsPrefix('resumed', resumedTask))).length === 0 ? true : undefined), 10_000);
    } finally {
      process.kill(second, 'SIGCONT');
    }
    const resumed = await waitForJobRun(dying.glue, 'dedupe-again', resumedRun, 300_000);
    assert.equal(resumed.JobRunState, 'SUCCEEDED', resumed.ErrorMessage);
    assert.deepEqual((await outputOf(dying, 'resumed')).keys, ['_SUCCESS', '_doppel/incremental-state.bin', 'part-00000.csv']);
    const ended = await until('every part of the first attempt ended', () => everyPartEnded(resumedTask), 90_000);
    for (const p of ended.filter((q) => firstParts.includes(q.id))) assert.ok(p.status === 'STOPPED' || p.status === 'SUCCEEDED', `part ${p.id}: ${p.status}`);

    // MaxRetries 0: the run fails, and nothing of it goes on or stays behind.
    await createFindMatchesJob(dying.glue, { name: 'dedupe-once', transformId: dying.transformId, MaxRetries: 0 });
    const failedRun = await startJob(dying, 'failed', 'dedupe-once');
    const failedTask = await runningTaskRun(dying);
    const frozen = await frozenPart(dying, failedTask);
    process.kill(await taskProcessOf(dying.server, failedTask), 'SIGKILL');
    const failed = await waitForJobRun(dying.glue, 'dedupe-once', failedRun, 60_000);
    assert.equal(failed.JobRunState, 'FAILED');
    assert.match(failed.ErrorMessage ?? '', /its task process \(pid \d+\) was killed by SIGKILL/);
    const failedParts = await until('every part of the failed run ended', () => everyPartEnded(failedTask), 90_000);
    assert.equal(failedParts.find((p) => p.id === frozen.id)?.status, 'STOPPED', 'the frozen part was stopped');
    await until('the failed run\'s data removed', async () => ((await keysUnder(dying!, 'failed/')).length === 0 ? true : undefined), 10_000);
  });
});
