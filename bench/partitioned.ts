/**
 * `npm run bench:partitioned [-- --records 1000000 --workers 1,2,3 --seed 1 --label-rows 1000]`
 *
 * A find-matches job scored in parts (README "Partitioned find-matches runs") on the synthetic
 * people set of `npm run bench:speed` (bench/lib/synthetic-people.ts, cached in `--data-dir`),
 * once per worker count W: a fresh `doppel serve` with W task processes (DOPPEL_WORKERS=W), the
 * records uploaded to its embedded S3, a catalog table, a transform sized NumberOfWorkers=W
 * (G.1X) and taught `--label-rows` rows labeled from the truth (whole entities in labeling sets of
 * about ten rows, one import), then the `findmatches` job with confidence scores. W=1 is a single
 * run; W parts otherwise (DOPPEL_PARTITION_ROWS is set below records / W so that the transform's
 * NumberOfWorkers decides). The job is measured from its start call to its end (wall, CPU of the
 * server's process tree, peak RSS), and its output files' SHA-256 must be the same for every W.
 *
 * Writes bench/results/partitioned-<records>.json and regenerates BENCHMARKS.md.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CreateDatabaseCommand, CreateJobCommand, CreateMLTransformCommand, StartImportLabelsTaskRunCommand, StartJobRunCommand } from '@aws-sdk/client-glue';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createCsvTable, findMatchesRunStats, glueClient, intOption, readOutputParts, s3Client, uploadFileMultipart, waitForTaskRun } from './lib/aws.js';
import { ensurePeopleDataset, readTruthColumns, writeTruthLabelFile } from './lib/people-data.js';
import { ProcessTreeMonitor } from './lib/proc-tree.js';
import { renderBenchmarksFrom } from './lib/report.js';
import { gitCommit, loadAverage, machine } from './lib/results.js';
import { phaseSeconds, stageClock, watchJobRun } from './lib/run-watch.js';
import { startServer } from './lib/server.js';
import type { PartitionedResult, PartitionedRun } from './lib/partitioned-results.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
const BUCKET = 'doppel-bench';
const ROLE = 'arn:aws:iam::123456789012:role/GlueRole';
const JOB = 'bench-findmatches';

const log = (message: string) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);

async function runOnce(records: number, workers: number, datasetDir: string, columns: string[], labelsPath: string, seed: number, timeoutMs: number): Promise<PartitionedRun> {
  const server = await startServer({
    DOPPEL_SEED: String(seed),
    DOPPEL_WORKERS: String(workers),
    DOPPEL_PARTITION_ROWS: String(Math.max(1, Math.floor(records / (workers + 1)))),
  });
  const monitor = new ProcessTreeMonitor(server.process.pid!);
  monitor.start();
  const glue = glueClient(server.endpoint);
  const s3 = s3Client(server.endpoint);
  try {
    const base = `s3://${BUCKET}/people-${records}/`;
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await uploadFileMultipart(s3, join(datasetDir, 'records.csv'), `${base}records/records.csv`);
    await uploadFileMultipart(s3, labelsPath, `${base}labels.csv`);
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'bench' } }));
    await createCsvTable(glue, 'bench', 'people', columns, `${base}records/`);
    const transformId = (await glue.send(
      new CreateMLTransformCommand({
        Name: `partitioned-${records}`,
        Role: ROLE,
        InputRecordTables: [{ DatabaseName: 'bench', TableName: 'people' }],
        Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: 'id' } },
        WorkerType: 'G.1X',
        NumberOfWorkers: workers,
      }),
    )).TransformId!;
    const imported = await glue.send(new StartImportLabelsTaskRunCommand({ TransformId: transformId, InputS3Path: `${base}labels.csv` }));
    await waitForTaskRun(glue, transformId, imported.TaskRunId!, 'label import', timeoutMs);
    const output = `${base}matches/`;
    await glue.send(
      new CreateJobCommand({
        Name: JOB,
        Role: ROLE,
        Command: { Name: 'findmatches' },
        DefaultArguments: { '--transform-id': transformId, '--output-path': output, '--compute-match-confidence-scores': 'true' },
      }),
    );
    const load = loadAverage();
    const window = monitor.begin();
    const clock = stageClock();
    const jobRunId = (await glue.send(new StartJobRunCommand({ JobName: JOB }))).JobRunId!;
    const watched = await watchJobRun(glue, server.endpoint, transformId, JOB, jobRunId, clock, timeoutMs);
    const usage = monitor.end(window);
    if (watched.status !== 'SUCCEEDED') throw new Error(`the job run ended ${watched.status}: ${watched.errorString}`);
    const props = ((watched.taskRun?.['Properties'] as Record<string, Record<string, unknown>> | undefined)?.['FindMatchesTaskRunProperties']) ?? {};
    const stats = await findMatchesRunStats(server.endpoint, transformId, jobRunId);
    const hash = createHash('sha256');
    for (const part of await readOutputParts(s3, output)) {
      hash.update(part.key.slice(part.key.lastIndexOf('/') + 1));
      hash.update(part.bytes);
    }
    return {
      workers,
      parts: typeof props['PartCount'] === 'number' ? props['PartCount'] : 1,
      seconds: watched.seconds,
      cpuSeconds: usage.cpuSeconds,
      peakProcessRssBytes: usage.peakProcessRssBytes,
      peakTreeRssBytes: usage.peakTreeRssBytes,
      stages: phaseSeconds(watched.progress, watched.seconds),
      candidatePairs: stats.candidatePairs,
      matchGroups: stats.matchGroups,
      outputSha256: hash.digest('hex'),
      loadAverage: load,
    };
  } finally {
    monitor.stop();
    glue.destroy();
    s3.destroy();
    await server.stop();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      records: { type: 'string', default: '1000000' },
      workers: { type: 'string', default: '1,2,3' },
      seed: { type: 'string', default: '1' },
      'label-rows': { type: 'string', default: '1000' },
      'data-dir': { type: 'string', default: join(tmpdir(), 'doppel-bench-data') },
      'timeout-minutes': { type: 'string', default: '60' },
    },
  });
  const records = intOption('records', values.records!, 2);
  const workerCounts = values.workers!.split(',').map((w) => intOption('workers', w, 1));
  const seed = intOption('seed', values.seed!, 0);
  const labelRows = intOption('label-rows', values['label-rows']!, 2);
  const timeoutMs = intOption('timeout-minutes', values['timeout-minutes']!, 1) * 60_000;
  const dataset = await ensurePeopleDataset(values['data-dir']!, records, seed);
  const labelsPath = join(dataset.dir, `labels-${labelRows}.csv`);
  const labels = await writeTruthLabelFile(await readTruthColumns(dataset.dir), labelRows, labelsPath, 'id');
  const columns = ['id', ...dataset.meta.columns.filter((c) => c !== 'id')];
  log(`bench:partitioned: ${records.toLocaleString('en-US')} records (${dataset.dir}), ${labels.rows} labeled rows, workers ${workerCounts.join(', ')}`);
  const result: PartitionedResult = {
    kind: 'partitioned',
    records,
    seed,
    labeledRows: labels.rows,
    startedAt: new Date().toISOString(),
    machine: machine(),
    commit: gitCommit(REPO_ROOT),
    runs: [],
    identical: true,
  };
  for (const workers of workerCounts) {
    const run = await runOnce(records, workers, dataset.dir, columns, labelsPath, seed, timeoutMs);
    result.runs.push(run);
    result.identical = result.runs.every((r) => r.outputSha256 === result.runs[0]!.outputSha256);
    log(
      `${workers} worker(s), ${run.parts} part(s): ${run.seconds.toFixed(1)} s wall, ${run.cpuSeconds.toFixed(1)} s CPU, ` +
        `peak RSS ${(run.peakProcessRssBytes / 2 ** 30).toFixed(2)} GiB (tree ${(run.peakTreeRssBytes / 2 ** 30).toFixed(2)} GiB), ` +
        `load ${run.loadAverage}; output ${run.outputSha256.slice(0, 16)}${result.identical ? '' : ' DIFFERS'}`,
    );
    writeFileSync(join(RESULTS_DIR, `partitioned-${records}.json`), `${JSON.stringify(result, null, 2)}\n`);
  }
  writeFileSync(join(REPO_ROOT, 'BENCHMARKS.md'), renderBenchmarksFrom(RESULTS_DIR));
  log(`outputs ${result.identical ? 'identical' : 'DIFFER'}; BENCHMARKS.md regenerated`);
  return result.identical ? 0 : 1;
}

process.exitCode = await main();
