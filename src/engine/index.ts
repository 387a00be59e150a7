export { createMatcher } from './matcher.js';
export type * from './api.js';
