/** Micro-benchmark: pair scoring throughput on a dataset. Usage: node dist/bench/engine-speed.js <dataset> */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { prepareTable } from '../src/engine/profile.js';
import { planFeatures, pairFeatures } from '../src/engine/features.js';
import { generateCandidates } from '../src/engine/blocking.js';

const name = process.argv[2] ?? 'febrl3';
const rows: string[][] = parse(readFileSync(`/work/shared/datasets/${name}/records.csv`, 'utf8'));
const header = rows.shift()!;
const table = {
  columns: header.map((h) => ({ name: h, type: 'string' })),
  primaryKey: 0,
  values: header.map((_, c) => rows.map((r) => (r[c] ? r[c]! : null))),
  rowCount: rows.length,
};
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
