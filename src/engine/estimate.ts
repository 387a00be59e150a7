/**
 * Expected pairwise precision, recall and F1 of a run, and the share of matches blocking proposes.
 *
 * First the model's view: each candidate pair counts as a match with its calibrated probability
 * (calibration.ts), and true matches that blocking never proposes are added back through the
 * blocking recall. The calibration is fitted on labeled pairs, most of them actively chosen and so
 * harder than the candidates a run decides (two films of one title, labeled because they were
 * hard): on its own this view reads low. Then the audit (audit.ts: labeled pairs around randomly
 * drawn records, chosen neither by active learning nor by blocking, never trained on) corrects it
 * by counting what the output does with the audit's pairs.
 */
import type { AuditPairCounts } from './api.js';
import { calibrate, type Calibration } from './calibration.js';

export interface PopulationEstimate {
  precision?: number;
  recall?: number;
  f1?: number;
  /** Share of matches among the candidates (audit-based when there are audit matches). */
  blockingRecall?: number;
  /**
   * How many audit pairs each share was counted on (auditedEstimate), beside the model's view worth
   * MODEL_PRIOR_PAIRS: the pairs the output joins (precision), the matching pairs whose groups fit in
   * an audit set (recall), every matching pair (blocking recall).
   */
  auditPairs?: AuditPairCounts;
}

/**
 * Labeled audit pairs (audit.ts): whether each matches, whether blocking proposes it, and whether
 * the output joins its two rows.
 */
export interface AuditSample {
  y: ArrayLike<number>;
  candidate: ArrayLike<number>;
  joined: ArrayLike<number>;
  /**
   * Whether the output's groups of both rows are no larger than an audit set: only then does the
   * set show the pairs the output could get wrong around them (far members of a large group, other
   * groups merged into it), so only then does the pair speak for precision and recall.
   */
  fits: ArrayLike<number>;
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

/**
 * Audit pairs' worth of weight the model's own view keeps against the audit. Two audit sets a round
 * hold a few pairs the output joins (a random row has a match in a minority of tables' rows), so one
 * unlucky draw would swing a lighter prior by 0.2 F1; measured from round 3 on, 8 pairs keep the
 * estimate nearest the output's F1 across the benchmark sets, with 5 to 20 nearly as close.
 */
const MODEL_PRIOR_PAIRS = 8;

/**
 * The model's estimate corrected by the audit: precision is the share of matches among the audit
 * pairs the output joins, recall the share of the audit's matches it joins, the blocking recall the
 * share of them blocking proposes; each with the model's own value (or the labeled pairs'
 * blocking recall) as a prior worth MODEL_PRIOR_PAIRS audit pairs, so that a handful of audit pairs
 * moves the estimate only as far as they can tell.
 */
export function auditedEstimate(model: PopulationEstimate, audit: AuditSample, labeledBlockingRecall: number | undefined): PopulationEstimate {
  let joined = 0, joinedMatches = 0, matches = 0, proposed = 0, fitting = 0;
  for (let i = 0; i < audit.y.length; i++) {
    if (audit.y[i]) { matches++; if (audit.candidate[i]) proposed++; }
    if (!audit.fits[i]) continue;
    if (audit.joined[i]) { joined++; joinedMatches += audit.y[i]!; }
    if (audit.y[i]) fitting++;
  }
  const shrunk = (hits: number, n: number, prior: number | undefined) =>
    prior === undefined ? (n > 0 ? hits / n : undefined) : (hits + MODEL_PRIOR_PAIRS * prior) / (n + MODEL_PRIOR_PAIRS);
  // With a prior the shrunk share is always defined.
  const out: PopulationEstimate = {
    blockingRecall: shrunk(proposed, matches, labeledBlockingRecall ?? 1)!,
    auditPairs: { precision: joined, recall: fitting, blockingRecall: matches },
  };
  const precision = shrunk(joinedMatches, joined, model.precision);
  const recall = shrunk(joinedMatches, fitting, model.recall);
  if (precision !== undefined) out.precision = precision;
  if (recall !== undefined) out.recall = recall;
  if (precision !== undefined && recall !== undefined) out.f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return out;
}
