/**
 * What `npm run bench:quality` records: one JSON file per dataset and seed
 * (`bench/results/quality-<name>-seed<S>.json`), a CSV learning curve beside it, and the summary
 * table in BENCHMARKS.md regenerated from all of them.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';

export interface Machine {
  cpu: string;
  cpus: number;
  memoryGiB: number;
  node: string;
  os: string;
  date: string;
}

export interface RoundResult {
  round: number;
  /** Labeling sets and rows in this round's labeling set. */
  labelingSets: number;
  roundRows: number;
  /** Rows of this round sharing their label with another row of their set. */
  roundMatchedRows: number;
  /** Labeled rows imported so far (all rounds), as the benchmark counts them. */
  labeledRows: number;
  /** The transform's LabelCount after the import. */
  labelCount: number | null;
  /** Share of within-set pairs where doppel's suggested labels agreed with the truth. */
  suggestionAgreement: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  truePositives: number | null;
  predictedPairs: number | null;
  truePairs: number | null;
  missingRecords: number | null;
  unknownIds: number | null;
  outputRows: number | null;
  evaluation: { precision: number | null; recall: number | null; f1: number | null; areaUnderPRCurve: number | null } | null;
  evaluationError?: string;
  /**
   * doppel's extension members, read from the raw wire (null: not reported; absent in results
   * written before they existed): the find-matches task run's CandidatePairCount and
   * MatchedPairCount, and EvaluationMetrics' BlockingRecall.
   */
  candidatePairs?: number | null;
  matchedPairs?: number | null;
  blockingRecall?: number | null;
  /**
   * The last round only (absent on other rounds and in results recorded before it existed): the
   * share of the truth's matching pairs, counted as the scorer counts them, among the candidate
   * pairs, from the round's labels replayed in-process (`candidateReplay`); null when the replay failed.
   */
  trueCandidateRecall?: number | null;
  candidateReplay?: CandidateReplay;
  seconds: {
    round: number;
    labelingSet: number;
    importLabels: number;
    evaluation: number | null;
    findMatches: number | null;
  };
  /** Set when the round could not finish; the dataset stops there. */
  error?: string;
}

/**
 * How `trueCandidateRecall` was measured: every label the benchmark imported, in import order,
 * given with the table (records.csv) to the engine in the benchmark's process (`createMatcher()`,
 * `Matcher.candidatePairs`) with the server's seed and the transform's parameters; the truth's
 * matching pairs counted among the candidate pairs (`lib/candidate-recall.ts`).
 */
export interface CandidateReplay {
  /** The replay's candidate pairs; the server's for the same round are the round's `candidatePairs`. */
  candidatePairs: number | null;
  trueCandidatePairs: number | null;
  truePairs: number | null;
  seconds: number;
  error?: string;
}

/** The FindMatchesParameters member a sweep varies. */
export type SweepParameter = 'PrecisionRecallTradeoff' | 'AccuracyCostTradeoff';

/**
 * One point of a tradeoff sweep (`--sweep-precision-recall` / `--sweep-accuracy-cost`): after the
 * last round, on its labels, UpdateMLTransform sets `parameter` to `value` (the other tradeoff as the
 * run created it), then an evaluation and a find-matches job run, and the output is scored.
 */
export interface SweepPoint {
  parameter: SweepParameter;
  value: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  predictedPairs: number | null;
  /** EvaluationMetrics (cross-validated estimates on the labels) at this value. */
  evaluation: { precision: number | null; recall: number | null; f1: number | null } | null;
  candidatePairs: number | null;
  matchedPairs: number | null;
  blockingRecall: number | null;
  /** Wall-clock seconds for the update, the evaluation, the job and the scoring. */
  seconds: number;
  evaluationError?: string;
  /** Set when the point could not be measured. */
  error?: string;
}

/** What every benchmark result file states about the run that wrote it. */
export interface BenchRun {
  /** `running` while work remains (a file left `running` is from an interrupted benchmark). */
  status: 'ok' | 'failed' | 'running';
  error?: string;
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  doppel: { version: string; commit: string };
}

export interface DatasetResult extends BenchRun {
  dataset: string;
  task: string;
  records: number;
  truePairs: number;
  scorePairs: string;
  target: number | null;
  roundsRequested: number;
  seed: number;
  /** FindMatchesParameters tradeoffs the benchmark set ({} = doppel's defaults). */
  parameters: { precisionRecallTradeoff?: number; accuracyCostTradeoff?: number };
  /** 1-minute load average of the machine when the dataset started and ended (other work slows timings). */
  loadAverage?: { start: number; end: number };
  /** Seconds to start the server, upload records.csv and create the table and transform. */
  setupSeconds: number;
  rounds: RoundResult[];
  /** First round whose F1 reached the target (null: not reached or no target). */
  roundsToTarget: number | null;
  /** Tradeoff sweeps after the last round, when asked for. */
  sweeps?: SweepPoint[];
}

export function machine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cpus: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()}`,
    date: new Date().toISOString(),
  };
}

/** The 1-minute load average, rounded. */
export function loadAverage(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

/**
 * The checkout's commit, with `+dirty` when the code that ran differs from it (changed or untracked
 * files under src/ or bench/, or package.json), or `unknown`.
 */
export function gitCommit(cwd: string): string {
  // A clean export of a commit (git archive) is no repository: the caller names the commit.
  const given = process.env['DOPPEL_BENCH_COMMIT'];
  if (given) return given;
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench', 'package.json'], {
      cwd,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((l) => l.trim() !== '' && !/ bench\/results\//.test(l))
      .join('\n');
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

const num = (x: number | null | undefined) => (x === null || x === undefined ? '' : String(x));

/** The learning curve as CSV: one row per round. */
export function learningCurveCsv(result: DatasetResult): string {
  const header = [
    'round',
    'labeled_rows',
    'label_count',
    'precision',
    'recall',
    'f1',
    'eval_precision',
    'eval_recall',
    'eval_f1',
    'round_seconds',
    'labeling_set_seconds',
    'import_labels_seconds',
    'evaluation_seconds',
    'find_matches_seconds',
    'candidate_pairs',
    'matched_pairs',
    'blocking_recall',
    'true_candidate_recall',
    'error',
  ];
  const lines = [header.join(',')];
  for (const r of result.rounds) {
    const error = r.error ?? r.evaluationError ?? '';
    lines.push(
      [
        r.round,
        r.labeledRows,
        num(r.labelCount),
        num(r.precision),
        num(r.recall),
        num(r.f1),
        num(r.evaluation?.precision),
        num(r.evaluation?.recall),
        num(r.evaluation?.f1),
        r.seconds.round.toFixed(2),
        r.seconds.labelingSet.toFixed(2),
        r.seconds.importLabels.toFixed(2),
        r.seconds.evaluation === null ? '' : r.seconds.evaluation.toFixed(2),
        r.seconds.findMatches === null ? '' : r.seconds.findMatches.toFixed(2),
        num(r.candidatePairs),
        num(r.matchedPairs),
        num(r.blockingRecall),
        num(r.trueCandidateRecall),
        error ? `"${error.replace(/"/g, '""').replace(/\s+/g, ' ')}"` : '',
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
