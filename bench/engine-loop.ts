/**
 * Local driver for the engine: simulates the labeling loop on a shared dataset and prints the
 * learning curve. Usage: node dist/bench/engine-loop.js <dataset> [rounds] [seed]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { join } from 'node:path';
import { createMatcher } from '../src/engine/index.js';
import { resolveDatasetDir } from './lib/datasets.js';
import type { EngineLabel, EngineTable } from '../src/engine/api.js';
import { columnValues, encodeTable } from '../src/engine/table.js';


const name = process.argv[2] ?? 'restaurant';
const rounds = Number(process.argv[3] ?? 10);
const seed = Number(process.argv[4] ?? 1);

const rows: string[][] = parse(readFileSync(join(resolveDatasetDir(name), 'records.csv'), 'utf8'), { relax_quotes: false });
const header = rows.shift()!;
const meta = JSON.parse(readFileSync(join(resolveDatasetDir(name), 'meta.json'), 'utf8'));
const truthRows: string[][] = parse(readFileSync(join(resolveDatasetDir(name), 'truth.csv'), 'utf8'));
truthRows.shift();
const entity = new Map(truthRows.map((r) => [r[0]!, r[1]!]));
const table = encodeTable(header.map((h) => ({ name: h, type: 'string' })), header.map((_, c) => rows.map((r) => (r[c] === '' || r[c] === undefined ? null : r[c]!))), header.indexOf('id'));
const srcCol = meta.score_pairs === 'cross_source' ? header.indexOf('source') : -1;

function score(matchId: Float64Array) {
  // pairwise P/R/F1 from cluster sizes
  const ids = columnValues(table, table.primaryKey);
  const src = srcCol >= 0 ? columnValues(table, srcCol) : undefined;
  const pairs = (groups: Map<string, Map<string, number>>) => {
    let t = 0;
    for (const g of groups.values()) {
      let n = 0, sq = 0;
      for (const c of g.values()) { n += c; sq += c * c; }
      t += src ? (n * n - sq) / 2 : (n * (n - 1)) / 2;
    }
    return t;
  };
  const add = (m: Map<string, Map<string, number>>, k: string, s: string) => {
    let g = m.get(k);
    if (!g) m.set(k, (g = new Map()));
    const key = src ? s : `${g.size}_${Math.random()}`;
    g.set(key, (g.get(key) ?? 0) + 1);
  };
  const pred = new Map<string, Map<string, number>>(), tru = new Map<string, Map<string, number>>(), cell = new Map<string, Map<string, number>>();
  for (let r = 0; r < table.rowCount; r++) {
    const s = src ? src[r]! : '';
    add(pred, String(matchId[r]), s);
    add(tru, entity.get(ids[r]!)!, s);
    add(cell, `${matchId[r]}|${entity.get(ids[r]!)}`, s);
  }
  const P = pairs(pred), T = pairs(tru), TP = pairs(cell);
  const p = P ? TP / P : 0, rc = T ? TP / T : 0;
  return { p, r: rc, f1: p + rc ? (2 * p * rc) / (p + rc) : 0, predicted: P, truePairs: T };
}

const matcher = createMatcher();
const labels: EngineLabel[] = [];
const labelFile = process.env.LABELS_FILE;
if (labelFile && process.env.REPLAY) {
  // Replay mode: load saved labels, run findMatches once (for quick experiments).
  labels.push(...(JSON.parse(readFileSync(labelFile, 'utf8')) as EngineLabel[]));
  for (const prt of [0.3, 0.5, 0.7]) {
    const t0 = Date.now();
    const res = await matcher.findMatches(table, labels, { seed, precisionRecallTradeoff: prt, ...(process.env.ACT ? { accuracyCostTradeoff: Number(process.env.ACT) } : {}) });
    const s = score(res.matchId);
    console.log(`replay labels ${labels.length} prt ${prt} P ${s.p.toFixed(4)} R ${s.r.toFixed(4)} F1 ${s.f1.toFixed(4)} groups ${res.stats.groups} ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }
  process.exit(0);
}
const pk = columnValues(table, table.primaryKey);
console.log(`${name}: ${table.rowCount} rows, true pairs ${meta.true_pairs}`);
for (let round = 0; round <= rounds; round++) {
  const t0 = Date.now();
  const res = await matcher.findMatches(table, labels, { seed });
  const t1 = Date.now();
  const s = score(res.matchId);
  const ev = round > 0 ? await matcher.evaluate(table, labels, { seed }) : undefined;
  const t2 = Date.now();
  console.log(
    `round ${round} labels ${labels.length} P ${s.p.toFixed(4)} R ${s.r.toFixed(4)} F1 ${s.f1.toFixed(4)} | cand ${res.stats.candidatePairs} groups ${res.stats.groups} | find ${((t1 - t0) / 1000).toFixed(1)}s` +
      (ev ? ` | eval F1 ${ev.f1?.toFixed(3)} P ${ev.precision?.toFixed(3)} R ${ev.recall?.toFixed(3)} blockR ${ev.blockingRecall?.toFixed(3)} ${((t2 - t1) / 1000).toFixed(1)}s` : ''),
  );
  if (round === rounds) {
    if (labelFile) writeFileSync(labelFile, JSON.stringify(labels));
    break;
  }
  const t3 = Date.now();
  const sets = await matcher.generateLabelingSets(table, labels, { seed }, {});
  let pos = 0, tot = 0;
  for (const set of sets) {
    const ents = new Map<string, string>();
    for (const { row } of set.rows) {
      const e = entity.get(pk[row]!)!;
      if (!ents.has(e)) ents.set(e, `L${ents.size}`);
      labels.push({ labelingSetId: set.labelingSetId, label: ents.get(e)!, key: pk[row]! });
    }
    const sizes = new Map<string, number>();
    for (const { row } of set.rows) { const e = entity.get(pk[row]!)!; sizes.set(e, (sizes.get(e) ?? 0) + 1); }
    for (const c of sizes.values()) pos += (c * (c - 1)) / 2;
    tot += (set.rows.length * (set.rows.length - 1)) / 2;
  }
  console.log(`   gen ${sets.length} sets ${sets.reduce((a, s) => a + s.rows.length, 0)} rows, pos pairs ${pos}/${tot}, ${((Date.now() - t3) / 1000).toFixed(1)}s`);
}
