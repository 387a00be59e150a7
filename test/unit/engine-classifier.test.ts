import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLASSIFIERS, classifierOf, featureImportances, modelDim, type ModelKind } from '../../src/engine/classifier.js';

/** 300 rows of 4 features: the label needs feature 0 and feature 1 together; feature 2 is noise, feature 3 constant. */
function sample() {
  const n = 300, d = 4;
  const X = new Float32Array(n * d), y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const a = ((i * 37) % 100) / 100, b = ((i * 61) % 100) / 100, noise = ((i * 17) % 23) / 23;
    X.set([a, b, noise, 1], i * d);
    y[i] = a > 0.5 && b > 0.4 ? 1 : 0;
  }
  return { X, y, n, d };
}

const KINDS = Object.keys(CLASSIFIERS) as ModelKind[];

describe('engine classifiers', () => {
  const { X, y, n, d } = sample();

  for (const kind of KINDS) {
    it(`${kind}: contributions plus bias are the log-odds of every row`, () => {
      const m = CLASSIFIERS[kind].fit(X, y, d);
      assert.equal(m.kind, kind);
      assert.equal(modelDim(m), d);
      const classifier = classifierOf(m);
      const out = new Float64Array(d);
      for (let i = 0; i < n; i += 7) {
        const bias = classifier.contributions(m, X, i * d, out);
        const sum = out.reduce((s, v) => s + v, bias);
        const z = classifier.logit(m, X, i * d);
        assert.ok(Math.abs(sum - z) < 1e-6 * Math.max(1, Math.abs(z)), `row ${i}: ${sum} != ${z}`);
      }
      let correct = 0;
      for (let i = 0; i < n; i++) if ((classifier.logit(m, X, i * d) > 0 ? 1 : 0) === y[i]) correct++;
      assert.ok(correct / n > 0.85, `${kind} accuracy ${correct / n}`);
    });

    it(`${kind}: importances are non-negative, rank the informative features first, and the constant one at 0`, () => {
      const m = CLASSIFIERS[kind].fit(X, y, d);
      const imp = featureImportances(m, X, n);
      assert.equal(imp.length, d);
      assert.ok(imp.every((v) => v >= 0 && Number.isFinite(v)));
      assert.ok(Math.min(imp[0]!, imp[1]!) > imp[2]!, `${Array.from(imp)}`);
      assert.equal(imp[3], 0);
    });

    it(`${kind}: models are plain data (survive structured clone) and score the same after it`, () => {
      const m = CLASSIFIERS[kind].fit(X, y, d);
      const copy = structuredClone(m);
      assert.equal(classifierOf(copy).logit(copy, X, 5 * d), classifierOf(m).logit(m, X, 5 * d));
    });
  }

  it('the blend scores and explains as the mean of its two models in log-odds', () => {
    const m = CLASSIFIERS.blend.fit(X, y, d);
    const lr = CLASSIFIERS.logistic, gbt = CLASSIFIERS.gbt;
    const a = new Float64Array(d), b = new Float64Array(d), c = new Float64Array(d);
    for (let i = 0; i < n; i += 11) {
      assert.equal(CLASSIFIERS.blend.logit(m, X, i * d), (lr.logit(m.lr, X, i * d) + gbt.logit(m.gbt, X, i * d)) / 2);
      lr.contributions(m.lr, X, i * d, a);
      gbt.contributions(m.gbt, X, i * d, b);
      CLASSIFIERS.blend.contributions(m, X, i * d, c);
      for (let f = 0; f < d; f++) assert.ok(Math.abs(c[f]! - (a[f]! + b[f]!) / 2) < 1e-12);
    }
  });

  it('without rows, importances are the size of each contribution at x = 1 (the prior model)', () => {
    const m = CLASSIFIERS.logistic.fit(X, y, d);
    const imp = featureImportances(m, undefined, 0);
    for (let f = 0; f < d; f++) assert.equal(imp[f], Math.abs(m.weights[f + 1]!));
  });
});

describe('engine training: importances come from the model that scores, blocking weights from its linear part', () => {
  it('column importances are in [0, 1], the largest 1, and explain the blend', async () => {
    const { prepareTable } = await import('../../src/engine/profile.js');
    const { encodeTable } = await import('../../src/engine/table.js');
    const { planFeatures } = await import('../../src/engine/features.js');
    const { train, blockingWeights } = await import('../../src/engine/training.js');
    const n = 60;
    const names = Array.from({ length: n }, (_, i) => `person${Math.floor(i / 2)} ${i % 2 ? 'smith' : 'smyth'}`);
    const noise = Array.from({ length: n }, (_, i) => ['red', 'green', 'blue'][(i * 7) % 3]!);
    const t = prepareTable(encodeTable([{ name: 'id' }, { name: 'name' }, { name: 'colour' }], [names.map((_, i) => String(i)), names, noise], 0));
    const features = planFeatures(t);
    // Rows 2k and 2k + 1 are one entity; labeling sets of four rows (two entities each).
    const a: number[] = [], b: number[] = [], y: number[] = [], set: number[] = [];
    for (let s = 0; s < n / 4; s++) {
      const rows = [4 * s, 4 * s + 1, 4 * s + 2, 4 * s + 3];
      for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) {
        a.push(rows[i]!); b.push(rows[j]!); y.push(Math.floor(rows[i]! / 2) === Math.floor(rows[j]! / 2) ? 1 : 0); set.push(s);
      }
    }
    const trained = train(t, features, { a, b, y, set, setIds: Array.from({ length: n / 4 }, (_, s) => `s${s}`), labeledRows: new Set(), labelCount: n }, 1);
    assert.equal(trained.model.kind, 'blend');
    const imp = trained.importances;
    assert.ok(imp.every((c) => c.importance >= 0 && c.importance <= 1));
    assert.equal(imp[0]!.importance, 1);
    assert.equal(imp[0]!.columnName, 'name');
    assert.ok(trained.model.kind === 'blend');
    const linear = trained.blockingImportances!;
    assert.equal(Math.max(...linear.map((c) => c.importance)), 1);
    const w = blockingWeights(trained);
    for (const c of linear) assert.equal(w[c.column], 0.25 + 0.75 * c.importance);
  });
});
