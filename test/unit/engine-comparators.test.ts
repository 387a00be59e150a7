import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bagCosine, bagSimilarities, codeSimilarities, levenshtein, relativeSim, absoluteSim, stringSimilarities, textPool } from '../../src/engine/comparators.js';
import { codeTokens } from '../../src/engine/normalize.js';

/** [Jaro-Winkler, Levenshtein similarity] of two strings. */
const similarities = (a: string, b: string) => {
  const out = new Float64Array(2);
  stringSimilarities(textPool([a, b]), 0, 1, out);
  return out;
};
const jaroWinkler = (a: string, b: string) => similarities(a, b)[0]!;
const levenshteinSim = (a: string, b: string) => similarities(a, b)[1]!;
import { buildBags } from '../../src/engine/profile.js';
import { FeatureWriter, planFeatures } from '../../src/engine/features.js';
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
    const out = new Float64Array(3);
    bagSimilarities(b, 0, 1, out);
    close(out[0]!, 2 / 4);
    close(out[1]!, bagCosine(b, 0, 1));
    bagSimilarities(b, 0, 3, out);
    assert.deepEqual(Array.from(out), [0, 0, 0]);
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
    const writer = new FeatureWriter(pt, fs);
    writer.write(0, 1, out);
    const miss = fs.findIndex((f) => f.kind === 'eitherMissing');
    assert.equal(out[miss], 0);
    assert.ok(out[fs.findIndex((f) => f.kind === 'jaroWinkler')]! > 0.9);
    writer.write(0, 2, out);
    assert.equal(out[miss], 1);
    assert.equal(out[fs.findIndex((f) => f.kind === 'jaroWinkler')], 0);
  });
});

describe('engine comparators: bit-parallel Levenshtein', () => {
  /** The textbook dynamic programme, as the reference. */
  const reference = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length]![b.length]!;
  };
  it('equals the dynamic programme on random strings up to 100 characters, either side shorter', () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const word = () => Array.from({ length: Math.floor(rnd() * (rnd() < 0.7 ? 41 : 101)) }, () => 'abcdé'[Math.floor(rnd() * 5)]).join('');
    for (let i = 0; i < 3000; i++) {
      const a = word(), b = rnd() < 0.5 ? word() : a.slice(0, Math.floor(rnd() * a.length)) + 'x' + a.slice(Math.floor(rnd() * a.length));
      assert.equal(levenshtein(a, b), reference(a, b), `${a} / ${b}`);
    }
  });
});

describe('engine comparators: bit-parallel Jaro-Winkler', () => {
  /** Jaro-Winkler by its definition: each character of a takes the first unmatched equal one of b in the window. */
  const reference = (a: string, b: string): number => {
    if (a.length === 0 && b.length === 0) return 1;
    if (a.length === 0 || b.length === 0) return 0;
    const window = Math.max(0, (Math.max(a.length, b.length) >> 1) - 1);
    const ma = new Array<boolean>(a.length).fill(false), mb = new Array<boolean>(b.length).fill(false);
    let m = 0;
    for (let i = 0; i < a.length; i++)
      for (let j = Math.max(0, i - window); j <= Math.min(b.length - 1, i + window); j++)
        if (!mb[j] && a[i] === b[j]) { ma[i] = mb[j] = true; m++; break; }
    if (m === 0) return 0;
    const fa = [...a].filter((_, i) => ma[i]), fb = [...b].filter((_, j) => mb[j]);
    const t = fa.filter((c, k) => c !== fb[k]).length;
    const jaro = (m / a.length + m / b.length + (m - t / 2) / m) / 3;
    let p = 0;
    while (p < Math.min(4, a.length, b.length) && a[p] === b[p]) p++;
    return jaro + p * 0.1 * (1 - jaro);
  };
  it('equals the definition (the shorter string matched into) on random strings up to 100 characters', () => {
    let seed = 11;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const word = () => Array.from({ length: Math.floor(rnd() * (rnd() < 0.7 ? 41 : 101)) }, () => 'abcdé'[Math.floor(rnd() * 5)]).join('');
    for (let i = 0; i < 3000; i++) {
      const a = word(), b = rnd() < 0.5 ? word() : a.slice(0, Math.floor(rnd() * a.length)) + 'x' + a.slice(Math.floor(rnd() * a.length));
      const [longer, shorter] = a.length >= b.length ? [a, b] : [b, a];
      close(jaroWinkler(a, b), a === b ? 1 : reference(longer, shorter), 1e-12);
    }
  });
});

describe('engine comparators: codes', () => {
  it('extracts model and part numbers however a source writes them, and not prices, sizes, years or ordinals', () => {
    assert.deepEqual(codeTokens('Sony CDP-CX355 300 Disc MegaStorage CD Changer'), ['cdpcx355']);
    assert.deepEqual(codeTokens('Sony 300 Disc CD Changer - CDPCX355/ MegaStorage'), ['cdpcx355']);
    assert.deepEqual(codeTokens('Garmin GPS Receiver Dash Mount - 010-10613-00'), ['0101061300']);
    assert.deepEqual(codeTokens('Canon CLI-221 Gray Ink Cartridge - 2950B001'), ['cli221', '2950b001']);
    assert.deepEqual(codeTokens('$11.99 5.6 Cu. Ft. 2008 42nd Street (Black) 30"'), []);
    assert.deepEqual(codeTokens('ISBN 0262132478, EN-EL10 and en.el.10'), ['0262132478', 'enel10']);
  });

  it('prepares codes only for text columns where codes with letters are common', () => {
    const others = Array.from({ length: 20 }, (_, i) => `Other item XR${100 + i}`);
    const products = ['Sony CDP-CX355 Changer', 'Sony CDPCX355 CD', 'Canon CLI-221 Gray', 'Canon CLI221GRY Ink', 'plain words', ...others];
    const pages = products.map((_, i) => `${100 + i}-${120 + i}`);
    const t = prepareTable(
      encodeTable([{ name: 'id' }, { name: 'title' }, { name: 'pages' }], [products.map((_, i) => String(i)), products, pages], 0),
    );
    const [title, pageColumn] = t.columns;
    assert.ok(title!.codes && title!.codeText, 'product titles are compared by their codes');
    assert.equal(pageColumn!.codes, undefined, 'page ranges (numbers only) are not codes');
    const kinds = planFeatures(t).filter((f) => f.columnName === 'title').map((f) => f.kind);
    assert.ok(kinds.includes('codeAgreement') && kinds.includes('codeConflict'));

    const evidence = (a: number, b: number) => {
      const out = new Float64Array(2);
      codeSimilarities(title!.codes!, title!.codeText!, t.codes[a * 2]!, t.codes[b * 2]!, out);
      return [...out];
    };
    const [same, noConflict] = evidence(0, 1);
    assert.ok(same! > 0.5, `the same code written two ways agrees: ${same}`);
    assert.equal(noConflict, 0);
    const [family] = evidence(2, 3);
    assert.ok(family! > 0 && family! < same!, `a family code and its variant agree less than one code: ${family}`);
    assert.deepEqual(evidence(0, 2), [0, 1], 'different codes conflict');
    assert.deepEqual(evidence(0, 4), [0, 0], 'no code on one side is no evidence either way');
  });
});
