import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { profileColumn, prepareTable, buildBags } from '../../src/engine/profile.js';
import { normalizeText, parseDate, parseNumber, qgrams } from '../../src/engine/normalize.js';
import type { EngineTable } from '../../src/engine/api.js';
import { encodeTable } from '../../src/engine/table.js';

describe('engine profile', () => {
  it('normalizes text and parses numbers and dates', () => {
    assert.equal(normalizeText('  Crème-Brûlée, St. '), 'creme brulee st');
    assert.deepEqual(qgrams('ab'), ['#ab', 'ab#']);
    assert.equal(parseNumber('$1,234.5'), 1234.5);
    assert.ok(Number.isNaN(parseNumber('12a')));
    assert.equal(parseDate('1970-01-02'), 1);
    assert.equal(parseDate('19700102'), 1);
    assert.ok(Number.isNaN(parseDate('19701302')));
  });

  it('infers column kinds', () => {
    const many = (f: (i: number) => string | null) => Array.from({ length: 200 }, (_, i) => f(i));
    assert.equal(profileColumn('c', 0, many((i) => ['x', 'y', 'z'][i % 3]!)).kind, 'categorical');
    assert.equal(profileColumn('d', 0, many((i) => `19${50 + (i % 40)}-0${1 + (i % 9)}-1${i % 10}`)).kind, 'date');
    assert.equal(profileColumn('n', 0, many((i) => (i * 1.5).toFixed(2))).kind, 'numeric');
    assert.equal(profileColumn('ssn', 0, many((i) => String(1000000 + i * 7919))).kind, 'identifier');
    assert.equal(profileColumn('name', 0, many((i) => `name${i} smith`)).kind, 'shortText');
    assert.equal(profileColumn('e', 0, many((i) => (i === 0 ? 'x' : null))).kind, 'mostlyEmpty');
    const long = profileColumn('desc', 0, many((i) => `a long description of product ${i} with many words in it`));
    assert.equal(long.kind, 'longText');
    assert.equal(profileColumn('e', 0, many((i) => (i % 2 ? 'a' : null))).nullRate, 0.5);
  });

  it('builds sorted, unit-normalized TF-IDF bags', () => {
    const b = buildBags([['a', 'b'], ['b', 'c', 'c'], []]);
    assert.deepEqual(Array.from(b.offsets), [0, 2, 4, 4]);
    assert.deepEqual(Array.from(b.df), [1, 2, 1]);
    let norm = 0;
    for (let i = 0; i < 2; i++) norm += b.weights[i]! ** 2;
    assert.ok(Math.abs(norm - 1) < 1e-6);
  });

  it('never profiles the primary key', () => {
    const t = encodeTable([{ name: 'id', type: 'string' }, { name: 'name', type: 'string' }], [['1', '2'], ['ann', null]], 0);
    const pt = prepareTable(t);
    assert.deepEqual(pt.columns.map((c) => c.profile.name), ['name']);
    assert.deepEqual(Array.from(pt.codes), [0, -1]);
  });
});
