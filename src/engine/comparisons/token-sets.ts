import { bagSimilarities } from '../comparators.js';
import type { Comparison } from './comparison.js';

/**
 * The word bags' Jaccard, TF-IDF cosine and rarest shared word, in one merge of the two bags
 * (comparators.ts bagSimilarities).
 */
export const tokenSets: Comparison = {
  outputs: ['tokenJaccard', 'tokenTfidf', 'tokenRarestShared'],
  planned: {
    shortText: ['tokenJaccard', 'tokenTfidf', 'tokenRarestShared'],
    longText: ['tokenJaccard', 'tokenTfidf', 'tokenRarestShared'],
  },
  needs: ['tokens'],
  cheap: false,
  compare(col, a, b, out) {
    bagSimilarities(col.tokens, a, b, out);
  },
};
