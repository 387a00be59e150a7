import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterPairs, scoredOncePerEqualRows } from '../../src/engine/cluster.js';

describe('engine clustering', () => {
  // Two tight groups {0,1,2} and {3,4,5} joined by one strong bridge 2-3.
  const P = (a: number, b: number) => {
    const g = (x: number) => (x < 3 ? 0 : 1);
    if (Math.min(a, b) === 2 && Math.max(a, b) === 3) return 0.6;
    return g(a) === g(b) ? 0.9 : 0.05;
  };
  const edges: Array<[number, number]> = [[0, 1], [1, 2], [0, 2], [3, 4], [4, 5], [3, 5], [2, 3]];
  const input = {
    n: 7,
    a: Uint32Array.from(edges.map((e) => e[0])),
    b: Uint32Array.from(edges.map((e) => e[1])),
    p: Float32Array.from(edges.map(([a, b]) => P(a, b))),
    threshold: 0.5,
    score: P,
  };
  it('does not chain groups through a single bridge', () => {
    const r = clusterPairs(input);
    const c = Array.from(r.cluster);
    assert.equal(c[0], c[1]);
    assert.equal(c[1], c[2]);
    assert.equal(c[3], c[4]);
    assert.equal(c[4], c[5]);
    assert.notEqual(c[0], c[5]);
    assert.equal(r.groups, 3);
    assert.equal(r.confidence[6], 1);
    assert.ok(r.confidence[0]! > 0.5 && r.confidence[0]! <= 1);
  });
  it('must-link and cannot-link', () => {
    const r = clusterPairs({ ...input, mustLink: [[5, 6]], cannotLink: [[0, 2]] });
    const c = Array.from(r.cluster);
    assert.equal(c[5], c[6]);
    assert.notEqual(c[0], c[2]);
  });
  it('fixed groups start merged at their confidence and are never joined, even through a bridging row', () => {
    // Rows 0-1 and 2-3 are two existing groups; row 4 matches both, a little better the first.
    const p = (a: number, b: number) => (Math.min(a, b) === 4 || Math.max(a, b) === 4 ? (Math.min(a, b) < 2 ? 0.95 : 0.9) : 0.9);
    const e: Array<[number, number]> = [[0, 4], [1, 4], [2, 4], [3, 4], [1, 2]];
    const r = clusterPairs({
      n: 5,
      a: Uint32Array.from(e.map((x) => x[0])),
      b: Uint32Array.from(e.map((x) => x[1])),
      p: Float32Array.from(e.map(([a, b]) => p(a, b))),
      threshold: 0.5,
      score: p,
      fixed: { group: Int32Array.from([0, 0, 1, 1, -1]), confidence: [0.8, 0.7] },
    });
    const c = Array.from(r.cluster);
    assert.deepEqual(c, [0, 0, 2, 2, 0]);
    assert.equal(r.confidence[2], 0.7, 'a fixed group nothing joined keeps its confidence');
    // Group 0 had one pair at 0.8; row 4 adds two at 0.95.
    assert.ok(Math.abs(r.confidence[0]! - (0.8 + 2 * 0.95) / 3) < 1e-6, String(r.confidence[0]));
  });
  it('a large group of identical rows is scored once per pair of distinct rows, not on every merge', () => {
    // 10,000 identical rows (each paired with the first, as blocking pairs exact duplicates) and one other row.
    const n = 10_001;
    const a = new Uint32Array(n - 1), b = new Uint32Array(n - 1), p = new Float32Array(n - 1).fill(0.99);
    for (let r = 1; r < n - 1; r++) b[r - 1] = r;
    a[n - 2] = 0;
    b[n - 2] = n - 1;
    p[n - 2] = 0.6;
    const first = Int32Array.from({ length: n }, (_, r) => (r < n - 1 ? 0 : r));
    let calls = 0;
    const score = (x: number, y: number) => {
      calls++;
      return x === n - 1 || y === n - 1 ? 0.3 : 0.99;
    };
    const r = clusterPairs({ n, a, b, p, threshold: 0.5, score: scoredOncePerEqualRows(score, first) });
    assert.equal(r.groups, 2, 'the identical rows together, the other row apart');
    assert.ok(calls <= 3, `${calls} pairs scored`);
    calls = 0;
    clusterPairs({ n, a, b, p, threshold: 0.5, score });
    assert.ok(calls > 100_000, `without it, ${calls} pairs scored`);
  });
});
