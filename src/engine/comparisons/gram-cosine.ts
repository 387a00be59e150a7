import { bagCosine } from '../comparators.js';
import type { Comparison } from './comparison.js';

/** TF-IDF cosine of the padded 3-gram bags: robust to typos and word order. */
export const gramCosine: Comparison = {
  outputs: ['gramTfidf'],
  planned: { shortText: ['gramTfidf'], longText: ['gramTfidf'] },
  needs: ['grams'],
  cheap: false,
  main: { shortText: 'gramTfidf', longText: 'gramTfidf' },
  compare(col, a, b, out) {
    out[0] = col.grams ? bagCosine(col.grams, a, b) : 0;
  },
};
