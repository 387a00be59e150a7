import { absoluteSim } from '../comparators.js';
import type { Comparison } from './comparison.js';

/** Days apart, as 1 / (1 + days / 30). */
export const dateDifference: Comparison = {
  outputs: ['dateDiff'],
  planned: { date: ['dateDiff'] },
  needs: ['numbers'],
  cheap: true,
  compare(col, a, b, out) {
    out[0] = absoluteSim(col.num![a]!, col.num![b]!, 30);
  },
};
