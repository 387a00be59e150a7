import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMPARISONS, featureSource, mainFeature, plannedFeatures, preparationsFor } from '../../src/engine/comparisons/index.js';
import { FeatureWriter, planFeatures } from '../../src/engine/features.js';
import { prepareTable, type ColumnKind } from '../../src/engine/profile.js';
import { encodeTable } from '../../src/engine/table.js';

/** A table with a column of every kind (checked below), 40 rows, some values missing. */
function everyKind() {
  const n = 40;
  const rows = Array.from({ length: n }, (_, i) => i);
  const names = ['john smith', 'jon smith', 'mary jones', 'maria jones', 'peter brown'];
  const products = ['Sony CDP-CX355 Changer', 'Sony CDPCX355 CD', 'Canon CLI-221 Gray', 'Canon CLI221GRY Ink', 'plain words'];
  const columns: Array<[string, Array<string | null>]> = [
    ['id', rows.map(String)],
    ['ssn', rows.map((i) => (i === 5 ? null : String(1234500 + i * 7)))],
    ['price', rows.map((i) => (10 + i * 1.5).toFixed(2))],
    ['born', rows.map((i) => `2001-03-${String(1 + (i % 28)).padStart(2, '0')}`)],
    ['city', rows.map((i) => ['berlin', 'paris', 'rome'][i % 3]!)],
    ['name', rows.map((i) => (i === 7 ? null : `${names[i % names.length]} ${i % 4 === 0 ? '' : String.fromCharCode(97 + (i % 26))}`))],
    ['title', rows.map((i) => `${products[i % products.length]} XR${100 + i}`)],
    ['description', rows.map((i) => `a long description of item number ${i} with several words in it ${names[i % 5]}`)],
    ['note', rows.map((i) => (i === 0 ? 'only one' : ''))],
  ];
  return prepareTable(encodeTable(columns.map(([name]) => ({ name })), columns.map(([, values]) => values), 0));
}

const KINDS: ColumnKind[] = ['identifier', 'numeric', 'date', 'categorical', 'shortText', 'longText', 'mostlyEmpty'];

describe('engine comparison registry', () => {
  const t = everyKind();

  it('the sample table holds every column kind', () => {
    assert.deepEqual(new Set(t.columns.map((c) => c.profile.kind)), new Set(KINDS));
  });

  it('declarations are consistent: unique outputs, plans and main features among the outputs', () => {
    for (const c of COMPARISONS) {
      for (const [kind, names] of Object.entries(c.planned)) {
        for (const name of names) assert.ok(c.outputs.includes(name), `${name} planned for ${kind} is an output`);
      }
      for (const name of Object.values(c.main ?? {})) assert.ok(c.outputs.includes(name));
      assert.ok((c.compare === undefined) !== (c.sameValue === undefined), 'computed by a call or by value equality, not both');
      if (c.sameValue) assert.ok(c.cheap && c.outputs.length === 1);
      c.outputs.forEach((name, output) => assert.deepEqual(featureSource(name), { comparison: COMPARISONS.indexOf(c), output }));
    }
    for (const kind of KINDS) {
      const main = mainFeature(kind);
      if (main) assert.ok(COMPARISONS.some((c) => c.planned[kind]?.includes(main)), `${kind}'s main feature is planned for it`);
    }
  });

  it('plans every comparison for the kinds it declares (and where its condition holds), in registry order', () => {
    for (const col of t.columns) {
      const expected = COMPARISONS.flatMap((c) => ((!c.appliesTo || c.appliesTo(col)) && c.planned[col.profile.kind]) || []);
      assert.deepEqual(plannedFeatures(col), expected);
    }
    const title = t.columns.find((c) => c.profile.name === 'title')!;
    assert.ok(title.codes, 'product titles hold codes');
    assert.ok(plannedFeatures(title).includes('codeAgreement'));
    const price = t.columns.find((c) => c.profile.name === 'price')!;
    assert.ok(!plannedFeatures(price).includes('eitherMissing'), 'no missing indicator without missing values');
    const ssn = t.columns.find((c) => c.profile.name === 'ssn')!;
    assert.ok(plannedFeatures(ssn).includes('eitherMissing'));
  });

  it('prepares each column with what its comparisons need', () => {
    for (const col of t.columns) {
      const needs = preparationsFor(col.profile.kind);
      assert.equal(col.grams !== undefined, needs.has('grams'), `${col.profile.name}: grams`);
      assert.equal(col.num !== undefined, needs.has('numbers'), `${col.profile.name}: numbers`);
      if (col.codes) assert.ok(needs.has('codes'));
    }
  });

  it('every feature is in [0, 1] on every pair of rows, and the same however the pair is written', () => {
    const features = planFeatures(t);
    const cached = new FeatureWriter(t, features);
    const plain = new FeatureWriter(t, features, false);
    const x = new Float32Array(features.length), y = new Float32Array(features.length);
    for (let a = 0; a < t.rowCount; a++) {
      for (let b = 0; b < t.rowCount; b++) {
        cached.write(a, b, x);
        plain.writeCheap(b, a, y);
        for (const col of [...new Set(features.map((f) => f.column))]) plain.writeColumn(col, y);
        x.forEach((v, i) => assert.ok(v >= 0 && v <= 1, `${features[i]!.columnName}.${features[i]!.kind} of rows ${a}, ${b}: ${v}`));
        assert.deepEqual(y, x);
      }
    }
  });

  it('a missing value gives the missing indicator 1 and every other feature of the column 0', () => {
    const features = planFeatures(t);
    const x = new Float32Array(features.length);
    new FeatureWriter(t, features).write(5, 6, x);
    features.forEach((f, i) => {
      if (f.columnName === 'ssn') assert.equal(x[i], f.kind === 'eitherMissing' ? 1 : 0);
    });
  });
});
