/**
 * Match-quality floors: a few small benchmark datasets taught in-process from their truth (the
 * loop of bench/lib/engine-teaching.ts, seconds each), the output scored pairwise. The floors sit
 * well below what the matcher reaches today and far above its known failure modes (a round that
 * collapses to F1 0.06, or over-merges to precision 0.12), so a change that breaks learning,
 * blocking, a comparator or clustering fails here instead of only in `bench:quality`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMatcher } from '../../src/engine/index.js';
import { resolveDatasetDir } from '../../bench/lib/datasets.js';
import { loadTeachingDataset, teach, type TeachingRound } from '../../bench/lib/engine-teaching.js';

const ROUNDS = 4;
const SEEDS = [1, 2];

/** F1 after ROUNDS rounds (100 labeled rows each); every round from 2 on stays within 0.15 of it. */
const FLOORS: Array<{ dataset: string; kind: string; f1: number }> = [
  { dataset: 'restaurant', kind: 'short text, duplicates within one table', f1: 0.9 },
  { dataset: 'magellan_fodors_zagats', kind: 'two sources linked', f1: 0.9 },
  { dataset: 'splink_fake_1000', kind: 'people with typos, large entities', f1: 0.9 },
  { dataset: 'cora', kind: 'citations, entities of dozens of records', f1: 0.85 },
  { dataset: 'leipzig_abt_buy', kind: 'products with model numbers, long text, two sources', f1: 0.8 },
];
const COLLAPSE_MARGIN = 0.15;
const MIN_PRECISION = 0.5;

describe('match quality floors (engine, taught from the truth)', () => {
  for (const { dataset, kind, f1: floor } of FLOORS) {
    it(`${dataset} (${kind}): F1 ≥ ${floor} after ${ROUNDS} rounds, no round from 2 on below ${(floor - COLLAPSE_MARGIN).toFixed(2)}`, async (t) => {
      const ds = loadTeachingDataset(resolveDatasetDir(dataset));
      for (const seed of SEEDS) {
        const curve: TeachingRound[] = [];
        for await (const round of teach(createMatcher(), ds, { rounds: ROUNDS, seed })) curve.push(round);
        const shown = curve.map((r) => `${r.round}:${r.score.f1.toFixed(3)}`).join(' ');
        t.diagnostic(`seed ${seed}: F1 by round ${shown}`);
        const last = curve[ROUNDS]!;
        assert.ok(last.score.f1 >= floor, `seed ${seed}: F1 ${last.score.f1.toFixed(3)} after ${ROUNDS} rounds < ${floor} (${shown})`);
        for (const r of curve.slice(2)) {
          assert.ok(r.score.f1 >= floor - COLLAPSE_MARGIN, `seed ${seed}: round ${r.round} collapsed to F1 ${r.score.f1.toFixed(3)} (${shown})`);
        }
        for (const r of curve.slice(1)) {
          assert.ok(
            r.score.predictedPairs === 0 || r.score.precision >= MIN_PRECISION,
            `seed ${seed}: round ${r.round} over-merges, precision ${r.score.precision.toFixed(3)} (${shown})`,
          );
        }
      }
    });
  }
});
