/**
 * `npm run bench:quality [-- --datasets a,b --rounds R --seeds 1,2,3]`
 *
 * Plays the human through doppel's public API, exactly as a user would (AWS SDKs over HTTP against
 * a real server process started from the compiled CLI with its own temporary data dir):
 *
 *   upload records.csv to the embedded S3 → CreateDatabase → CreateTable (OpenCSVSerde, header
 *   skipped, every column string) → CreateMLTransform (primary key `id`, default parameters), then
 *   R rounds of: StartMLLabelingSetGenerationTaskRun → read the labeling set → label it from
 *   truth.csv → upload → StartImportLabelsTaskRun → StartMLEvaluationTaskRun (EvaluationMetrics) →
 *   a `findmatches` job (CreateJob once, StartJobRun, GetJobRun) → read its part files → score them
 *   with the pairwise scorer. After the last round, the labels it imported are replayed in this
 *   process through the engine to count the truth's matching pairs among the candidate pairs
 *   (true candidate recall: the server does not expose its candidates).
 *
 * Every dataset runs once per seed, each run with a fresh server. Writes
 * bench/results/quality-<dataset>-seed<S>.json and .csv after every round and regenerates
 * BENCHMARKS.md at the end. A failing run is reported and the others still run.
 *
 * Options:
 *   --datasets a,b        datasets to run (default: every dataset in the datasets folder)
 *   --rounds R            rounds per dataset (default 10)
 *   --seeds 1,2,3         one run per seed, each recorded with its results and given to its server as
 *                         DOPPEL_SEED (default 1)
 *   --seed S              the same as --seeds S
 *   --timeout-minutes M   longest wait for one task run or job run (default 60)
 *   --keep-data           keep each server's data dir (its path is printed)
 *   --precision-recall X  the transform's PrecisionRecallTradeoff (default: not set, doppel's default)
 *   --accuracy-cost X     the transform's AccuracyCostTradeoff (default: not set)
 *                         Runs with either tradeoff set are written under bench/results/tradeoffs/ and
 *                         listed apart in BENCHMARKS.md (the summary table is for default parameters).
 *   --sweep-precision-recall 0.1,0.5,0.9
 *   --sweep-accuracy-cost 0.1,0.9
 *                         after the last round, on its labels: for each value, UpdateMLTransform sets
 *                         that tradeoff (the other stays as created), then an evaluation and a
 *                         find-matches job are run and scored; recorded as `sweeps` in the result JSON
 *                         and as a tradeoff table in BENCHMARKS.md
 *   --report-only         only regenerate BENCHMARKS.md from bench/results
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CreateDatabaseCommand,
  CreateJobCommand,
  GetMLTransformCommand,
  GlueClient,
  UpdateMLTransformCommand,
  StartImportLabelsTaskRunCommand,
  StartJobRunCommand,
  StartMLEvaluationTaskRunCommand,
  StartMLLabelingSetGenerationTaskRunCommand,
} from '@aws-sdk/client-glue';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { createMatcher, type EngineLabel, type MatchParameters } from '../src/engine/index.js';
import { parsePredictionsCsv, readDatasetTruth, type DatasetTruth } from '../src/evaluation/dataset-files.js';
import { scorePairwise, type PredictionRow } from '../src/evaluation/pairwise-score.js';
import {
  describeError,
  evaluationBlockingRecall,
  findMatchesRunStats,
  glueClient,
  putObject,
  readOutputParts,
  s3Client,
  waitForJobRun,
  waitForTaskRun,
  createCsvTable,
  createFindMatchesTransform,
  intOption,
} from './lib/aws.js';
import { countTrueCandidates, rowTruth } from './lib/candidate-recall.js';
import { DATASETS_DIR, listDatasets, resolveDatasetDir } from './lib/datasets.js';
import { loadTeachingDataset } from './lib/engine-teaching.js';
import { fmt } from './lib/format.js';
import { labelFromTruth } from './lib/labeler.js';
import { renderBenchmarksFrom } from './lib/report.js';
import {
  gitCommit,
  learningCurveCsv,
  loadAverage,
  machine,
  type DatasetResult,
  type RoundResult,
  type SweepParameter,
  type SweepPoint,
} from './lib/results.js';
import { startServer, type BenchServer } from './lib/server.js';
import { F1_TARGETS } from './lib/targets.js';

/** dist/bench/ → the checkout. */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
const BENCHMARKS_MD = join(REPO_ROOT, 'BENCHMARKS.md');
const BUCKET = 'doppel-bench';

// The SDK's notice that its 2027 releases need Node 22 is noise in the progress output.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
const ROLE = 'arn:aws:iam::123456789012:role/GlueRole';

interface Options {
  datasets: string[];
  rounds: number;
  /** One run per seed and dataset. */
  seeds: number[];
  timeoutMs: number;
  keepData: boolean;
  precisionRecall?: number;
  accuracyCost?: number;
  /** Tradeoff values to sweep after the last round (empty: no sweep). */
  sweepPrecisionRecall: number[];
  sweepAccuracyCost: number[];
}

const seconds = (start: number) => (performance.now() - start) / 1000;

function log(dataset: string, message: string): void {
  const time = new Date().toISOString().slice(11, 19);
  process.stdout.write(`${time} [${dataset}] ${message}\n`);
}

function parseOptions(argv: string[]): (Options & { reportOnly: boolean }) | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      datasets: { type: 'string' },
      rounds: { type: 'string', default: '10' },
      seed: { type: 'string' },
      seeds: { type: 'string' },
      'timeout-minutes': { type: 'string', default: '60' },
      'keep-data': { type: 'boolean', default: false },
      'report-only': { type: 'boolean', default: false },
      'precision-recall': { type: 'string' },
      'accuracy-cost': { type: 'string' },
      'sweep-precision-recall': { type: 'string' },
      'sweep-accuracy-cost': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench:quality [-- --datasets a,b --rounds R (--seeds S,T,... | --seed S) --timeout-minutes M --keep-data --report-only\n' +
        '       --precision-recall X --accuracy-cost X --sweep-precision-recall x,y,... --sweep-accuracy-cost x,y,...]\n',
    );
    return undefined;
  }
  const datasets = values.datasets
    ? values.datasets.split(',').map((s) => s.trim()).filter((s) => s !== '')
    : listDatasets();
  if (datasets.length === 0) throw new Error(`no datasets found in ${DATASETS_DIR}`);
  for (const d of datasets) resolveDatasetDir(d); // fail early on a typo
  const unit = (name: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const x = Number(text);
    if (!(x >= 0 && x <= 1)) throw new Error(`--${name} must be a number in [0, 1], got ${text}`);
    return x;
  };
  const precisionRecall = unit('precision-recall', values['precision-recall']);
  const accuracyCost = unit('accuracy-cost', values['accuracy-cost']);
  const units = (name: string, text: string | undefined): number[] => {
    if (text === undefined) return [];
    const xs = text.split(',').map((x) => x.trim()).filter((x) => x !== '').map((x) => unit(name, x)!);
    if (xs.length === 0) throw new Error(`--${name} needs a comma-separated list of numbers in [0, 1]`);
    return [...new Set(xs)];
  };
  const sweepPrecisionRecall = units('sweep-precision-recall', values['sweep-precision-recall']);
  const sweepAccuracyCost = units('sweep-accuracy-cost', values['sweep-accuracy-cost']);
  if (values.seed !== undefined && values.seeds !== undefined) throw new Error('give --seeds or --seed, not both');
  const seedsText = values.seeds ?? values.seed ?? '1';
  const seeds = [...new Set(seedsText.split(',').map((x) => x.trim()).filter((x) => x !== '').map((x) => intOption('seeds', x, 0)))];
  if (seeds.length === 0) throw new Error('--seeds needs a comma-separated list of seeds');
  return {
    datasets,
    rounds: intOption('rounds', values.rounds!, 1),
    seeds,
    timeoutMs: intOption('timeout-minutes', values['timeout-minutes']!, 1) * 60_000,
    keepData: values['keep-data']!,
    reportOnly: values['report-only']!,
    ...(precisionRecall !== undefined ? { precisionRecall } : {}),
    ...(accuracyCost !== undefined ? { accuracyCost } : {}),
    sweepPrecisionRecall,
    sweepAccuracyCost,
  };
}

/** Everything one run (a dataset at a seed) needs. */
interface Context {
  name: string;
  /** The dataset and seed, for the progress lines. */
  who: string;
  seed: number;
  dataset: DatasetTruth;
  truthById: Map<string, string>;
  glue: GlueClient;
  s3: S3Client;
  /** The server's endpoint, for raw calls that read doppel's extension members. */
  endpoint: string;
  transformId: string;
  /** s3://bucket/<name>/ */
  base: string;
  jobName?: string;
  options: Options;
  /** Every label imported so far, in import order (the order the server stores them in). */
  labels: EngineLabel[];
}

async function setUp(
  name: string,
  who: string,
  seed: number,
  server: BenchServer,
  dataset: DatasetTruth,
  options: Options,
): Promise<Context> {
  const glue = glueClient(server.endpoint);
  const s3 = s3Client(server.endpoint);
  const dir = dataset.dir;
  const recordsCsv = readFileSync(join(dir, 'records.csv'));
  const header = (parse(recordsCsv, { to_line: 1 }) as string[][])[0]!;
  const base = `s3://${BUCKET}/${name}/`;

  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await putObject(s3, `${base}records/records.csv`, recordsCsv);
  log(who, `uploaded records.csv (${(recordsCsv.length / 2 ** 20).toFixed(1)} MiB, ${dataset.meta.records} records)`);

  const database = `bench_${name}`.toLowerCase();
  const table = 'records';
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database } }));
  await createCsvTable(glue, database, table, header, `${base}records/`);
  const transformId = await createFindMatchesTransform(glue, {
    name: `bench-${name}`,
    role: ROLE,
    database,
    table,
    primaryKey: dataset.meta.primary_key,
    ...(options.precisionRecall !== undefined ? { precisionRecall: options.precisionRecall } : {}),
    ...(options.accuracyCost !== undefined ? { accuracyCost: options.accuracyCost } : {}),
  });
  log(who, `table ${database}.${table} (${header.length} columns) and transform ${transformId} created`);
  return {
    name,
    who,
    seed,
    dataset,
    truthById: new Map(dataset.truth.map((t) => [t.id, t.entityId])),
    glue,
    s3,
    endpoint: server.endpoint,
    transformId,
    base,
    options,
    labels: [],
  };
}

/** The transform's FindMatchesParameters as the benchmark creates them, with `overrides`. */
function findMatchesParameters(ctx: Context, overrides: Partial<Record<SweepParameter, number>> = {}) {
  const { options } = ctx;
  const pr = overrides.PrecisionRecallTradeoff ?? options.precisionRecall;
  const ac = overrides.AccuracyCostTradeoff ?? options.accuracyCost;
  return {
    PrimaryKeyColumnName: ctx.dataset.meta.primary_key,
    ...(pr !== undefined ? { PrecisionRecallTradeoff: pr } : {}),
    ...(ac !== undefined ? { AccuracyCostTradeoff: ac } : {}),
  };
}

interface EvaluationOutcome {
  evaluation: RoundResult['evaluation'];
  blockingRecall: number | null;
  error?: string;
  seconds: number | null;
}

/** StartMLEvaluationTaskRun, then GetMLTransform's EvaluationMetrics (and the raw BlockingRecall). */
async function runEvaluation(ctx: Context): Promise<EvaluationOutcome> {
  const { glue, transformId, options } = ctx;
  const t = performance.now();
  let evaluation: RoundResult['evaluation'];
  try {
    const ev = await glue.send(new StartMLEvaluationTaskRunCommand({ TransformId: transformId }));
    await waitForTaskRun(glue, transformId, ev.TaskRunId!, 'evaluation', options.timeoutMs);
    const tr = await glue.send(new GetMLTransformCommand({ TransformId: transformId }));
    const m = tr.EvaluationMetrics?.FindMatchesMetrics;
    evaluation = {
      precision: m?.Precision ?? null,
      recall: m?.Recall ?? null,
      f1: m?.F1 ?? null,
      areaUnderPRCurve: m?.AreaUnderPRCurve ?? null,
    };
  } catch (e) {
    return { evaluation: null, blockingRecall: null, error: describeError(e), seconds: null };
  }
  const seconds_ = seconds(t);
  let blockingRecall: number | null = null;
  try {
    blockingRecall = await evaluationBlockingRecall(ctx.endpoint, transformId);
  } catch (e) {
    log(ctx.who, `could not read BlockingRecall: ${describeError(e)}`);
  }
  return { evaluation, blockingRecall, seconds: seconds_ };
}

interface FindMatchesOutcome {
  predictions: PredictionRow[];
  score: ReturnType<typeof scorePairwise>;
  seconds: number;
  candidatePairs: number | null;
  matchedPairs: number | null;
}

/** A run of the `findmatches` job (created on first use) writing to `outputPath`, read back and scored. */
async function runFindMatches(ctx: Context, outputPath: string): Promise<FindMatchesOutcome> {
  const { name, glue, s3, transformId, options } = ctx;
  const t = performance.now();
  if (ctx.jobName === undefined) {
    const jobName = `bench-${name}-findmatches`;
    await glue.send(
      new CreateJobCommand({
        Name: jobName,
        Role: ROLE,
        Command: { Name: 'findmatches' },
        DefaultArguments: { '--transform-id': transformId, '--output-path': `${ctx.base}matches/latest/` },
      }),
    );
    ctx.jobName = jobName;
  }
  const started = await glue.send(
    new StartJobRunCommand({ JobName: ctx.jobName, Arguments: { '--output-path': outputPath } }),
  );
  await waitForJobRun(glue, ctx.jobName, started.JobRunId!, options.timeoutMs);
  const findMatchesSeconds = seconds(t);
  let candidatePairs: number | null = null;
  let matchedPairs: number | null = null;
  try {
    const stats = await findMatchesRunStats(ctx.endpoint, transformId, started.JobRunId!);
    candidatePairs = stats.candidatePairs;
    matchedPairs = stats.matchedPairs;
  } catch (e) {
    log(ctx.who, `could not read the find-matches task run's counts: ${describeError(e)}`);
  }
  const outputParts = await readOutputParts(s3, outputPath);
  const predictions: PredictionRow[] = [];
  for (const p of outputParts) {
    // A loop, not push(...rows): spreading a part file's rows as arguments overflows the stack.
    for (const row of parsePredictionsCsv(Buffer.from(p.bytes), p.key, ctx.dataset.meta.primary_key)) predictions.push(row);
  }
  const score = scorePairwise(ctx.dataset.truth, predictions, ctx.dataset.meta.score_pairs);
  return { predictions, score, seconds: findMatchesSeconds, candidatePairs, matchedPairs };
}

const count = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toLocaleString('en-US'));

const pad = (n: number) => String(n).padStart(2, '0');

async function runRound(ctx: Context, round: number, labeledSoFar: number): Promise<RoundResult> {
  const { who, glue, s3, transformId, options } = ctx;
  const roundStart = performance.now();
  const tag = `round ${round}/${options.rounds}`;

  // 1. Labeling set.
  let t = performance.now();
  const labelingPath = `${ctx.base}labeling-sets/round-${pad(round)}/`;
  const gen = await glue.send(
    new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: labelingPath }),
  );
  await waitForTaskRun(glue, transformId, gen.TaskRunId!, 'labeling-set generation', options.timeoutMs);
  const parts = await readOutputParts(s3, labelingPath);
  const labeled = labelFromTruth(
    parts.map((p) => p.bytes),
    ctx.truthById,
    ctx.dataset.meta.primary_key,
  );
  const labelingSeconds = seconds(t);
  const agreement = labeled.suggestion.pairs > 0 ? labeled.suggestion.agreeingPairs / labeled.suggestion.pairs : null;
  log(
    who,
    `${tag}: labeling set of ${labeled.rows} rows in ${labeled.labelingSets} sets, ${labeled.matchedRows} rows in matches` +
      `${agreement === null ? '' : `, suggested labels ${(agreement * 100).toFixed(0)}% right`} (${labelingSeconds.toFixed(1)} s)`,
  );

  // 2. Import the labels (an empty labeling set leaves nothing to import).
  t = performance.now();
  if (labeled.rows > 0) {
    const labelsPath = `${ctx.base}labels/round-${pad(round)}.csv`;
    await putObject(s3, labelsPath, labeled.csv);
    const imp = await glue.send(
      new StartImportLabelsTaskRunCommand({ TransformId: transformId, InputS3Path: labelsPath, ReplaceAllLabels: false }),
    );
    await waitForTaskRun(glue, transformId, imp.TaskRunId!, 'label import', options.timeoutMs);
    // A loop, not push(...labels): spreading a large round's labels as arguments overflows the stack.
    for (const label of labeled.labels) ctx.labels.push(label);
  } else {
    log(who, `${tag}: the labeling set is empty: nothing to import`);
  }
  const afterImport = await glue.send(new GetMLTransformCommand({ TransformId: transformId }));
  const importSeconds = seconds(t);
  const labeledRows = labeledSoFar + labeled.rows;
  log(who, `${tag}: labels imported, LabelCount ${afterImport.LabelCount}, transform ${afterImport.Status} (${importSeconds.toFixed(1)} s)`);

  // 3. Evaluation (its failure is recorded; the round goes on to find matches).
  const ev = await runEvaluation(ctx);
  const evaluation = ev.evaluation;
  const evaluationError = ev.error;
  const evaluationSeconds = ev.seconds;
  if (evaluation) {
    log(
      who,
      `${tag}: evaluation P ${fmt(evaluation.precision)} R ${fmt(evaluation.recall)} F1 ${fmt(evaluation.f1)} ` +
        `AUPRC ${fmt(evaluation.areaUnderPRCurve)} blocking recall ${fmt(ev.blockingRecall)} (${evaluationSeconds!.toFixed(1)} s)`,
    );
  } else {
    log(who, `${tag}: evaluation failed: ${evaluationError}`);
  }

  // 4. Find matches through the Jobs API, then score the output.
  const fm = await runFindMatches(ctx, `${ctx.base}matches/round-${pad(round)}/`);
  const { predictions, score } = fm;
  const findMatchesSeconds = fm.seconds;
  const roundSeconds = seconds(roundStart);
  const issues =
    score.missingRecords || score.unknownIds || score.duplicateIds
      ? ` [output: ${score.missingRecords} records missing, ${score.unknownIds} unknown ids, ${score.duplicateIds} repeated]`
      : '';
  log(
    who,
    `${tag}: find-matches ${findMatchesSeconds.toFixed(1)} s, ${predictions.length} rows, ${score.predictedClusters} clusters, ` +
      `${count(fm.candidatePairs)} candidate pairs, ${count(fm.matchedPairs)} matched → ` +
      `P ${fmt(score.precision)} R ${fmt(score.recall)} F1 ${fmt(score.f1)} with ${labeledRows} labeled rows${issues} ` +
      `(round ${roundSeconds.toFixed(1)} s)`,
  );

  return {
    round,
    labelingSets: labeled.labelingSets,
    roundRows: labeled.rows,
    roundMatchedRows: labeled.matchedRows,
    labeledRows,
    labelCount: afterImport.LabelCount ?? null,
    suggestionAgreement: agreement,
    precision: score.precision,
    recall: score.recall,
    f1: score.f1,
    truePositives: score.truePositives,
    predictedPairs: score.predictedPairs,
    truePairs: score.truePairs,
    missingRecords: score.missingRecords,
    unknownIds: score.unknownIds,
    outputRows: predictions.length,
    evaluation,
    ...(evaluationError !== undefined ? { evaluationError } : {}),
    candidatePairs: fm.candidatePairs,
    matchedPairs: fm.matchedPairs,
    blockingRecall: ev.blockingRecall,
    seconds: {
      round: roundSeconds,
      labelingSet: labelingSeconds,
      importLabels: importSeconds,
      evaluation: evaluationSeconds,
      findMatches: findMatchesSeconds,
    },
  };
}

function writeResult(result: DatasetResult): void {
  const p = result.parameters;
  const tradeoffs = p.precisionRecallTradeoff !== undefined || p.accuracyCostTradeoff !== undefined;
  const dir = tradeoffs ? join(RESULTS_DIR, 'tradeoffs') : RESULTS_DIR;
  const tradeoffSuffix = tradeoffs ? `-pr${p.precisionRecallTradeoff ?? 'default'}-ac${p.accuracyCostTradeoff ?? 'default'}` : '';
  const suffix = `${tradeoffSuffix}-seed${result.seed}`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `quality-${result.dataset}${suffix}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(dir, `quality-${result.dataset}${suffix}.csv`), learningCurveCsv(result));
}

/**
 * The tradeoff sweeps: after the last round, on its labels, each value of each swept tradeoff in
 * turn (UpdateMLTransform, evaluation, find-matches job, score). A point that fails is recorded with
 * its error and the sweep goes on; the transform gets its own parameters back at the end.
 */
async function runSweeps(ctx: Context, result: DatasetResult): Promise<void> {
  const { who, glue, transformId, options } = ctx;
  const plan: Array<[SweepParameter, number]> = [
    ...options.sweepPrecisionRecall.map((v): [SweepParameter, number] => ['PrecisionRecallTradeoff', v]),
    ...options.sweepAccuracyCost.map((v): [SweepParameter, number] => ['AccuracyCostTradeoff', v]),
  ];
  if (plan.length === 0) return;
  result.sweeps = [];
  const update = (overrides: Partial<Record<SweepParameter, number>>) =>
    glue.send(
      new UpdateMLTransformCommand({
        TransformId: transformId,
        Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: findMatchesParameters(ctx, overrides) },
      }),
    );
  for (const [parameter, value] of plan) {
    const tag = `sweep ${parameter} ${value}`;
    const start = performance.now();
    const point: SweepPoint = {
      parameter,
      value,
      precision: null,
      recall: null,
      f1: null,
      predictedPairs: null,
      evaluation: null,
      candidatePairs: null,
      matchedPairs: null,
      blockingRecall: null,
      seconds: 0,
    };
    try {
      await update({ [parameter]: value });
      const ev = await runEvaluation(ctx);
      if (ev.evaluation) {
        point.evaluation = { precision: ev.evaluation.precision, recall: ev.evaluation.recall, f1: ev.evaluation.f1 };
      } else {
        point.evaluationError = ev.error!;
        log(who, `${tag}: evaluation failed: ${ev.error}`);
      }
      point.blockingRecall = ev.blockingRecall;
      const slug = parameter === 'PrecisionRecallTradeoff' ? 'pr' : 'ac';
      const fm = await runFindMatches(ctx, `${ctx.base}matches/sweep-${slug}-${value}/`);
      Object.assign(point, {
        precision: fm.score.precision,
        recall: fm.score.recall,
        f1: fm.score.f1,
        predictedPairs: fm.score.predictedPairs,
        candidatePairs: fm.candidatePairs,
        matchedPairs: fm.matchedPairs,
      });
      point.seconds = seconds(start);
      log(
        who,
        `${tag}: P ${fmt(point.precision)} R ${fmt(point.recall)} F1 ${fmt(point.f1)}, ` +
          `est. P ${fmt(point.evaluation?.precision)} R ${fmt(point.evaluation?.recall)}, ` +
          `${count(point.candidatePairs)} candidate pairs, ${count(point.matchedPairs)} matched, ` +
          `blocking recall ${fmt(point.blockingRecall)} (${point.seconds.toFixed(1)} s)`,
      );
    } catch (e) {
      point.error = describeError(e);
      point.seconds = seconds(start);
      log(who, `${tag}: FAILED: ${point.error}`);
    }
    result.sweeps.push(point);
    result.finishedAt = new Date().toISOString();
    result.loadAverage!.end = loadAverage();
    writeResult(result);
  }
  try {
    await update({});
  } catch (e) {
    log(who, `could not restore the transform's parameters after the sweep: ${describeError(e)}`);
  }
}

async function runDataset(name: string, seed: number, options: Options, version: string): Promise<DatasetResult> {
  const who = `${name} seed ${seed}`;
  const dataset = readDatasetTruth(resolveDatasetDir(name));
  const target = F1_TARGETS[name] ?? null;
  const result: DatasetResult = {
    dataset: name,
    task: dataset.meta.task,
    records: dataset.meta.records,
    truePairs: dataset.meta.true_pairs,
    scorePairs: dataset.meta.score_pairs,
    target,
    roundsRequested: options.rounds,
    seed,
    parameters: {
      ...(options.precisionRecall !== undefined ? { precisionRecallTradeoff: options.precisionRecall } : {}),
      ...(options.accuracyCost !== undefined ? { accuracyCostTradeoff: options.accuracyCost } : {}),
    },
    status: 'running',
    startedAt: new Date().toISOString(),
    finishedAt: '',
    machine: machine(),
    doppel: { version, commit: gitCommit(REPO_ROOT) },
    loadAverage: { start: loadAverage(), end: loadAverage() },
    setupSeconds: 0,
    rounds: [],
    roundsToTarget: null,
  };
  log(
    who,
    `${dataset.meta.task}, ${dataset.meta.records} records, ${dataset.meta.true_pairs} true pairs` +
      `${target === null ? '' : `, target F1 ${target}`}; ${options.rounds} rounds`,
  );
  const setupStart = performance.now();
  let server: BenchServer | undefined;
  try {
    server = await startServer({ DOPPEL_SEED: String(seed) });
    log(who, `doppel serving on ${server.endpoint}, data dir ${server.dataDir}`);
    const ctx = await setUp(name, who, seed, server, dataset, options);
    result.setupSeconds = seconds(setupStart);
    let labeled = 0;
    for (let round = 1; round <= options.rounds; round += 1) {
      const roundStart = performance.now();
      let r: RoundResult;
      try {
        r = await runRound(ctx, round, labeled);
      } catch (e) {
        const error = describeError(e);
        result.rounds.push(failedRound(round, labeled, seconds(roundStart), error));
        throw e;
      }
      labeled = r.labeledRows;
      result.rounds.push(r);
      if (result.roundsToTarget === null && target !== null && r.f1 !== null && r.f1 >= target) {
        result.roundsToTarget = round;
        log(who, `reached the target F1 ${target} in round ${round}`);
      }
      result.finishedAt = new Date().toISOString();
      result.loadAverage!.end = loadAverage();
      writeResult(result);
    }
    await measureTrueCandidateRecall(ctx, result.rounds.at(-1)!);
    writeResult(result);
    await runSweeps(ctx, result);
    result.status = 'ok';
  } catch (e) {
    result.status = 'failed';
    result.error = describeError(e);
    if (result.setupSeconds === 0) result.setupSeconds = seconds(setupStart);
    log(who, `FAILED: ${result.error}`);
    const tail = server?.output().trim().split('\n').slice(-15).join('\n');
    if (tail) process.stdout.write(`--- last lines of the doppel server's output ---\n${tail}\n---\n`);
  } finally {
    await server?.stop(options.keepData);
    if (server && options.keepData) log(who, `data dir kept: ${server.dataDir}`);
  }
  result.finishedAt = new Date().toISOString();
  result.loadAverage!.end = loadAverage();
  writeResult(result);
  return result;
}

/** Replays labels in this process; one matcher for the whole benchmark, its threads started on first use. */
const replayMatcher = createMatcher();

/**
 * True candidate recall after the last round (`round`). The server does not expose its candidate
 * pairs, so the labels the benchmark imported are replayed with records.csv through the engine in
 * this process, with the server's seed and the transform's parameters, and the truth's matching
 * pairs are counted among the candidate pairs it proposes. The replay's candidate count is logged
 * beside the server's CandidatePairCount of that round: equal counts say the replay blocked as the
 * server did. A failed replay is recorded and the run goes on.
 */
async function measureTrueCandidateRecall(ctx: Context, round: RoundResult): Promise<void> {
  const start = performance.now();
  try {
    const ds = loadTeachingDataset(ctx.dataset.dir);
    const created = findMatchesParameters(ctx);
    const params: MatchParameters = {
      seed: ctx.seed,
      ...(created.PrecisionRecallTradeoff !== undefined ? { precisionRecallTradeoff: created.PrecisionRecallTradeoff } : {}),
      ...(created.AccuracyCostTradeoff !== undefined ? { accuracyCostTradeoff: created.AccuracyCostTradeoff } : {}),
    };
    const pairs = await replayMatcher.candidatePairs(ds.table, ctx.labels, params);
    const counted = countTrueCandidates(rowTruth(ds.keys, ds.truth, ds.meta.score_pairs), pairs);
    round.trueCandidateRecall = counted.recall;
    round.candidateReplay = {
      candidatePairs: counted.candidatePairs,
      trueCandidatePairs: counted.trueCandidatePairs,
      truePairs: counted.truePairs,
      seconds: seconds(start),
    };
    log(
      ctx.who,
      `true candidate recall after round ${round.round}: ${fmt(counted.recall)} (${count(counted.trueCandidatePairs)} of ` +
        `${count(counted.truePairs)} true pairs among ${count(counted.candidatePairs)} candidate pairs replayed in-process ` +
        `from ${ctx.labels.length} labels; the server's: ${count(round.candidatePairs)}; BlockingRecall ${fmt(round.blockingRecall)}) ` +
        `(${round.candidateReplay.seconds.toFixed(1)} s)`,
    );
  } catch (e) {
    round.trueCandidateRecall = null;
    round.candidateReplay = { candidatePairs: null, trueCandidatePairs: null, truePairs: null, seconds: seconds(start), error: describeError(e) };
    log(ctx.who, `could not replay the labels for the true candidate recall: ${round.candidateReplay.error}`);
  }
}

function failedRound(round: number, labeledRows: number, secs: number, error: string): RoundResult {
  return {
    round,
    labelingSets: 0,
    roundRows: 0,
    roundMatchedRows: 0,
    labeledRows,
    labelCount: null,
    suggestionAgreement: null,
    precision: null,
    recall: null,
    f1: null,
    truePositives: null,
    predictedPairs: null,
    truePairs: null,
    missingRecords: null,
    unknownIds: null,
    outputRows: null,
    evaluation: null,
    seconds: { round: secs, labelingSet: 0, importLabels: 0, evaluation: null, findMatches: null },
    error,
  };
}

function writeBenchmarks(): void {
  writeFileSync(BENCHMARKS_MD, renderBenchmarksFrom(RESULTS_DIR));
  process.stdout.write(`BENCHMARKS.md regenerated from ${RESULTS_DIR}\n`);
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) return 0;
  if (options.reportOnly) {
    writeBenchmarks();
    return 0;
  }
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const m = machine();
  process.stdout.write(
    `bench:quality: ${options.datasets.join(', ')}; ${options.rounds} rounds, seed${options.seeds.length > 1 ? 's' : ''} ${options.seeds.join(', ')}\n` +
      `machine: ${m.cpus} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}\n`,
  );
  const results: DatasetResult[] = [];
  for (const name of options.datasets) {
    for (const seed of options.seeds) results.push(await runDataset(name, seed, options, version));
  }
  writeBenchmarks();

  process.stdout.write('\nsummary\n');
  for (const r of results) {
    const last = r.rounds.filter((x) => x.f1 !== null).at(-1);
    const target = r.target === null ? '' : ` (target ${r.target}${r.roundsToTarget !== null ? `, reached in round ${r.roundsToTarget}` : ', not reached'})`;
    process.stdout.write(
      `  ${r.dataset.padEnd(24)} seed ${String(r.seed).padEnd(3)} ${r.status === 'ok' ? 'ok    ' : 'FAILED'} ` +
        `${last ? `F1 ${fmt(last.f1)} P ${fmt(last.precision)} R ${fmt(last.recall)} after ${last.labeledRows} labeled rows` : 'no score'}` +
        `${r.rounds.at(-1)?.trueCandidateRecall != null ? `, true candidate recall ${fmt(r.rounds.at(-1)!.trueCandidateRecall)}` : ''}` +
        `${target}${r.error ? `\n      ${r.error.split('\n')[0]}` : ''}\n`,
    );
    for (const p of r.sweeps ?? []) {
      process.stdout.write(
        `      ${p.parameter.padEnd(23)} ${String(p.value).padEnd(5)} ` +
          (p.error
            ? `FAILED: ${p.error.split('\n')[0]}\n`
            : `P ${fmt(p.precision)} R ${fmt(p.recall)} F1 ${fmt(p.f1)}  candidate pairs ${count(p.candidatePairs)}, ` +
              `matched ${count(p.matchedPairs)}, blocking recall ${fmt(p.blockingRecall)}\n`),
      );
    }
  }
  return results.some((r) => r.status === 'failed') ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bench:quality: ${describeError(e)}\n`);
    process.exitCode = 2;
  },
);
