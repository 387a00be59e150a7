/**
 * Incremental matching (incremental.ts) and explanations (explain.ts), in-process: a benchmark
 * dataset split into a base matched in full and new records added in batches, and hand-made
 * tables for the rules (ids kept, fresh ids, a record bridging two groups).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineLabel, EngineTable, ExistingMatches, Matcher } from '../../src/engine/api.js';
import { concatTables, createMatcher, encodeTable } from '../../src/engine/index.js';
import { buildKeyIndex, buildSearchIndex, rowKeys } from '../../src/engine/blocking.js';
import { PairExplainer } from '../../src/engine/explain.js';
import { planFeatures } from '../../src/engine/features.js';
import { labeledPairs } from '../../src/engine/labels.js';
import { prepareTable } from '../../src/engine/profile.js';
import { PairScorer } from '../../src/engine/scoring.js';
import { train } from '../../src/engine/training.js';
import { scorePairwise } from '../../src/evaluation/pairwise-score.js';
import { resolveDatasetDir } from '../../bench/lib/datasets.js';
import { loadTeachingDataset, teach, type TeachingDataset } from '../../bench/lib/engine-teaching.js';

/** Rows [from, to) of a table, as a table of their own. */
function rowsOf(table: EngineTable, from: number, to: number): EngineTable {
  return {
    columns: table.columns.map((c) => ({ ...c, codes: c.codes.slice(from, to) })),
    primaryKey: table.primaryKey,
    rowCount: to - from,
  };
}

/** Pairwise F1 of match ids (one per row of `keys`) against the dataset's truth. */
function f1Of(ds: TeachingDataset, keys: readonly string[], matchId: Float64Array): number {
  return scorePairwise(ds.truth, keys.map((id, r) => ({ id, matchId: String(matchId[r]) })), ds.meta.score_pairs).f1;
}

async function labelsFor(matcher: Matcher, ds: TeachingDataset, rounds: number): Promise<EngineLabel[]> {
  const labels: EngineLabel[] = [];
  for await (const _ of teach(matcher, ds, { rounds, seed: 1, labels })) void _;
  return labels;
}

describe('incremental matching', () => {
  for (const name of ['restaurant', 'febrl3']) {
    it(`${name}: base 80% matched in full, the rest added at once and in 5 batches: ids kept, F1 within 0.01 of a full run`, async (t) => {
      const matcher = createMatcher({ threads: 2 });
      const ds = loadTeachingDataset(resolveDatasetDir(name));
      const n = ds.table.rowCount, base = Math.floor(n * 0.8);
      // Labels are taught on the base alone: the new records were never seen when labeling.
      const baseDs: TeachingDataset = { ...ds, table: rowsOf(ds.table, 0, base), keys: ds.keys.slice(0, base) };
      const labels = await labelsFor(matcher, baseDs, 3);
      const params = { seed: 1 };
      const first = await matcher.findMatches(baseDs.table, labels, params);

      /** Adds rows [from, to) to `existing` (the grouping of rows [0, from)); checks and scores the result against a full run on rows [0, to). */
      const add = async (existing: ExistingMatches, from: number, to: number) => {
        const table = concatTables(rowsOf(ds.table, 0, from), rowsOf(ds.table, from, to));
        let started = performance.now();
        const inc = await matcher.findIncrementalMatches(table, existing, labels, params);
        const seconds = (performance.now() - started) / 1000;
        assert.equal(inc.matchId.length, to);
        for (let r = 0; r < from; r++) assert.equal(inc.matchId[r], existing.matchId[r], `row ${r} changed its match id`);
        let fresh = 0;
        for (let r = 0; r < from; r++) fresh = Math.max(fresh, existing.matchId[r]! + 1);
        for (let r = from; r < to; r++) {
          assert.ok(Number.isInteger(inc.matchId[r]) && inc.matchId[r]! >= 0);
          assert.ok(inc.confidence[r]! >= 0 && inc.confidence[r]! <= 1);
        }
        // A fresh id never names an existing group: a new row with an id below `fresh` joined that group.
        const existingIds = new Set(existing.matchId);
        for (let r = from; r < to; r++) assert.ok(inc.matchId[r]! >= fresh || existingIds.has(inc.matchId[r]!));
        const keys = ds.keys.slice(0, to);
        const present = new Set(keys);
        const truth = { ...ds, truth: ds.truth.filter((x) => present.has(x.id)) };
        started = performance.now();
        const full = await matcher.findMatches(rowsOf(ds.table, 0, to), labels, params);
        const fullSeconds = (performance.now() - started) / 1000;
        return { inc, f1: f1Of(truth, keys, inc.matchId), fullF1: f1Of(truth, keys, full.matchId), seconds, fullSeconds };
      };

      const once = await add({ rows: base, matchId: first.matchId, confidence: first.confidence }, base, n);
      t.diagnostic(
        `80/20: F1 incremental ${once.f1.toFixed(4)} (${once.seconds.toFixed(2)} s, ${once.inc.stats.scoredPairs} pairs scored, ` +
          `${once.inc.stats.joinedExisting} of ${n - base} new rows joined existing groups, ${once.inc.conflicts.length} conflicts), ` +
          `full run ${once.fullF1.toFixed(4)} (${once.fullSeconds.toFixed(2)} s)`,
      );
      assert.ok(Math.abs(once.f1 - once.fullF1) <= 0.01, `F1 ${once.f1} incremental, ${once.fullF1} in full`);

      let existing: ExistingMatches = { rows: base, matchId: first.matchId, confidence: first.confidence };
      const per = Math.ceil((n - base) / 5);
      const steps: string[] = [];
      for (let from = base; from < n; from += per) {
        const to = Math.min(n, from + per);
        const step = await add(existing, from, to);
        steps.push(`${step.f1.toFixed(4)}/${step.fullF1.toFixed(4)}`);
        assert.ok(Math.abs(step.f1 - step.fullF1) <= 0.01, `rows ${from}-${to}: F1 ${step.f1} incremental, ${step.fullF1} in full`);
        existing = { rows: to, matchId: step.inc.matchId, confidence: step.inc.confidence };
      }
      t.diagnostic(`5 batches, F1 incremental/full after each: ${steps.join(' ')}`);
    });
  }

  // Three existing groups (ids 7, 3 and 12) of people; new rows: one more of group 7, two of a new
  // person, and one that matches groups 3 and 12 equally (their records differ in one field each).
  const columns = ['id', 'name', 'street', 'city', 'born'].map((name) => ({ name }));
  const rows: Array<[string, string, string, string, string]> = [
    ['e1', 'margaret thornbury', '14 elm road', 'leeds', '1961-03-02'],
    ['e2', 'margaret thornbury', '14 elm rd', 'leeds', '1961-03-02'],
    ['e3', 'oswald pemberton', '2 quay street', 'bristol', '1979-11-30'],
    ['e4', 'oswald pemberton', '2 quay street', 'bath', '1979-11-30'],
    ['e5', 'oswald pemberton', '2 quay st', 'bath', '1979-11-30'],
    ['e6', 'oswald pemberton', '2 quay st', 'bristol', '1979-11-30'],
    ['e7', 'lucinda farquhar', '90 mill lane', 'york', '1990-07-15'],
    ['n1', 'margaret thornbury', '14 elm road', 'leeds', '1961-03-02'],
    ['n2', 'bartholomew quince', '5 harbour view', 'hull', '1948-01-09'],
    ['n3', 'bartholomew quince', '5 harbour view', 'hull', '1948-01-09'],
    ['n4', 'oswald pemberton', '2 quay street', 'bristol', '1979-11-30'],
  ];
  const table = encodeTable(columns, columns.map((_, c) => rows.map((r) => r[c]!)), 0);
  const existing: ExistingMatches = { rows: 7, matchId: Float64Array.from([7, 7, 3, 3, 12, 12, 20]) };

  it('keeps existing ids, gives fresh ids above them, never merges two existing groups', async () => {
    const inc = await createMatcher({ threads: 1 }).findIncrementalMatches(table, existing, [], {});
    const id = Array.from(inc.matchId);
    assert.deepEqual(id.slice(0, 7), [7, 7, 3, 3, 12, 12, 20]);
    assert.equal(id[7], 7, 'n1 joins its existing group');
    assert.equal(id[8], id[9], 'n2 and n3 share an id');
    assert.ok(id[8]! > 20, `a fresh id above every existing one, got ${id[8]}`);
    assert.ok(id[10] === 3 || id[10] === 12, `n4 joins one of the groups it matches, got ${id[10]}`);
    assert.equal(inc.stats.newRows, 4);
    assert.equal(inc.stats.joinedExisting, 2);
    assert.equal(inc.stats.groups, 5);
    assert.deepEqual(inc.conflicts.map((c) => [c.row, c.matchId, c.groups.map((g) => g.matchId).sort((x, y) => x - y)]), [[10, id[10], [3, 12]]]);
    // Without confidences from the previous output, the groups no new row touched have none.
    assert.ok(Number.isNaN(inc.confidence[6]));
    assert.ok(inc.confidence[7]! > 0.5 && inc.confidence[7]! <= 1);
  });

  it('enforces the provided labels with new rows as a full run does (EnforceProvidedLabels)', async () => {
    // n4 labeled with e5 (group 12), apart from e3 (group 3); n2 with e7 (group 20, which nothing
    // else reaches); n1 apart from e1 (its own group 7).
    const labels: EngineLabel[] = [
      { labelingSetId: 'a', label: 'L1', key: 'n4' }, { labelingSetId: 'a', label: 'L1', key: 'e5' }, { labelingSetId: 'a', label: 'L2', key: 'e3' },
      { labelingSetId: 'b', label: 'L1', key: 'n2' }, { labelingSetId: 'b', label: 'L1', key: 'e7' },
      { labelingSetId: 'c', label: 'L1', key: 'n1' }, { labelingSetId: 'c', label: 'L2', key: 'e1' },
    ];
    const free = await createMatcher({ threads: 1 }).findIncrementalMatches(table, existing, labels, {});
    assert.equal(free.matchId[7], 7, 'without enforcing, n1 joins the group it matches');
    assert.notEqual(free.matchId[8], 20);
    const inc = await createMatcher({ threads: 1 }).findIncrementalMatches(table, existing, labels, { enforceProvidedLabels: true });
    const id = Array.from(inc.matchId);
    assert.deepEqual(id.slice(0, 7), [7, 7, 3, 3, 12, 12, 20], 'existing ids are kept');
    assert.equal(id[10], 12, 'n4 joins the group it is labeled with');
    assert.equal(id[8], 20, 'n2 joins the group of the record it is labeled with');
    assert.notEqual(id[7], 7, 'n1 stays apart from the record it is labeled apart from');
    assert.ok(id[7]! > 20, 'and gets a fresh id');
  });

  it('carries the previous confidence of a group it extends into the new one', async () => {
    const given = { ...existing, confidence: Float64Array.from([0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 1]) };
    const inc = await createMatcher({ threads: 1 }).findIncrementalMatches(table, given, [], {});
    assert.equal(inc.confidence[6], 1);
    // n4 joined one of groups 3 and 12; the other keeps its confidence.
    const untouched = inc.matchId[10] === 3 ? 4 : 2;
    assert.equal(inc.confidence[untouched], 0.8, 'a group nothing joined keeps its confidence');
    // Group 7 had one pair at 0.9; n1 adds two pairs of its own probabilities.
    assert.ok(inc.confidence[7]! !== 0.9 && inc.confidence[0] === inc.confidence[7]);
  });
});

describe('the key index of an incremental run', () => {
  for (const name of ['febrl3', 'leipzig_abt_buy']) {
    it(`${name}: buildSearchIndex has buildKeyIndex's frequencies, weights, order of the new rows and their walked posting lists`, () => {
      const ds = loadTeachingDataset(resolveDatasetDir(name));
      const pt = prepareTable(ds.table);
      const from = Math.floor(pt.rowCount * 0.8);
      const opts = { accuracyCostTradeoff: 0.5 };
      const full = buildKeyIndex(pt, opts);
      const search = buildSearchIndex(pt, opts, from);
      assert.deepEqual(search.columns.map((c) => c.column), full.columns.map((c) => c.column));
      assert.ok(full.columns.some((c) => c.bagKeys.length > 0) || name === 'febrl3', 'abt-buy has code keys');
      assert.deepEqual(search.df, full.df);
      assert.deepEqual(search.weight, full.weight);
      assert.equal(search.maxKeys, full.maxKeys);
      assert.deepEqual(Array.from(search.order), Array.from(full.order).filter((r) => r >= from));
      for (let r = 0; r < pt.rowCount; r++) assert.ok(Math.abs(search.norm[r]! - full.norm[r]!) <= 1e-5 * full.norm[r]!, `norm of row ${r}`);
      const keys = new Int32Array(full.maxKeys);
      let walked = 0;
      for (let r = from; r < pt.rowCount; r++) {
        const m = rowKeys(pt, full, r, keys);
        for (let i = 0; i < m; i++) {
          const key = keys[i]!;
          if (full.weight[key]! <= 0 || full.df[key]! > full.budget) continue;
          walked++;
          const list = (x: typeof full) => Array.from(x.postings.subarray(x.postingOffsets[key]!, x.postingOffsets[key + 1]!));
          assert.deepEqual(list(search), list(full), `postings of key ${key}`);
        }
      }
      assert.ok(walked > 0);
      assert.ok(search.postings.length < full.postings.length, 'only the walked keys are listed');
    });
  }
});

describe('explanations', () => {
  it('contributions per column plus the bias add up to the log-odds the scorer gives the pair', async () => {
    const ds = loadTeachingDataset(resolveDatasetDir('restaurant'));
    const labels = await labelsFor(createMatcher({ threads: 1 }), ds, 2);
    const pt = prepareTable(ds.table);
    const features = planFeatures(pt);
    const trained = train(pt, features, labeledPairs(ds.table, labels), 1);
    const explainer = new PairExplainer(pt, features, trained.model);
    const scorer = new PairScorer(pt, features, { pair: trained.model });
    // Hand-picked pairs: a true match (same entity), near strangers and a row with itself.
    const rowOf = new Map(ds.keys.map((k, r) => [k, r]));
    const byEntity = new Map<string, number[]>();
    for (const t of ds.truth) (byEntity.get(t.entityId) ?? byEntity.set(t.entityId, []).get(t.entityId)!).push(rowOf.get(t.id)!);
    const match = [...byEntity.values()].find((rs) => rs.length > 1)!;
    const pairs: Array<[number, number]> = [[match[0]!, match[1]!], [0, 1], [10, 400], [5, 5]];
    for (const [a, b] of pairs) {
      const e = explainer.explain(a, b);
      const columnSum = e.columns.reduce((s, c) => s + c.contribution, 0);
      const featureSum = e.features.reduce((s, f) => s + f.contribution, 0);
      assert.ok(Math.abs(e.bias + columnSum - e.logOdds) < 1e-9);
      assert.ok(Math.abs(featureSum - columnSum) < 1e-9);
      const p = scorer.score(a, b);
      assert.ok(Math.abs(e.probability - p) < 1e-5, `pair (${a}, ${b}): explained ${e.probability}, scored ${p}`);
      assert.deepEqual(new Set(e.columns.map((c) => c.column)), new Set(features.map((f) => f.columnName)));
    }
    assert.ok(explainer.explain(match[0]!, match[1]!).logOdds > explainer.explain(10, 400).logOdds);
  });

  it('the columns that drive true matches: people records by identity fields, citations by title and authors', async (t) => {
    const drivers = async (name: string) => {
      const ds = loadTeachingDataset(resolveDatasetDir(name));
      const matcher = createMatcher({ threads: 2 });
      const labels = await labelsFor(matcher, ds, 3);
      const rowOf = new Map(ds.keys.map((k, r) => [k, r]));
      const byEntity = new Map<string, number[]>();
      for (const x of ds.truth) (byEntity.get(x.entityId) ?? byEntity.set(x.entityId, []).get(x.entityId)!).push(rowOf.get(x.id)!);
      const pairs = [...byEntity.values()].filter((rs) => rs.length > 1).slice(0, 300).map((rs) => [rs[0]!, rs[1]!] as const);
      const mean = new Map<string, number>();
      for (const e of await matcher.explainPairs(ds.table, pairs, labels, { seed: 1 })) {
        for (const c of e.columns) mean.set(c.column, (mean.get(c.column) ?? 0) + c.contribution / pairs.length);
      }
      const ranked = [...mean].sort((x, y) => y[1] - x[1]);
      t.diagnostic(`${name}: ${ranked.map(([c, v]) => `${c} ${v.toFixed(2)}`).join(', ')}`);
      return ranked.map(([c]) => c);
    };
    const people = await drivers('febrl3');
    assert.ok(['date_of_birth', 'soc_sec_id'].some((c) => people.slice(0, 4).includes(c)), people.join(', '));
    assert.ok(people.indexOf('given_name') > people.indexOf('date_of_birth'));
    const citations = await drivers('leipzig_dblp_acm');
    assert.deepEqual(citations.slice(0, 2).sort(), ['authors', 'title']);
  });

  it('the matcher explains pairs with the model findMatches uses', async () => {
    const inc = await createMatcher({ threads: 1 }).explainPairs(
      encodeTable([{ name: 'id' }, { name: 'name' }], [['a', 'b', 'c'], ['ann lee', 'ann lee', 'bob stone']], 0),
      [[0, 1], [0, 2]],
      [],
      {},
    );
    assert.equal(inc.length, 2);
    assert.ok(inc[0]!.logOdds > inc[1]!.logOdds);
    assert.deepEqual(inc[0]!.columns.map((c) => c.column), ['name']);
  });
});
