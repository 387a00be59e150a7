/** Results of `npm run bench:partitioned` (bench/partitioned.ts) and their BENCHMARKS.md section. */
import type { Phase } from './run-watch.js';
import type { Machine } from './results.js';

/** One find-matches job run with `workers` task processes. */
export interface PartitionedRun {
  workers: number;
  /** PartCount of the run (1: a single run). */
  parts: number;
  seconds: number;
  cpuSeconds: number;
  peakProcessRssBytes: number;
  peakTreeRssBytes: number;
  stages: Partial<Record<Phase, number>> | null;
  candidatePairs: number | null;
  matchGroups: number | null;
  /** Of the output's part files (names and bytes, in order). */
  outputSha256: string;
  loadAverage: number;
}

export interface PartitionedResult {
  kind: 'partitioned';
  records: number;
  seed: number;
  labeledRows: number;
  startedAt: string;
  machine: Machine;
  commit: string;
  runs: PartitionedRun[];
  /** Every run's output is the first one's. */
  identical: boolean;
}

const one = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(1));
const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(2);

/** The "Partitioned find-matches runs" section; `machineOf` numbers a machine as the Machines list does. */
export function renderPartitioned(results: readonly PartitionedResult[], machineOf: (m: Machine) => number): string[] {
  const lines = ['## Partitioned find-matches runs', ''];
  lines.push(
    '`npm run bench:partitioned -- --records N --workers 1,2,3` (bench/partitioned.ts): per worker count W a fresh server with W task ' +
      'processes (DOPPEL_WORKERS), the synthetic people set of `bench:speed`, a transform with NumberOfWorkers W taught 1,000 rows ' +
      "labeled from the truth, and one `findmatches` job with confidence scores: a single run for W = 1, W parts otherwise (README " +
      '"Partitioned find-matches runs"). Seconds are wall time from StartJobRun to the poll that saw it end; CPU s is user + system ' +
      "time of the server's whole process tree during the job; stages come from the run's Progress (score: writing the state and the parts' pairs, the parts, waiting " +
      'for them included). "same output" compares the SHA-256 of the output files with the W = 1 run\'s.',
  );
  lines.push('');
  lines.push('| records | workers | parts | find-matches s | CPU s | CPU / wall | read | prepare | train | block | score | cluster | write | peak RSS GiB (process) | peak RSS GiB (tree) | candidate pairs | same output | load at start | run |');
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|');
  for (const r of results) {
    for (const run of r.runs) {
      const s = run.stages ?? {};
      lines.push(
        `| ${r.records.toLocaleString('en-US')} | ${run.workers} | ${run.parts} | ${one(run.seconds)} | ${one(run.cpuSeconds)} | ` +
          `${(run.cpuSeconds / run.seconds).toFixed(2)} | ${one(s.read)} | ${one(s.prepare)} | ${one(s.train)} | ${one(s.block)} | ` +
          `${one(s.score)} | ${one(s.cluster)} | ${one(s.write)} | ${gib(run.peakProcessRssBytes)} | ${gib(run.peakTreeRssBytes)} | ` +
          `${run.candidatePairs?.toLocaleString('en-US') ?? '–'} | ${run.outputSha256 === r.runs[0]!.outputSha256 ? 'yes' : 'NO'} | ` +
          `${run.loadAverage} | M${machineOf(r.machine)}, ${r.startedAt.slice(0, 10)}, ${r.commit} |`,
      );
    }
  }
  lines.push('');
  return lines;
}
