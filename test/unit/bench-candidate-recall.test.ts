import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countTrueCandidates, rowTruth } from '../../bench/lib/candidate-recall.js';
import { scorePairwise, type TruthRecord } from '../../src/evaluation/pairwise-score.js';

const pairs = (list: Array<[number, number]>) => ({
  a: Uint32Array.from(list.map(([a]) => a)),
  b: Uint32Array.from(list.map(([, b]) => b)),
});

describe('bench true candidate recall', () => {
  // Entities: E1 = {a, b, c}, E2 = {d, e}, E3 = {f}. Sources for the link case: a, d, f in x; b, c, e in y.
  const truth: TruthRecord[] = [
    { id: 'a', entityId: 'E1', source: 'x' },
    { id: 'b', entityId: 'E1', source: 'y' },
    { id: 'c', entityId: 'E1', source: 'y' },
    { id: 'd', entityId: 'E2', source: 'x' },
    { id: 'e', entityId: 'E2', source: 'y' },
    { id: 'f', entityId: 'E3', source: 'x' },
  ];
  // The table's rows in another order than the truth, with one row the truth does not list.
  const keys = ['c', 'a', 'f', 'e', 'b', 'd', 'zz'];
  const row = (id: string) => keys.indexOf(id);
  const candidates = pairs(
    (
      [
        ['a', 'b'], // E1, x–y
        ['b', 'c'], // E1, y–y: a true pair only when every pair counts
        ['a', 'f'], // different entities
        ['d', 'e'], // E2, x–y
        ['f', 'zz'], // a row outside the truth matches nothing
      ] as Array<[string, string]>
    ).map(([x, y]): [number, number] => [Math.min(row(x), row(y)), Math.max(row(x), row(y))]),
  );

  it('counts every pair inside an entity for dedup scoring', () => {
    const t = rowTruth(keys, truth, 'all');
    // E1 has 3 pairs, E2 1: 4, as the scorer counts them.
    assert.equal(t.truePairs, 4);
    assert.equal(t.truePairs, scorePairwise(truth, [], 'all').truePairs);
    assert.deepEqual(countTrueCandidates(t, candidates), { candidatePairs: 5, trueCandidatePairs: 3, truePairs: 4, recall: 0.75 });
  });

  it('counts only cross-source pairs for link scoring', () => {
    const t = rowTruth(keys, truth, 'cross_source');
    // E1: a–b, a–c (b–c share a source); E2: d–e.
    assert.equal(t.truePairs, 3);
    assert.equal(t.truePairs, scorePairwise(truth, [], 'cross_source').truePairs);
    assert.deepEqual(countTrueCandidates(t, candidates), { candidatePairs: 5, trueCandidatePairs: 2, truePairs: 3, recall: 2 / 3 });
  });

  it('has no recall without true pairs, and none found among no candidates', () => {
    const single = rowTruth(['a'], [{ id: 'a', entityId: 'E1' }], 'all');
    assert.equal(countTrueCandidates(single, pairs([])).recall, null);
    assert.equal(countTrueCandidates(rowTruth(keys, truth, 'all'), pairs([])).recall, 0);
  });
});
