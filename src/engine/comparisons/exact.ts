import type { Comparison } from './comparison.js';

/** The two values are the same normalized value. */
export const exact: Comparison = {
  outputs: ['exact'],
  planned: {
    mostlyEmpty: ['exact'],
    categorical: ['exact'],
    identifier: ['exact'],
    numeric: ['exact'],
    date: ['exact'],
    shortText: ['exact'],
  },
  needs: [],
  cheap: true,
  sameValue: { same: 1, different: 0 },
};
