/**
 * Scale-out as it is deployed: two API nodes (`doppel serve --no-worker`) and three `doppel worker`
 * processes on one metadata store (PostgreSQL when the suite runs with DOPPEL_TEST_DATABASE_URL,
 * each node then on a data dir of its own; else the embedded store of the data dir they share),
 * with an S3-compatible server (s3rver) holding every object. 50 clients
 * at once each run the whole teaching loop on a transform of their own through an API node of
 * their own: labeling set, labels from the truth, import, evaluation, a `findmatches` job. Every
 * task run must be executed exactly once by one worker, and every client's result must equal what
 * the same loop gives on a single plain `doppel serve`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateDatabaseCommand,
  GetMLTaskRunsCommand,
  StartJobRunCommand,
  StartMLEvaluationTaskRunCommand,
  type GlueClient,
} from '@aws-sdk/client-glue';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { loadDataset, type Dataset } from '../support/datasets.js';
import { createFindMatchesJob, createOpenCsvTable, createTableTransform, getTransform, glueClient, teachOnce, waitForJobRun, waitForRun } from '../support/glue-client.js';
import { s3Client } from '../support/s3-tools.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { startServer, startWorker, type TestServer, type TestWorker } from '../support/server.js';

const CLIENTS = 50;
const BUCKET = 'scale';
const DATABASE = 'eats';
const TABLE = 'restaurants';

/** What a client ends up with: the metrics of its evaluation and the groups of its output. */
interface LoopResult {
  transformId: string;
  labelCount: number;
  f1: number | undefined;
  /** The output's groups of two or more records, each as its sorted ids, sorted. */
  groups: string[];
}

async function text(s3: S3Client, key: string): Promise<string> {
  return (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString('utf8');
}

async function keysUnder(s3: S3Client, prefix: string): Promise<string[]> {
  return ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);
}

/** The whole teaching loop of one client on a transform of its own, under `prefix` in the bucket. */
async function teachingLoop(glue: GlueClient, s3: S3Client, ds: Dataset, prefix: string): Promise<LoopResult> {
  const id = await createTableTransform(glue, { database: DATABASE, table: TABLE, name: prefix });
  await teachOnce(glue, {
    transformId: id,
    s3,
    bucket: BUCKET,
    labelingPrefix: `${prefix}/labeling/`,
    labelsKey: `${prefix}/labels.csv`,
    truth: ds.truth,
    timeoutMs: 600_000,
  });
  const ev = await glue.send(new StartMLEvaluationTaskRunCommand({ TransformId: id }));
  const evaluated = await waitForRun(glue, id, ev.TaskRunId!, undefined, 600_000);
  assert.equal(evaluated.Status, 'SUCCEEDED', evaluated.ErrorString);
  await createFindMatchesJob(glue, { name: prefix, transformId: id, defaultArguments: { '--output-path': `s3://${BUCKET}/${prefix}/matches/` } });
  const { JobRunId } = await glue.send(new StartJobRunCommand({ JobName: prefix }));
  const job = await waitForJobRun(glue, prefix, JobRunId!, 600_000);
  assert.equal(job.JobRunState, 'SUCCEEDED', job.ErrorMessage);
  const written = await keysUnder(s3, `${prefix}/matches/`);
  assert.equal(written.filter((k) => k.endsWith('/_SUCCESS')).length, 1);
  const byMatch = new Map<string, string[]>();
  for (const key of written.filter((k) => /part-\d+\.csv$/.test(k))) {
    for (const r of parse(await text(s3, key), { columns: true }) as Array<Record<string, string>>) {
      byMatch.set(r['match_id']!, [...(byMatch.get(r['match_id']!) ?? []), r['id']!]);
    }
  }
  const groups = [...byMatch.values()].filter((ids) => ids.length > 1).map((ids) => ids.sort().join(' ')).sort();
  const t = await getTransform(glue, id);
  return { transformId: id, labelCount: t.LabelCount ?? 0, f1: t.EvaluationMetrics?.FindMatchesMetrics?.F1, groups };
}

/** Uploads the records and creates the catalog table every transform reads. */
async function prepareTable(glue: GlueClient, s3: S3Client, ds: Dataset): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'data/records.csv', Body: readFileSync(ds.recordsCsvPath) }));
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: DATABASE } }));
  await createOpenCsvTable(glue, { database: DATABASE, table: TABLE, columns: ds.header, location: `s3://${BUCKET}/data/` });
}

describe('2 API nodes and 3 workers on one store, 50 concurrent teaching loops', { timeout: 1_200_000 }, () => {
  let s3rver: S3rver | undefined;
  let skipReason: string | undefined;
  let ds: Dataset;
  let external: S3Client;
  let env: Record<string, string>;
  const servers: TestServer[] = [];
  const workers: TestWorker[] = [];
  const workerDirs: string[] = [];

  before(async () => {
    try {
      s3rver = await startS3rver();
    } catch (e) {
      skipReason = `s3rver could not start: ${(e as Error).message}`;
      return;
    }
    env = {
      DOPPEL_S3_ENDPOINT: s3rver.endpoint,
      DOPPEL_S3_ACCESS_KEY_ID: s3rver.accessKeyId,
      DOPPEL_S3_SECRET_ACCESS_KEY: s3rver.secretAccessKey,
      DOPPEL_WORKERS: '1',
    };
    ds = loadDataset('restaurant');
    // s3rver closes idle keep-alive connections after Node's default 5 s, which races a client
    // reusing one (ECONNRESET); these reads and writes are idempotent, so the client retries as SDKs do.
    external = s3Client(s3rver, {
      credentials: { accessKeyId: s3rver.accessKeyId, secretAccessKey: s3rver.secretAccessKey },
      maxAttempts: 3,
    });
    await external.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  after(async () => {
    external?.destroy();
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all(servers.map((s) => s.stop()));
    for (const s of servers) await s.cleanup();
    for (const dir of workerDirs) rmSync(dir, { recursive: true, force: true });
    await s3rver?.stop();
  });

  it('runs every loop to the single-node result, each task run executed once by one worker', async (t) => {
    if (skipReason) return t.skip(skipReason);
    // The single-node reference: one plain doppel serve, the same records, labels and seed.
    const single = await startServer({ env });
    servers.push(single);
    const singleGlue = glueClient(single);
    await prepareTable(singleGlue, external, ds);
    const reference = await teachingLoop(singleGlue, external, ds, 'reference');
    singleGlue.destroy();
    assert.ok(reference.groups.length > 50, `the reference output groups ${reference.groups.length} sets of records`);

    // On PostgreSQL every node has a data dir of its own, as on separate machines (nothing shared but
    // the database and s3rver); on the embedded store they share the first node's data dir.
    const first = await startServer({ env, args: ['--no-worker'] });
    servers.push(first);
    const shared = first.databaseUrl;
    const place = () =>
      shared === undefined
        ? { env, dataDir: first.dataDir }
        : { env: { ...env, DOPPEL_DATABASE_URL: shared }, dataDir: mkdtempSync(join(tmpdir(), 'doppel-scale-')) };
    const second = await startServer({ ...place(), args: ['--no-worker'] });
    servers.push(second);
    const api = [first, second];
    for (let i = 0; i < 3; i++) {
      const at = place();
      workers.push(await startWorker(at));
      if (at.dataDir !== first.dataDir) workerDirs.push(at.dataDir);
    }
    const glues = api.map((node) => glueClient(node));
    await prepareTable(glues[0]!, external, ds);

    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: CLIENTS }, (_, c) => teachingLoop(glues[c % 2]!, external, ds, `client-${c}`)),
    );
    t.diagnostic(`${CLIENTS} teaching loops on 2 API nodes and 3 workers in ${((Date.now() - started) / 1000).toFixed(0)} s`);

    for (const [c, r] of results.entries()) {
      assert.equal(r.labelCount, reference.labelCount, `client ${c}: labels`);
      assert.equal(r.f1, reference.f1, `client ${c}: evaluation F1`);
      assert.deepEqual(r.groups, reference.groups, `client ${c}: the output's groups`);
    }

    // Exactly once: every task run of every transform SUCCEEDED, and the workers' logs show each
    // started once and finished once, by one of them.
    const logs = () => workers.map((w) => w.output()).join('\n');
    const perWorker = workers.map(() => 0);
    for (const r of results) {
      const { TaskRuns } = await glues[0]!.send(new GetMLTaskRunsCommand({ TransformId: r.transformId }));
      const runs = TaskRuns ?? [];
      assert.ok(runs.length >= 4, `transform ${r.transformId}: ${runs.length} task runs`);
      for (const run of runs) {
        assert.equal(run.Status, 'SUCCEEDED', `${run.TaskRunId}: ${run.ErrorString}`);
        const starts = [...logs().matchAll(new RegExp(`task run ${run.TaskRunId} \\(\\w+\\) started in task process`, 'g'))].length;
        const ends = [...logs().matchAll(new RegExp(`task run ${run.TaskRunId} \\(\\w+\\) SUCCEEDED`, 'g'))].length;
        assert.deepEqual({ starts, ends }, { starts: 1, ends: 1 }, `task run ${run.TaskRunId}`);
        const by = workers.findIndex((w) => w.output().includes(`task run ${run.TaskRunId} (`));
        perWorker[by]! += 1;
      }
    }
    t.diagnostic(`task runs per worker: ${perWorker.join(' / ')}`);
    assert.ok(perWorker.every((n) => n > 0), `every worker took runs: ${perWorker.join(' / ')}`);
    for (const g of glues) g.destroy();
  });
});
