/**
 * The matcher's public contract. The engine is pure computation: it never imports the API,
 * storage or catalog layers; callers load tables and labels and hand them over in these shapes.
 */

/**
 * One column of a table, dictionary-encoded: each row holds the index of its value among the
 * column's distinct values. A million rows of a column with ten thousand distinct names cost four
 * megabytes of codes and ten thousand strings, and the matcher compares each distinct value once.
 */
import type { PRCurve } from './metrics.js';
import type { IncrementalState } from './state.js';

export interface EngineColumn {
  name: string;
  type: string;
  /** Per row: the index of its value in `values`, or -1 when the value is missing (NULL). */
  codes: Int32Array;
  /** The column's distinct values, in any order. */
  values: readonly string[];
}

/** A table in column-major, dictionary-encoded form. */
export interface EngineTable {
  columns: readonly EngineColumn[];
  /** Index into `columns` of the primary key. */
  primaryKey: number;
  rowCount: number;
}

/** One labeled row: a record (by primary key value) placed in a labeling set with a label. */
export interface EngineLabel {
  labelingSetId: string;
  label: string;
  /** Primary key value of the record. */
  key: string;
}

/** The transform's FindMatchesParameters, plus a seed; absent tradeoffs mean 0.5. */
export interface MatchParameters {
  precisionRecallTradeoff?: number;
  accuracyCostTradeoff?: number;
  enforceProvidedLabels?: boolean;
  seed?: number;
}

/** Progress and cancellation for long work. */
export interface EngineRun {
  signal?: AbortSignal;
  /** The current stage, and how much of the whole call is done (0..1) when known. */
  progress?: (stage: string, fraction?: number) => void;
}

export interface LabelingSet {
  labelingSetId: string;
  /** Row indexes into the table, with the suggested label for each. */
  rows: Array<{ row: number; suggestedLabel: string }>;
}

export interface HeldOutMetrics {
  precision?: number;
  recall?: number;
  f1?: number;
}

export interface EvaluationResult {
  /** On the held-out labeled pairs. */
  areaUnderPRCurve?: number;
  /** The curve `areaUnderPRCurve` is the area under, thinned, with the operating threshold's point. */
  precisionRecallCurve?: PRCurve;
  /**
   * Expected on the candidate pairs of a run (calibrated held-out scores, corrected by the blocking
   * recall), all three at the operating threshold (F1 is the harmonic mean of the two). Fall back
   * to the held-out values when no calibration is possible.
   */
  precision?: number;
  recall?: number;
  f1?: number;
  /** The same metrics on the held-out labeled pairs (harder than a run's candidates). */
  heldOut?: HeldOutMetrics;
  /** On the held-out labeled pairs, at the operating threshold. */
  confusionMatrix: {
    numTruePositives: number;
    numFalsePositives: number;
    numTrueNegatives: number;
    numFalseNegatives: number;
  };
  /** Descending importance, each in [0, 1]. */
  columnImportances: Array<{ columnName: string; importance: number }>;
  /**
   * Share of matching pairs that candidate generation finds: measured on the audit sets' matching
   * pairs (audit.ts), with the other labeled matches (found through blocking) as a prior.
   */
  blockingRecall?: number;
  /**
   * How many audit pairs precision, recall and the blocking recall were each counted on (estimate.ts
   * auditedEstimate); absent without audit labels.
   */
  auditPairs?: AuditPairCounts;
}

/** Audit pairs each estimate was counted on: pairs the output joins, matching pairs in groups an audit set shows, matching pairs. */
export interface AuditPairCounts {
  precision: number;
  recall: number;
  blockingRecall: number;
}

/**
 * Unordered pairs of rows (indexes into the table), pair i being (a[i], b[i]) with a[i] < b[i],
 * sorted by (a, b), each once. The arrays are the matcher's cached ones, shared with later calls
 * on the same input: read them, never write.
 */
export interface CandidatePairs {
  a: Uint32Array;
  b: Uint32Array;
}

export interface MatchResult {
  /** Per row: the match group (rows with equal ids match). Non-negative integers below 2^53. */
  matchId: Float64Array;
  /** Per row: the confidence of its group, in [0, 1] (1 for a singleton). */
  confidence: Float64Array;
  stats: {
    candidatePairs: number;
    /** Candidate pairs given a probability (all of them). */
    scoredPairs: number;
    /** Of those, the pairs that needed every feature and the full model; the prefilter settled the rest. */
    fullyScoredPairs: number;
    matchedPairs: number;
    groups: number;
  };
  /** Any pair of rows (a, b) explained in full by the model that grouped them. */
  explainPair?: (a: number, b: number) => PairExplanation;
  /**
   * The incremental state of this run's rows (state.ts), for the next incremental run: its
   * prepared table, dictionaries and model. Built when asked for (the dictionaries' hash tables).
   */
  state?: () => IncrementalState;
}

/**
 * The model's view of one pair of rows: the bias plus every column's contribution (the sum of its
 * features' contributions) is `logOdds`, the full model's log-odds of a match. Pairs the
 * prefilter settles are scored lower in a run (their cheap stage's probability); the explanation
 * is always the full model's.
 */
export interface PairExplanation {
  logOdds: number;
  probability: number;
  bias: number;
  /** In table column order (the primary key and columns without features are absent). */
  columns: Array<{ column: string; contribution: number }>;
  features: Array<{ column: string; feature: string; value: number; contribution: number }>;
}

/**
 * A previous run's grouping of the first `rows` rows of a table: the rows after them are new.
 * Match ids are non-negative integers below 2^53.
 */
export interface ExistingMatches {
  rows: number;
  /** Per existing row. */
  matchId: Float64Array;
  /** Per existing row, its group's confidence when the previous output holds it. */
  confidence?: Float64Array;
  /**
   * The incremental state a previous run left for these rows (state.ts; `MatchResult.state`,
   * decodeState): used when it fits them, else the run prepares them and says why.
   */
  state?: IncrementalState;
}

/** A new row whose matches reach more than one existing group: it joined at most one of them. */
export interface BridgeConflict {
  row: number;
  /** The id the row got. */
  matchId: number;
  /** The existing groups it matches (a pair at or above the threshold), best first, with that pair's probability. */
  groups: Array<{ matchId: number; probability: number }>;
}

export interface IncrementalMatchResult extends MatchResult {
  /** Whether the given incremental state was used, and the message the run reported about it. */
  stateUse: { used: boolean; message: string };
  /** New rows that match rows of more than one existing group, by row. */
  conflicts: BridgeConflict[];
  stats: MatchResult['stats'] & {
    newRows: number;
    /** New rows that took an existing group's id. */
    joinedExisting: number;
  };
}

/**
 * A find-matches run's candidate pairs with what scores them (the prepared table and trained model
 * in an incremental state, `encodeState` to pass it on), for scoring outside the run: in parts, by
 * other processes (`Matcher.scorePairs`).
 */
export interface ScoringPlan {
  state: IncrementalState;
  pairs: CandidatePairs;
}

/** Probabilities of pairs, in their order, and how many of them needed the full model (the prefilter settled the rest). */
export interface ScoredPairs {
  p: Float32Array;
  fullyScored: number;
}

export interface FindMatchesRun extends EngineRun {
  /**
   * Scores the plan's pairs outside the call and hands back their probabilities in pair order
   * (each pair as `Matcher.scorePairs` scores it); without it the call scores them itself. Either
   * way the groups are the same.
   */
  scoreElsewhere?: (plan: ScoringPlan) => Promise<ScoredPairs>;
  /**
   * Rows from this index on are in the table only for the labels that name them (labeled records
   * the rows to match lack): they are prepared and trained on, but never paired with any row, and
   * the result covers the rows before it alone (without an incremental state). Default: every row.
   */
  matchedRows?: number;
}

export interface Matcher {
  /** ~`targetRows` rows in ~`sets` labeling sets, chosen by active learning; never a set already labeled. */
  generateLabelingSets(
    table: EngineTable,
    labels: readonly EngineLabel[],
    params: MatchParameters,
    options: { sets?: number; targetRows?: number } & EngineRun,
  ): Promise<LabelingSet[]>;
  /** Cross-validation grouped by labeling set. */
  evaluate(
    table: EngineTable,
    labels: readonly EngineLabel[],
    params: MatchParameters,
    run?: EngineRun,
  ): Promise<EvaluationResult>;
  /**
   * The candidate pairs a run with these labels and parameters scores: what blocking proposes
   * (trained on every label, as `findMatches` and `evaluate` are), without scoring them. For
   * measuring blocking against a ground truth; the matcher keeps them cached, so a following
   * `findMatches` or `evaluate` with the same input blocks no second time.
   */
  candidatePairs(
    table: EngineTable,
    labels: readonly EngineLabel[],
    params: MatchParameters,
    run?: EngineRun,
  ): Promise<CandidatePairs>;
  /**
   * Matches the rows after `existing.rows` against the existing ones and each other, keeping the
   * existing grouping: existing rows keep their ids, a new row joins at most one existing group
   * (never merging two), new rows grouped only with each other get fresh ids above every existing
   * one. Only pairs with a new row are searched and scored.
   */
  findIncrementalMatches(
    table: EngineTable,
    existing: ExistingMatches,
    labels: readonly EngineLabel[],
    params: MatchParameters,
    run?: EngineRun,
  ): Promise<IncrementalMatchResult>;
  /** The trained model's explanation of each pair of rows (trained on every label, as findMatches is). */
  explainPairs(
    table: EngineTable,
    pairs: ReadonlyArray<readonly [number, number]>,
    labels: readonly EngineLabel[],
    params: MatchParameters,
    run?: EngineRun,
  ): Promise<PairExplanation[]>;
  /** Trains on every label and groups the table's rows. */
  findMatches(
    table: EngineTable,
    labels: readonly EngineLabel[],
    params: MatchParameters,
    run?: FindMatchesRun,
  ): Promise<MatchResult>;
  /**
   * Scores pairs of the rows of a `ScoringPlan`'s state (its prepared table, with its model) exactly
   * as the find-matches run that made the plan would: a share of a plan's pairs scored here gives
   * those pairs' probabilities of the whole run.
   */
  scorePairs(state: IncrementalState, pairs: CandidatePairs, run?: EngineRun): Promise<ScoredPairs>;
}
