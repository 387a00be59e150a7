import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jaroWinkler, levenshtein, levenshteinSim, bagJaccard, bagCosine, relativeSim, absoluteSim } from '../../src/engine/comparators.js';
import { buildBags } from '../../src/engine/profile.js';
import { planFeatures, pairFeatures } from '../../src/engine/features.js';
import { prepareTable } from '../../src/engine/profile.js';
import { encodeTable } from '../../src/engine/table.js';

const close = (a: number, b: number, eps = 1e-3) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

describe('engine comparators', () => {
  it('Jaro-Winkler matches the textbook values', () => {
    close(jaroWinkler('martha', 'marhta'), 0.961);
    close(jaroWinkler('dwayne', 'duane'), 0.84);
    close(jaroWinkler('dixon', 'dicksonx'), 0.813);
    assert.equal(jaroWinkler('', ''), 1);
    assert.equal(jaroWinkler('abc', ''), 0);
  });
  it('Levenshtein, banded with early exit', () => {
    assert.equal(levenshtein('kitten', 'sitting'), 3);
    assert.equal(levenshtein('kitten', 'sitting', 1), 2);
    assert.equal(levenshtein('', 'abc'), 3);
    close(levenshteinSim('kitten', 'sitting'), 1 - 3 / 7);
    assert.equal(levenshteinSim('abcd', 'wxyz'), 0);
  });
  it('token Jaccard and TF-IDF cosine on bags', () => {
    const b = buildBags([['a', 'b', 'c'], ['b', 'c', 'd'], ['a', 'b', 'c'], ['x']]);
    close(bagJaccard(b, 0, 1), 2 / 4);
    close(bagCosine(b, 0, 2), 1);
    assert.equal(bagCosine(b, 0, 3), 0);
    assert.ok(bagCosine(b, 0, 1) > 0 && bagCosine(b, 0, 1) < 1);
  });
  it('numeric similarities', () => {
    assert.equal(relativeSim(100, 90), 0.9);
    assert.equal(relativeSim(NaN, 1), 0);
    assert.equal(absoluteSim(10, 40, 30), 0.5);
  });
  it('pair features: missing values give zero similarity and the missing indicator', () => {
    const pt = prepareTable(encodeTable([{ name: 'id', type: 'string' }, { name: 'name', type: 'string' }], [['1', '2', '3'], ['john smith', 'jon smith', null]], 0));
    const fs = planFeatures(pt);
    const out = new Float32Array(fs.length);
    pairFeatures(pt, fs, 0, 1, out);
    const miss = fs.findIndex((f) => f.kind === 'eitherMissing');
    assert.equal(out[miss], 0);
    assert.ok(out[fs.findIndex((f) => f.kind === 'jaroWinkler')]! > 0.9);
    pairFeatures(pt, fs, 0, 2, out);
    assert.equal(out[miss], 1);
    assert.equal(out[fs.findIndex((f) => f.kind === 'jaroWinkler')], 0);
  });
});
