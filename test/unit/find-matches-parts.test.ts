/**
 * Scoring a find-matches run's candidate pairs in parts: the shares of the pairs (find-matches-parts.ts
 * partCuts, partCount) and, in-process, the engine's contract that pairs scored elsewhere from the
 * run's plan (its state encoded and decoded, as a part run reads it) group the rows exactly as the
 * run scoring them itself.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineLabel, ScoringPlan } from '../../src/engine/api.js';
import { createMatcher, decodeState, encodeState, type IncrementalState } from '../../src/engine/index.js';
import { partCount, partCuts } from '../../src/tasks/kinds/find-matches-parts.js';
import type { TransformRecord } from '../../src/storage/records.js';
import { resolveDatasetDir } from '../../bench/lib/datasets.js';
import { loadTeachingDataset, teach } from '../../bench/lib/engine-teaching.js';

const transformSized = (doc: Record<string, unknown>) => ({ doc }) as unknown as TransformRecord;

describe('find-matches parts', () => {
  it('partCuts: contiguous shares cut where the left row changes, every pair in exactly one', () => {
    // Rows with 0 to 5 pairs each, as sorted candidate pairs are.
    const a: number[] = [];
    for (let row = 0; row < 200; row++) for (let k = 0; k < (row * 7) % 6; k++) a.push(row);
    const left = Uint32Array.from(a);
    for (const parts of [1, 2, 3, 7, 50, 400]) {
      const cuts = partCuts(left, parts);
      assert.equal(cuts.length, parts + 1);
      assert.equal(cuts[0], 0);
      assert.equal(cuts.at(-1), left.length);
      for (let i = 1; i < cuts.length; i++) {
        assert.ok(cuts[i]! >= cuts[i - 1]!, `cuts ascend: ${cuts.join(',')}`);
        const c = cuts[i]!;
        if (c > 0 && c < left.length) assert.notEqual(left[c], left[c - 1], `cut ${c} splits row ${left[c]}`);
      }
    }
    assert.deepEqual(partCuts(new Uint32Array(0), 3), [0, 0, 0, 0]);
  });

  it('partCount: one part per DOPPEL_PARTITION_ROWS rows, at most NumberOfWorkers, else MaxCapacity', () => {
    assert.equal(partCount(transformSized({ MaxCapacity: 10 }), 999, 1000), 1);
    assert.equal(partCount(transformSized({ MaxCapacity: 10 }), 2500, 1000), 3);
    assert.equal(partCount(transformSized({ MaxCapacity: 2.5 }), 250_000, 1000), 2);
    assert.equal(partCount(transformSized({ WorkerType: 'G.2X', NumberOfWorkers: 3, MaxCapacity: 6 }), 250_000, 1000), 3);
    assert.equal(partCount(transformSized({ WorkerType: 'G.1X', NumberOfWorkers: 1, MaxCapacity: 1 }), 250_000, 1000), 1);
  });

  it('pairs scored elsewhere in 3 shares from the decoded plan group the rows as the run scoring them itself', async () => {
    const ds = loadTeachingDataset(resolveDatasetDir('febrl3'));
    const labels: EngineLabel[] = [];
    for await (const _ of teach(createMatcher({ threads: 2 }), ds, { rounds: 2, seed: 1, labels })) void _;
    const params = { seed: 1 };
    // Separate matchers: nothing the first computed is cached for the second.
    const single = await createMatcher({ threads: 2 }).findMatches(ds.table, labels, params);
    const scorer = createMatcher({ threads: 2 });
    let plans = 0;
    const split = await createMatcher({ threads: 2 }).findMatches(ds.table, labels, params, {
      scoreElsewhere: async (plan: ScoringPlan) => {
        plans++;
        const state = decodeState(Buffer.concat(encodeState(plan.state))) as IncrementalState;
        const cuts = partCuts(plan.pairs.a, 3);
        const p = new Float32Array(plan.pairs.a.length);
        let fullyScored = 0;
        for (let i = 0; i < 3; i++) {
          const [from, to] = [cuts[i]!, cuts[i + 1]!];
          const share = await scorer.scorePairs(state, { a: plan.pairs.a.slice(from, to), b: plan.pairs.b.slice(from, to) });
          p.set(share.p, from);
          fullyScored += share.fullyScored;
        }
        return { p, fullyScored };
      },
    });
    assert.equal(plans, 1);
    assert.deepEqual(split.stats, single.stats);
    assert.deepEqual(split.matchId, single.matchId);
    assert.deepEqual(split.confidence, single.confidence);
  });
});
