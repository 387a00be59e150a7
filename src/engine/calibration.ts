/**
 * Calibration of held-out match probabilities.
 *
 * The model is trained and cross-validated on actively chosen pairs, which are much harder than the
 * candidate pairs a run scores, so held-out precision/recall describe the labeled sample rather than
 * the output. What carries over from the sample to the candidates is the relation between score and
 * match rate, fitted here and used in estimate.ts to give every candidate an estimated match
 * probability.
 *
 * Two parts: a logistic map in log-odds (Platt scaling), smooth and sensible with few labels, and a
 * correction factor per log-odds bin, observed matches / matches the map expects there, which takes
 * over wherever the bin holds enough labeled pairs (the map is the prior of each bin, worth
 * PRIOR_PAIRS pairs, so a bin with few pairs keeps the map). The bins matter in the low
 * tail: a run's candidates are mostly far below any match, and the logistic map alone gives each of
 * them a small but non-zero probability that adds up to many imagined missed matches (and more of
 * them the more candidates AccuracyCostTradeoff asks for), where the labeled pairs in the same
 * score range held no match at all.
 *
 * The bins' match rates are then made non-decreasing in the score (pooling adjacent bins that fall,
 * weighted by their pairs): a higher score never means a lower match rate. Without it one labeled
 * match far down the tail (a hard pair active learning chose) raised its bin's rate forty-fold
 * while the bins above it held none, and tens of thousands of candidates in that bin became a
 * thousand imagined missed matches: a recall estimate of 0.58 for an output at 0.90.
 */
import { fitLogistic, sigmoid, type LogisticModel } from './model.js';

export interface Calibration {
  map: LogisticModel;
  /**
   * Per bin of log-odds (BIN_COUNT bins over [-Z_MAX, Z_MAX]): what the map's probability is
   * multiplied by (1 in a bin without labeled pairs).
   */
  factors: Float64Array;
}

const Z_MAX = 12;
const BIN_COUNT = 24;
const PRIOR_PAIRS = 10;

const logit = (p: number) => {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
};

const binOf = (z: number) =>
  Math.min(BIN_COUNT - 1, Math.max(0, Math.floor(((z + Z_MAX) / (2 * Z_MAX)) * BIN_COUNT)));

/** Fits the calibration; undefined without both a labeled match and a labeled non-match. */
export function fitCalibration(p: ArrayLike<number>, y: ArrayLike<number>): Calibration | undefined {
  const n = p.length;
  let pos = 0;
  for (let i = 0; i < n; i++) pos += y[i]!;
  if (pos === 0 || pos === n) return undefined;
  const X = new Float32Array(n);
  const pairs = new Float64Array(BIN_COUNT), matches = new Float64Array(BIN_COUNT);
  for (let i = 0; i < n; i++) {
    X[i] = logit(p[i]!);
    const b = binOf(X[i]!);
    pairs[b]! += 1;
    matches[b]! += y[i]!;
  }
  const map = fitLogistic(X, Uint8Array.from({ length: n }, (_, i) => y[i]!), 1, 1e-3);
  const expected = new Float64Array(BIN_COUNT);
  for (let i = 0; i < n; i++) expected[binOf(X[i]!)]! += mapped(map, X[i]!);
  return { map, factors: monotoneFactors(pairs, matches, expected) };
}

/**
 * Each bin's factor, from its labeled pairs, their matches and the matches the map expects among
 * them: its shrunk observed/expected ratio (PRIOR_PAIRS pairs at the map's mean rate),
 * then the bins' rates (mean map probability × factor) pooled where they fall with the score.
 */
function monotoneFactors(pairs: Float64Array, matches: Float64Array, expected: Float64Array): Float64Array {
  const factors = new Float64Array(BIN_COUNT).fill(1);
  const blocks: Array<{ rate: number; pairs: number; bins: number[] }> = [];
  for (let b = 0; b < BIN_COUNT; b++) {
    const m = pairs[b]!;
    if (m === 0) continue;
    const e = expected[b]!, pseudo = (PRIOR_PAIRS * e) / m;
    blocks.push({ rate: (e / m) * ((matches[b]! + pseudo) / (e + pseudo)), pairs: m, bins: [b] });
    while (blocks.length > 1 && blocks.at(-2)!.rate > blocks.at(-1)!.rate) {
      const upper = blocks.pop()!, lower = blocks.pop()!;
      const total = lower.pairs + upper.pairs;
      blocks.push({ rate: (lower.rate * lower.pairs + upper.rate * upper.pairs) / total, pairs: total, bins: [...lower.bins, ...upper.bins] });
    }
  }
  for (const block of blocks) {
    for (const b of block.bins) {
      const mean = expected[b]! / pairs[b]!;
      if (mean > 0) factors[b] = block.rate / mean;
    }
  }
  return factors;
}

/** The calibrated match probability of a model score. */
export function calibrate(c: Calibration, score: number): number {
  const z = logit(score);
  const prior = mapped(c.map, z);
  return Math.min(1, prior * c.factors[binOf(z)]!);
}

function mapped(map: LogisticModel, z: number): number {
  return sigmoid(map.weights[0]! + map.weights[1]! * z);
}
