/**
 * Training: labeled pairs → feature matrix → the pair model (classifier.ts: the blend of logistic
 * regression and trees); its per-feature contributions give the column importances (reported, and
 * the prefilter's column order; blocking's column weights come from its linear part). Out-of-fold
 * predictions from
 * cross-validation grouped by labeling set give the F1-optimal threshold and the evaluation.
 * Without labels of both classes a prior model (mean of each column's main similarity) is used.
 */
import { mainFeature } from './comparisons/index.js';
import { FeatureWriter, type Feature } from './features.js';
import type { LabeledPairs } from './labels.js';
import { CLASSIFIERS, classifierOf, featureImportances, type ModelKind, type PairModel } from './classifier.js';
import { f1OptimalThreshold, sigmoid, type LogisticModel } from './model.js';
import { fitCalibration, type Calibration } from './calibration.js';
import type { PreparedTable } from './profile.js';
import { makeRng, shuffle } from './rng.js';

export interface Trained {
  pt: PreparedTable;
  features: Feature[];
  /** The model that scores pairs (classifier.ts); the prior model (logistic) without labels of both classes. */
  model: PairModel;
  /** F1-optimal threshold (0.5 for the prior model). */
  baseThreshold: number;
  supervised: boolean;
  /** Out-of-fold predictions for the labeled pairs (when cross-validation was possible). */
  oof?: { p: Float64Array; y: Uint8Array };
  /** Score → match probability, fitted on the out-of-fold predictions. */
  calibration?: Calibration;
  /** Per PreparedTable column, descending: of the model that scores (EvaluationMetrics, the prefilter's column order). */
  importances: ColumnImportance[];
  /** Per PreparedTable column: of the model's linear part, which weights blocking's keys (blockingWeights; supervised only). */
  blockingImportances?: ColumnImportance[];
  /** Cheap first test that settles clear non-matches (supervised, with enough labeled matches). */
  prefilter?: Prefilter;
}

/**
 * The prefilter: a cascade of logistic models that settles clear non-matches early. Stage 0 sees
 * the cheap features of every column (features.ts CHEAP_KINDS: value equality, missing values,
 * numeric differences); each later stage adds the string and bag features of one more column, the
 * most important first. A pair whose log-odds at some stage fall below that stage's `below` is a
 * clear non-match: every labeled match scored at least PREFILTER_MARGIN log-odds higher there.
 * Most candidate pairs are such pairs (relatives share surname, address and phone, and are
 * settled by their first names), and they never reach the other columns' strings.
 */
export interface Prefilter {
  /** The columns (PreparedTable indexes) the stages after the first add, in order. */
  columns: number[];
  stages: PrefilterStage[];
}

export interface PrefilterStage {
  bias: number;
  /** Per feature slot; zero outside the slots the stage sees. */
  weights: Float64Array;
  below: number;
}

/** Everything the scorer needs, as plain data (sent to the worker threads). */
export interface ScoringModel {
  pair: PairModel;
  prefilter?: Prefilter;
}

/** Labeled matches needed before the prefilter's bound means anything. */
const PREFILTER_MIN_MATCHES = 10;
/**
 * How far below the lowest labeled match a pair must fall, in log-odds (e^2 ≈ 7 times less likely).
 * Measured on 200k synthetic person records with 1,000 labels: margins 4 / 3 / 2 / 1 settled
 * 35 / 66 / 84 / 90 % of the candidate pairs and lost 0 / 0 / 0 / 1 of 37,775 true pairs among them.
 */
const PREFILTER_MARGIN = 2;
/** Never settle a pair the prefilter itself gives more than this probability. */
const PREFILTER_MAX = 0.02;
/**
 * Columns the prefilter's stages add. Measured on a million synthetic person records (1,000 labels,
 * margin 2): a single stage with 1 / 2 / 3 / 4 columns settled 9 / 58 / 81 / 87 % of the candidate
 * pairs; each stage settles what it can, so the cost of a column is only paid by pairs still open.
 */
const PREFILTER_COLUMNS = 4;

/** Measured on cora, rldata10000, leipzig_abt_buy replays: the blend is the most robust choice. */
const MODEL: ModelKind = 'blend';

/** Match probability of the feature vector at x[offset..]. */
export function pairProbability(m: PairModel, x: Float32Array, offset = 0): number {
  return sigmoid(classifierOf(m).logit(m, x, offset));
}

export function designMatrix(
  pt: PreparedTable,
  features: readonly Feature[],
  a: readonly number[],
  b: readonly number[],
): Float32Array {
  const d = features.length;
  const X = new Float32Array(a.length * d);
  const writer = new FeatureWriter(pt, features);
  for (let i = 0; i < a.length; i++) writer.write(a[i]!, b[i]!, X, i * d);
  return X;
}

function subset(X: Float32Array, d: number, rows: number[]): Float32Array {
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, i) => out.set(X.subarray(r * d, r * d + d), i * d));
  return out;
}

/** Prior model without labels: logistic of the mean main similarity over present columns. */
export function priorModel(pt: PreparedTable, features: readonly Feature[]): LogisticModel {
  const w = new Float64Array(features.length + 1);
  const main: number[] = [];
  features.forEach((f, i) => {
    if (mainFeature(pt.columns[f.column]!.profile.kind) === f.kind) main.push(i);
  });
  const m = Math.max(1, main.length);
  for (const i of main) w[i + 1] = 12 / m;
  w[0] = -9; // mean similarity 0.75 ↦ 0.5
  return { kind: 'logistic', weights: w, dim: features.length };
}

/**
 * Columns whose values two random rows share less often than this are held to an agreement floor
 * (agreementFloors).
 */
const RARE_AGREEMENT = 0.05;

/**
 * Per column that some rows miss and whose values rarely agree by chance: the direction of the
 * column's features from "one row misses the value" to "both hold the same value", along which the
 * model's linear part must not fall below zero: agreeing on a value that random rows rarely share
 * never counts against a match compared with not knowing it. Without the floor a few labeled
 * non-matches sharing such a value (relatives with the same second first name) make agreement
 * count heavily against a match (−5 log-odds seen) while the labeled matches that agree on it,
 * clear on other columns, pull the other way only weakly; every true match agreeing on it then
 * falls below the threshold.
 */
export function agreementFloors(pt: PreparedTable, features: readonly Feature[]): Float64Array[] {
  const width = pt.columns.length;
  const writer = new FeatureWriter(pt, features, false);
  const same = new Float32Array(features.length);
  const missing = new Float32Array(features.length);
  const floors: Float64Array[] = [];
  pt.columns.forEach((col, c) => {
    if (!col.anyMissing || chanceAgreement(col.rowsOf) >= RARE_AGREEMENT) return;
    let present = -1, absent = -1;
    for (let r = 0; r < pt.rowCount && (present < 0 || absent < 0); r++) {
      if (pt.codes[r * width + c]! >= 0) present = present < 0 ? r : present;
      else absent = absent < 0 ? r : absent;
    }
    if (present < 0 || absent < 0) return;
    writer.write(present, present, same);
    writer.write(absent, present, missing);
    const direction = new Float64Array(features.length);
    features.forEach((f, i) => {
      if (f.column === c) direction[i] = same[i]! - missing[i]!;
    });
    if (direction.some((x) => x !== 0)) floors.push(direction);
  });
  return floors;
}

/** The probability that two distinct rows holding a value hold the same one. */
function chanceAgreement(rowsOf: Int32Array): number {
  let n = 0, same = 0;
  for (const k of rowsOf) {
    n += k;
    same += k * (k - 1);
  }
  return n > 1 ? same / (n * (n - 1)) : 1;
}

export interface ColumnImportance {
  columnName: string;
  column: number;
  importance: number;
}

/** Per PreparedTable column, the sum of its features' importances (classifier.ts), max-normalised, descending. */
function columnImportances(pt: PreparedTable, features: readonly Feature[], model: PairModel, X: Float32Array | undefined, n: number): ColumnImportance[] {
  const byFeature = featureImportances(model, X, n);
  const imp = new Float64Array(pt.columns.length);
  features.forEach((f, i) => (imp[f.column] = imp[f.column]! + byFeature[i]!));
  let max = 0;
  for (const v of imp) max = Math.max(max, v);
  return pt.columns
    .map((c, i) => ({ columnName: c.profile.name, column: i, importance: max > 0 ? imp[i]! / max : 0 }))
    .sort((x, y) => y.importance - x.importance || x.column - y.column);
}

export function train(pt: PreparedTable, features: Feature[], lp: LabeledPairs, seed: number): Trained {
  const n = lp.y.length;
  let pos = 0;
  for (const v of lp.y) pos += v;
  if (pos === 0 || pos === n) {
    const model = priorModel(pt, features);
    return { pt, features, model, baseThreshold: 0.5, supervised: false, importances: columnImportances(pt, features, model, undefined, 0) };
  }
  const d = features.length;
  const X = designMatrix(pt, features, lp.a, lp.b);
  const y = Uint8Array.from(lp.y);
  const classifier = CLASSIFIERS[MODEL];
  const floors = agreementFloors(pt, features);
  const model = classifier.fit(X, y, d, floors);
  const setCount = lp.setIds.length;
  let baseThreshold = 0.5;
  let oof: Trained['oof'];
  if (setCount >= 2) {
    const folds = Math.min(5, setCount);
    const order = shuffle(Array.from({ length: setCount }, (_, i) => i), makeRng(seed ^ 0x5eed));
    const foldOf = new Int32Array(setCount);
    order.forEach((s, i) => (foldOf[s] = i % folds));
    const p = new Float64Array(n);
    for (let f = 0; f < folds; f++) {
      const tr: number[] = [], te: number[] = [];
      for (let i = 0; i < n; i++) (foldOf[lp.set[i]!] === f ? te : tr).push(i);
      if (te.length === 0) continue;
      let trPos = 0;
      for (const i of tr) trPos += y[i]!;
      const m: PairModel = trPos === 0 || trPos === tr.length
        ? priorModel(pt, features)
        : classifier.fit(subset(X, d, tr), Uint8Array.from(tr, (i) => y[i]!), d, floors);
      for (const i of te) p[i] = pairProbability(m, X, i * d);
    }
    oof = { p, y };
    baseThreshold = f1OptimalThreshold(p, y).threshold;
  }
  const out: Trained = {
    pt,
    features,
    model,
    baseThreshold,
    supervised: true,
    importances: columnImportances(pt, features, model, X, n),
    blockingImportances: columnImportances(pt, features, model.kind === 'blend' ? model.lr : model, X, n),
  };
  const prefilter = fitPrefilter(pt, features, X, y, out.importances);
  if (prefilter) out.prefilter = prefilter;
  if (oof) {
    out.oof = oof;
    const calibration = fitCalibration(oof.p, oof.y);
    if (calibration) out.calibration = calibration;
  }
  return out;
}

function fitPrefilter(
  pt: PreparedTable,
  features: readonly Feature[],
  X: Float32Array,
  y: Uint8Array,
  ranked: Trained['importances'],
): Prefilter | undefined {
  let matches = 0;
  for (const v of y) matches += v;
  if (matches < PREFILTER_MIN_MATCHES) return undefined;
  const writer = new FeatureWriter(pt, features, false);
  const columns = ranked
    .filter((c) => c.importance > 0 && writer.columnSlots(c.column).length > 0)
    .slice(0, PREFILTER_COLUMNS)
    .map((c) => c.column);
  const d = features.length, n = y.length;
  const stages: PrefilterStage[] = [];
  let seen = [...writer.cheapSlots];
  for (let k = 0; k <= columns.length; k++) {
    if (k > 0) seen = [...seen, ...writer.columnSlots(columns[k - 1]!)];
    // The last stage would see every feature: the full model decides there.
    if (seen.length === 0 || seen.length === d) break;
    stages.push(fitStage(X, y, d, n, seen));
  }
  return stages.length > 0 ? { columns: columns.slice(0, stages.length - 1), stages } : undefined;
}

function fitStage(X: Float32Array, y: Uint8Array, d: number, n: number, slots: readonly number[]): PrefilterStage {
  const c = slots.length;
  const Xs = new Float32Array(n * c);
  for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) Xs[i * c + k] = X[i * d + slots[k]!]!;
  const lr = CLASSIFIERS.logistic.fit(Xs, y, c);
  const weights = new Float64Array(d);
  slots.forEach((slot, k) => (weights[slot] = lr.weights[k + 1]!));
  const bias = lr.weights[0]!;
  let lowest = Infinity;
  for (let i = 0; i < n; i++) {
    if (!y[i]) continue;
    let z = bias;
    for (let k = 0; k < c; k++) z += lr.weights[k + 1]! * Xs[i * c + k]!;
    if (z < lowest) lowest = z;
  }
  return { bias, weights, below: Math.min(lowest - PREFILTER_MARGIN, Math.log(PREFILTER_MAX / (1 - PREFILTER_MAX))) };
}

/** The trained scoring model as plain data. */
export function scoringModelOf(t: Trained): ScoringModel {
  return t.prefilter ? { pair: t.model, prefilter: t.prefilter } : { pair: t.model };
}

/**
 * Blocking column weights learned from the model (1 for every column without labels). Blocking
 * scores a row's neighbours linearly (IDF-weighted cosine over shared keys), so its weights come
 * from the linear part of the model. Measured with the engine driver (6 datasets, 5 rounds, seeds
 * 1-3): weights from the blend's importances lowered the mean F1 over rounds 1-5 on cora by 0.006,
 * jedai_imdb_tmdb by 0.007 and splink_historical_50k by 0.017 (and their square roots, leipzig_abt_buy
 * and jedai_imdb_tmdb by 0.005 and 0.018): the trees credit most of the log-odds to one or two
 * columns, and the other columns' keys lose the weight that finds their matches.
 */
export function blockingWeights(t: Trained): Float64Array {
  const w = new Float64Array(t.pt.columns.length).fill(1);
  for (const imp of t.blockingImportances ?? []) w[imp.column] = 0.25 + 0.75 * imp.importance;
  return w;
}


