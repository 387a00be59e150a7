/**
 * Incremental matching timed and scored without the server: `node dist/bench/engine-incremental.js
 * <dataset|folder> [labels.json]` splits records.csv into a base and its last NEW rows (default
 * 20% of them), labels the base (the labels file engine-loop.js wrote with LABELS_FILE, or ROUNDS
 * teaching rounds on the base from the truth, default 3), groups the base with findMatches, then
 * times findIncrementalMatches with the new rows against a findMatches of every row, each on a
 * fresh matcher, and prints both F1s against truth.csv and whether any existing id changed.
 * `THREADS=n` sets the engine's worker threads.
 */
import { readFileSync } from 'node:fs';
import type { EngineLabel, EngineTable } from '../src/engine/api.js';
import { concatTables, createMatcher } from '../src/engine/index.js';
import { resolveDatasetDir } from './lib/datasets.js';
import { loadTeachingDataset, scoreMatches, teach, type TeachingDataset } from './lib/engine-teaching.js';

const args = process.argv.slice(2);
const ds = loadTeachingDataset(resolveDatasetDir(args[0] ?? 'febrl3'));
const n = ds.table.rowCount;
const added = process.env['NEW'] ? Number(process.env['NEW']) : Math.round(n * 0.2);
const base = n - added;
const threads = process.env['THREADS'] ? Number(process.env['THREADS']) : undefined;
const matcher = () => createMatcher(threads === undefined ? {} : { threads });
const params = { seed: 1 };
const seconds = (ms: number) => (ms / 1000).toFixed(2);

const rowsOf = (t: EngineTable, from: number, to: number): EngineTable => ({
  columns: t.columns.map((c) => ({ ...c, codes: c.codes.slice(from, to) })),
  primaryKey: t.primaryKey,
  rowCount: to - from,
});
const baseTable = rowsOf(ds.table, 0, base);
const baseDs: TeachingDataset = { ...ds, table: baseTable, keys: ds.keys.slice(0, base) };

let labels: EngineLabel[] = [];
if (args[1]) labels = JSON.parse(readFileSync(args[1], 'utf8')) as EngineLabel[];
else {
  const rounds = Number(process.env['ROUNDS'] ?? 3);
  for await (const round of teach(matcher(), baseDs, { rounds, seed: 1, labels })) {
    console.log(`teaching on the base: round ${round.round}, ${round.labels} labels`);
  }
}
console.log(`${n} rows: base ${base}, new ${added}, ${labels.length} labels`);

let t = performance.now();
const first = await matcher().findMatches(baseTable, labels, params);
console.log(`findMatches on the base: ${seconds(performance.now() - t)} s`);

const combined = concatTables(baseTable, rowsOf(ds.table, base, n));
t = performance.now();
let cpu = process.cpuUsage();
const inc = await matcher().findIncrementalMatches(combined, { rows: base, matchId: first.matchId, confidence: first.confidence }, labels, params);
const incMs = performance.now() - t;
const incCpu = process.cpuUsage(cpu);
let changed = 0;
for (let r = 0; r < base; r++) if (inc.matchId[r] !== first.matchId[r]) changed++;

t = performance.now();
cpu = process.cpuUsage();
const full = await matcher().findMatches(ds.table, labels, params);
const fullMs = performance.now() - t;
const fullCpu = process.cpuUsage(cpu);

const cpuSeconds = (u: NodeJS.CpuUsage) => ((u.user + u.system) / 1e6).toFixed(1);
const f1 = (matchId: Float64Array) => scoreMatches(ds, matchId).f1.toFixed(4);
console.log(
  `incremental: ${seconds(incMs)} s wall, ${cpuSeconds(incCpu)} s cpu, ${inc.stats.scoredPairs} pairs scored, ` +
    `${inc.stats.joinedExisting} new rows joined existing groups, ${inc.conflicts.length} conflicts, ${changed} existing ids changed, F1 ${f1(inc.matchId)}`,
);
console.log(`full run:    ${seconds(fullMs)} s wall, ${cpuSeconds(fullCpu)} s cpu, ${full.stats.scoredPairs} pairs scored, F1 ${f1(full.matchId)}`);
console.log(`speed-up ${(fullMs / incMs).toFixed(1)}x wall; peak RSS ${(process.resourceUsage().maxRSS / 2 ** 20).toFixed(2)} GiB`);
