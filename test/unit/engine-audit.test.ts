import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUDIT_SCAN_ROWS, AUDIT_SET_ROWS, auditDrawnRow, auditFloor, auditScan, auditSetId, auditSets, isAuditSet } from '../../src/engine/audit.js';
import { labeledPairs } from '../../src/engine/labels.js';
import { auditedEstimate } from '../../src/engine/estimate.js';
import { createMatcher } from '../../src/engine/index.js';
import type { EngineLabel } from '../../src/engine/api.js';
import { encodeTable } from '../../src/engine/table.js';

describe('engine audit sets', () => {
  it('scan: distinct random rows, each against every other row on a small table', () => {
    const scan = auditScan(50, 3, 7);
    assert.equal(scan.width, 49);
    assert.equal(new Set(scan.rows).size, scan.rows.length);
    for (let k = 0; k < scan.rows.length; k++) {
      const partners: Set<number> = new Set(Array.from(scan.b.subarray(k * scan.width, (k + 1) * scan.width)));
      assert.equal(partners.size, 49);
      assert.ok(!partners.has(scan.rows[k]!));
      for (let j: number = k * scan.width; j < (k + 1) * scan.width; j++) assert.equal(scan.a[j], scan.rows[k]);
    }
  });
  it('scan: a uniform sample of at most AUDIT_SCAN_ROWS rows on a large table', () => {
    const n = AUDIT_SCAN_ROWS * 3;
    const scan = auditScan(n, 1, 3);
    assert.equal(scan.width, AUDIT_SCAN_ROWS);
    const r = scan.rows[0]!;
    let low = 0;
    for (let j = 0; j < scan.width; j++) {
      const s = scan.b[j]!;
      assert.ok(s < n && s !== r);
      if (s < n / 2) low++;
    }
    // Evenly spread: half of the sample in the lower half of the table.
    assert.ok(Math.abs(low / scan.width - 0.5) < 0.01, `${low} of ${scan.width} in the lower half`);
  });
  it('sets: a row and its partners at or above the floor; rows without one are skipped', () => {
    const scan = { rows: Uint32Array.from([0, 1, 2]), width: 10, b: new Uint32Array(30) };
    const p = new Float32Array(30);
    for (let k = 0; k < 3; k++) for (let j = 0; j < 10; j++) scan.b[k * 10 + j] = 10 + k * 10 + j;
    p.fill(0.01);
    for (let j = 0; j < 10; j++) p[10 + j] = 0.5 + j / 100; // row 1: ten partners above the floor
    p[20 + 3] = 0.5; // row 2: one
    const sets = auditSets(scan, p, 0.1, 5);
    assert.equal(sets.length, 2);
    assert.deepEqual(sets[0]!.drawn, [1]);
    assert.equal(sets[0]!.rows[0], 1);
    assert.equal(sets[0]!.rows.length, AUDIT_SET_ROWS);
    // The most likely ones, most likely first.
    assert.deepEqual(sets[0]!.rows.slice(1), Array.from({ length: AUDIT_SET_ROWS - 1 }, (_, i) => 29 - i));
    assert.deepEqual(sets[1], { rows: [2, 33], drawn: [2] });
  });
  it('sets: drawn rows with few partners share a set while they fit, each followed by its partners', () => {
    const scan = { rows: Uint32Array.from([0, 1, 2, 3]), width: 4, b: new Uint32Array(16) };
    const p = new Float32Array(16).fill(0.01);
    for (let k = 0; k < 4; k++) for (let j = 0; j < 4; j++) scan.b[k * 4 + j] = 10 + k * 4 + j;
    p[0] = 0.9; // row 0: one partner (10)
    p[4 + 1] = 0.9; p[4 + 2] = 0.8; // row 1: two (15, 16)
    p[8 + 3] = 0.9; // row 2: one (21), which no longer fits beside the first five rows
    p[12] = 0.9; // row 3: one (22)
    const sets = auditSets(scan, p, 0.1, 2);
    assert.deepEqual(sets, [
      { rows: [0, 10, 1, 15, 16], drawn: [0, 1] },
      { rows: [2, 21, 3, 22], drawn: [2, 3] },
    ]);
    assert.ok(sets.every((s) => s.rows.length <= AUDIT_SET_ROWS));
    // No more sets than asked for.
    assert.equal(auditSets(scan, p, 0.1, 1).length, 1);
  });
  it('floor lies a fixed distance below the threshold in log-odds', () => {
    const logit = (p: number) => Math.log(p / (1 - p));
    assert.ok(Math.abs(logit(0.5) - logit(auditFloor(0.5)) - (logit(0.9) - logit(auditFloor(0.9)))) < 1e-9);
    assert.ok(auditFloor(0.5) < 0.05);
  });
});

describe('engine audit set ids', () => {
  const table = encodeTable([{ name: 'id', type: 'string' }], [['k0', 'k1', 'k2', 'k3']], 0);
  it('name the drawn row, so that only its pairs count, in whatever order the rows come back', () => {
    const id = auditSetId(7, ['k2']);
    assert.match(id, /^audit-0007-[0-9a-f]{8}$/);
    assert.ok(isAuditSet(id));
    assert.equal(auditDrawnRow(id)!('k2'), true);
    assert.equal(auditDrawnRow(id)!('k1'), false);
    const labels: EngineLabel[] = ['k0', 'k2', 'k3', 'k1'].map((key) => ({ labelingSetId: id, key, label: key === 'k3' ? 'B' : 'A' }));
    const pairs = labeledPairs(table, labels, undefined, auditDrawnRow);
    // Row 2's three pairs; the partners' pairs among themselves are not a random sample.
    assert.deepEqual([pairs.a, pairs.b, pairs.y], [[0, 2, 1], [2, 3, 2], [1, 0, 1]]);
  });
  it('name every drawn row of a set that holds several: their pairs count, the partners\' pairs among themselves do not', () => {
    const id = auditSetId(2, ['k0', 'k2']);
    assert.match(id, /^audit-0002-[0-9a-f]{8}-[0-9a-f]{8}$/);
    const labels: EngineLabel[] = ['k0', 'k1', 'k2', 'k3'].map((key) => ({ labelingSetId: id, key, label: key < 'k2' ? 'A' : 'B' }));
    const pairs = labeledPairs(table, labels, undefined, auditDrawnRow);
    // Every pair but (k1, k3), two partners.
    assert.deepEqual([pairs.a, pairs.b, pairs.y], [[0, 0, 0, 1, 2], [1, 2, 3, 2, 3], [1, 0, 0, 0, 1]]);
  });
  it('without a recognisable drawn row every pair of the set counts', () => {
    for (const id of ['audit-0003', 'audit-0003-zzzzzzzz', auditSetId(3, ['not-in-the-set'])]) {
      const labels: EngineLabel[] = ['k0', 'k1', 'k2'].map((key) => ({ labelingSetId: id, key, label: 'A' }));
      assert.equal(labeledPairs(table, labels, undefined, auditDrawnRow).y.length, 3, id);
    }
  });
});

describe('engine audited estimate', () => {
  const model = { precision: 0.8, recall: 0.8, f1: 0.8 };
  it('moves the model estimate towards what the audit measured, by the audit size', () => {
    const few = auditedEstimate(model, { y: [1, 1], candidate: [1, 1], joined: [1, 1], fits: [1, 1] }, 1);
    const many = auditedEstimate(model, { y: Array(600).fill(1), candidate: Array(600).fill(1), joined: Array(600).fill(1), fits: Array(600).fill(1) }, 1);
    assert.ok(few.precision! > 0.8 && few.precision! < many.precision!);
    assert.ok(many.precision! > 0.98 && many.recall! > 0.98);
    assert.ok(Math.abs(many.f1! - (2 * many.precision! * many.recall!) / (many.precision! + many.recall!)) < 1e-12);
  });
  it('counts audit matches that blocking missed against the blocking recall', () => {
    const y = Array(400).fill(1);
    const candidate = y.map((_, i) => (i % 2 ? 1 : 0));
    const est = auditedEstimate(model, { y, candidate, joined: candidate, fits: Array(400).fill(1) }, 1);
    assert.ok(est.blockingRecall! < 0.6 && est.blockingRecall! > 0.45, `${est.blockingRecall}`);
    assert.ok(est.recall! < 0.6);
  });
  it('pairs in output groups larger than an audit set leave precision and recall to the model', () => {
    const est = auditedEstimate(model, { y: Array(200).fill(1), candidate: Array(200).fill(0), joined: Array(200).fill(1), fits: Array(200).fill(0) }, 1);
    assert.ok(Math.abs(est.precision! - 0.8) < 1e-12 && Math.abs(est.recall! - 0.8) < 1e-12);
    // Blocking recall counts them: blocking proposed none of these matches.
    assert.ok(est.blockingRecall! < 0.1);
    assert.deepEqual(est.auditPairs, { precision: 0, recall: 0, blockingRecall: 200 });
  });
  it('says how many audit pairs each share was counted on', () => {
    // 10 pairs: 6 match; the output joins 5 of them (4 matching); the last 2 pairs sit in groups too large to tell.
    const y = [1, 1, 1, 1, 0, 1, 0, 0, 1, 0];
    const joined = [1, 1, 1, 1, 1, 0, 0, 0, 1, 0];
    const fits = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
    const est = auditedEstimate(model, { y, candidate: Array(10).fill(1), joined, fits }, 1);
    assert.deepEqual(est.auditPairs, { precision: 5, recall: 5, blockingRecall: 6 });
  });
  it('non-matches the output joins lower the precision', () => {
    const y = Array.from({ length: 80 }, (_, i) => (i % 4 === 0 ? 1 : 0));
    const est = auditedEstimate(model, { y, candidate: Array(80).fill(1), joined: Array(80).fill(1), fits: Array(80).fill(1) }, 1);
    assert.ok(est.precision! < 0.5);
  });
});

describe('engine audit sets in the teaching loop', () => {
  // 40 people, each twice with a small typo, and 40 singletons.
  const ids: string[] = [], name: string[] = [], town: string[] = [], ent: string[] = [];
  const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'so', 'ta', 'vi'];
  for (let e = 0; e < 80; e++) {
    const base = syllables[e % 8]! + syllables[Math.floor(e / 8) % 8]! + syllables[(e * 3) % 8]!;
    for (let v = 0; v < (e < 40 ? 2 : 1); v++) {
      ids.push(`r${ids.length}`);
      name.push(v ? base + 'x' : base);
      town.push(`town ${e % 13}`);
      ent.push(`e${e}`);
    }
  }
  const table = encodeTable([{ name: 'id', type: 'string' }, { name: 'name', type: 'string' }, { name: 'town', type: 'string' }], [ids, name, town], 0);
  const label = (sets: Awaited<ReturnType<ReturnType<typeof createMatcher>['generateLabelingSets']>>): EngineLabel[] =>
    sets.flatMap((s) => s.rows.map(({ row }) => ({ labelingSetId: s.labelingSetId, label: ent[row]!, key: ids[row]! })));

  it('are added from the second round on, and active learning and matching are exactly what they would be without them', async () => {
    const withAudits: EngineLabel[] = [];
    const m = createMatcher();
    for (let round = 0; round < 3; round++) {
      const sets = await m.generateLabelingSets(table, withAudits, { seed: 4 }, { sets: 5, targetRows: 30 });
      // The first round has no model to search with.
      assert.equal(sets.some((s) => isAuditSet(s.labelingSetId)), round > 0);
      // Each audit set's id names its first row, the one drawn at random.
      for (const s of sets.filter((s) => isAuditSet(s.labelingSetId))) assert.ok(auditDrawnRow(s.labelingSetId)!(ids[s.rows[0]!.row]!));
      withAudits.push(...label(sets));
    }
    const active = withAudits.filter((l) => !isAuditSet(l.labelingSetId));
    // Replaying the active sets alone proposes the same next sets and finds the same matches.
    const fresh = createMatcher();
    const next = (await fresh.generateLabelingSets(table, active, { seed: 4 }, { sets: 5, targetRows: 30 })).filter((s) => !isAuditSet(s.labelingSetId));
    const nextWith = (await m.generateLabelingSets(table, withAudits, { seed: 4 }, { sets: 5, targetRows: 30 })).filter((s) => !isAuditSet(s.labelingSetId));
    assert.deepEqual(nextWith, next);
    const a = await m.findMatches(table, withAudits, { seed: 4 });
    const b = await fresh.findMatches(table, active, { seed: 4 });
    assert.deepEqual(a.matchId, b.matchId);
    // The evaluation uses the audit: its estimate differs from the one without it.
    const ev = await m.evaluate(table, withAudits, { seed: 4 });
    const evActive = await fresh.evaluate(table, active, { seed: 4 });
    assert.ok(ev.f1 !== undefined && evActive.f1 !== undefined);
    assert.notEqual(ev.f1, evActive.f1);
  });
});
