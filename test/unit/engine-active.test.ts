import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMatcher } from '../../src/engine/index.js';
import type { EngineLabel, EngineTable } from '../../src/engine/api.js';
import { encodeTable } from '../../src/engine/table.js';
import { isAuditSet } from '../../src/engine/audit.js';

// 30 people, each twice with a small typo.
const first = ['anna', 'bruno', 'carla', 'dieter', 'emil', 'frida', 'gustav', 'hanna', 'ida', 'jonas', 'karla', 'lena', 'max', 'nina', 'otto'];
const last = ['meyer', 'schulz'];
const ids: string[] = [], fn: string[] = [], ln: string[] = [], city: string[] = [], ent: string[] = [];
let k = 0;
for (const f of first) for (const l of last) {
  const e = `${f}-${l}`;
  for (let v = 0; v < 2; v++) {
    ids.push(`r${k++}`);
    fn.push(v ? f.slice(0, -1) + 'x' : f);
    ln.push(l);
    city.push(`${f}town ${l.length}`);
    ent.push(e);
  }
}
const table = encodeTable([{ name: 'id', type: 'string' }, { name: 'first', type: 'string' }, { name: 'last', type: 'string' }, { name: 'city', type: 'string' }], [ids, fn, ln, city], 0);

function labelSets(sets: Awaited<ReturnType<ReturnType<typeof createMatcher>['generateLabelingSets']>>): EngineLabel[] {
  const out: EngineLabel[] = [];
  for (const s of sets) for (const { row } of s.rows) out.push({ labelingSetId: s.labelingSetId, label: ent[row]!, key: ids[row]! });
  return out;
}

describe('engine active learning and matcher', () => {
  it('cold start gives ~targetRows rows in ~sets sets, deterministic, suggested labels', async () => {
    const m = createMatcher();
    const all = await m.generateLabelingSets(table, [], { seed: 3 }, { sets: 3, targetRows: 15 });
    const b = await m.generateLabelingSets(table, [], { seed: 3 }, { sets: 3, targetRows: 15 });
    assert.deepEqual(all, b);
    const a = all.filter((s) => !isAuditSet(s.labelingSetId));
    assert.equal(a.length, 3);
    // Audit sets (engine-audit.test.ts) start once there is a model to search with.
    assert.equal(all.length, a.length);
    for (const s of a) {
      assert.ok(s.rows.length >= 2 && s.rows.length <= 5);
      for (const r of s.rows) assert.ok(r.suggestedLabel.length > 0);
    }
    const rows = a.flatMap((s) => s.rows.map((r) => r.row));
    assert.equal(new Set(rows).size, rows.length);
  });
  it('cold-start sets join two neighbourhoods, so a first round has non-matches to learn from', async () => {
    // Ten entities of six near-identical records each: one neighbourhood is one entity.
    const n = 60;
    const big = encodeTable([{ name: 'id', type: 'string' }, { name: 'title', type: 'string' }], [
        Array.from({ length: n }, (_, i) => `p${i}`),
        Array.from({ length: n }, (_, i) => `${['graph', 'parsing', 'kernel', 'vision', 'speech', 'robots', 'queues', 'proofs', 'crypto', 'agents'][i % 10]} methods volume ${i % 10} edition ${i % 3}`),
      ], 0);
    const sets = (await createMatcher().generateLabelingSets(big, [], { seed: 2 }, { sets: 4, targetRows: 40 })).filter((s) => !isAuditSet(s.labelingSetId));
    assert.ok(sets.length >= 3);
    for (const s of sets) {
      const entities = new Set(s.rows.map((r) => r.row % 10));
      assert.ok(entities.size >= 2, `set ${s.labelingSetId} holds one entity only`);
    }
  });
  it('never reuses set ids or (in active sets) labeled rows; learns; evaluates', async () => {
    const m = createMatcher();
    const labels: EngineLabel[] = [];
    for (let round = 0; round < 3; round++) {
      const sets = await m.generateLabelingSets(table, labels, { seed: 1 }, { sets: 3, targetRows: 12 });
      const seen = new Set(labels.filter((l) => !isAuditSet(l.labelingSetId)).map((l) => l.key));
      const seenSets = new Set(labels.map((l) => l.labelingSetId));
      for (const s of sets) {
        assert.ok(!seenSets.has(s.labelingSetId));
        // Audit sets draw rows at random, labeled or not, and active learning never sees them.
        if (!isAuditSet(s.labelingSetId)) for (const r of s.rows) assert.ok(!seen.has(ids[r.row]!));
      }
      labels.push(...labelSets(sets));
    }
    const res = await m.findMatches(table, labels, { seed: 1 });
    // Deterministic for the same input, labels and seed, also in a fresh matcher (no shared cache).
    const again = await createMatcher().findMatches(table, labels, { seed: 1 });
    assert.deepEqual(again.matchId, res.matchId);
    assert.deepEqual(again.confidence, res.confidence);
    // The same matcher reuses its grouping, but every result owns its arrays.
    const repeated = await m.findMatches(table, labels, { seed: 1 });
    assert.deepEqual(repeated.confidence, res.confidence);
    assert.notEqual(repeated.confidence, res.confidence);
    assert.notEqual(repeated.matchId, res.matchId);
    let tp = 0;
    for (let i = 0; i < ids.length; i += 2) if (res.matchId[i] === res.matchId[i + 1]) tp++;
    assert.ok(tp >= 25, `found ${tp} of 30 pairs`);
    assert.equal(res.matchId.length, ids.length);
    // A matched pair is explained by the model that scores it: its columns add to a match, in log-odds.
    const why = res.explainPair!(0, 1);
    assert.ok(why.probability > 0.5 && why.columns.reduce((s, c) => s + c.contribution, 0) > 0, JSON.stringify(why.columns));
    const ev = await m.evaluate(table, labels, { seed: 1 });
    assert.ok(ev.columnImportances.length === 3);
    // Precision/recall/F1 are estimates for the run's candidates; the held-out ones stay available.
    assert.ok(ev.heldOut !== undefined);
    for (const v of [ev.precision, ev.recall, ev.f1, ev.heldOut.f1]) assert.ok(v !== undefined && v >= 0 && v <= 1);
    assert.ok(ev.f1! > 0.8, `estimated F1 ${ev.f1}`);
    for (let i = 1; i < ev.columnImportances.length; i++)
      assert.ok(ev.columnImportances[i - 1]!.importance >= ev.columnImportances[i]!.importance);
    const strict = await m.findMatches(table, labels, { seed: 1, precisionRecallTradeoff: 1 });
    assert.ok(strict.stats.matchedPairs <= res.stats.matchedPairs);
    const loose = await m.findMatches(table, labels, { seed: 1, precisionRecallTradeoff: 0 });
    assert.ok(loose.stats.matchedPairs >= res.stats.matchedPairs);
    const cheap = await m.findMatches(table, labels, { seed: 1, accuracyCostTradeoff: 0 });
    const thorough = await m.findMatches(table, labels, { seed: 1, accuracyCostTradeoff: 1 });
    assert.ok(thorough.stats.candidatePairs > cheap.stats.candidatePairs);
    for (let r = 0; r < ids.length; r++) {
      assert.ok(res.confidence[r]! >= 0 && res.confidence[r]! <= 1);
      assert.ok(Number.isInteger(res.matchId[r]) && res.matchId[r]! >= 0);
    }
    // EnforceProvidedLabels: every labeled match ends up together.
    const enforced = await m.findMatches(table, labels, { seed: 1, enforceProvidedLabels: true, precisionRecallTradeoff: 1 });
    const row = new Map(ids.map((id, i) => [id, i]));
    const bySet = new Map<string, EngineLabel[]>();
    for (const l of labels) bySet.set(l.labelingSetId, [...(bySet.get(l.labelingSetId) ?? []), l]);
    for (const group of bySet.values())
      for (const x of group) for (const y of group)
        if (x.label === y.label) assert.equal(enforced.matchId[row.get(x.key)!], enforced.matchId[row.get(y.key)!]);
  });
});
