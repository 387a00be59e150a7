import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitLogistic } from '../../src/engine/model.js';
import { planFeatures } from '../../src/engine/features.js';
import { prepareTable } from '../../src/engine/profile.js';
import { encodeTable } from '../../src/engine/table.js';
import { agreementFloors } from '../../src/engine/training.js';

describe('agreement floors', () => {
  it('hold the linear part at zero where hard non-matches would pull it far below', () => {
    // Feature 0: evidence from the other columns; feature 1: agreement on a rare value. The matches
    // that agree on it are clear on feature 0, the non-matches that agree on it are look-alikes.
    const rows: Array<[number, number, number]> = [];
    for (let i = 0; i < 40; i++) rows.push([0.95, 1, 1]);
    for (let i = 0; i < 30; i++) rows.push([0.8, 1, 0]);
    for (let i = 0; i < 60; i++) rows.push([0.8, 0, 1]);
    for (let i = 0; i < 80; i++) rows.push([0.2, 0, 0]);
    const X = Float32Array.from(rows.flatMap(([a, b]) => [a, b]));
    const y = Uint8Array.from(rows.map(([, , label]) => label));
    const free = fitLogistic(X, y, 2, 1);
    assert.ok(free.weights[2]! < -1.5, `free weight of the agreement ${free.weights[2]}`);
    const floored = fitLogistic(X, y, 2, 1, 50, [Float64Array.from([0, 1])]);
    assert.ok(floored.weights[2]! > -0.05, `floored weight ${floored.weights[2]}`);
    const holding = fitLogistic(X, y, 2, 1, 50, [Float64Array.from([1, 0])]);
    assert.deepEqual(Array.from(holding.weights), Array.from(free.weights), 'a floor that holds anyway changes nothing');
  });

  it('bound the columns that some rows miss and whose values rarely agree by chance, over their own features only', () => {
    const n = 400;
    const ids: string[] = [], names: string[] = [], seconds: Array<string | null> = [], flags: Array<string | null> = [];
    for (let i = 0; i < n; i++) {
      ids.push(String(i));
      names.push(`name${i % 180}`);
      seconds.push(i % 3 === 0 ? `second${i % 97}` : null);
      flags.push(i % 4 === 0 ? null : i % 2 === 0 ? 'yes' : 'no');
    }
    const table = encodeTable(
      ['id', 'name', 'second', 'flag'].map((name) => ({ name, type: 'string' })),
      [ids, names, seconds, flags],
      0,
    );
    const pt = prepareTable(table);
    const features = planFeatures(pt);
    const floors = agreementFloors(pt, features);
    const columnOf = (name: string) => pt.columns.findIndex((c) => c.profile.name === name);
    const second = columnOf('second');
    // name: never missing; flag: two values, half the pairs agree by chance.
    assert.equal(floors.length, 1);
    const [floor] = floors;
    features.forEach((f, i) => {
      if (f.column !== second) assert.equal(floor![i], 0, `feature ${f.columnName}.${f.kind}`);
    });
    assert.ok(floor!.some((v, i) => v > 0 && features[i]!.column === second));
  });
});
