import type { Comparison } from './comparison.js';

/**
 * Either row misses the value: 1 then, 0 for two present values. Every other feature of the
 * column is 0 when a value is missing, so this one lets the model tell "missing" from "different".
 */
export const missing: Comparison = {
  outputs: ['eitherMissing'],
  planned: {
    mostlyEmpty: ['eitherMissing'],
    categorical: ['eitherMissing'],
    identifier: ['eitherMissing'],
    numeric: ['eitherMissing'],
    date: ['eitherMissing'],
    shortText: ['eitherMissing'],
    longText: ['eitherMissing'],
  },
  // A column with no missing value gets no missing indicator.
  appliesTo: (col) => col.anyMissing,
  needs: [],
  cheap: true,
  whenMissing: 1,
  sameValue: { same: 0, different: 0 },
};
