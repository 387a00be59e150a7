export { createMatcher } from './matcher.js';
export type * from './api.js';
export { columnValues, concatTables, encodeTable, TableEncoder, valueAt } from './table.js';
