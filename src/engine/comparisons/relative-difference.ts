import { relativeSim } from '../comparators.js';
import type { Comparison } from './comparison.js';

/** 1 − |a − b| / max(|a|, |b|) of the parsed numbers: scale-free (prices, counts). */
export const relativeDifference: Comparison = {
  outputs: ['relativeDiff'],
  planned: { numeric: ['relativeDiff'] },
  needs: ['numbers'],
  cheap: true,
  main: { numeric: 'relativeDiff' },
  compare(col, a, b, out) {
    out[0] = relativeSim(col.num![a]!, col.num![b]!);
  },
};
