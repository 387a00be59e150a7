/** Order statistics for benchmark numbers: percentiles of latencies, medians and ranges of repeats. */

/**
 * The p-th percentile (0 < p ≤ 100) by the nearest-rank method: the smallest value with at least p%
 * of the values at or below it, so it is always one of the measured values. Null for no values.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (!(p > 0 && p <= 100)) throw new Error(`percentile: p must be in (0, 100], got ${p}`);
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

/** The median (the mean of the two middle values for an even count), or null for no values. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median and extremes of one measurement over repeats; `n` is how many repeats measured it. */
export interface Range {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** The range of the values that were measured (nulls are skipped), or null when none was. */
export function rangeOf(values: ReadonlyArray<number | null | undefined>): Range | null {
  const xs = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (xs.length === 0) return null;
  return { median: median(xs)!, min: xs.reduce((a, b) => Math.min(a, b)), max: xs.reduce((a, b) => Math.max(a, b)), n: xs.length };
}
