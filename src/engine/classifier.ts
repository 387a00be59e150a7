/**
 * The pair classifiers behind one interface: a model is plain data tagged with its kind (worker
 * threads receive it by structured clone), and `CLASSIFIERS` holds each kind's fitting, scoring
 * and per-feature contributions. Importances and explanations are defined from contributions, so
 * they describe whichever model scores the pairs. To add a model: a kind in `PairModel`, a
 * `Classifier` for it in `CLASSIFIERS`.
 */
import { fitGbt, gbtContributions, gbtLogit, type GbtModel } from './gbt.js';
import { fitLogistic, logisticContributions, logisticLogit, type LogisticModel, type WeightFloors } from './model.js';

/**
 * Logistic regression and the tree ensemble averaged in log-odds: the logistic model is steady
 * on few labels, the trees catch interactions ("name similar and birth year equal").
 */
export interface BlendModel {
  kind: 'blend';
  lr: LogisticModel;
  gbt: GbtModel;
}

export type PairModel = LogisticModel | GbtModel | BlendModel;
export type ModelKind = PairModel['kind'];

export interface Classifier<M extends PairModel> {
  /**
   * Fits on X (n × d, row-major) and y (0/1). `floors` (training.ts agreementFloors) bound the
   * linear part: a model without one ignores them.
   */
  fit(X: Float32Array, y: Uint8Array, d: number, floors?: WeightFloors): M;
  /** Log-odds of a match for the feature vector at x[offset ..]. */
  logit(m: M, x: Float32Array, offset: number): number;
  /**
   * Each feature's share of the log-odds of the vector at x[offset ..], to out[0 .. d); returns
   * the rest (the bias), so that bias + Σ out = logit.
   */
  contributions(m: M, x: Float32Array, offset: number, out: Float64Array): number;
}

/** L2 penalty of the logistic model. */
const LAMBDA = 1;

const logistic: Classifier<LogisticModel> = {
  fit: (X, y, d, floors) => fitLogistic(X, y, d, LAMBDA, undefined, floors),
  logit: logisticLogit,
  contributions: logisticContributions,
};

const gbt: Classifier<GbtModel> = {
  fit: (X, y, d) => fitGbt(X, y, d),
  logit: gbtLogit,
  contributions: gbtContributions,
};

/** The trees' shares in a blend's contributions, reused across calls (importances call it per labeled pair). */
let treeShares = new Float64Array(0);

const blend: Classifier<BlendModel> = {
  fit: (X, y, d, floors) => ({ kind: 'blend', lr: logistic.fit(X, y, d, floors), gbt: gbt.fit(X, y, d) }),
  logit: (m, x, offset) => (logisticLogit(m.lr, x, offset) + gbtLogit(m.gbt, x, offset)) / 2,
  contributions(m, x, offset, out) {
    if (treeShares.length < m.lr.dim) treeShares = new Float64Array(m.lr.dim);
    const trees = treeShares;
    const bias = logisticContributions(m.lr, x, offset, out) + gbtContributions(m.gbt, x, offset, trees);
    for (let f = 0; f < m.lr.dim; f++) out[f] = (out[f]! + trees[f]!) / 2;
    return bias / 2;
  },
};

export const CLASSIFIERS: { [K in ModelKind]: Classifier<Extract<PairModel, { kind: K }>> } = { logistic, gbt, blend };

/** The classifier of a model's kind. */
export function classifierOf<M extends PairModel>(m: M): Classifier<M> {
  return CLASSIFIERS[m.kind] as unknown as Classifier<M>;
}

/** Features the model reads (the length of a feature vector). */
export function modelDim(m: PairModel): number {
  return m.kind === 'blend' ? m.lr.dim : m.dim;
}

/**
 * Per feature, how much it moves the model's log-odds: the standard deviation over the rows of X
 * (n × d) of its contribution (for the logistic model |w|·sd(x)). With fewer than two rows (the
 * prior model, before labels) the size of its contribution at x = 1. Non-negative; not normalised.
 */
export function featureImportances(m: PairModel, X: Float32Array | undefined, n: number): Float64Array {
  const d = modelDim(m);
  const classifier = classifierOf(m);
  const c = new Float64Array(d);
  const out = new Float64Array(d);
  if (!X || n < 2) {
    classifier.contributions(m, new Float32Array(d).fill(1), 0, c);
    for (let f = 0; f < d; f++) out[f] = Math.abs(c[f]!);
    return out;
  }
  const sum = new Float64Array(d), sum2 = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    classifier.contributions(m, X, i * d, c);
    for (let f = 0; f < d; f++) {
      sum[f] = sum[f]! + c[f]!;
      sum2[f] = sum2[f]! + c[f]! * c[f]!;
    }
  }
  for (let f = 0; f < d; f++) {
    const mean = sum[f]! / n;
    out[f] = Math.sqrt(Math.max(0, sum2[f]! / n - mean * mean));
  }
  return out;
}
