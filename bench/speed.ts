/**
 * `npm run bench:speed [-- --sizes 100000,1000000 --repeats 3 --rounds 10 --seed 1]`
 *
 * Speed and scale of doppel, driven as a user drives it (AWS SDKs over HTTP against a real server
 * process), on synthetic people datasets (bench/lib/synthetic-people.ts) cached in `--data-dir`.
 * Per size and repeat:
 *
 *   a fresh `doppel serve` → records.csv uploaded to the embedded S3 (multipart, streamed from disk)
 *   → CreateDatabase, CreateTable (OpenCSVSerde), CreateMLTransform (primary key `id`) → R rounds of
 *   StartMLLabelingSetGenerationTaskRun → label the sets from truth.csv → PutObject →
 *   StartImportLabelsTaskRun → StartMLEvaluationTaskRun (EvaluationMetrics) → the server is
 *   restarted on its data dir, so nothing the teaching loop or the evaluation computed is cached →
 *   a `findmatches` job (CreateJob, StartJobRun, GetJobRun) → its output scored against the truth.
 *
 * Each task run and job run is measured from its start call to its terminal state (polled every
 * 100 ms): wall time, CPU time of the server's process tree, peak RSS (largest process and tree),
 * and the stages it reports (doppel's `Progress` member). With the probe (1M records, or `--probe`),
 * the job runs a second time, and beside that run a label import of `--probe-import-rows` rows runs
 * on a second transform of the same table while another client times GetMLTransform in a loop (the
 * measured job runs alone). After each repeat every task run's state is checked: none may have been
 * re-executed or failed by the server.
 *
 * Writes bench/results/speed-<records>[-act<X>].json after every repeat and regenerates
 * BENCHMARKS.md at the end.
 *
 * Options:
 *   --sizes a,b,...           record counts (default 100000,1000000)
 *   --repeats N               repeats per size (default 3)
 *   --rounds R                teaching rounds before the evaluation and the job (default 10, ~1,000 labels)
 *   --seed S                  dataset seed, also the server's DOPPEL_SEED (default 1)
 *   --accuracy-cost X         the transform's AccuracyCostTradeoff (default: not set)
 *   --probe                   run the latency probe at every size (default: at 1,000,000 records only)
 *   --probe-import-rows N     rows of the probe's label import (default 1000000, at most the records; 0: no import)
 *   --data-dir DIR            where generated datasets are cached (default <tmpdir>/doppel-bench-data)
 *   --keep-data               keep each server's data dir (its path is printed)
 *   --timeout-minutes M       longest wait for one task run or job run (default 60)
 */
import { closeSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CreateDatabaseCommand,
  CreateJobCommand,
  GetMLTransformCommand,
  GlueClient,
  StartImportLabelsTaskRunCommand,
  StartJobRunCommand,
  StartMLEvaluationTaskRunCommand,
  StartMLLabelingSetGenerationTaskRunCommand,
} from '@aws-sdk/client-glue';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import {
  describeError,
  evaluationBlockingRecall,
  findMatchesRunStats,
  glueClient,
  listTaskRunsRaw,
  putObject,
  rawNumber,
  readOutputParts,
  s3Client,
  uploadFileMultipart,
  createCsvTable,
  createFindMatchesTransform,
  intOption,
} from './lib/aws.js';
import { fmt } from './lib/format.js';
import { labelFromTruth } from './lib/labeler.js';
import { startLatencyProbe, type LatencyProbe } from './lib/latency-probe.js';
import { scoreOutputInWorker } from './lib/output-score.js';
import { ensurePeopleDataset, readTruthColumns, writeTruthLabelFile, type LabelFile } from './lib/people-data.js';
import { ProcessTreeMonitor, type StageUsage } from './lib/proc-tree.js';
import { renderBenchmarksFrom } from './lib/report.js';
import { gitCommit, loadAverage, machine } from './lib/results.js';
import { phaseSeconds, stageClock, watchJobRun, watchTaskRun, type WatchedRun } from './lib/run-watch.js';
import { CREDENTIALS, REGION, startServer, type BenchServer } from './lib/server.js';
import {
  speedResultName,
  summarizeRepeats,
  type FindMatchesMeasure,
  type RunIntegrity,
  type RunRecord,
  type SpeedRepeat,
  type SpeedResult,
  type StageMeasure,
} from './lib/speed-results.js';

/** dist/bench/ → the checkout. */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
const BENCHMARKS_MD = join(REPO_ROOT, 'BENCHMARKS.md');
const BUCKET = 'doppel-bench';
const ROLE = 'arn:aws:iam::123456789012:role/GlueRole';
const PRIMARY_KEY = 'id';
/** The size at which the latency probe runs without `--probe`. */
const PROBE_SIZE = 1_000_000;
/** Server log lines that tell of a run repeated or resumed. */
const RERUN_LOG_LINE = /retrying|interrupted|recovered/i;

// The SDK's notice that its 2027 releases need Node 22 is noise in the progress output.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

interface Options {
  sizes: number[];
  repeats: number;
  rounds: number;
  seed: number;
  accuracyCost?: number;
  probe: boolean;
  probeImportRows: number;
  dataDir: string;
  keepData: boolean;
  timeoutMs: number;
}

const seconds = (start: number) => (performance.now() - start) / 1000;
const pad = (n: number) => String(n).padStart(2, '0');
const count = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toLocaleString('en-US'));
const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

function log(tag: string, message: string): void {
  const time = new Date().toISOString().slice(11, 19);
  process.stdout.write(`${time} [${tag}] ${message}\n`);
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '100000,1000000' },
      repeats: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '10' },
      seed: { type: 'string', default: '1' },
      'accuracy-cost': { type: 'string' },
      probe: { type: 'boolean', default: false },
      'probe-import-rows': { type: 'string', default: '1000000' },
      'data-dir': { type: 'string', default: join(tmpdir(), 'doppel-bench-data') },
      'keep-data': { type: 'boolean', default: false },
      'timeout-minutes': { type: 'string', default: '60' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench:speed [-- --sizes a,b,... --repeats N --rounds R --seed S --accuracy-cost X --probe\n' +
        '       --probe-import-rows N --data-dir DIR --keep-data --timeout-minutes M]\n',
    );
    return undefined;
  }
  const sizes = values.sizes!.split(',').map((x) => x.trim()).filter((x) => x !== '').map((x) => intOption('sizes', x, 2));
  if (sizes.length === 0) throw new Error('--sizes needs a comma-separated list of record counts');
  let accuracyCost: number | undefined;
  if (values['accuracy-cost'] !== undefined) {
    accuracyCost = Number(values['accuracy-cost']);
    if (!(accuracyCost >= 0 && accuracyCost <= 1)) throw new Error(`--accuracy-cost must be a number in [0, 1], got ${values['accuracy-cost']}`);
  }
  return {
    sizes: [...new Set(sizes)],
    repeats: intOption('repeats', values.repeats!, 1),
    rounds: intOption('rounds', values.rounds!, 1),
    seed: intOption('seed', values.seed!, 0),
    ...(accuracyCost !== undefined ? { accuracyCost } : {}),
    probe: values.probe!,
    probeImportRows: intOption('probe-import-rows', values['probe-import-rows']!, 0),
    dataDir: values['data-dir']!,
    keepData: values['keep-data']!,
    timeoutMs: intOption('timeout-minutes', values['timeout-minutes']!, 1) * 60_000,
  };
}

/** One size: its dataset, truth and options, shared by the repeats. */
interface SizeContext {
  records: number;
  tag: string;
  datasetDir: string;
  columns: string[];
  truthById: Map<string, string>;
  options: Options;
  /** The probe's label file (written once per size); null without the probe or without its import. */
  probeLabels: LabelFile | null;
}

/** A running server with its clients and the monitor of its process tree. */
interface Session {
  server: BenchServer;
  endpoint: string;
  glue: GlueClient;
  s3: S3Client;
  monitor: ProcessTreeMonitor;
}

/**
 * Starts a server (on `dataDir`: a restart) and watches its process tree; server log lines about
 * re-run task runs are appended to `rerunLines`.
 */
async function openSession(env: Record<string, string>, rerunLines: string[], dataDir?: string): Promise<Session> {
  const server = await startServer(env, dataDir);
  for (const stream of [server.process.stdout!, server.process.stderr!]) {
    let carry = '';
    stream.on('data', (b: Buffer) => {
      const lines = (carry + b.toString()).split('\n');
      carry = lines.pop()!;
      for (const line of lines) if (RERUN_LOG_LINE.test(line)) rerunLines.push(line.trim());
    });
  }
  const monitor = new ProcessTreeMonitor(server.process.pid!);
  monitor.start();
  return { server, endpoint: server.endpoint, glue: glueClient(server.endpoint), s3: s3Client(server.endpoint), monitor };
}

async function closeSession(session: Session, keep: boolean): Promise<void> {
  session.monitor.stop();
  await session.server.stop(keep);
}

/** Runs `watch` as one stage: CPU and peak RSS of the server's tree from before `start` to the end. */
async function measure(session: Session, watch: () => Promise<WatchedRun>): Promise<StageMeasure> {
  const window = session.monitor.begin();
  let run: WatchedRun;
  try {
    run = await watch();
  } catch (e) {
    session.monitor.end(window);
    throw e;
  }
  const usage = session.monitor.end(window);
  return {
    ...usage,
    seconds: run.seconds,
    taskRunId: run.taskRunId,
    status: run.status,
    errorString: run.errorString,
    progress: run.progress,
    progressReported: run.progressReported,
  };
}

/** A task run started by `start` (which returns its id), measured as one stage. */
function measureTaskRun(session: Session, transformId: string, start: () => Promise<string>, timeoutMs: number): Promise<StageMeasure> {
  return measure(session, async () => {
    const clock = stageClock();
    const taskRunId = await start();
    return watchTaskRun(session.endpoint, transformId, taskRunId, clock, timeoutMs);
  });
}

function requireSucceeded(m: StageMeasure, what: string): void {
  if (m.status !== 'SUCCEEDED') {
    throw new Error(`${what} ${m.taskRunId ?? ''} ended ${m.status}: ${m.errorString ?? '(no ErrorString)'}`);
  }
}

/** The header of records.csv (its first line, read without reading the file). */
function recordsHeader(path: string): string[] {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return (parse(buf.subarray(0, n), { to_line: 1, bom: true }) as string[][])[0]!;
  } finally {
    closeSync(fd);
  }
}

async function runRepeat(ctx: SizeContext, repeat: number): Promise<SpeedRepeat> {
  const { options, records } = ctx;
  const tag = `${ctx.tag} #${repeat}`;
  const rep: SpeedRepeat = {
    repeat,
    status: 'ok',
    startedAt: new Date().toISOString(),
    loadAverage: { start: loadAverage(), end: loadAverage() },
    setup: { serverStartSeconds: 0, uploadSeconds: 0, uploadBytes: 0 },
    rounds: [],
    evaluation: null,
    restartSeconds: null,
    findMatches: null,
    score: null,
    probe: null,
    integrity: null,
  };
  const env = { DOPPEL_SEED: String(options.seed) };
  const rerunLines: string[] = [];
  const probe = options.probe || records === PROBE_SIZE;
  let session: Session | undefined;
  let transformId: string | undefined;
  let probeTransformId: string | undefined;
  /** The data dir kept for the restart (removed here should the restart fail). */
  let restartDataDir: string | undefined;
  try {
    let t = performance.now();
    session = await openSession(env, rerunLines);
    rep.setup.serverStartSeconds = seconds(t);
    log(tag, `doppel serving on ${session.endpoint}, data dir ${session.server.dataDir}; load average ${rep.loadAverage.start}`);

    // Table and transform.
    const base = `s3://${BUCKET}/people-${records}/`;
    await session.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    t = performance.now();
    rep.setup.uploadBytes = await uploadFileMultipart(session.s3, join(ctx.datasetDir, 'records.csv'), `${base}records/records.csv`);
    rep.setup.uploadSeconds = seconds(t);
    log(tag, `uploaded records.csv (${(rep.setup.uploadBytes / 2 ** 20).toFixed(0)} MiB) in ${rep.setup.uploadSeconds.toFixed(1)} s`);
    const database = `bench_people_${records}`;
    const table = 'records';
    await session.glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database } }));
    await createCsvTable(session.glue, database, table, ctx.columns, `${base}records/`);
    const createTransform = (name: string) =>
      createFindMatchesTransform(session!.glue, {
        name,
        role: ROLE,
        database,
        table,
        primaryKey: PRIMARY_KEY,
        ...(options.accuracyCost !== undefined ? { accuracyCost: options.accuracyCost } : {}),
      });
    transformId = await createTransform(`bench-speed-${records}`);

    // Teaching rounds.
    let labeledRows = 0;
    for (let round = 1; round <= options.rounds; round += 1) {
      const s = session;
      const roundStart = performance.now();
      const labelingPath = `${base}labeling-sets/round-${pad(round)}/`;
      const generation = await measureTaskRun(
        s,
        transformId,
        async () =>
          (await s.glue.send(new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: labelingPath })))
            .TaskRunId!,
        options.timeoutMs,
      );
      requireSucceeded(generation, 'labeling-set generation');
      const parts = await readOutputParts(s.s3, labelingPath);
      const labeled = labelFromTruth(parts.map((p) => p.bytes), ctx.truthById, PRIMARY_KEY);
      let importRun: StageMeasure | null = null;
      if (labeled.rows > 0) {
        const labelsPath = `${base}labels/round-${pad(round)}.csv`;
        await putObject(s.s3, labelsPath, labeled.csv);
        importRun = await measureTaskRun(
          s,
          transformId,
          async () =>
            (await s.glue.send(new StartImportLabelsTaskRunCommand({ TransformId: transformId, InputS3Path: labelsPath, ReplaceAllLabels: false })))
              .TaskRunId!,
          options.timeoutMs,
        );
        requireSucceeded(importRun, 'label import');
      }
      labeledRows += labeled.rows;
      const after = await s.glue.send(new GetMLTransformCommand({ TransformId: transformId }));
      const r = {
        round,
        labelingSet: generation,
        labelingSetRows: labeled.rows,
        labelingSets: labeled.labelingSets,
        matchedRows: labeled.matchedRows,
        import: importRun,
        labeledRows,
        labelCount: after.LabelCount ?? null,
        seconds: seconds(roundStart),
      };
      rep.rounds.push(r);
      log(
        tag,
        `round ${round}/${options.rounds}: labeling set ${generation.seconds.toFixed(1)} s (${labeled.rows} rows, ` +
          `${labeled.matchedRows} in matches), import ${importRun ? `${importRun.seconds.toFixed(1)} s` : 'none'}, ` +
          `LabelCount ${after.LabelCount}; round ${r.seconds.toFixed(1)} s`,
      );
    }

    // Evaluation.
    {
      const s = session;
      const ev = await measureTaskRun(
        s,
        transformId,
        async () => (await s.glue.send(new StartMLEvaluationTaskRunCommand({ TransformId: transformId }))).TaskRunId!,
        options.timeoutMs,
      );
      requireSucceeded(ev, 'evaluation');
      const m = (await s.glue.send(new GetMLTransformCommand({ TransformId: transformId }))).EvaluationMetrics?.FindMatchesMetrics;
      rep.evaluation = {
        ...ev,
        precision: m?.Precision ?? null,
        recall: m?.Recall ?? null,
        f1: m?.F1 ?? null,
        areaUnderPRCurve: m?.AreaUnderPRCurve ?? null,
        blockingRecall: await evaluationBlockingRecall(s.endpoint, transformId),
      };
      log(tag, `evaluation ${ev.seconds.toFixed(1)} s: est. P ${fmt(m?.Precision)} R ${fmt(m?.Recall)} F1 ${fmt(m?.F1)}`);
    }

    // The probe's transform: the same table, its own labels (the measured transform keeps its ~1,000).
    if (probe) probeTransformId = await createTransform(`bench-speed-${records}-probe`);

    // A restart, so that the job reads and computes everything itself.
    t = performance.now();
    restartDataDir = session.server.dataDir;
    await closeSession(session, true);
    session = undefined;
    session = await openSession(env, rerunLines, restartDataDir);
    rep.restartSeconds = seconds(t);
    log(tag, `server restarted on its data dir in ${rep.restartSeconds.toFixed(1)} s (${session.endpoint})`);

    const s = session;
    const probeLabelsPath = `${base}probe-labels/labels.csv`;
    if (ctx.probeLabels) {
      await uploadFileMultipart(s.s3, ctx.probeLabels.path, probeLabelsPath, 8 * 2 ** 20);
    }
    const jobName = 'bench-findmatches';
    const outputPath = `${base}matches/repeat-${pad(repeat)}/`;
    await s.glue.send(
      new CreateJobCommand({
        Name: jobName,
        Role: ROLE,
        Command: { Name: 'findmatches' },
        DefaultArguments: { '--transform-id': transformId, '--output-path': outputPath },
      }),
    );

    /**
     * One run of the find-matches job into `output`; with `probeImport`, the probe's big label import
     * starts beside it; with `timeCalls`, another client times GetMLTransform until both have ended.
     */
    const runJob = async (output: string, probeImport: boolean, timeCalls: boolean) => {
      const window = s.monitor.begin();
      const clock = stageClock();
      const start = performance.now();
      const jobRunId = (await s.glue.send(new StartJobRunCommand({ JobName: jobName, Arguments: { '--output-path': output } }))).JobRunId!;
      const importRun = probeImport
        ? measureTaskRun(
            s,
            probeTransformId!,
            async () =>
              (await s.glue.send(new StartImportLabelsTaskRunCommand({ TransformId: probeTransformId, InputS3Path: probeLabelsPath })))
                .TaskRunId!,
            options.timeoutMs,
          )
        : null;
      // Its own client, without SDK retries: every call is one request, timed as the user sees it.
      const probeGlue = new GlueClient({ endpoint: s.endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
      const latency: LatencyProbe | undefined = timeCalls
        ? startLatencyProbe(() => probeGlue.send(new GetMLTransformCommand({ TransformId: transformId })))
        : undefined;
      // The job's stage ends when it does (not when the probe's import does); the probe stops when both have.
      let watched: { job: WatchedRun; usage: StageUsage } | { error: unknown };
      try {
        const job = await watchJobRun(s.glue, s.endpoint, transformId!, jobName, jobRunId, clock, options.timeoutMs);
        watched = { job, usage: s.monitor.end(window) };
      } catch (e) {
        s.monitor.end(window);
        watched = { error: e };
      }
      let importMeasure: StageMeasure | null = null;
      if (importRun) {
        const [settled] = await Promise.allSettled([importRun]);
        if (settled.status === 'fulfilled') importMeasure = settled.value;
        else log(tag, `the probe's label import could not be watched: ${describeError(settled.reason)}`);
      }
      const calls = latency ? await latency.stop() : undefined;
      return { jobRunId, watched, importMeasure, calls, seconds: seconds(start) };
    };

    // The measured find-matches job runs alone. With the probe, a second run of the job follows,
    // beside the big label import, while GetMLTransform is timed: the latency the acceptance asks
    // about, without the import's CPU in the measured job's numbers.
    const measured = await runJob(outputPath, false, false);
    const { jobRunId, watched } = measured;
    if (probe) {
      const busy = await runJob(`${base}matches/repeat-${pad(repeat)}-probe/`, ctx.probeLabels !== null, true);
      const summary = busy.calls!;
      rep.probe = {
        importRows: ctx.probeLabels?.rows ?? 0,
        importLabelingSets: ctx.probeLabels?.labelingSets ?? 0,
        importFileBytes: ctx.probeLabels?.bytes ?? 0,
        import: busy.importMeasure,
        seconds: busy.seconds,
        latency: summary,
      };
      if ('error' in busy.watched) log(tag, `the probe's find-matches run failed: ${describeError(busy.watched.error)}`);
      log(
        tag,
        `probe: ${summary.calls} GetMLTransform calls over ${rep.probe.seconds.toFixed(1)} s beside a second find-matches run, ` +
          `p50 ${summary.p50Ms} ms, p99 ${summary.p99Ms} ms, max ${summary.maxMs} ms, ${summary.errors} errors; label import of ` +
          `${count(rep.probe.importRows)} rows ${busy.importMeasure ? `${busy.importMeasure.status} in ${busy.importMeasure.seconds.toFixed(1)} s` : 'not run'}`,
      );
    }
    if ('error' in watched) throw watched.error;
    const { job, usage: fmUsage } = watched;
    const stats = await findMatchesRunStats(s.endpoint, transformId, jobRunId);
    const phases = phaseSeconds(job.progress, job.seconds);
    const fromProgress = phases?.score !== undefined;
    const scoringSeconds = fromProgress ? phases!.score! : job.seconds;
    const pairsPerSecond = stats.scoredPairs === null || scoringSeconds <= 0 ? null : stats.scoredPairs / scoringSeconds;
    const fm: FindMatchesMeasure = {
      ...fmUsage,
      seconds: job.seconds,
      taskRunId: job.taskRunId,
      status: job.status,
      errorString: job.errorString,
      progress: job.progress,
      progressReported: job.progressReported,
      jobRunId,
      candidatePairs: stats.candidatePairs,
      scoredPairs: stats.scoredPairs,
      matchedPairs: stats.matchedPairs,
      matchGroups: stats.matchGroups,
      phases,
      scoringSeconds,
      scoringSecondsFrom: fromProgress ? 'progress' : 'job wall time',
      pairsPerSecond,
      pairsPerSecondPerCore: pairsPerSecond === null ? null : pairsPerSecond / cpus().length,
    };
    rep.findMatches = fm;
    if (fm.status !== 'SUCCEEDED') throw new Error(`find-matches job run ${jobRunId} ended ${fm.status}: ${fm.errorString ?? '(no ErrorMessage)'}`);
    log(
      tag,
      `find-matches ${fm.seconds.toFixed(1)} s (CPU ${fm.cpuSeconds.toFixed(1)} s, peak RSS ${gib(fm.peakProcessRssBytes)} in ${fm.peakProcess}, ` +
        `tree ${gib(fm.peakTreeRssBytes)}); ${count(fm.candidatePairs)} candidate pairs, ${count(fm.scoredPairs)} scored, ` +
        `${pairsPerSecond === null ? '–' : Math.round(pairsPerSecond).toLocaleString('en-US')} pairs/s ` +
        `(${fromProgress ? `scoring stage ${scoringSeconds.toFixed(1)} s` : 'over the whole job: no Progress reported'})` +
        `${phases ? `; stages ${Object.entries(phases).map(([k, v]) => `${k} ${v!.toFixed(1)}`).join(', ')}` : ''}`,
    );

    // Score the output against the truth.
    const score = await scoreOutputInWorker({ endpoint: s.endpoint, outputUri: outputPath, datasetDir: ctx.datasetDir, primaryKey: PRIMARY_KEY });
    rep.score = score;
    const gap = rep.evaluation.f1 === null ? null : Math.abs(rep.evaluation.f1 - score.f1);
    log(
      tag,
      `output ${count(score.outputRows)} rows: P ${fmt(score.precision)} R ${fmt(score.recall)} F1 ${fmt(score.f1)} ` +
        `(est. F1 ${fmt(rep.evaluation.f1)}, |est − true| ${fmt(gap)}) with ${labeledRows} labeled rows`,
    );
  } catch (e) {
    rep.status = 'failed';
    rep.error = describeError(e);
    log(tag, `FAILED: ${rep.error}`);
    const tail = session?.server.output().trim().split('\n').slice(-15).join('\n');
    if (tail) process.stdout.write(`--- last lines of the doppel server's output ---\n${tail}\n---\n`);
  } finally {
    if (session) {
      try {
        rep.integrity = await checkIntegrity(session.endpoint, transformId, probeTransformId, rerunLines);
        log(
          tag,
          `task runs: ${rep.integrity.runs.length}, ${rep.integrity.ok ? 'none re-executed or failed' : 'SOME RE-EXECUTED OR FAILED'}` +
            `${rep.integrity.attemptsReported ? '' : ' (the server reports no Attempt / InterruptionCount: judged by states and its log)'}`,
        );
      } catch (e) {
        log(tag, `could not check the task runs: ${describeError(e)}`);
      }
      await closeSession(session, options.keepData);
      if (options.keepData) log(tag, `data dir kept: ${session.server.dataDir}`);
    } else if (restartDataDir !== undefined && !options.keepData) {
      rmSync(restartDataDir, { recursive: true, force: true });
    }
  }
  rep.loadAverage.end = loadAverage();
  return rep;
}

/**
 * Every task run of the transforms as the server reports it: none may have failed, been retried or
 * been resumed after an interruption (Attempt / InterruptionCount when the server reports them, and
 * its log either way).
 */
async function checkIntegrity(
  endpoint: string,
  transformId: string | undefined,
  probeTransformId: string | undefined,
  logLines: string[],
): Promise<RunIntegrity> {
  const runs: RunRecord[] = [];
  for (const [which, id] of [['main', transformId], ['probe', probeTransformId]] as const) {
    if (id === undefined) continue;
    for (const r of await listTaskRunsRaw(endpoint, id)) {
      runs.push({
        transform: which,
        taskRunId: String(r['TaskRunId']),
        type: String((r['Properties'] as Record<string, unknown> | undefined)?.['TaskType'] ?? ''),
        status: String(r['Status']),
        attempt: rawNumber(r['Attempt']),
        interruptions: rawNumber(r['InterruptionCount']),
        errorString: typeof r['ErrorString'] === 'string' ? r['ErrorString'] : null,
      });
    }
  }
  const ok =
    logLines.length === 0 &&
    runs.every((r) => r.status === 'SUCCEEDED' && (r.attempt ?? 1) === 1 && (r.interruptions ?? 0) === 0 && r.errorString === null);
  return { ok, attemptsReported: runs.some((r) => r.attempt !== null), runs, logLines: [...logLines] };
}

function writeResult(result: SpeedResult): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const name = speedResultName(result.records, result.parameters.accuracyCostTradeoff);
  writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
}

async function runSize(records: number, options: Options, version: string): Promise<SpeedResult> {
  const tag = records.toLocaleString('en-US');
  const dataset = await ensurePeopleDataset(options.dataDir, records, options.seed);
  log(
    tag,
    `${dataset.meta.name} (seed ${options.seed}) in ${dataset.dir}: ` +
      `${dataset.generatedSeconds === null ? 'cached' : `generated in ${dataset.generatedSeconds.toFixed(1)} s`}; ` +
      `${count(dataset.meta.entities)} entities, ${count(dataset.meta.true_pairs)} true pairs`,
  );
  const t = performance.now();
  const truth = await readTruthColumns(dataset.dir);
  const truthById = new Map<string, string>();
  for (let i = 0; i < truth.ids.length; i += 1) truthById.set(truth.ids[i]!, truth.entityIds[i]!);
  const probe = options.probe || records === PROBE_SIZE;
  const importRows = Math.min(options.probeImportRows, records);
  const probeLabels =
    probe && importRows > 0
      ? await writeTruthLabelFile(truth, importRows, join(dataset.dir, `probe-labels-${importRows}.csv`), PRIMARY_KEY)
      : null;
  log(tag, `truth read in ${seconds(t).toFixed(1)} s${probeLabels ? `; probe label file of ${count(probeLabels.rows)} rows written` : ''}`);

  const ctx: SizeContext = {
    records,
    tag,
    datasetDir: dataset.dir,
    columns: recordsHeader(join(dataset.dir, 'records.csv')),
    truthById,
    options,
    probeLabels,
  };
  const result: SpeedResult = {
    benchmark: 'speed',
    records,
    seed: options.seed,
    roundsRequested: options.rounds,
    repeatsRequested: options.repeats,
    parameters: options.accuracyCost !== undefined ? { accuracyCostTradeoff: options.accuracyCost } : {},
    dataset: {
      name: dataset.meta.name,
      dir: dataset.dir,
      entities: dataset.meta.entities,
      truePairs: dataset.meta.true_pairs,
      recordsBytes: statSync(join(dataset.dir, 'records.csv')).size,
      generatedSeconds: dataset.generatedSeconds,
    },
    status: 'running',
    startedAt: new Date().toISOString(),
    finishedAt: '',
    machine: machine(),
    doppel: { version, commit: gitCommit(REPO_ROOT) },
    repeats: [],
    summary: summarizeRepeats([], records),
  };
  writeResult(result);
  for (let repeat = 1; repeat <= options.repeats; repeat += 1) {
    result.repeats.push(await runRepeat(ctx, repeat));
    result.summary = summarizeRepeats(result.repeats, records);
    result.finishedAt = new Date().toISOString();
    writeResult(result);
  }
  const failed = result.repeats.filter((r) => r.status === 'failed');
  result.status = failed.length === 0 ? 'ok' : 'failed';
  if (failed.length > 0) result.error = `${failed.length} of ${result.repeats.length} repeats failed; the first: ${failed[0]!.error}`;
  result.finishedAt = new Date().toISOString();
  writeResult(result);
  return result;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) return 0;
  mkdirSync(options.dataDir, { recursive: true });
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const m = machine();
  process.stdout.write(
    `bench:speed: ${options.sizes.map((n) => n.toLocaleString('en-US')).join(', ')} records; ${options.repeats} repeats, ` +
      `${options.rounds} rounds, seed ${options.seed}${options.accuracyCost !== undefined ? `, AccuracyCostTradeoff ${options.accuracyCost}` : ''}\n` +
      `machine: ${m.cpus} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}; datasets in ${options.dataDir}\n`,
  );
  const results: SpeedResult[] = [];
  for (const records of options.sizes) results.push(await runSize(records, options, version));
  writeFileSync(BENCHMARKS_MD, renderBenchmarksFrom(RESULTS_DIR));
  process.stdout.write(`BENCHMARKS.md regenerated from ${RESULTS_DIR}\n\nsummary (medians over ${options.repeats} repeats)\n`);
  for (const r of results) {
    const s = r.summary;
    const med = (x: { median: number } | null, digits = 1) => (x ? x.median.toFixed(digits) : '–');
    process.stdout.write(
      `  ${r.records.toLocaleString('en-US').padStart(10)} ${r.status === 'ok' ? 'ok    ' : 'FAILED'} ` +
        `find-matches ${med(s.findMatchesSeconds)} s, CPU ${med(s.findMatchesCpuSeconds)} s, peak RSS ` +
        `${s.peakProcessRssBytes ? gib(s.peakProcessRssBytes.median) : '–'}, ${med(s.pairsPerSecond, 0)} pairs/s, ` +
        `F1 ${med(s.f1, 4)} (est. ${med(s.estimatedF1, 4)}), labeling set ${med(s.labelingSetSeconds)} s, ` +
        `evaluation ${med(s.evaluationSeconds)} s, p99 ${med(s.probeP99Ms, 0)} ms` +
        `${r.error ? `\n      ${r.error.split('\n')[0]}` : ''}\n`,
    );
  }
  return results.some((r) => r.status !== 'ok') ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bench:speed: ${describeError(e)}\n`);
    process.exitCode = 2;
  },
);
