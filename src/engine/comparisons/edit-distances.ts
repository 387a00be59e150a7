import { stringSimilarities } from '../comparators.js';
import type { Comparison } from './comparison.js';

/**
 * Jaro-Winkler and Levenshtein similarity of the normalized strings, from one bit-mask index of
 * the shorter string (comparators.ts stringSimilarities).
 */
export const editDistances: Comparison = {
  outputs: ['jaroWinkler', 'levenshtein'],
  planned: {
    identifier: ['levenshtein', 'jaroWinkler'],
    numeric: ['levenshtein'],
    date: ['levenshtein'],
    shortText: ['jaroWinkler', 'levenshtein'],
  },
  needs: ['strings'],
  cheap: false,
  main: { identifier: 'levenshtein', date: 'levenshtein' },
  compare(col, a, b, out) {
    stringSimilarities(col.text, a, b, out);
  },
};
