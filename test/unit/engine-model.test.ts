import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitLogistic, logisticLogit, f1OptimalThreshold, tradeoffThreshold } from '../../src/engine/model.js';
import { areaUnderPR, confusionAt, maxF1 } from '../../src/engine/metrics.js';

describe('engine model', () => {
  it('logistic regression separates and stays finite on separable data', () => {
    const X = new Float32Array([0.9, 0.8, 1, 0.95, 0.1, 0.2, 0.0, 0.3, 0.2, 0.1]);
    const y = new Uint8Array([1, 1, 0, 0, 0]);
    const m = fitLogistic(X, y, 2, 1);
    assert.ok(m.weights.every(Number.isFinite));
    assert.ok(logisticLogit(m, new Float32Array([1, 1])) > 0);
    assert.ok(logisticLogit(m, new Float32Array([0, 0])) < 0);
    const again = fitLogistic(X, y, 2, 1);
    assert.deepEqual(Array.from(again.weights), Array.from(m.weights));
  });
  it('F1-optimal threshold and monotone tradeoff map', () => {
    const { threshold, f1 } = f1OptimalThreshold([0.9, 0.8, 0.4, 0.3], [1, 1, 0, 0]);
    assert.equal(f1, 1);
    assert.ok(threshold > 0.4 && threshold < 0.8);
    assert.ok(Math.abs(tradeoffThreshold(0.3, 0.5) - 0.3) < 1e-9);
    let prev = 0;
    for (let t = 0; t <= 1; t += 0.1) {
      const v = tradeoffThreshold(0.3, t);
      assert.ok(v > prev);
      prev = v;
    }
  });
  it('tradeoff ends follow the held-out scores, so a high tradeoff still keeps the surest matches', () => {
    // The model never scores a labeled match above 0.9: a fixed end of 0.999 would keep none.
    const heldOut = { p: [0.6, 0.7, 0.8, 0.85, 0.9, 0.05, 0.1, 0.2, 0.3, 0.4], y: [1, 1, 1, 1, 1, 0, 0, 0, 0, 0] };
    const top = tradeoffThreshold(0.5, 1, heldOut);
    assert.ok(top <= 0.9 && top > 0.5, `threshold at 1.0 is ${top}`);
    assert.ok(tradeoffThreshold(0.5, 0.9, heldOut) < top);
    assert.ok(Math.abs(tradeoffThreshold(0.5, 0.5, heldOut) - 0.5) < 1e-9);
    // Every labeled match scores above the base threshold: a lower one would add only non-matches.
    assert.ok(Math.abs(tradeoffThreshold(0.5, 0, heldOut) - 0.5) < 1e-9);
    let prev = 0;
    for (let t = 0; t <= 1.0001; t += 0.1) {
      const v = tradeoffThreshold(0.5, Math.min(1, t), heldOut);
      assert.ok(v >= prev);
      prev = v;
    }
  });
  it('the recall end keeps nearly every labeled match and goes no lower', () => {
    // 100 labeled matches scoring 0.3 .. 0.99, non-matches down to 0.001.
    const p: number[] = [], y: number[] = [];
    for (let i = 0; i < 100; i++) { p.push(0.3 + (0.69 * i) / 99); y.push(1); }
    for (let i = 0; i < 100; i++) { p.push(0.001 + (0.5 * i) / 99); y.push(0); }
    const bottom = tradeoffThreshold(0.6, 0, { p, y });
    const kept = p.filter((v, i) => y[i] === 1 && v >= bottom).length;
    assert.ok(kept >= 98, `keeps ${kept} of 100 labeled matches`);
    assert.ok(bottom >= 0.3 && bottom < 0.6, `threshold at 0.0 is ${bottom}`);
    assert.ok(tradeoffThreshold(0.6, 0.25, { p, y }) > bottom);
  });
  it('metrics', () => {
    const p = [0.9, 0.8, 0.6, 0.3], y = [1, 0, 1, 0];
    assert.deepEqual(confusionAt(p, y, 0.5), { numTruePositives: 2, numFalsePositives: 1, numTrueNegatives: 1, numFalseNegatives: 0 });
    assert.ok(Math.abs(areaUnderPR(p, y)! - (0.5 * 1 + 0.5 * (2 / 3))) < 1e-9);
    assert.ok(Math.abs(maxF1(p, y)! - 0.8) < 1e-9);
    assert.equal(areaUnderPR([0.1], [0]), undefined);
  });
});

describe('engine gradient-boosted trees', () => {
  it('learns an interaction the logistic model cannot (XOR-like) and is deterministic', async () => {
    const { fitGbt, gbtLogit } = await import('../../src/engine/gbt.js');
    const n = 400;
    const X = new Float32Array(n * 2), y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const a = (i * 37) % 100 / 100, b = (i * 61) % 100 / 100;
      X[2 * i] = a; X[2 * i + 1] = b;
      y[i] = (a > 0.5) === (b > 0.5) ? 1 : 0;
    }
    const m = fitGbt(X, y, 2, { trees: 60, depth: 2 });
    let correct = 0;
    for (let i = 0; i < n; i++) if ((gbtLogit(m, X, 2 * i) > 0 ? 1 : 0) === y[i]) correct++;
    assert.ok(correct / n > 0.95, `accuracy ${correct / n}`);
    const m2 = fitGbt(X, y, 2, { trees: 60, depth: 2 });
    assert.equal(gbtLogit(m2, X, 0), gbtLogit(m, X, 0));
  });
});
