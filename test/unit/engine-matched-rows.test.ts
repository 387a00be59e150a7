/**
 * FindMatchesRun.matchedRows: a table to match whose labeled records come from elsewhere (the run's
 * table lacks them) gets them appended for training only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineLabel } from '../../src/engine/api.js';
import { candidatesWithin } from '../../src/engine/blocking.js';
import { concatTables, createMatcher, takeRows, valueAt } from '../../src/engine/index.js';
import { scorePairwise } from '../../src/evaluation/pairwise-score.js';
import { resolveDatasetDir } from '../../bench/lib/datasets.js';
import { loadTeachingDataset, teach } from '../../bench/lib/engine-teaching.js';

describe('rows there only for their labels (matchedRows)', () => {
  it('a table without the labeled records is matched with the model those records train: better than without them', async (t) => {
    const matcher = createMatcher({ threads: 2 });
    const ds = loadTeachingDataset(resolveDatasetDir('febrl3'));
    const labels: EngineLabel[] = [];
    for await (const _ of teach(matcher, ds, { rounds: 3, seed: 1, labels })) void _;
    // The table to match: every record no label names.
    const labeled = new Set(labels.map((l) => l.key));
    const rest: number[] = [], named: number[] = [];
    ds.keys.forEach((k, r) => (labeled.has(k) ? named : rest).push(r));
    const table = takeRows(ds.table, rest);
    const f1 = (matchId: Float64Array) =>
      scorePairwise(ds.truth, rest.map((r, i) => ({ id: ds.keys[r]!, matchId: String(matchId[i]) })), ds.meta.score_pairs).f1;

    const unlabeled = await matcher.findMatches(table, labels, { seed: 1 });
    const withLabeled = await matcher.findMatches(concatTables(table, takeRows(ds.table, named)), labels, { seed: 1 }, { matchedRows: table.rowCount });
    assert.equal(withLabeled.matchId.length, table.rowCount, 'the result covers the rows to match alone');
    assert.equal(withLabeled.confidence.length, table.rowCount);
    assert.equal(withLabeled.stats.groups, new Set(withLabeled.matchId).size, 'groups are counted among the rows to match');
    assert.equal(withLabeled.state, undefined, 'no incremental state: it would stand for the appended rows too');
    for (const id of withLabeled.matchId) assert.ok(id < table.rowCount, `match id ${id} names an appended row`);
    const [without, withRows] = [f1(unlabeled.matchId), f1(withLabeled.matchId)];
    t.diagnostic(`febrl3 without its ${named.length} labeled records: F1 ${without.toFixed(4)} with none of the labels found, ${withRows.toFixed(4)} with those records appended`);
    assert.ok(withRows > without, `F1 ${withRows} with the labeled records, ${without} without`);
  });

  it('candidatesWithin keeps the pairs and neighbours among the rows below the bound', () => {
    const cand = {
      a: Uint32Array.from([0, 0, 1, 2]),
      b: Uint32Array.from([1, 3, 2, 3]),
      score: Float32Array.from([0.9, 0.8, 0.7, 0.6]),
      nbrOffsets: Uint32Array.from([0, 2, 4, 6, 8]),
      nbrs: Uint32Array.from([1, 3, 0, 2, 1, 3, 0, 2]),
    };
    const within = candidatesWithin(cand, 3);
    assert.deepEqual([...within.a], [0, 1]);
    assert.deepEqual([...within.b], [1, 2]);
    assert.deepEqual([...within.score].map((x) => Math.round(x * 10) / 10), [0.9, 0.7]);
    assert.deepEqual([...within.nbrOffsets], [0, 1, 3, 4, 4]);
    assert.deepEqual([...within.nbrs], [1, 0, 2, 1]);
  });

  it('takeRows copies the given rows with their values; a bad matchedRows is refused', async () => {
    const ds = loadTeachingDataset(resolveDatasetDir('restaurant'));
    const taken = takeRows(ds.table, [5, 2]);
    assert.equal(taken.rowCount, 2);
    for (let c = 0; c < ds.table.columns.length; c++) {
      assert.equal(valueAt(taken, c, 0), valueAt(ds.table, c, 5));
      assert.equal(valueAt(taken, c, 1), valueAt(ds.table, c, 2));
    }
    const matcher = createMatcher({ threads: 1 });
    await assert.rejects(matcher.findMatches(taken, [], {}, { matchedRows: 3 }), /matchedRows 3 is not a row count of a table of 2 rows/);
  });
});
