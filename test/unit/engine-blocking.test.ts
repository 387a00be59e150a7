import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateCandidates, blockingRecall, hasPair, blockingWidth, firstEqualRows } from '../../src/engine/blocking.js';
import { prepareTable } from '../../src/engine/profile.js';
import { encodeTable } from '../../src/engine/table.js';

const names = ['anna smith', 'ana smith', 'bob jones', 'bobby jones', 'carl white', 'karl white', 'dora black', 'zed quux'];
const table = encodeTable([{ name: 'id', type: 'string' }, { name: 'name', type: 'string' }, { name: 'city', type: 'string' }], [names.map((_, i) => `r${i}`), names, names.map((_, i) => ['paris', 'rome', 'oslo', 'lima'][i >> 1]!)], 0);

describe('engine blocking', () => {
  it('finds similar records without labels and reports recall', () => {
    const c = generateCandidates(prepareTable(table), { accuracyCostTradeoff: 0 });
    assert.ok(hasPair(c, 0, 1) && hasPair(c, 2, 3) && hasPair(c, 4, 5));
    assert.equal(blockingRecall(c, [[0, 1], [3, 2]]), 1);
    assert.equal(hasPair(c, 0, 7), false);
    for (let i = 0; i < c.a.length; i++) assert.ok(c.a[i]! < c.b[i]!);
  });
  it('wider search with a higher AccuracyCostTradeoff', () => {
    for (const n of [1_000, 100_000, 10_000_000]) {
      const lo = blockingWidth(0, n), hi = blockingWidth(1, n);
      assert.ok(hi.k > lo.k && hi.budget > lo.budget);
    }
    // The walk per row shrinks with the table down to a floor, so the whole search stays linear.
    assert.equal(blockingWidth(0.5, 1_000).budget, blockingWidth(0.5, 10_000).budget);
    assert.ok(blockingWidth(0.5, 10_000).budget > blockingWidth(0.5, 1_000_000).budget);
    assert.equal(blockingWidth(0.5, 1_000_000).budget, blockingWidth(0.5, 5_000_000).budget);
  });
  it('a code written with and without separators is a shared key', () => {
    // Titles share no word: the model number is one word in one source and two in the other.
    const titles = ['Sony CDP-CX355 megastorage', 'CDPCX355 disc changer', ...Array.from({ length: 30 }, (_, i) => `filler product QX${200 + i} item${i}`)];
    const t = prepareTable(encodeTable([{ name: 'id' }, { name: 'title' }], [titles.map((_, i) => `r${i}`), titles], 0));
    assert.ok(t.columns[0]!.codes, 'the titles hold codes');
    const c = generateCandidates(t, { accuracyCostTradeoff: 0 });
    assert.ok(hasPair(c, 0, 1));
  });
  it('column weights of zero drop a column from blocking', () => {
    const c = generateCandidates(prepareTable(table), { accuracyCostTradeoff: 0.5, columnWeights: new Float64Array([0, 0]) });
    assert.equal(c.a.length, 0);
  });
});

describe('engine blocking: exact duplicates', () => {
  it('rows equal in every column are candidates even when there are more of them than the block cap', async () => {
    const { createMatcher } = await import('../../src/engine/index.js');
    const rows: string[][] = [];
    for (let i = 0; i < 140; i++) rows.push([`r${i}`, `person ${i} ${['meyer', 'schulz', 'koch'][i % 3]}`, `${i} elm road`]);
    // 60 copies of one record: more than the cap of 40, so every key they share is an oversized block.
    for (let i = 0; i < 60; i++) rows.push([`d${i}`, 'john smith', '12 main street']);
    const table = encodeTable(['id', 'name', 'address'].map((name) => ({ name, type: 'string' })), [0, 1, 2].map((c) => rows.map((r) => r[c]!)), 0);
    const res = await createMatcher().findMatches(table, [], { seed: 0 });
    const groups = new Set<number>();
    for (let r = 140; r < 200; r++) groups.add(res.matchId[r]!);
    assert.equal(groups.size, 1, 'the 60 copies form one group');
    for (let r = 0; r < 140; r++) assert.ok(!groups.has(res.matchId[r]!), `row ${r} joined the copies`);
  });
});

describe('engine blocking: Matcher.candidatePairs', () => {
  it("returns the pairs a run scores, sorted and unique, the same as findMatches' and evaluate's", async () => {
    const { createMatcher } = await import('../../src/engine/index.js');
    const m = createMatcher();
    const labels = [
      { labelingSetId: 's1', label: 'A', key: 'r0' },
      { labelingSetId: 's1', label: 'A', key: 'r1' },
      { labelingSetId: 's1', label: 'B', key: 'r6' },
      { labelingSetId: 's2', label: 'A', key: 'r2' },
      { labelingSetId: 's2', label: 'A', key: 'r3' },
      { labelingSetId: 's2', label: 'B', key: 'r7' },
    ];
    const pairs = await m.candidatePairs(table, labels, { seed: 1 });
    assert.equal(pairs.a.length, pairs.b.length);
    assert.ok(pairs.a.length > 0);
    for (let i = 0; i < pairs.a.length; i++) {
      assert.ok(pairs.a[i]! < pairs.b[i]! && pairs.b[i]! < names.length);
      if (i > 0) assert.ok(pairs.a[i - 1]! < pairs.a[i]! || (pairs.a[i - 1] === pairs.a[i] && pairs.b[i - 1]! < pairs.b[i]!), 'sorted, each once');
    }
    const proposed = (x: number, y: number) => pairs.a.some((a, i) => a === x && pairs.b[i] === y);
    assert.ok(proposed(0, 1) && proposed(2, 3) && proposed(4, 5), 'the near-duplicate names are proposed');
    assert.ok(!proposed(0, 7), 'unrelated rows are not');
    // The blocking of a run with the same input: its count and the labeled matches it holds.
    assert.equal((await m.findMatches(table, labels, { seed: 1 })).stats.candidatePairs, pairs.a.length);
    assert.equal((await m.evaluate(table, labels, { seed: 1 })).blockingRecall, 1);
    // A fresh matcher (nothing cached) blocks the same way.
    const fresh = await createMatcher().candidatePairs(table, labels, { seed: 1 });
    assert.deepEqual([...fresh.a], [...pairs.a]);
    assert.deepEqual([...fresh.b], [...pairs.b]);
  });
  it('firstEqualRows: each row\'s first row equal in every compared column, over the table or some of its rows', () => {
    const t = prepareTable(encodeTable([{ name: 'id' }, { name: 'name' }, { name: 'city' }], [
      ['a', 'b', 'c', 'd', 'e', 'f'],
      ['ann', 'bob', 'ann', null, 'ann', null],
      ['rome', 'oslo', 'rome', null, 'lima', null],
    ], 0));
    // The primary key is not compared; rows missing every compared value are equal to no row.
    assert.deepEqual([...firstEqualRows(t)], [0, 1, 0, 3, 4, 5]);
    assert.deepEqual([...firstEqualRows(t, [4, 2, 1, 0])], [0, 1, 2, 1], 'indexes into the rows given');
  });
});
