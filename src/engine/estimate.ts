/**
 * Expected pairwise precision, recall and F1 of a run over its candidate pairs: each candidate counts
 * as a match with its calibrated probability (calibration.ts), and true matches that blocking never
 * proposes are added back through the blocking recall measured on the labeled matches. This is what
 * EvaluationMetrics reports as precision/recall/F1, because it follows the F1 of the output far more
 * closely than the same metrics computed on the (hard, actively chosen) labeled pairs.
 */
import { calibrate, type Calibration } from './calibration.js';

export interface PopulationEstimate {
  /** At the operating threshold. */
  precision?: number;
  recall?: number;
  f1?: number;
  /** The best expected F1 over all thresholds (Glue's "maximum F1"). */
  maxF1?: number;
}

const BINS = 1000;

export function estimateOnCandidates(
  probs: Float32Array,
  calibration: Calibration,
  threshold: number,
  blockingRecall = 1,
): PopulationEstimate {
  // Histogram of scores: count and calibrated-probability mass per bin, so every threshold is O(BINS).
  const count = new Float64Array(BINS), mass = new Float64Array(BINS);
  let tpAt = 0, fpAt = 0, fnAt = 0;
  for (let i = 0; i < probs.length; i++) {
    const s = probs[i]!;
    const q = calibrate(calibration, s);
    const bin = Math.min(BINS - 1, Math.max(0, Math.floor(s * BINS)));
    count[bin]! += 1;
    mass[bin]! += q;
    if (s >= threshold) { tpAt += q; fpAt += 1 - q; } else fnAt += q;
  }
  let matches = 0;
  for (let b = 0; b < BINS; b++) matches += mass[b]!;
  if (matches <= 0) return {};
  // Matches outside the candidate pairs are missed by every threshold.
  const missed = blockingRecall > 0 && blockingRecall < 1 ? (matches * (1 - blockingRecall)) / blockingRecall : 0;
  const f1 = (tp: number, fp: number, fn: number) => (tp > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0);
  let best = 0, tp = 0, predicted = 0;
  for (let b = BINS - 1; b >= 0; b--) {
    tp += mass[b]!;
    predicted += count[b]!;
    best = Math.max(best, f1(tp, predicted - tp, matches - tp + missed));
  }
  const out: PopulationEstimate = { maxF1: best, recall: tpAt / (matches + missed), f1: f1(tpAt, fpAt, fnAt + missed) };
  if (tpAt + fpAt > 0) out.precision = tpAt / (tpAt + fpAt);
  return out;
}
