import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labeledPairs } from '../../src/engine/labels.js';
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
});
