/**
 * What `npm run bench:speed` records (`bench/results/speed-<records>[-act<X>].json`): every repeat's
 * raw measurements, their medians and ranges, and the acceptance targets checked against them.
 */
import type { PairwiseScore } from '../../src/evaluation/pairwise-score.js';
import type { LatencySummary } from './latency-probe.js';
import type { StageUsage } from './proc-tree.js';
import type { BenchRun } from './results.js';
import { PHASES, type Phase, type ProgressTransition } from './run-watch.js';
import { median, rangeOf, type Range } from './stats.js';
import { SPEED_TARGETS } from './targets.js';

/** One task run or job run, from its start call to its terminal state. */
export interface StageMeasure extends StageUsage {
  /** Wall seconds from the start call to the poll that saw the terminal state. */
  seconds: number;
  taskRunId: string | null;
  status: string;
  errorString: string | null;
  /** The run's Progress at every change of stage (empty when the server does not report Progress). */
  progress: ProgressTransition[];
  progressReported: boolean;
}

/** One teaching round: a labeling set generated, labeled from the truth and imported. */
export interface TeachingRound {
  round: number;
  labelingSet: StageMeasure;
  labelingSetRows: number;
  labelingSets: number;
  /** Rows sharing their label with another row of their set. */
  matchedRows: number;
  /** The import of the labeled set; null when the labeling set was empty. */
  import: StageMeasure | null;
  /** Labeled rows imported so far (all rounds). */
  labeledRows: number;
  /** The transform's LabelCount after the import. */
  labelCount: number | null;
  /** The whole round: generation, reading and labeling the set, uploading it, the import. */
  seconds: number;
}

export interface EvaluationMeasure extends StageMeasure {
  precision: number | null;
  recall: number | null;
  f1: number | null;
  areaUnderPRCurve: number | null;
  blockingRecall: number | null;
}

export interface FindMatchesMeasure extends StageMeasure {
  jobRunId: string;
  candidatePairs: number | null;
  scoredPairs: number | null;
  matchedPairs: number | null;
  matchGroups: number | null;
  /** Seconds per phase from the Progress transitions (null without Progress). */
  phases: Partial<Record<Phase, number>> | null;
  /** Seconds of the scoring stage: from Progress, or the job's wall time when the server reports none. */
  scoringSeconds: number;
  scoringSecondsFrom: 'progress' | 'job wall time';
  /** ScoredPairCount / scoringSeconds, and that per core of the machine. */
  pairsPerSecond: number | null;
  pairsPerSecondPerCore: number | null;
  /** The latency probe's label import ran at the same time (CPU and tree RSS include it). */
}

/** The pairwise score of the find-matches output against truth.csv, and the output's row count. */
export type OutputScore = Pick<
  PairwiseScore,
  'precision' | 'recall' | 'f1' | 'truePositives' | 'predictedPairs' | 'truePairs' | 'missingRecords' | 'unknownIds' | 'duplicateIds'
> & { outputRows: number };

/** GetMLTransform timed in a loop while the find-matches job and a big label import run. */
export interface ProbeMeasure {
  /** Rows, labeling sets and bytes of the label file imported on the second transform. */
  importRows: number;
  importLabelingSets: number;
  importFileBytes: number;
  /** Null when `--probe-import-rows 0`. */
  import: StageMeasure | null;
  /** Seconds the probe ran: from the start calls until both runs had ended. */
  seconds: number;
  latency: LatencySummary;
}

/** One task run as the server reported it at the end of a repeat. */
export interface RunRecord {
  transform: 'main' | 'probe';
  taskRunId: string;
  type: string;
  status: string;
  /** doppel's Attempt and InterruptionCount members; null when the server does not report them. */
  attempt: number | null;
  interruptions: number | null;
  errorString: string | null;
}

/** Whether any task run was re-executed or failed by the server that ran it, and the evidence. */
export interface RunIntegrity {
  ok: boolean;
  /** Whether the server reports Attempt / InterruptionCount (else only its log is evidence). */
  attemptsReported: boolean;
  runs: RunRecord[];
  /** Server log lines mentioning a retry, an interruption or a recovery. */
  logLines: string[];
}

export interface SpeedRepeat {
  repeat: number;
  status: 'ok' | 'failed';
  error?: string;
  startedAt: string;
  /** The machine's 1-minute load average when the repeat started and ended. */
  loadAverage: { start: number; end: number };
  setup: { serverStartSeconds: number; uploadSeconds: number; uploadBytes: number };
  rounds: TeachingRound[];
  evaluation: EvaluationMeasure | null;
  /** Stopping and starting the server before the find-matches job (so nothing is cached). */
  restartSeconds: number | null;
  findMatches: FindMatchesMeasure | null;
  score: OutputScore | null;
  probe: ProbeMeasure | null;
  integrity: RunIntegrity | null;
}

/** Medians and ranges over the repeats that completed. */
export interface SpeedSummary {
  repeats: number;
  labeledRows: Range | null;
  /** Per repeat the median over its rounds, and the slowest of its rounds. */
  labelingSetSeconds: Range | null;
  labelingSetMaxSeconds: Range | null;
  importSeconds: Range | null;
  roundSeconds: Range | null;
  evaluationSeconds: Range | null;
  /** A round as a user goes through it: median teaching round + evaluation + find-matches. */
  wholeRoundSeconds: Range | null;
  findMatchesSeconds: Range | null;
  findMatchesCpuSeconds: Range | null;
  phaseSeconds: Partial<Record<Phase, Range>>;
  /** Find-matches: the largest single process, the largest tree sum. */
  peakProcessRssBytes: Range | null;
  peakTreeRssBytes: Range | null;
  /** The largest single process in any stage of the repeat. */
  peakProcessRssAnyStageBytes: Range | null;
  candidatePairs: Range | null;
  scoredPairs: Range | null;
  pairsPerSecond: Range | null;
  pairsPerSecondPerCore: Range | null;
  /** Whether any repeat derived pairs per second from the job's wall time (no Progress). */
  pairsPerSecondFromWallTime: boolean;
  microsecondsPerRecord: Range | null;
  pairsPerRecord: Range | null;
  precision: Range | null;
  recall: Range | null;
  f1: Range | null;
  estimatedF1: Range | null;
  f1Gap: Range | null;
  probeP50Ms: Range | null;
  probeP99Ms: Range | null;
  probeMaxMs: Range | null;
  probeCalls: Range | null;
  probeErrors: Range | null;
  probeImportRows: Range | null;
  /** Repeats whose integrity check passed, of those checked. */
  integrityOk: number;
  integrityChecked: number;
  /** Whether the find-matches job ran beside the probe's label import in some repeat. */
}

export interface SpeedResult extends BenchRun {
  benchmark: 'speed';
  records: number;
  seed: number;
  roundsRequested: number;
  repeatsRequested: number;
  /** FindMatchesParameters the benchmark set ({} = doppel's defaults). */
  parameters: { accuracyCostTradeoff?: number };
  dataset: { name: string; dir: string; entities: number; truePairs: number; recordsBytes: number; generatedSeconds: number | null };
  repeats: SpeedRepeat[];
  summary: SpeedSummary;
}

/** `speed-<records>[-act<X>]`: the result file's name without `.json`. */
export function speedResultName(records: number, accuracyCostTradeoff?: number): string {
  return `speed-${records}${accuracyCostTradeoff === undefined ? '' : `-act${accuracyCostTradeoff}`}`;
}

const stageMeasures = (r: SpeedRepeat): StageMeasure[] => [
  ...r.rounds.flatMap((x) => (x.import ? [x.labelingSet, x.import] : [x.labelingSet])),
  ...(r.evaluation ? [r.evaluation] : []),
  ...(r.findMatches ? [r.findMatches] : []),
  ...(r.probe?.import ? [r.probe.import] : []),
];

/** Medians and ranges of the completed repeats of one size. */
export function summarizeRepeats(repeats: readonly SpeedRepeat[], records: number): SpeedSummary {
  const ok = repeats.filter((r) => r.status === 'ok');
  const over = (f: (r: SpeedRepeat) => number | null | undefined) => rangeOf(ok.map(f));
  const roundMedian = (r: SpeedRepeat, f: (x: TeachingRound) => number | null | undefined) =>
    median(r.rounds.map(f).filter((x): x is number => typeof x === 'number'));
  const wholeRound = (r: SpeedRepeat) => {
    const round = roundMedian(r, (x) => x.seconds);
    return round === null || !r.evaluation || !r.findMatches ? null : round + r.evaluation.seconds + r.findMatches.seconds;
  };
  const phaseSeconds: Partial<Record<Phase, Range>> = {};
  for (const phase of PHASES) {
    const range = over((r) => r.findMatches?.phases?.[phase]);
    if (range) phaseSeconds[phase] = range;
  }
  const checked = ok.filter((r) => r.integrity !== null);
  return {
    repeats: ok.length,
    labeledRows: over((r) => r.rounds.at(-1)?.labeledRows),
    labelingSetSeconds: over((r) => roundMedian(r, (x) => x.labelingSet.seconds)),
    labelingSetMaxSeconds: over((r) => (r.rounds.length === 0 ? null : Math.max(...r.rounds.map((x) => x.labelingSet.seconds)))),
    importSeconds: over((r) => roundMedian(r, (x) => x.import?.seconds)),
    roundSeconds: over((r) => roundMedian(r, (x) => x.seconds)),
    evaluationSeconds: over((r) => r.evaluation?.seconds),
    wholeRoundSeconds: over(wholeRound),
    findMatchesSeconds: over((r) => r.findMatches?.seconds),
    findMatchesCpuSeconds: over((r) => r.findMatches?.cpuSeconds),
    phaseSeconds,
    peakProcessRssBytes: over((r) => r.findMatches?.peakProcessRssBytes),
    peakTreeRssBytes: over((r) => r.findMatches?.peakTreeRssBytes),
    peakProcessRssAnyStageBytes: over((r) => {
      const stages = stageMeasures(r);
      return stages.length === 0 ? null : Math.max(...stages.map((s) => s.peakProcessRssBytes));
    }),
    candidatePairs: over((r) => r.findMatches?.candidatePairs),
    scoredPairs: over((r) => r.findMatches?.scoredPairs),
    pairsPerSecond: over((r) => r.findMatches?.pairsPerSecond),
    pairsPerSecondPerCore: over((r) => r.findMatches?.pairsPerSecondPerCore),
    pairsPerSecondFromWallTime: ok.some((r) => r.findMatches?.scoringSecondsFrom === 'job wall time'),
    microsecondsPerRecord: over((r) => (r.findMatches ? (r.findMatches.seconds * 1e6) / records : null)),
    pairsPerRecord: over((r) => (r.findMatches?.candidatePairs == null ? null : r.findMatches.candidatePairs / records)),
    precision: over((r) => r.score?.precision),
    recall: over((r) => r.score?.recall),
    f1: over((r) => r.score?.f1),
    estimatedF1: over((r) => r.evaluation?.f1),
    f1Gap: over((r) => (r.score && r.evaluation?.f1 != null ? Math.abs(r.evaluation.f1 - r.score.f1) : null)),
    probeP50Ms: over((r) => r.probe?.latency.p50Ms),
    probeP99Ms: over((r) => r.probe?.latency.p99Ms),
    probeMaxMs: over((r) => r.probe?.latency.maxMs),
    probeCalls: over((r) => r.probe?.latency.calls),
    probeErrors: over((r) => r.probe?.latency.errors),
    probeImportRows: over((r) => r.probe?.importRows),
    integrityOk: checked.filter((r) => r.integrity!.ok).length,
    integrityChecked: checked.length,
  };
}

/** One acceptance target of issue 8, checked against the measured medians. */
export interface AcceptanceCheck {
  target: string;
  status: 'met' | 'not met' | 'not measured';
  /** The numbers it was decided on. */
  detail: string;
}

const GiB = 2 ** 30;
const s1 = (x: number) => `${x.toFixed(1)} s`;
const gib = (x: number) => `${(x / GiB).toFixed(2)} GiB`;

/**
 * Checks issue 8's targets against the result files (default parameters unless said otherwise):
 * each is met, not met, or not measured (its size was not run, or did not complete).
 */
export function checkAcceptance(results: readonly SpeedResult[]): AcceptanceCheck[] {
  const T = SPEED_TARGETS;
  const find = (records: number, act?: number) =>
    results.find((r) => r.records === records && r.parameters.accuracyCostTradeoff === act);
  const measured = (r: SpeedResult | undefined): r is SpeedResult => r !== undefined && r.summary.repeats > 0;
  const out: AcceptanceCheck[] = [];
  const check = (target: string, values: Array<Range | null | undefined>, test: (...xs: number[]) => boolean, detail: (...xs: number[]) => string) => {
    const medians = values.map((v) => v?.median);
    if (medians.some((m) => m === undefined)) {
      out.push({ target, status: 'not measured', detail: '' });
      return;
    }
    const xs = medians as number[];
    out.push({ target, status: test(...xs) ? 'met' : 'not met', detail: detail(...xs) });
  };

  const m1 = find(1_000_000);
  const s = measured(m1) ? m1.summary : undefined;
  check('1M: find-matches ≤ 60 s', [s?.findMatchesSeconds], (x) => x <= T.findMatchesSeconds[1_000_000], s1);
  check('1M: peak RSS of any process ≤ 4 GiB', [s?.peakProcessRssAnyStageBytes], (x) => x <= T.peakRssGiB[1_000_000] * GiB, gib);
  check(`1M: F1 ≥ ${T.f1}`, [s?.f1], (x) => x >= T.f1, (x) => x.toFixed(4));
  check(`1M: |EvaluationMetrics F1 − F1| ≤ ${T.f1Gap}`, [s?.f1Gap], (x) => x <= T.f1Gap, (x) => x.toFixed(4));
  check('1M: labeling-set generation ≤ 20 s (slowest round)', [s?.labelingSetMaxSeconds], (x) => x <= T.labelingSetSeconds, s1);
  check('1M: evaluation ≤ 30 s', [s?.evaluationSeconds], (x) => x <= T.evaluationSeconds, s1);
  check('1M: whole round ≤ 2 min (round + evaluation + find-matches)', [s?.wholeRoundSeconds], (x) => x <= T.wholeRoundSeconds, s1);

  const m5 = find(5_000_000);
  const s5 = measured(m5) ? m5.summary : undefined;
  check('5M: find-matches ≤ 6 min', [s5?.findMatchesSeconds], (x) => x <= T.findMatchesSeconds[5_000_000], s1);
  check('5M: peak RSS of any process ≤ 12 GiB', [s5?.peakProcessRssAnyStageBytes], (x) => x <= T.peakRssGiB[5_000_000] * GiB, gib);
  check(`5M: F1 ≥ ${T.f1}`, [s5?.f1], (x) => x >= T.f1, (x) => x.toFixed(4));

  const fromWall = [s, s5].some((x) => x?.pairsPerSecondFromWallTime);
  check(
    `scored pairs per second on ${T.cores} cores ≥ ${T.pairsPerSecond.toLocaleString('en-US')} (1M)`,
    [s?.pairsPerSecond],
    (x) => x >= T.pairsPerSecond,
    (x) => `${Math.round(x).toLocaleString('en-US')} /s${fromWall ? ' (job wall time: the server reports no stages)' : ''}`,
  );

  const scaling = [100_000, 1_000_000, 5_000_000].map((n) => find(n)).filter(measured);
  if (scaling.length < 3) out.push({ target: 'near-linear scaling 100k → 1M → 5M', status: 'not measured', detail: '' });
  else {
    const perRecord = scaling.map((r) => r.summary.microsecondsPerRecord?.median ?? null);
    if (perRecord.some((x) => x === null)) out.push({ target: 'near-linear scaling 100k → 1M → 5M', status: 'not measured', detail: '' });
    else {
      const steps = perRecord.slice(1).map((x, i) => x! / perRecord[i]!);
      out.push({
        target: `near-linear scaling 100k → 1M → 5M (find-matches µs per record grows ≤ ${T.nearLinearStep}× per step)`,
        status: steps.every((x) => x <= T.nearLinearStep) ? 'met' : 'not met',
        detail: `${perRecord.map((x) => x!.toFixed(1)).join(' → ')} µs/record (×${steps.map((x) => x.toFixed(2)).join(', ×')})`,
      });
    }
  }

  const probeTarget = `1M: GetMLTransform p99 ≤ ${T.p99Ms} ms beside find-matches and a 1M-row label import; no run re-executed or failed`;
  if (!s?.probeP99Ms || s.integrityChecked === 0) out.push({ target: probeTarget, status: 'not measured', detail: '' });
  else {
    const importRows = s.probeImportRows?.min ?? 0;
    const errors = s.probeErrors?.max ?? 0;
    const detail =
      `p99 ${s.probeP99Ms.median.toFixed(0)} ms, at most ${errors} failed calls, label import of ${importRows.toLocaleString('en-US')} rows; ` +
      `${s.integrityOk} of ${s.integrityChecked} repeats without a re-executed or failed run`;
    out.push({
      target: probeTarget,
      status:
        importRows < T.probeImportRows
          ? 'not measured'
          : s.probeP99Ms.median <= T.p99Ms && errors === 0 && s.integrityOk === s.integrityChecked
            ? 'met'
            : 'not met',
      detail,
    });
  }

  const floors = [100_000, 1_000_000, 5_000_000].map((n) => find(n));
  if (!floors.every(measured)) out.push({ target: `100k, 1M and 5M reach F1 ≥ ${T.f1} with the same labels`, status: 'not measured', detail: '' });
  else {
    const rs = floors as SpeedResult[];
    const sameRounds = rs.every((r) => r.roundsRequested === rs[0]!.roundsRequested);
    const f1s = rs.map((r) => r.summary.f1?.median ?? 0);
    out.push({
      target: `100k, 1M and 5M reach F1 ≥ ${T.f1} with the same labels`,
      status: sameRounds && f1s.every((x) => x >= T.f1) ? 'met' : 'not met',
      detail:
        `F1 ${f1s.map((x) => x.toFixed(4)).join(' / ')} with ${rs.map((r) => r.summary.labeledRows?.median ?? 0).join(' / ')} labeled rows` +
        `${sameRounds ? '' : ' (different numbers of rounds)'}`,
    });
  }

  // A file left `running` is an interrupted benchmark: not a measurement either way.
  const limits = [find(1_000_000, 1), find(5_000_000)];
  const finished = limits.filter((r): r is SpeedResult => r !== undefined && r.status !== 'running');
  out.push({
    target: 'no JS engine limit: 1M at AccuracyCostTradeoff 1.0 and 5M complete',
    status:
      finished.length < limits.length
        ? 'not measured'
        : finished.every((r) => r.status === 'ok' && r.repeats.every((x) => x.status === 'ok'))
          ? 'met'
          : 'not met',
    detail: finished
      .map((r) => `${speedResultName(r.records, r.parameters.accuracyCostTradeoff)}: ${r.status}${r.error ? ` (${r.error.split('\n')[0]})` : ''}`)
      .join('; '),
  });
  return out;
}
