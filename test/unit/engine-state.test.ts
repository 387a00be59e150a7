/**
 * The incremental state (state.ts): kept from a full run and passed through bytes, it makes an
 * incremental run skip preparing the existing rows and training, with the same result as a run
 * without it; a state that does not fit, or damaged bytes, is not used.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineLabel, EngineTable, Matcher } from '../../src/engine/api.js';
import { concatTables, createMatcher, decodeState, deltaBase, encodeState, encodeStateDelta, encodeTable, stateKeys, type IncrementalState } from '../../src/engine/index.js';
import { columnValues } from '../../src/engine/table.js';
import { captureState, extendState } from '../../src/engine/state.js';
import { prepareTable } from '../../src/engine/profile.js';
import { resolveDatasetDir } from '../../bench/lib/datasets.js';
import { loadTeachingDataset, teach, type TeachingDataset } from '../../bench/lib/engine-teaching.js';

function rowsOf(table: EngineTable, from: number, to: number): EngineTable {
  return { columns: table.columns.map((c) => ({ ...c, codes: c.codes.slice(from, to) })), primaryKey: table.primaryKey, rowCount: to - from };
}

async function labelsFor(matcher: Matcher, ds: TeachingDataset, rounds: number): Promise<EngineLabel[]> {
  const labels: EngineLabel[] = [];
  for await (const _ of teach(matcher, ds, { rounds, seed: 1, labels })) void _;
  return labels;
}

/** Through bytes, as a run stores it and the next reads it. */
function roundTrip(state: IncrementalState): IncrementalState {
  const chunks = encodeState(state);
  const bytes = Buffer.concat(chunks);
  const back = decodeState(bytes);
  if (back instanceof Error) throw back;
  return back;
}

describe('concatTables', () => {
  it("keeps the first table's codes, numbers the second's new values after them, and reads every row back", () => {
    const first = encodeTable([{ name: 'id' }, { name: 'city' }], [['1', '2', '3'], ['Oslo', null, 'Bergen']], 0);
    const second = encodeTable([{ name: 'id' }, { name: 'city' }], [['4', '5', '6', '7'], ['Bergen', 'Tromsø', null, 'Tromsø']], 0);
    const joined = concatTables(first, second);
    assert.equal(joined.rowCount, 7);
    assert.deepEqual(columnValues(joined, 1), ['Oslo', null, 'Bergen', 'Bergen', 'Tromsø', null, 'Tromsø']);
    assert.deepEqual(columnValues(joined, 0), ['1', '2', '3', '4', '5', '6', '7']);
    assert.deepEqual(joined.columns[1]!.values, ['Oslo', 'Bergen', 'Tromsø']);
    assert.deepEqual(Array.from(joined.columns[1]!.codes.subarray(0, 3)), Array.from(first.columns[1]!.codes));
  });
});

describe('incremental state', () => {
  it('extending a state gives the prepared table of every row, as preparing the rows before and adding the rest', () => {
    const ds = loadTeachingDataset(resolveDatasetDir('restaurant'));
    const n = ds.table.rowCount, e = Math.floor(n * 0.7);
    const prepared = prepareTable(rowsOf(ds.table, 0, e));
    const state = captureState(ds.table, prepared);
    const decoded = roundTrip(state);
    const a = extendState(state, ds.table).pt, b = extendState(decoded, ds.table).pt;
    assert.equal(a.rowCount, n);
    assert.deepEqual(Array.from(b.codes), Array.from(a.codes));
    for (let c = 0; c < a.columns.length; c++) {
      const x = a.columns[c]!, y = b.columns[c]!;
      assert.equal(y.valueCount, x.valueCount);
      assert.deepEqual(Array.from(y.tokens.weights), Array.from(x.tokens.weights));
      assert.deepEqual(Array.from(y.tokens.df), Array.from(x.tokens.df));
      assert.deepEqual(Array.from(y.rowsOf), Array.from(x.rowsOf));
      assert.equal(y.grams?.ids.length, x.grams?.ids.length);
    }
    // The existing rows keep their value ids, the new rows' values are found or appended.
    const fresh = prepareTable(ds.table);
    for (let c = 0; c < a.columns.length; c++) {
      assert.equal(a.columns[c]!.valueCount, fresh.columns[c]!.valueCount, `column ${c}: the same distinct values`);
      // Words of the same values: the same vocabulary.
      assert.equal(a.columns[c]!.tokens.vocabulary, fresh.columns[c]!.tokens.vocabulary);
    }
    assert.deepEqual(Array.from(a.codes), Array.from(fresh.codes));
    assert.equal(state.spent, true);
    assert.throws(() => extendState(state, ds.table), /already extended/);
  });

  it('restaurant: a chained full run and two incremental runs use the state, keep ids, and equal runs without it', async () => {
    const matcher = createMatcher({ threads: 2 });
    const ds = loadTeachingDataset(resolveDatasetDir('restaurant'));
    const n = ds.table.rowCount, base = Math.floor(n * 0.8), mid = Math.floor(n * 0.9);
    const baseDs: TeachingDataset = { ...ds, table: rowsOf(ds.table, 0, base), keys: ds.keys.slice(0, base) };
    const labels = await labelsFor(matcher, baseDs, 3);
    const params = { seed: 1 };
    const first = await matcher.findMatches(baseDs.table, labels, params);
    const saved = roundTrip(first.state!());

    const table1 = concatTables(baseDs.table, rowsOf(ds.table, base, mid));
    const existing1 = { rows: base, matchId: first.matchId, confidence: first.confidence };
    const messages: string[] = [];
    const withState = await matcher.findIncrementalMatches(table1, { ...existing1, state: saved }, labels, params, {
      progress: (m) => messages.push(m),
    });
    const without = await matcher.findIncrementalMatches(table1, existing1, labels, params);
    assert.equal(withState.stateUse.used, true);
    assert.ok(messages.includes(withState.stateUse.message), 'the run reports using the state');
    assert.ok(messages.some((m) => /model stored with the incremental state/.test(m)), 'the stored model is used');
    assert.equal(without.stateUse.used, false);
    assert.match(without.stateUse.message, /none was given/);
    assert.deepEqual(Array.from(withState.matchId), Array.from(without.matchId));
    assert.deepEqual(Array.from(withState.confidence), Array.from(without.confidence));
    for (let r = 0; r < base; r++) assert.equal(withState.matchId[r], first.matchId[r]);

    // The second incremental run, on the state the first one left (through bytes).
    const table2 = concatTables(table1, rowsOf(ds.table, mid, n));
    const existing2 = { rows: mid, matchId: withState.matchId, confidence: withState.confidence };
    const second = await matcher.findIncrementalMatches(table2, { ...existing2, state: roundTrip(withState.state!()) }, labels, params);
    assert.equal(second.stateUse.used, true);
    for (let r = 0; r < mid; r++) assert.equal(second.matchId[r], withState.matchId[r]);
    // The same state object in memory (not through bytes) gives the same result.
    const inMemory = await matcher.findIncrementalMatches(table2, { ...existing2, state: without.state!() }, labels, params);
    assert.equal(inMemory.stateUse.used, true);
    assert.deepEqual(Array.from(inMemory.matchId), Array.from(second.matchId));
    // A state spent by a run is not used again.
    const again = await matcher.findIncrementalMatches(table2, { ...existing2, state: without.state!() }, labels, params);
    assert.equal(again.stateUse.used, false);
    assert.match(again.stateUse.message, /already extended/);
    assert.deepEqual(Array.from(again.matchId), Array.from(inMemory.matchId));
  });

  it('keeps every primary key code unit for code unit: U+0000, astral and lone surrogates, keys longer than one call takes', () => {
    const keys = ['plain', 'nul\u0000in', '\u{1F600}', 'lone \uD800 surrogate', '', 'k'.repeat(20_000) + 'x', 'é', 'last'];
    const table = encodeTable([{ name: 'id' }, { name: 'city' }], [keys, keys.map((_, i) => `c${i % 3}`)], 0);
    const e = 4;
    const state = roundTrip(captureState(rowsOf(table, 0, e), prepareTable(rowsOf(table, 0, e))));
    assert.deepEqual(stateKeys(state), keys.slice(0, e));
    const extended = roundTrip(extendState(state, table).state);
    assert.deepEqual(stateKeys(extended), keys);
    assert.equal(extended.keys.offsets.length, keys.length + 1);
  });

  it('a state extending one read from bytes is stored as a delta of it: what runs appended, and every other array whole', async () => {
    const ds = loadTeachingDataset(resolveDatasetDir('restaurant'));
    const n = ds.table.rowCount, e = Math.floor(n * 0.8), mid = Math.floor(n * 0.9);
    const baseBytes = Buffer.concat(encodeState(captureState(rowsOf(ds.table, 0, e), prepareTable(rowsOf(ds.table, 0, e)))));
    const read = decodeState(baseBytes, { where: 'the base' }) as IncrementalState;
    assert.equal(encodeStateDelta(captureState(ds.table, prepareTable(ds.table))), undefined, 'a state not read from bytes has no base');
    const once = extendState(read, rowsOf(ds.table, 0, mid)).state;
    once.written = { matchId: Float64Array.from({ length: mid }, (_, r) => r), output: '{"parts":[]}' };
    const delta = Buffer.concat(encodeStateDelta(once)!);
    const whole = Buffer.concat(encodeState(once));
    assert.ok(delta.length < whole.length / 2, `delta ${delta.length} bytes, whole ${whole.length}`);
    assert.equal(deltaBase(delta), 'the base');
    assert.equal(deltaBase(whole), undefined);
    assert.match(String(decodeState(delta)), /delta and its base was not given/);
    const back = decodeState(delta, { base: baseBytes }) as IncrementalState;
    assert.deepEqual(Buffer.concat(encodeState(back)), whole, 'the delta and its base give the state back');
    // The next run's delta still extends the same full state (one base, never a chain of deltas).
    const twice = extendState(back, ds.table).state;
    const second = Buffer.concat(encodeStateDelta(twice)!);
    assert.equal(deltaBase(second), 'the base');
    assert.deepEqual(Buffer.concat(encodeState(decodeState(second, { base: baseBytes }) as IncrementalState)), Buffer.concat(encodeState(twice)));
    // Against another base, or damaged, it is not read.
    const otherBase = Buffer.concat(encodeState(captureState(rowsOf(ds.table, 0, e - 1), prepareTable(rowsOf(ds.table, 0, e - 1)))));
    assert.ok(decodeState(delta, { base: otherBase }) instanceof Error);
    const damaged = Buffer.from(delta);
    damaged[damaged.length - 1] = damaged[damaged.length - 1]! ^ 0xff;
    assert.match(String(decodeState(damaged, { base: baseBytes })), /checksum/);
  });

  it('a state that does not fit the existing rows, or damaged bytes, is not used', async () => {
    const matcher = createMatcher({ threads: 1 });
    const ds = loadTeachingDataset(resolveDatasetDir('restaurant'));
    const n = ds.table.rowCount, base = Math.floor(n * 0.8);
    const baseTable = rowsOf(ds.table, 0, base);
    const first = await matcher.findMatches(baseTable, [], { seed: 1 });
    const bytes = Buffer.concat(encodeState(first.state!()));

    // Damaged: truncated, a byte changed in the header, another magic.
    assert.match(String(decodeState(bytes.subarray(0, bytes.length - 100))), /truncated|length/);
    const flipped = Buffer.from(bytes);
    flipped[40] = flipped[40]! ^ 0xff;
    assert.ok(decodeState(flipped) instanceof Error);
    const other = Buffer.from(bytes);
    other.writeUInt32LE(0, 0);
    assert.match(String(decodeState(other)), /not a doppel incremental state/);
    assert.match(String(decodeState(Buffer.from('hello'))), /truncated/);

    const table = concatTables(baseTable, rowsOf(ds.table, base, n));
    const existing = { rows: base, matchId: first.matchId, confidence: first.confidence };
    const plain = await matcher.findIncrementalMatches(table, existing, [], { seed: 1 });
    // Stale: the existing records in another order (their keys hash differently).
    const swapped = concatTables(concatTables(rowsOf(ds.table, 1, 2), rowsOf(ds.table, 0, 1)), rowsOf(ds.table, 2, n));
    const stale = await matcher.findIncrementalMatches(swapped, { ...existing, state: decodeState(bytes) as IncrementalState }, [], { seed: 1 });
    assert.equal(stale.stateUse.used, false);
    assert.match(stale.stateUse.message, /not the ones it was made from/);
    // Another row count.
    const shorter = await matcher.findIncrementalMatches(table, { rows: base - 1, matchId: first.matchId.subarray(0, base - 1), state: decodeState(bytes) as IncrementalState }, [], { seed: 1 });
    assert.equal(shorter.stateUse.used, false);
    assert.match(shorter.stateUse.message, /covers \d+ rows/);
    // The fitting state gives the run without one.
    const fits = await matcher.findIncrementalMatches(table, { ...existing, state: decodeState(bytes) as IncrementalState }, [], { seed: 1 });
    assert.equal(fits.stateUse.used, true);
    assert.deepEqual(Array.from(fits.matchId), Array.from(plain.matchId));
  });
});
