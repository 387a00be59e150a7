import { codeSimilarities } from '../comparators.js';
import type { Comparison } from './comparison.js';

/**
 * Model, part and catalogue numbers in text (profile.ts `codes`, for columns where codes with
 * letters are common): code agreement (the same code, or one beginning or ending the other,
 * weighted by rarity) and code conflict (both hold codes, none agree). Each code is a blocking key.
 */
export const codes: Comparison = {
  outputs: ['codeAgreement', 'codeConflict'],
  planned: { shortText: ['codeAgreement', 'codeConflict'], longText: ['codeAgreement', 'codeConflict'] },
  appliesTo: (col) => col.codes !== undefined,
  needs: ['codes'],
  cheap: false,
  compare(col, a, b, out) {
    codeSimilarities(col.codes!, col.codeText!, a, b, out);
  },
  blockingKeys: (col) => col.codes,
};
