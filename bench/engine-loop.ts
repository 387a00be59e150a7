/**
 * Local driver for the engine: plays the teaching loop on a dataset in-process and prints the
 * learning curve. Usage: node dist/bench/engine-loop.js <dataset> [rounds] [seed]
 * LABELS_FILE=<path> saves the labels at the end; with REPLAY=1 it loads them instead and runs
 * findMatches once per PrecisionRecallTradeoff of 0.3 / 0.5 / 0.7. ACT=<x> sets AccuracyCostTradeoff.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createMatcher } from '../src/engine/index.js';
import type { EngineLabel } from '../src/engine/api.js';
import { resolveDatasetDir } from './lib/datasets.js';
import { loadTeachingDataset, scoreMatches, teach } from './lib/engine-teaching.js';

const name = process.argv[2] ?? 'restaurant';
const rounds = Number(process.argv[3] ?? 10);
const seed = Number(process.argv[4] ?? 1);
const labelFile = process.env['LABELS_FILE'];
const params = process.env['ACT'] ? { accuracyCostTradeoff: Number(process.env['ACT']) } : {};

const ds = loadTeachingDataset(resolveDatasetDir(name));
const matcher = createMatcher();
const fixed = (x: number | undefined, digits = 4) => (x === undefined ? '-' : x.toFixed(digits));

if (labelFile && process.env['REPLAY']) {
  const labels = JSON.parse(readFileSync(labelFile, 'utf8')) as EngineLabel[];
  for (const precisionRecallTradeoff of [0.3, 0.5, 0.7]) {
    const started = Date.now();
    const res = await matcher.findMatches(ds.table, labels, { ...params, seed, precisionRecallTradeoff });
    const s = scoreMatches(ds, res.matchId);
    console.log(
      `replay labels ${labels.length} prt ${precisionRecallTradeoff} P ${fixed(s.precision)} R ${fixed(s.recall)} F1 ${fixed(s.f1)} ` +
        `groups ${res.stats.groups} ${((Date.now() - started) / 1000).toFixed(1)}s`,
    );
  }
} else {
  console.log(`${name}: ${ds.table.rowCount} rows, true pairs ${ds.meta.true_pairs}`);
  const labels: EngineLabel[] = [];
  for await (const r of teach(matcher, ds, { rounds, seed, evaluate: true, params, labels })) {
    const ev = r.evaluation;
    console.log(
      `round ${r.round} labels ${r.labels} P ${fixed(r.score.precision)} R ${fixed(r.score.recall)} F1 ${fixed(r.score.f1)} | ` +
        `cand ${r.candidatePairs} groups ${r.groups} | find ${r.findSeconds.toFixed(1)}s` +
        (ev ? ` | eval F1 ${fixed(ev.f1, 3)} P ${fixed(ev.precision, 3)} R ${fixed(ev.recall, 3)} blockR ${fixed(ev.blockingRecall, 3)}` : ''),
    );
  }
  if (labelFile) writeFileSync(labelFile, JSON.stringify(labels));
}
