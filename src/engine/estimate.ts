/**
 * Expected pairwise precision, recall and F1 of a run over its candidate pairs: each candidate counts
 * as a match with its calibrated probability (calibration.ts), and true matches that blocking never
 * proposes are added back through the blocking recall measured on the labeled matches. This is what
 * EvaluationMetrics reports as precision/recall/F1, because it follows the F1 of the output far more
 * closely than the same metrics computed on the (hard, actively chosen) labeled pairs.
 */
import { calibrate, type Calibration } from './calibration.js';

export interface PopulationEstimate {
  precision?: number;
  recall?: number;
  f1?: number;
}

export function estimateOnCandidates(
  probs: Float32Array,
  calibration: Calibration,
  threshold: number,
  blockingRecall = 1,
): PopulationEstimate {
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < probs.length; i++) {
    const q = calibrate(calibration, probs[i]!);
    if (probs[i]! >= threshold) { tp += q; fp += 1 - q; } else fn += q;
  }
  if (tp + fn <= 0) return {};
  // Matches outside the candidate pairs are missed at every threshold.
  const missed = blockingRecall > 0 && blockingRecall < 1 ? ((tp + fn) * (1 - blockingRecall)) / blockingRecall : 0;
  const out: PopulationEstimate = { recall: tp / (tp + fn + missed), f1: (2 * tp) / (2 * tp + fp + fn + missed) };
  if (tp + fp > 0) out.precision = tp / (tp + fp);
  return out;
}
