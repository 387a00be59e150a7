export { createMatcher } from './matcher.js';
export type * from './api.js';
export { columnValues, concatTables, encodeTable, TableEncoder, takeRows, valueAt } from './table.js';
export { decodeState, deltaBase, encodeState, encodeStateDelta, stateKeys, stateProblem, STATE_VERSION, type IncrementalState, type WrittenMatches } from './state.js';
