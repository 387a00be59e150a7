import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitLogistic, predict, f1OptimalThreshold, tradeoffThreshold } from '../../src/engine/model.js';
import { areaUnderPR, confusionAt, maxF1 } from '../../src/engine/metrics.js';

describe('engine model', () => {
  it('logistic regression separates and stays finite on separable data', () => {
    const X = new Float32Array([0.9, 0.8, 1, 0.95, 0.1, 0.2, 0.0, 0.3, 0.2, 0.1]);
    const y = new Uint8Array([1, 1, 0, 0, 0]);
    const m = fitLogistic(X, y, 2, 1);
    assert.ok(m.weights.every(Number.isFinite));
    assert.ok(predict(m, new Float32Array([1, 1])) > 0.5);
    assert.ok(predict(m, new Float32Array([0, 0])) < 0.5);
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
  it('metrics', () => {
    const p = [0.9, 0.8, 0.6, 0.3], y = [1, 0, 1, 0];
    assert.deepEqual(confusionAt(p, y, 0.5), { numTruePositives: 2, numFalsePositives: 1, numTrueNegatives: 1, numFalseNegatives: 0 });
    assert.ok(Math.abs(areaUnderPR(p, y)! - (0.5 * 1 + 0.5 * (2 / 3))) < 1e-9);
    assert.ok(Math.abs(maxF1(p, y)! - 0.8) < 1e-9);
    assert.equal(areaUnderPR([0.1], [0]), undefined);
  });
});
