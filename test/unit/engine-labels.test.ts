import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labeledPairs, MAX_SET_PAIRS } from '../../src/engine/labels.js';
import { encodeTable } from '../../src/engine/table.js';

describe('engine labels', () => {
  it('every pair inside a labeling set: same label = match, different = non-match; unknown keys ignored', () => {
    const table = encodeTable([{ name: 'id', type: 'string' }], [['a', 'b', 'c', 'd']], 0);
    const lp = labeledPairs(table, [
      { labelingSetId: 's1', label: 'A', key: 'a' },
      { labelingSetId: 's1', label: 'A', key: 'b' },
      { labelingSetId: 's1', label: 'B', key: 'c' },
      { labelingSetId: 's2', label: 'A', key: 'c' },
      { labelingSetId: 's2', label: 'a', key: 'd' }, // labels are case sensitive
      { labelingSetId: 's2', label: 'A', key: 'zz' },
    ]);
    const pairs = lp.a.map((a, i) => `${a}-${lp.b[i]}:${lp.y[i]}`);
    assert.deepEqual(pairs, ['0-1:1', '0-2:0', '1-2:0', '2-3:0']);
    assert.deepEqual(lp.setIds, ['s1', 's2']);
    assert.deepEqual([...lp.labeledRows].sort(), [0, 1, 2, 3]);
  });

  it('a set too large for all its pairs gives each label connected, non-matches across labels, each pair once', () => {
    // 20,000 rows in one set (200 million pairs): 700 labels, one of them with just two rows.
    const rows = 20_000;
    const keys = Array.from({ length: rows }, (_, r) => `k${r}`);
    const table = encodeTable([{ name: 'id', type: 'string' }], [keys], 0);
    const labelOf = (r: number) => (r === 0 || r === rows - 1 ? 'L0' : `L${1 + (r % 699)}`);
    const lp = labeledPairs(table, keys.map((key, r) => ({ labelingSetId: 'everything', label: labelOf(r), key })));
    assert.ok(lp.y.length <= rows + MAX_SET_PAIRS, `${lp.y.length} pairs`);
    const seen = new Set<number>();
    const parent = Int32Array.from({ length: rows }, (_, r) => r);
    const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x]!)));
    let matches = 0;
    for (let i = 0; i < lp.y.length; i++) {
      const a = lp.a[i]!, b = lp.b[i]!;
      assert.ok(a < b);
      assert.ok(!seen.has(a * rows + b), `pair ${a}-${b} twice`);
      seen.add(a * rows + b);
      assert.equal(lp.y[i], labelOf(a) === labelOf(b) ? 1 : 0);
      if (lp.y[i]) {
        matches++;
        parent[find(a)] = find(b);
      }
    }
    assert.ok(lp.y.length - matches > 900_000, `${lp.y.length - matches} non-matches`);
    const rootOf = new Map<string, number>();
    for (let r = 0; r < rows; r++) {
      const root = rootOf.get(labelOf(r)) ?? find(r);
      rootOf.set(labelOf(r), root);
      assert.equal(find(r), root, `row ${r} (${labelOf(r)}) is connected to its label's other rows`);
    }
    assert.equal(rootOf.size, 700);
  });
});
