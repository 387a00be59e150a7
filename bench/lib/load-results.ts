/** What `npm run bench:load` measures (bench/load.ts), as stored in bench/results/load-<nodes>nodes.json. */
import type { Machine } from './results.js';

export type LoadOperation =
  | 'GetMLTransform'
  | 'GetMLTransforms'
  | 'ListMLTransforms'
  | 'GetMLTaskRuns'
  | 'GetTags'
  | 'GetTable'
  | 'GetTables'
  | 'GetDatabase'
  | 'GetDatabases';

export interface LoadResult {
  nodes: number;
  /** Which metadata store the nodes shared. */
  store: string;
  clients: number;
  seconds: number;
  transforms: number;
  tables: number;
  calls: number;
  errors: number;
  errorSamples: string[];
  callsPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** Calls answered by each node, in start order. */
  callsPerNode: number[];
  operations: Array<{ name: LoadOperation; calls: number; p50Ms: number | null; p99Ms: number | null }>;
  /** CPU time of the benchmark's own process (the clients: signing, parsing). */
  clientCpuSeconds: number;
  loadAverageBefore: number;
  machine: Machine;
  commit: string;
}
