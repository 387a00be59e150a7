export { createMatcher } from './matcher.js';
export type * from './api.js';
export { columnValues, concatTables, encodeTable, TableEncoder, valueAt } from './table.js';
export { decodeState, encodeState, STATE_VERSION, type IncrementalState } from './state.js';
