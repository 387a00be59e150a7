/**
 * Incremental matching as a user runs it: `node dist/bench/job-incremental.js <dataset dir>
 * <labels.json>` (a dataset of `npm run gen:people`, a labels file of engine-loop.js's form) starts a
 * server, uploads the dataset's records but the last NEW (default 10,000) as a catalog table, the
 * last NEW as data files and all records as a second table, imports the labels, and times `findmatches`
 * job runs (StartJobRun to SUCCEEDED, as the client sees it): a full run on the base (it keeps the
 * incremental state beside its output), an incremental run with --existing-path on it (the state used),
 * the same incremental run after the state is deleted, and a full run on every record. With `SAVE=1`
 * it writes bench/results/incremental-job-<records>.json and regenerates BENCHMARKS.md.
 */
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CreateDatabaseCommand, CreateJobCommand, StartImportLabelsTaskRunCommand, StartJobRunCommand } from '@aws-sdk/client-glue';
import { CreateBucketCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { EngineLabel } from '../src/engine/api.js';
import { createCsvTable, createFindMatchesTransform, findMatchesRunStats, glueClient, putObject, rawGlueCall, s3Client, uploadFileMultipart, waitForJobRun, waitForTaskRun } from './lib/aws.js';
import type { IncrementalJobResult } from './lib/incremental-results.js';
import { renderBenchmarksFrom } from './lib/report.js';
import { gitCommit, loadAverage, machine } from './lib/results.js';
import { startServer } from './lib/server.js';

const [dir, labelsPath] = process.argv.slice(2);
if (!dir || !labelsPath) throw new Error('usage: job-incremental.js <dataset dir> <labels.json>');
const added = Number(process.env['NEW'] ?? 10_000);
const BUCKET = 'incremental-bench';
const ROLE = 'arn:aws:iam::123456789012:role/GlueRole';

// The records file split: base and new, as CSV files with the header.
const work = mkdtempSync(join(tmpdir(), 'doppel-inc-job-'));
const lines: string[] = [];
const rl = createInterface({ input: createReadStream(join(dir, 'records.csv')), crlfDelay: Infinity });
for await (const line of rl) lines.push(line);
const header = lines[0]!;
const records = lines.length - 1;
const base = records - added;
const baseFile = join(work, 'base.csv'), newFile = join(work, 'new.csv');
writeFileSync(baseFile, `${lines.slice(0, base + 1).join('\n')}\n`);
writeFileSync(newFile, `${[header, ...lines.slice(base + 1)].join('\n')}\n`);
lines.length = 0;
const columns = header.split(',');
const labels = JSON.parse(readFileSync(labelsPath, 'utf8')) as EngineLabel[];
const labelCsv = ['labeling_set_id,label,id', ...labels.map((l) => `${l.labelingSetId},${l.label},${l.key}`)].join('\n');

const server = await startServer();
const glue = glueClient(server.endpoint), s3 = s3Client(server.endpoint);
const s = (ms: number) => Math.round(ms / 10) / 100;
try {
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await uploadFileMultipart(s3, baseFile, `s3://${BUCKET}/base/records.csv`);
  await uploadFileMultipart(s3, newFile, `s3://${BUCKET}/new/part-00000.csv`);
  await uploadFileMultipart(s3, join(dir, 'records.csv'), `s3://${BUCKET}/all/records.csv`);
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'people' } }));
  await createCsvTable(glue, 'people', 'base', columns, `s3://${BUCKET}/base/`);
  await createCsvTable(glue, 'people', 'everyone', columns, `s3://${BUCKET}/all/`);
  const transformId = await createFindMatchesTransform(glue, { name: 'inc', role: ROLE, database: 'people', table: 'base', primaryKey: 'id' });
  await putObject(s3, `s3://${BUCKET}/labels.csv`, labelCsv);
  const imp = await glue.send(new StartImportLabelsTaskRunCommand({ TransformId: transformId, InputS3Path: `s3://${BUCKET}/labels.csv` }));
  await waitForTaskRun(glue, transformId, imp.TaskRunId!, 'import labels', 600_000);
  await glue.send(new CreateJobCommand({ Name: 'fm', Role: ROLE, Command: { Name: 'findmatches' }, DefaultArguments: { '--transform-id': transformId } }));

  const run = async (what: string, args: Record<string, string>) => {
    const t = performance.now();
    const id = (await glue.send(new StartJobRunCommand({ JobName: 'fm', Arguments: args }))).JobRunId!;
    await waitForJobRun(glue, 'fm', id, 3_600_000);
    const wall = s(performance.now() - t);
    const stats = await findMatchesRunStats(server.endpoint, transformId, id);
    const task = stats.taskRunId ? await rawGlueCall(server.endpoint, 'GetMLTaskRun', { TransformId: transformId, TaskRunId: stats.taskRunId }) : {};
    const props = (task['Properties'] as { FindMatchesTaskRunProperties?: Record<string, unknown> } | undefined)?.FindMatchesTaskRunProperties;
    const used = props?.['IncrementalStateUsed'];
    console.log(`${what}: ${wall} s${used === undefined ? '' : `, incremental state used: ${String(used)}`} (${JSON.stringify(stats)})`);
    return { wall, ...(typeof used === 'boolean' ? { stateUsed: used } : {}) };
  };
  const fullBase = await run('full run on the base', { '--output-path': `s3://${BUCKET}/out/base/` });
  const incArgs = { '--existing-path': `s3://${BUCKET}/out/base/`, '--incremental-path': `s3://${BUCKET}/new/` };
  const withState = await run('incremental run with the state', { ...incArgs, '--output-path': `s3://${BUCKET}/out/inc/` });
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'out/base/_doppel/incremental-state.bin' }));
  const withoutState = await run('incremental run without a state', { ...incArgs, '--output-path': `s3://${BUCKET}/out/inc-plain/` });
  const full = await run('full run on every record', { '--output-path': `s3://${BUCKET}/out/full/`, '--input-database': 'people', '--input-table': 'everyone' });
  console.log(`speed-up of the job: ${(full.wall / withState.wall).toFixed(1)}x`);
  if (process.env['SAVE'] === '1') {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const result: IncrementalJobResult = {
      dataset: basename(dir),
      records,
      newRecords: added,
      labels: labels.length,
      commit: gitCommit(root),
      machine: machine(),
      loadAverage: loadAverage(),
      fullBase,
      withState,
      withoutState,
      full,
    };
    const resultsDir = join(root, 'bench', 'results');
    writeFileSync(join(resultsDir, `incremental-job-${records}.json`), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(root, 'BENCHMARKS.md'), renderBenchmarksFrom(resultsDir));
    console.log(`wrote bench/results/incremental-job-${records}.json and BENCHMARKS.md`);
  }
} finally {
  glue.destroy();
  s3.destroy();
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
