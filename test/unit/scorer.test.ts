import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  crossSourcePairsOf,
  pairsOf,
  scorePairwise,
  type PredictionRow,
  type TruthRecord,
} from '../../src/evaluation/pairwise-score.js';
import {
  parsePredictionsCsv,
  readDatasetTruth,
  readPredictions,
  scoreAgainstDataset,
} from '../../src/evaluation/dataset-files.js';
import { DATASETS_DIR } from '../support/datasets.js';

/** Truth from `entity` strings: record i is `r<i>` in entity entities[i]. */
const truthOf = (entities: string[], sources?: string[]): TruthRecord[] =>
  entities.map((entityId, i) => (sources ? { id: `r${i}`, entityId, source: sources[i]! } : { id: `r${i}`, entityId }));
const predictionsOf = (clusters: string[]): PredictionRow[] => clusters.map((matchId, i) => ({ id: `r${i}`, matchId }));

describe('pairwise scorer', () => {
  // Entities: A = {r0, r1, r2} (3 pairs), B = {r3, r4} (1 pair), C = {r5}: 4 true pairs.
  const truth = truthOf(['A', 'A', 'A', 'B', 'B', 'C']);

  it('counts pairs from sizes', () => {
    assert.equal(pairsOf(0), 0);
    assert.equal(pairsOf(1), 0);
    assert.equal(pairsOf(2), 1);
    assert.equal(pairsOf(50_000), 1_249_975_000);
    assert.equal(crossSourcePairsOf([3]), 0);
    assert.equal(crossSourcePairsOf([2, 3]), 6);
    assert.equal(crossSourcePairsOf([1, 1, 1]), 3);
  });

  it('scores a perfect prediction 1.0 (cluster labels need not equal entity ids)', () => {
    const s = scorePairwise(truth, predictionsOf(['7', '7', '7', '9', '9', '11']));
    assert.equal(s.truePairs, 4);
    assert.equal(s.predictedPairs, 4);
    assert.equal(s.truePositives, 4);
    assert.equal(s.precision, 1);
    assert.equal(s.recall, 1);
    assert.equal(s.f1, 1);
    assert.equal(s.missingRecords, 0);
    assert.equal(s.unknownIds, 0);
    assert.equal(s.predictedClusters, 3);
    assert.equal(s.trueEntities, 3);
  });

  it('scores all singletons: no predicted pairs, precision 0, recall 0, F1 0', () => {
    const s = scorePairwise(truth, predictionsOf(['a', 'b', 'c', 'd', 'e', 'f']));
    assert.equal(s.predictedPairs, 0);
    assert.equal(s.truePositives, 0);
    assert.equal(s.truePairs, 4);
    assert.deepEqual([s.precision, s.recall, s.f1], [0, 0, 0]);
  });

  it('scores one correctly merged pair: precision 1, recall 1/4', () => {
    const s = scorePairwise(truth, predictionsOf(['a', 'b', 'c', 'x', 'x', 'f']));
    // r3 + r4 merged (entity B), everything else alone.
    assert.equal(s.predictedPairs, 1);
    assert.equal(s.truePositives, 1);
    assert.equal(s.precision, 1);
    assert.equal(s.recall, 0.25);
    assert.ok(Math.abs(s.f1 - 0.4) < 1e-12);
  });

  it('scores one wrongly merged pair: precision 0', () => {
    const s = scorePairwise(truth, predictionsOf(['a', 'b', 'c', 'd', 'e', 'a']));
    assert.equal(s.predictedPairs, 1);
    assert.equal(s.truePositives, 0);
    assert.deepEqual([s.precision, s.recall, s.f1], [0, 0, 0]);
  });

  it('scores an over-merged cluster from its cells', () => {
    // One cluster of everything: 15 predicted pairs, cells A (3 pairs) + B (1) + C (0) = 4 TP.
    const s = scorePairwise(truth, predictionsOf(['z', 'z', 'z', 'z', 'z', 'z']));
    assert.equal(s.predictedPairs, 15);
    assert.equal(s.truePositives, 4);
    assert.equal(s.precision, 4 / 15);
    assert.equal(s.recall, 1);
  });

  it('counts missing records as singletons and ignores (but counts) unknown and repeated ids', () => {
    const predictions: PredictionRow[] = [
      { id: 'r0', matchId: 'A' },
      { id: 'r1', matchId: 'A' },
      { id: 'r3', matchId: 'B' },
      { id: 'r4', matchId: 'B' },
      { id: 'ghost', matchId: 'A' },
      { id: 'other', matchId: 'B' },
      { id: 'r0', matchId: 'B' },
    ];
    const s = scorePairwise(truth, predictions);
    assert.equal(s.missingRecords, 2, 'r2 and r5');
    assert.equal(s.scoredRecords, 4);
    assert.equal(s.unknownIds, 2);
    assert.equal(s.duplicateIds, 1);
    assert.equal(s.predictedPairs, 2, 'ghost and the repeated r0 add nothing');
    assert.equal(s.truePositives, 2);
    assert.equal(s.precision, 1);
    assert.equal(s.recall, 0.5);
  });

  it('cross_source: counts only pairs of records from different sources', () => {
    // Entity E = {a1, a2, b1}: a1-b1 and a2-b1 count, a1-a2 does not (2 true pairs).
    // Entity F = {a3, b2}: 1 true pair. Entity G = {b3}.
    const t = truthOf(['E', 'E', 'E', 'F', 'F', 'G'], ['a', 'a', 'b', 'a', 'b', 'b']);
    const perfect = scorePairwise(t, predictionsOf(['1', '1', '1', '2', '2', '3']), 'cross_source');
    assert.equal(perfect.truePairs, 3);
    assert.equal(perfect.predictedPairs, 3);
    assert.equal(perfect.f1, 1);

    // Predict {a1, a2} (same source: no scored pair), {b1, a3, b2}: cross pairs b1-a3, a3-b2 → 2,
    // of which a3-b2 is true; b3 alone.
    const s = scorePairwise(t, predictionsOf(['p', 'p', 'q', 'q', 'q', 'r']), 'cross_source');
    assert.equal(s.predictedPairs, 2);
    assert.equal(s.truePositives, 1);
    assert.equal(s.precision, 0.5);
    assert.equal(s.recall, 1 / 3);
    // The same prediction in `all` mode: pairs p (1) + q (3) = 4, TP = a1-a2 + a3-b2 = 2, true = 3 + 1.
    const all = scorePairwise(t, predictionsOf(['p', 'p', 'q', 'q', 'q', 'r']), 'all');
    assert.deepEqual([all.predictedPairs, all.truePositives, all.truePairs], [4, 2, 4]);
  });

  it('refuses a truth that repeats an id or lacks sources in cross_source mode', () => {
    assert.throws(() => scorePairwise([{ id: 'x', entityId: 'e' }, { id: 'x', entityId: 'e' }], []), /twice/);
    assert.throws(() => scorePairwise([{ id: 'x', entityId: 'e' }], [], 'cross_source'), /needs a source/);
  });

  it('reads predictions from a CSV file or the part files of an output folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'doppel-scorer-'));
    try {
      writeFileSync(join(dir, 'part-00000.csv'), 'id,name,match_id\nr0,"x, y",1\nr1,z,1\n');
      writeFileSync(join(dir, 'part-00001.csv'), 'id,name,match_id\nr2,"multi\nline",2\n');
      writeFileSync(join(dir, '_SUCCESS'), '');
      const rows = readPredictions(dir);
      assert.deepEqual(rows, [
        { id: 'r0', matchId: '1' },
        { id: 'r1', matchId: '1' },
        { id: 'r2', matchId: '2' },
      ]);
      assert.deepEqual(readPredictions(join(dir, 'part-00001.csv')), [{ id: 'r2', matchId: '2' }]);
      assert.throws(() => parsePredictionsCsv('id,cluster\nr0,1\n', 'p.csv'), /needs columns id and match_id/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads and scores a 300,000-row predictions file (part files are not spread into arguments)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'doppel-scorer-'));
    try {
      const n = 300_000;
      // Records 2k and 2k+1 are one entity and one predicted cluster.
      const lines = ['id,match_id'];
      for (let i = 0; i < n; i += 1) lines.push(`r${i},${i >> 1}`);
      writeFileSync(join(dir, 'part-00000.csv'), `${lines.join('\n')}\n`);
      const predictions = readPredictions(dir);
      assert.equal(predictions.length, n);
      const truth = truthOf(Array.from({ length: n }, (_, i) => `E${i >> 1}`));
      const s = scorePairwise(truth, predictions);
      assert.equal(s.truePairs, n / 2);
      assert.equal(s.truePositives, n / 2);
      assert.equal(s.f1, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const datasetNames = existsSync(DATASETS_DIR)
  ? readdirSync(DATASETS_DIR).filter((d) => existsSync(join(DATASETS_DIR, d, 'meta.json'))).sort()
  : [];

describe('pairwise scorer on the shared datasets: truth.csv scored against itself', { skip: datasetNames.length === 0 ? `no datasets at ${DATASETS_DIR}` : false }, () => {
  for (const name of datasetNames) {
    it(`${name}: F1 = 1.0 and true pairs = meta.json true_pairs`, () => {
      const dataset = readDatasetTruth(join(DATASETS_DIR, name));
      const predictions = dataset.truth.map((t) => ({ id: t.id, matchId: t.entityId }));
      const s = scoreAgainstDataset(dataset, predictions);
      assert.equal(s.records, dataset.meta.records);
      assert.equal(s.truePairs, dataset.meta.true_pairs);
      assert.equal(s.predictedPairs, dataset.meta.true_pairs);
      assert.equal(s.truePositives, dataset.meta.true_pairs);
      assert.equal(s.f1, 1);
      assert.equal(s.trueEntities, dataset.meta.entities);
      assert.equal(s.missingRecords, 0);
      assert.equal(s.unknownIds, 0);
    });
  }
});
