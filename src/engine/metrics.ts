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
