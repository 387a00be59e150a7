/** What `bench/engine-incremental.ts` (SAVE=1) writes to bench/results/incremental-engine-<dataset>.json. */
import type { Machine } from './results.js';

/** One timed engine call: wall and CPU seconds (every thread of the process). */
export interface TimedRun {
  wall: number;
  cpu: number;
  /** Decoding the stored state before the run, encoding the one it leaves (runs with a state). */
  decodeSeconds?: number;
  encodeSeconds?: number;
  /** Seconds per engine stage, from its progress messages. */
  stages?: Record<string, number>;
}

/** The F1s of one seed's teaching on the base (bench/engine-incremental.ts SEEDS). */
export interface SeedF1 {
  seed: number;
  labels: number;
  incremental: number;
  full: number;
  /** New rows that matched more than one existing group. */
  conflicts: number;
  existingIdsChanged: number;
}

export interface IncrementalBenchResult {
  dataset: string;
  records: number;
  newRecords: number;
  labels: number;
  threads: number | null;
  commit: string;
  machine: Machine;
  loadAverage: number;
  /** Size of the stored state of the base. */
  stateMiB: number;
  /** findMatches on the base (the run whose state the incremental runs use). */
  baseFull: TimedRun;
  withState: TimedRun[];
  withoutState: TimedRun;
  /** findMatches on every row. */
  full: TimedRun[];
  scoredPairs: { incremental: number; full: number };
  /** The first seed's (the timed runs'). */
  f1: { incremental: number; full: number };
  /** Every seed's F1s, the first seed's first (absent in results of older benches: `f1` only). */
  bySeed?: SeedF1[];
  /** Over every seed. */
  existingIdsChanged: number;
  /** The run without a state gave the same match ids as the runs with it. */
  sameWithoutState: boolean;
  peakRssGiB: number;
}

/** One job run timed by bench/job-incremental.ts: StartJobRun to SUCCEEDED, as the client sees it. */
export interface JobTiming {
  wall: number;
  /** CPU seconds of the server and its task processes during the run (absent in results of older benches). */
  cpu?: number;
  /** Size of the incremental state the run left beside its output. */
  stateMiB?: number;
  /** Seconds per progress stage of the task run (its message without counts), as polled. */
  stages?: Record<string, number>;
  /** Incremental runs: the IncrementalStateUsed run property. */
  stateUsed?: boolean;
  /** Incremental runs: the ExistingRecordsCopied run property. */
  existingCopied?: boolean;
}

/** What `bench/job-incremental.ts` (SAVE=1) writes to bench/results/incremental-job-<records>.json. */
export interface IncrementalJobResult {
  dataset: string;
  records: number;
  newRecords: number;
  labels: number;
  commit: string;
  machine: Machine;
  loadAverage: number;
  fullBase: JobTiming;
  /** Repeats of the incremental run with the state (one in results of older benches). */
  withState: JobTiming | JobTiming[];
  /** The next incremental run, on the first one's output (absent in results of older benches). */
  chained?: JobTiming;
  withoutState: JobTiming;
  full: JobTiming;
}
