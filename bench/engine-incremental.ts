/**
 * Incremental matching timed and scored without the server: `node dist/bench/engine-incremental.js
 * <dataset|folder> [labels.json]` splits records.csv into a base and its last NEW rows (default
 * 20% of them), labels the base (the labels file engine-loop.js wrote with LABELS_FILE, or ROUNDS
 * teaching rounds on the base from the truth, default 10), groups the base with findMatches and
 * keeps its incremental state (engine state.ts) as bytes, as a job stores it. Then, each on a fresh
 * matcher:
 *
 * - REPEATS (default 3) incremental runs with the state: decoding the bytes, the run, encoding the
 *   state it leaves (what a chained job does besides reading and writing records);
 * - one incremental run without a state (it prepares the existing rows and trains: the fallback);
 * - FULL_REPEATS (default 1) findMatches runs of every row;
 *
 * each with wall and CPU time, and prints the F1s against truth.csv and whether any existing id
 * changed. Without a labels file, `SEEDS=1,2,3` repeats the teaching, the base run, one incremental
 * run and the full run for each seed (the teaching's and the engine's), for the F1s; the times are
 * the first seed's. `THREADS=n` sets the engine's worker threads. With `SAVE=1` the numbers are written to
 * bench/results/incremental-engine-<dataset>.json and BENCHMARKS.md is regenerated from bench/results.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineLabel, EngineTable, IncrementalMatchResult, MatchResult } from '../src/engine/api.js';
import { concatTables, createMatcher, decodeState, encodeState } from '../src/engine/index.js';
import { resolveDatasetDir } from './lib/datasets.js';
import { loadTeachingDataset, scoreMatches, teach, type TeachingDataset } from './lib/engine-teaching.js';
import type { IncrementalBenchResult, SeedF1, TimedRun } from './lib/incremental-results.js';
import { renderBenchmarksFrom } from './lib/report.js';
import { gitCommit, loadAverage, machine } from './lib/results.js';
import { median } from './lib/stats.js';

const args = process.argv.slice(2);
const dir = resolveDatasetDir(args[0] ?? 'febrl3');
const ds = loadTeachingDataset(dir);
const n = ds.table.rowCount;
const added = process.env['NEW'] ? Number(process.env['NEW']) : Math.round(n * 0.2);
const base = n - added;
const threads = process.env['THREADS'] ? Number(process.env['THREADS']) : undefined;
const repeats = Number(process.env['REPEATS'] ?? 3);
const fullRepeats = Number(process.env['FULL_REPEATS'] ?? 1);
const matcher = () => createMatcher(threads === undefined ? {} : { threads });
const seeds = (process.env['SEEDS'] ?? '1').split(',').map(Number);
if (seeds.length === 0 || seeds.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`SEEDS must list seeds: ${process.env['SEEDS']}`);
if (args[1] && seeds.length > 1) throw new Error('SEEDS needs labels taught here: leave the labels file out');
const rounds = Number(process.env['ROUNDS'] ?? 10);
const params = { seed: seeds[0]! };
const seconds = (ms: number) => (ms / 1000).toFixed(2);

const rowsOf = (t: EngineTable, from: number, to: number): EngineTable => ({
  columns: t.columns.map((c) => ({ ...c, codes: c.codes.slice(from, to) })),
  primaryKey: t.primaryKey,
  rowCount: to - from,
});
const baseTable = rowsOf(ds.table, 0, base);
const baseDs: TeachingDataset = { ...ds, table: baseTable, keys: ds.keys.slice(0, base) };

/** ROUNDS teaching rounds on the base, labeled from the truth. */
async function taught(seed: number): Promise<EngineLabel[]> {
  const labels: EngineLabel[] = [];
  for await (const round of teach(matcher(), baseDs, { rounds, seed, labels })) {
    console.log(`seed ${seed}, teaching on the base: round ${round.round}, ${round.labels} labels`);
  }
  return labels;
}

const labels: EngineLabel[] = args[1] ? (JSON.parse(readFileSync(args[1], 'utf8')) as EngineLabel[]) : await taught(params.seed);
console.log(`${n} rows: base ${base}, new ${added}, ${labels.length} labels`);

/** Wall and CPU seconds of `f` (CPU of this process: every engine thread). */
async function timed<T>(f: () => Promise<T> | T): Promise<{ value: T; wall: number; cpu: number }> {
  const t = performance.now();
  const c = process.cpuUsage();
  const value = await f();
  const u = process.cpuUsage(c);
  return { value, wall: (performance.now() - t) / 1000, cpu: (u.user + u.system) / 1e6 };
}

/** Seconds per engine stage, from its progress messages (a stage lasts until the next message of another stage). */
function stageClock() {
  const spans = new Map<string, number>();
  let current: string | undefined, since = performance.now();
  const stageOf = (m: string) =>
    /incremental state|preparing|adding .* new rows/.test(m) ? 'prepare'
      : /training|model/.test(m) ? 'train'
        : /indexing/.test(m) ? 'key index'
          : /neighbours/.test(m) ? 'neighbours'
            : /collecting/.test(m) ? 'collect'
              : /scoring/.test(m) ? 'score'
                : /group/.test(m) ? 'group' : 'other';
  const close = () => {
    const now = performance.now();
    if (current) spans.set(current, (spans.get(current) ?? 0) + (now - since) / 1000);
    since = now;
  };
  return {
    progress: (m: string) => {
      const s = stageOf(m);
      if (s !== current) { close(); current = s; }
    },
    done: () => { close(); current = undefined; return Object.fromEntries([...spans].map(([k, v]) => [k, Math.round(v * 100) / 100])); },
  };
}

const first = await timed(() => matcher().findMatches(baseTable, labels, params));
console.log(`findMatches on the base: ${seconds(first.wall * 1000)} s wall, ${first.cpu.toFixed(1)} s cpu`);
const encoded = await timed(() => Buffer.concat(encodeState(first.value.state!())));
const bytes = encoded.value;
console.log(`its incremental state: ${(bytes.length / 2 ** 20).toFixed(1)} MiB, captured and encoded in ${encoded.wall.toFixed(2)} s`);

const combined = concatTables(baseTable, rowsOf(ds.table, base, n));
const existing = { rows: base, matchId: first.value.matchId, confidence: first.value.confidence };
const cpuSeconds = (x: number) => x.toFixed(1);
const f1 = (matchId: Float64Array) => scoreMatches(ds, matchId).f1;
/** Existing rows whose id the incremental run changed, against the base run's ids. */
const changedIds = (inc: MatchResult, baseIds: Float64Array = first.value.matchId) => {
  let changed = 0;
  for (let r = 0; r < base; r++) if (inc.matchId[r] !== baseIds[r]) changed++;
  return changed;
};

const withState: TimedRun[] = [];
let lastInc: IncrementalMatchResult | undefined;
for (let i = 0; i < repeats; i++) {
  const decoded = await timed(() => decodeState(bytes));
  if (decoded.value instanceof Error) throw decoded.value;
  const state = decoded.value;
  const clock = stageClock();
  const run = await timed(() => matcher().findIncrementalMatches(combined, { ...existing, state }, labels, params, { progress: clock.progress }));
  const stages = clock.done();
  if (!run.value.stateUse.used) throw new Error(`the state was not used: ${run.value.stateUse.message}`);
  const next = await timed(() => encodeState(run.value.state!()).reduce((s, c) => s + c.length, 0));
  lastInc = run.value;
  withState.push({ wall: run.wall, cpu: run.cpu, decodeSeconds: decoded.wall, encodeSeconds: next.wall, stages });
  console.log(
    `incremental with the state: decode ${decoded.wall.toFixed(2)} s, run ${seconds(run.wall * 1000)} s wall, ${cpuSeconds(run.cpu)} s cpu ` +
      `(${Object.entries(stages).map(([k, v]) => `${k} ${v}`).join(', ')}), encode the next state ${next.wall.toFixed(2)} s (${(next.value / 2 ** 20).toFixed(1)} MiB)`,
  );
}
const inc = lastInc!;
console.log(
  `  ${inc.stats.scoredPairs} pairs scored, ${inc.stats.joinedExisting} new rows joined existing groups, ${inc.conflicts.length} conflicts, ` +
    `${changedIds(inc)} existing ids changed, F1 ${f1(inc.matchId).toFixed(4)}`,
);

const clock = stageClock();
const plain = await timed(() => matcher().findIncrementalMatches(combined, existing, labels, params, { progress: clock.progress }));
const plainStages = clock.done();
const same = plain.value.matchId.every((id, r) => id === inc.matchId[r]);
console.log(
  `incremental without a state: ${seconds(plain.wall * 1000)} s wall, ${cpuSeconds(plain.cpu)} s cpu ` +
    `(${Object.entries(plainStages).map(([k, v]) => `${k} ${v}`).join(', ')}); match ids ${same ? 'equal to' : 'DIFFERENT from'} the run with the state`,
);

const full: TimedRun[] = [];
let fullResult: MatchResult | undefined;
for (let i = 0; i < fullRepeats; i++) {
  const run = await timed(() => matcher().findMatches(ds.table, labels, params));
  fullResult = run.value;
  full.push({ wall: run.wall, cpu: run.cpu });
  console.log(`full run:    ${seconds(run.wall * 1000)} s wall, ${cpuSeconds(run.cpu)} s cpu, ${run.value.stats.scoredPairs} pairs scored`);
}
// Every list holds at least one repeat.
const medianOf = (xs: number[]) => median(xs)!;
const incWall = medianOf(withState.map((r) => r.wall)), fullWall = medianOf(full.map((r) => r.wall));
const fullF1 = f1(fullResult!.matchId);
console.log(`full run F1 ${fullF1.toFixed(4)}`);
console.log(
  `speed-up (medians): ${(fullWall / incWall).toFixed(1)}x wall, ${(medianOf(full.map((r) => r.cpu)) / medianOf(withState.map((r) => r.cpu))).toFixed(1)}x cpu; ` +
    `with decoding and encoding the state ${(fullWall / (incWall + medianOf(withState.map((r) => r.decodeSeconds! + r.encodeSeconds!)))).toFixed(1)}x wall; ` +
    `peak RSS ${(process.resourceUsage().maxRSS / 2 ** 20).toFixed(2)} GiB`,
);

/** The F1s of the other seeds: their own labels, base run, incremental run with its state and full run. */
const bySeed: SeedF1[] = [
  {
    seed: params.seed,
    labels: labels.length,
    incremental: f1(inc.matchId),
    full: fullF1,
    conflicts: inc.conflicts.length,
    existingIdsChanged: changedIds(inc),
  },
];
for (const seed of seeds.slice(1)) {
  const seedLabels = await taught(seed);
  const seedParams = { seed };
  const baseRun = await matcher().findMatches(baseTable, seedLabels, seedParams);
  const state = decodeState(Buffer.concat(encodeState(baseRun.state!())));
  if (state instanceof Error) throw state;
  const seedExisting = { rows: base, matchId: baseRun.matchId, confidence: baseRun.confidence, state };
  const seedInc = await matcher().findIncrementalMatches(combined, seedExisting, seedLabels, seedParams);
  const seedFull = await matcher().findMatches(ds.table, seedLabels, seedParams);
  bySeed.push({
    seed,
    labels: seedLabels.length,
    incremental: f1(seedInc.matchId),
    full: f1(seedFull.matchId),
    conflicts: seedInc.conflicts.length,
    existingIdsChanged: changedIds(seedInc, baseRun.matchId),
  });
}
for (const r of bySeed) {
  console.log(
    `seed ${r.seed}: ${r.labels} labels, F1 incremental ${r.incremental.toFixed(4)}, full ${r.full.toFixed(4)}, ` +
      `gap ${(r.full - r.incremental).toFixed(4)}, ${r.conflicts} conflicts, ${r.existingIdsChanged} existing ids changed`,
  );
}

if (process.env['SAVE'] === '1') {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const result: IncrementalBenchResult = {
    dataset: basename(dir),
    records: n,
    newRecords: added,
    labels: labels.length,
    threads: threads ?? null,
    commit: gitCommit(root),
    machine: machine(),
    loadAverage: loadAverage(),
    stateMiB: Math.round((bytes.length / 2 ** 20) * 10) / 10,
    baseFull: { wall: first.wall, cpu: first.cpu },
    withState,
    withoutState: { wall: plain.wall, cpu: plain.cpu, stages: plainStages },
    full,
    scoredPairs: { incremental: inc.stats.scoredPairs, full: fullResult!.stats.scoredPairs },
    f1: { incremental: f1(inc.matchId), full: fullF1 },
    bySeed,
    existingIdsChanged: bySeed.reduce((sum, r) => sum + r.existingIdsChanged, 0),
    sameWithoutState: same,
    peakRssGiB: Math.round((process.resourceUsage().maxRSS / 2 ** 20) * 100) / 100,
  };
  const resultsDir = join(root, 'bench', 'results');
  writeFileSync(join(resultsDir, `incremental-engine-${basename(dir)}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(root, 'BENCHMARKS.md'), renderBenchmarksFrom(resultsDir));
  console.log(`wrote bench/results/incremental-engine-${basename(dir)}.json and BENCHMARKS.md`);
}
