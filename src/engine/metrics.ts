/** Pairwise classification metrics on held-out predictions. */

export interface Confusion {
  numTruePositives: number;
  numFalsePositives: number;
  numTrueNegatives: number;
  numFalseNegatives: number;
}

export function confusionAt(p: ArrayLike<number>, y: ArrayLike<number>, threshold: number): Confusion {
  const c = { numTruePositives: 0, numFalsePositives: 0, numTrueNegatives: 0, numFalseNegatives: 0 };
  for (let i = 0; i < p.length; i++) {
    const pred = p[i]! >= threshold;
    if (y[i]) pred ? c.numTruePositives++ : c.numFalseNegatives++;
    else pred ? c.numFalsePositives++ : c.numTrueNegatives++;
  }
  return c;
}

/** Area under the precision-recall curve (average precision); undefined without positives. */
export function areaUnderPR(p: ArrayLike<number>, y: ArrayLike<number>): number | undefined {
  const idx = Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[b]! - p[a]! || a - b);
  let pos = 0;
  for (let i = 0; i < y.length; i++) pos += y[i]!;
  if (pos === 0) return undefined;
  let tp = 0, ap = 0, i = 0;
  while (i < idx.length) {
    // Tied scores form one step.
    let j = i, tpGroup = 0;
    while (j < idx.length && p[idx[j]!] === p[idx[i]!]) { tpGroup += y[idx[j]!]!; j++; }
    tp += tpGroup;
    ap += (tpGroup / pos) * (tp / j);
    i = j;
  }
  return Math.min(1, Math.max(0, ap));
}

export function maxF1(p: ArrayLike<number>, y: ArrayLike<number>): number | undefined {
  const idx = Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[b]! - p[a]! || a - b);
  let pos = 0;
  for (let i = 0; i < y.length; i++) pos += y[i]!;
  if (pos === 0) return undefined;
  let tp = 0, best = 0;
  for (let i = 0; i < idx.length; i++) {
    tp += y[idx[i]!]!;
    if (i + 1 < idx.length && p[idx[i + 1]!] === p[idx[i]!]) continue;
    best = Math.max(best, (2 * tp) / (i + 1 + pos));
  }
  return best;
}

/** One point of a precision-recall curve: the pairs scored at or above `threshold` taken as matches. */
export interface PRPoint {
  threshold: number;
  precision: number;
  recall: number;
}

export interface PRCurve {
  /** Descending threshold (so recall ascending), at most `maxPoints` of the curve's steps, the first and last among them. */
  points: PRPoint[];
  /** Where the operating threshold puts the held-out pairs: the precision and recall of `confusionAt` there. */
  operatingPoint: PRPoint;
}

/**
 * The precision-recall curve that `areaUnderPR` integrates: one point per distinct score (tied
 * scores are one step). A long curve is thinned to points spread evenly along its length in the
 * (recall, precision) plane, so its steep drops keep their points where a thinning by rank would
 * skip them. Undefined without positives, as the area is.
 */
export function precisionRecallCurve(p: ArrayLike<number>, y: ArrayLike<number>, operatingThreshold: number, maxPoints = 100): PRCurve | undefined {
  const idx = Array.from({ length: p.length }, (_, i) => i).sort((a, b) => p[b]! - p[a]! || a - b);
  let pos = 0;
  for (let i = 0; i < y.length; i++) pos += y[i]!;
  if (pos === 0) return undefined;
  const steps: PRPoint[] = [];
  let tp = 0, i = 0;
  while (i < idx.length) {
    let j = i;
    while (j < idx.length && p[idx[j]!] === p[idx[i]!]) { tp += y[idx[j]!]!; j++; }
    steps.push({ threshold: p[idx[i]!]!, precision: tp / j, recall: tp / pos });
    i = j;
  }
  const c = confusionAt(p, y, operatingThreshold);
  const predicted = c.numTruePositives + c.numFalsePositives;
  const operatingPoint = {
    threshold: operatingThreshold,
    // No pair predicted a match: precision is taken as 1, as at the top of the curve.
    precision: predicted > 0 ? c.numTruePositives / predicted : 1,
    recall: c.numTruePositives / pos,
  };
  return { points: thinCurve(steps, Math.max(2, maxPoints)), operatingPoint };
}

function thinCurve(steps: PRPoint[], maxPoints: number): PRPoint[] {
  if (steps.length <= maxPoints) return steps;
  const along = [0];
  for (let k = 1; k < steps.length; k++)
    along.push(along[k - 1]! + Math.abs(steps[k]!.recall - steps[k - 1]!.recall) + Math.abs(steps[k]!.precision - steps[k - 1]!.precision));
  const total = along[steps.length - 1]!;
  const kept: PRPoint[] = [steps[0]!];
  let k = 1;
  for (let m = 1; m < maxPoints - 1; m++) {
    const target = (total * m) / (maxPoints - 1);
    while (k < steps.length - 1 && along[k]! < target) k++;
    if (k < steps.length - 1 && kept[kept.length - 1] !== steps[k]) kept.push(steps[k]!);
  }
  kept.push(steps[steps.length - 1]!);
  return kept;
}
