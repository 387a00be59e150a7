/**
 * Incremental matching as a user runs it: `node dist/bench/job-incremental.js <dataset dir>
 * <labels.json>` (a dataset of `npm run gen:people`, a labels file of engine-loop.js's form) starts a
 * server, uploads the dataset's records but the last NEW (default 10,000) as a catalog table, the
 * last NEW as data files and all records as a second table, imports the labels, and times `findmatches`
 * job runs (StartJobRun to SUCCEEDED, as the client sees it, polled every 100 ms; with the CPU time of
 * the server and its task processes, and the seconds of each progress stage): a full run on the base (it keeps the
 * incremental state beside its output), an incremental run with --existing-path on it (the state used),
 * REPEATS (default 3) incremental runs with the state, a chained one on the first's output (with a
 * second batch: the new records again under other keys), the same incremental run after the state is
 * deleted, and a full run on every record. With `SAVE=1`
 * it writes bench/results/incremental-job-<records>.json and regenerates BENCHMARKS.md.
 */
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CreateDatabaseCommand, CreateJobCommand, GetJobRunCommand, StartImportLabelsTaskRunCommand, StartJobRunCommand } from '@aws-sdk/client-glue';
import { CreateBucketCommand, DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { EngineLabel } from '../src/engine/api.js';
import { createCsvTable, createFindMatchesTransform, findMatchesRunStats, glueClient, putObject, rawGlueCall, s3Client, uploadFileMultipart, waitForTaskRun } from './lib/aws.js';
import type { IncrementalJobResult, JobTiming } from './lib/incremental-results.js';
import { renderBenchmarksFrom } from './lib/report.js';
import { gitCommit, loadAverage, machine } from './lib/results.js';
import { median } from './lib/stats.js';
import { startServer } from './lib/server.js';

const POLL_MS = 100;

/** CPU seconds (user + system) of a process and every process below it, the exited ones it waited for included (Linux /proc). */
function treeCpuSeconds(root: number): number {
  const ticks = 100; // USER_HZ on Linux
  const stats: Array<{ pid: number; ppid: number; cpu: number }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command (which may hold spaces) in parentheses: state is field 3, ppid 4, utime 14 .. cstime 17.
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      stats.push({ pid: Number(name), ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / ticks });
    } catch {
      // The process exited while listed.
    }
  }
  const inTree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of stats) if (!inTree.has(p.pid) && inTree.has(p.ppid)) { inTree.add(p.pid); grew = true; }
  }
  return stats.reduce((sum, p) => sum + (inTree.has(p.pid) ? p.cpu : 0), 0);
}

/** What a progress stage of a find-matches run does, its counts left out (so repeated messages of one stage add up). */
function stageLabel(stage: string): string {
  return stage.replace(/s3:\/\/\S+/g, '…').replace(/\b\d[\d,]*(\.\d+)?\b( of \d[\d,]*\b)?/g, 'N').replace(/: N done$/, '').replace(/\s+/g, ' ').trim();
}

const [dir, labelsPath] = process.argv.slice(2);
if (!dir || !labelsPath) throw new Error('usage: job-incremental.js <dataset dir> <labels.json>');
const added = Number(process.env['NEW'] ?? 10_000);
const repeats = Number(process.env['REPEATS'] ?? 3);
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
// A second batch for a chained run: the new records again under other keys (duplicates of the first batch's).
const secondBatch = [header, ...lines.slice(base + 1).map((l) => `n${l}`)].join('\n') + '\n';
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
  await putObject(s3, `s3://${BUCKET}/new-2/part-00000.csv`, secondBatch);
  await uploadFileMultipart(s3, join(dir, 'records.csv'), `s3://${BUCKET}/all/records.csv`);
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'people' } }));
  await createCsvTable(glue, 'people', 'base', columns, `s3://${BUCKET}/base/`);
  await createCsvTable(glue, 'people', 'everyone', columns, `s3://${BUCKET}/all/`);
  const transformId = await createFindMatchesTransform(glue, { name: 'inc', role: ROLE, database: 'people', table: 'base', primaryKey: 'id' });
  await putObject(s3, `s3://${BUCKET}/labels.csv`, labelCsv);
  const imp = await glue.send(new StartImportLabelsTaskRunCommand({ TransformId: transformId, InputS3Path: `s3://${BUCKET}/labels.csv` }));
  await waitForTaskRun(glue, transformId, imp.TaskRunId!, 'import labels', 600_000);
  await glue.send(new CreateJobCommand({ Name: 'fm', Role: ROLE, Command: { Name: 'findmatches' }, DefaultArguments: { '--transform-id': transformId } }));

  const run = async (what: string, args: Record<string, string>): Promise<JobTiming> => {
    const cpuBefore = treeCpuSeconds(server.process.pid!);
    const t = performance.now();
    const id = (await glue.send(new StartJobRunCommand({ JobName: 'fm', Arguments: args }))).JobRunId!;
    // Polled every POLL_MS (not waitForJobRun's growing interval): the end is seen within POLL_MS,
    // and each progress stage of the task run from when it first shows.
    const stages: Array<[string, number]> = [];
    for (;;) {
      const state = (await glue.send(new GetJobRunCommand({ JobName: 'fm', RunId: id }))).JobRun?.JobRunState;
      if (state === 'SUCCEEDED') break;
      if (state && state !== 'STARTING' && state !== 'RUNNING' && state !== 'WAITING') throw new Error(`${what}: job run ${id} ended ${state}`);
      const running = await rawGlueCall(server.endpoint, 'GetMLTaskRuns', { TransformId: transformId, Filter: { Status: 'RUNNING' } });
      const stage = ((running['TaskRuns'] as Array<{ Progress?: { Stage?: string } }> | undefined) ?? [])[0]?.Progress?.Stage;
      if (stage && stages[stages.length - 1]?.[0] !== stage) stages.push([stage, performance.now() - t]);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const wall = s(performance.now() - t);
    const cpu = Math.round((treeCpuSeconds(server.process.pid!) - cpuBefore) * 100) / 100;
    const stats = await findMatchesRunStats(server.endpoint, transformId, id);
    const task = stats.taskRunId ? await rawGlueCall(server.endpoint, 'GetMLTaskRun', { TransformId: transformId, TaskRunId: stats.taskRunId }) : {};
    const props = (task['Properties'] as { FindMatchesTaskRunProperties?: Record<string, unknown> } | undefined)?.FindMatchesTaskRunProperties;
    const used = props?.['IncrementalStateUsed'], copied = props?.['ExistingRecordsCopied'];
    console.log(`${what}: ${wall} s wall, ${cpu} s CPU${used === undefined ? '' : `, incremental state used: ${String(used)}, existing records copied: ${String(copied)}`} (${JSON.stringify(stats)})`);
    // Seconds from one stage to the next (the last until SUCCEEDED), summed per stage label.
    const bySection: Record<string, number> = {};
    stages.forEach(([stage, at], i) => {
      const label = stageLabel(stage);
      const end = i + 1 < stages.length ? stages[i + 1]![1] : performance.now() - t;
      bySection[label] = Math.round(((bySection[label] ?? 0) + (end - at) / 1000) * 100) / 100;
    });
    const out = /^s3:\/\/[^/]+\/(.*)$/.exec(args['--output-path']!)![1]!;
    const state = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${out}_doppel/incremental-state.bin` }));
    const stateMiB = Math.round((state.ContentLength ?? 0) / 2 ** 20);
    console.log(`  state beside the output: ${stateMiB} MiB; stages (s): ${JSON.stringify(bySection)}`);
    return {
      wall,
      cpu,
      stateMiB,
      stages: bySection,
      ...(typeof used === 'boolean' ? { stateUsed: used } : {}),
      ...(typeof copied === 'boolean' ? { existingCopied: copied } : {}),
    };
  };
  const fullBase = await run('full run on the base', { '--output-path': `s3://${BUCKET}/out/base/` });
  const incArgs = { '--existing-path': `s3://${BUCKET}/out/base/`, '--incremental-path': `s3://${BUCKET}/new/` };
  // The incremental run is short: REPEATS of it (each into an output of its own), reported by their median.
  const withState: JobTiming[] = [];
  for (let i = 0; i < repeats; i++) {
    withState.push(await run(`incremental run with the state (${i + 1} of ${repeats})`, { ...incArgs, '--output-path': `s3://${BUCKET}/out/inc-${i}/` }));
  }
  const chained = await run('the next incremental run, on that output (its delta state)', {
    '--existing-path': `s3://${BUCKET}/out/inc-0/`,
    '--incremental-path': `s3://${BUCKET}/new-2/`,
    '--output-path': `s3://${BUCKET}/out/inc-next/`,
  });
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'out/base/_doppel/incremental-state.bin' }));
  const withoutState = await run('incremental run without a state', { ...incArgs, '--output-path': `s3://${BUCKET}/out/inc-plain/` });
  const full = await run('full run on every record', { '--output-path': `s3://${BUCKET}/out/full/`, '--input-database': 'people', '--input-table': 'everyone' });
  console.log(`speed-up of the job: ${(full.wall / median(withState.map((r) => r.wall))!).toFixed(1)}x (median of ${repeats})`);
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
      chained,
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
