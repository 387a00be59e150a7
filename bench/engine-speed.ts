/**
 * Micro-benchmark of the engine's hot path on a dataset, without the server:
 * `node dist/bench/engine-speed.js <dataset>` prints preparation and blocking time, pair-scoring
 * throughput (all features, twice), the cost of each feature kind (one kind at a time over up to
 * 200k candidate pairs, so it includes a little call overhead), and per column the share of
 * candidate pairs whose two values are equal and of distinct value pairs: how much work scoring
 * each distinct value pair once would leave.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { prepareTable } from '../src/engine/profile.js';
import { planFeatures, pairFeatures, type FeatureKind } from '../src/engine/features.js';
import { generateCandidates } from '../src/engine/blocking.js';
import { resolveDatasetDir } from './lib/datasets.js';
import { encodeTable } from '../src/engine/table.js';

const name = process.argv[2] ?? 'febrl3';
const rows: string[][] = parse(readFileSync(join(resolveDatasetDir(name), 'records.csv'), 'utf8'));
const header = rows.shift()!;
const table = encodeTable(header.map((h) => ({ name: h, type: 'string' })), header.map((_, c) => rows.map((r) => (r[c] ? r[c]! : null))), Math.max(0, header.indexOf('id')));
let t = performance.now();
const pt = prepareTable(table);
const fs = planFeatures(pt);
console.log(`prepare ${(performance.now() - t).toFixed(0)}ms, ${fs.length} features`, pt.columns.map((c) => `${c.profile.name}:${c.profile.kind}`).join(' '));
t = performance.now();
const c = generateCandidates(pt, { accuracyCostTradeoff: 0.5 });
console.log(`blocking ${(performance.now() - t).toFixed(0)}ms, ${c.a.length} pairs`);
const out = new Float32Array(fs.length);
for (let rep = 0; rep < 2; rep++) {
  t = performance.now();
  for (let i = 0; i < c.a.length; i++) pairFeatures(pt, fs, c.a[i]!, c.b[i]!, out, 0);
  const ms = performance.now() - t;
  console.log(`features ${ms.toFixed(0)}ms = ${((c.a.length / ms) * 1000).toFixed(0)} pairs/s`);
}

const sample = Math.min(200_000, c.a.length);
const nsByKind = new Map<FeatureKind, number>();
for (const f of fs) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < sample; i++) pairFeatures(pt, [f], c.a[i]!, c.b[i]!, out, 0);
  nsByKind.set(f.kind, (nsByKind.get(f.kind) ?? 0) + Number(process.hrtime.bigint() - start) / sample);
}
let total = 0;
for (const v of nsByKind.values()) total += v;
console.log(
  `per feature kind (ns per pair, ${total.toFixed(0)} in all):`,
  [...nsByKind].sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${v.toFixed(0)} (${((100 * v) / total).toFixed(0)}%)`).join(', '),
);

const shares = pt.columns.map((col, ci) => {
  const distinct = new Set<number>();
  let equal = 0;
  for (let i = 0; i < c.a.length; i++) {
    const x = pt.codes[c.a[i]! * pt.columns.length + ci]!, y = pt.codes[c.b[i]! * pt.columns.length + ci]!;
    if (x === y) equal++;
    distinct.add(Math.min(x, y) * (col.valueCount + 1) + Math.max(x, y));
  }
  const pct = (v: number) => `${((100 * v) / Math.max(1, c.a.length)).toFixed(0)}%`;
  return `${col.profile.name} equal ${pct(equal)} distinct ${pct(distinct.size)}`;
});
console.log('value pairs per candidate pair:', shares.join('; '));
