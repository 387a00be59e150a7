import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { areaUnderPR, confusionAt, precisionRecallCurve } from '../../src/engine/metrics.js';

/** The area under a step curve: each step's recall gain at its precision, as areaUnderPR sums it. */
const stepArea = (points: Array<{ precision: number; recall: number }>) =>
  points.reduce((sum, pt, i) => sum + (pt.recall - (i > 0 ? points[i - 1]!.recall : 0)) * pt.precision, 0);

describe('engine precision-recall curve', () => {
  it('has a point per distinct score, tied scores one step, and the operating threshold\'s point', () => {
    const p = [0.9, 0.8, 0.8, 0.6, 0.3], y = [1, 0, 1, 1, 0];
    const curve = precisionRecallCurve(p, y, 0.7)!;
    assert.deepEqual(curve.points.map((pt) => pt.threshold), [0.9, 0.8, 0.6, 0.3]);
    assert.deepEqual(curve.points.map((pt) => pt.recall), [1 / 3, 2 / 3, 1, 1]);
    assert.deepEqual(curve.points.map((pt) => pt.precision), [1, 2 / 3, 3 / 4, 3 / 5]);
    assert.ok(Math.abs(stepArea(curve.points) - areaUnderPR(p, y)!) < 1e-12, 'the curve AreaUnderPRCurve is the area under');
    const c = confusionAt(p, y, 0.7);
    assert.deepEqual(curve.operatingPoint, {
      threshold: 0.7,
      precision: c.numTruePositives / (c.numTruePositives + c.numFalsePositives),
      recall: c.numTruePositives / (c.numTruePositives + c.numFalseNegatives),
    });
    assert.equal(precisionRecallCurve([0.4, 0.2], [0, 0], 0.5), undefined, 'no positives, no curve');
  });

  it('thins a long curve to at most the points asked for, first and last kept, in order', () => {
    const n = 5000;
    const p: number[] = [], y: number[] = [];
    for (let i = 0; i < n; i++) {
      p.push(i / n);
      // Matches grow likelier with the score, with a deterministic scatter.
      y.push((i * 7919) % n < i ? 1 : 0);
    }
    const full = precisionRecallCurve(p, y, 0.5, n)!;
    assert.equal(full.points.length, n);
    const thin = precisionRecallCurve(p, y, 0.5, 100)!;
    assert.ok(thin.points.length <= 100 && thin.points.length > 50, `${thin.points.length} points`);
    assert.deepEqual(thin.points[0], full.points[0]);
    assert.deepEqual(thin.points.at(-1), full.points.at(-1));
    for (let i = 1; i < thin.points.length; i++) {
      assert.ok(thin.points[i]!.threshold < thin.points[i - 1]!.threshold, 'thresholds descend');
      assert.ok(thin.points[i]!.recall >= thin.points[i - 1]!.recall, 'recall ascends');
    }
    const onCurve = new Map(full.points.map((pt) => [pt.threshold, pt]));
    for (const pt of thin.points) assert.deepEqual(pt, onCurve.get(pt.threshold), 'every kept point is one of the curve\'s');
    assert.ok(Math.abs(stepArea(thin.points) - stepArea(full.points)) < 0.02, 'the thinned curve keeps its shape');
  });
});
