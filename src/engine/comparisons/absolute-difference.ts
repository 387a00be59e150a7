import { absoluteSim } from '../comparators.js';
import type { Comparison } from './comparison.js';

/** 1 / (1 + |a − b| / scale) of the parsed numbers, scale a tenth of the column's spread (years, ages). */
export const absoluteDifference: Comparison = {
  outputs: ['absoluteDiff'],
  planned: { numeric: ['absoluteDiff'] },
  needs: ['numbers'],
  cheap: true,
  compare(col, a, b, out) {
    out[0] = absoluteSim(col.num![a]!, col.num![b]!, col.numScale ?? 1);
  },
};
