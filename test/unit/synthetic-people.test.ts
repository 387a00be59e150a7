import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import {
  IndexPermutation,
  MAX_ENTITY_SIZE,
  PEOPLE_COLUMNS,
  writePeopleDataset,
  type PeopleDatasetMeta,
} from '../../bench/lib/synthetic-people.js';
import { readDatasetTruth, scoreAgainstDataset } from '../../src/evaluation/dataset-files.js';

const RECORDS = 2_000;
const FILES = ['records.csv', 'truth.csv', 'meta.json'];

describe('synthetic people: the index permutation', () => {
  it('is a bijection of [0, n) whose inverse undoes it, for sizes that are and are not powers of 4', () => {
    for (const size of [1, 2, 3, 16, 17, 1000]) {
      const permutation = new IndexPermutation(size, 7);
      const images = new Set<number>();
      for (let i = 0; i < size; i++) {
        const image = permutation.forward(i);
        assert.ok(image >= 0 && image < size, `forward(${i}) = ${image} is outside [0, ${size})`);
        assert.equal(permutation.inverse(image), i);
        images.add(image);
      }
      assert.equal(images.size, size);
    }
  });
});

describe('synthetic people: a generated dataset', () => {
  let dir: string;
  let meta: PeopleDatasetMeta;
  let records: string[][];
  let truth: string[][];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'doppel-people-'));
    meta = await writePeopleDataset({ records: RECORDS, seed: 11, outDir: join(dir, 'a') });
    records = parse(readFileSync(join(dir, 'a', 'records.csv'))) as string[][];
    truth = parse(readFileSync(join(dir, 'a', 'truth.csv'))) as string[][];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is the same bytes for the same records and seed, and different for another seed', async () => {
    await writePeopleDataset({ records: RECORDS, seed: 11, outDir: join(dir, 'again') });
    for (const file of FILES) {
      assert.ok(readFileSync(join(dir, 'a', file)).equals(readFileSync(join(dir, 'again', file))), `${file} differs`);
    }
    await writePeopleDataset({ records: RECORDS, seed: 12, outDir: join(dir, 'other') });
    assert.notDeepEqual(readFileSync(join(dir, 'other', 'records.csv')), readFileSync(join(dir, 'a', 'records.csv')));
  });

  it('has the dataset layout: header, neutral unique ids, truth in records order', () => {
    assert.deepEqual(records[0], ['id', ...PEOPLE_COLUMNS]);
    assert.deepEqual(truth[0], ['id', 'entity_id']);
    assert.equal(records.length, RECORDS + 1);
    assert.equal(truth.length, RECORDS + 1);
    for (let row = 1; row <= RECORDS; row++) {
      assert.equal(records[row]![0], `r${String(row).padStart(4, '0')}`);
      assert.equal(truth[row]![0], records[row]![0]);
      assert.equal(records[row]!.length, PEOPLE_COLUMNS.length + 1);
      assert.match(records[row]![3]!, /^$|^\d{4}-\d{2}-\d{2}$/, 'date_of_birth is ISO or blank');
    }
  });

  it('names each entity after its first record in file order, with at most 8 records per entity', () => {
    const firstRowOfEntity = new Map<string, number>();
    const sizes = new Map<string, number>();
    for (let row = 1; row <= RECORDS; row++) {
      const [id, entityId] = truth[row] as [string, string];
      if (!firstRowOfEntity.has(entityId)) {
        firstRowOfEntity.set(entityId, row);
        assert.equal(entityId, id, `row ${row} is the first record of ${entityId} but is ${id}`);
      }
      sizes.set(entityId, (sizes.get(entityId) ?? 0) + 1);
    }
    const sizeList = [...sizes.values()];
    assert.ok(Math.max(...sizeList) <= MAX_ENTITY_SIZE);
    const singletons = sizeList.filter((n) => n === 1).length / sizeList.length;
    assert.ok(singletons > 0.4 && singletons < 0.6, `share of one-record entities ${singletons}`);
    // Rows are not grouped by entity: few records sit right after another record of their entity.
    let afterSameEntity = 0;
    for (let row = 2; row <= RECORDS; row++) if (truth[row]![1] === truth[row - 1]![1]) afterSameEntity++;
    assert.ok(afterSameEntity < RECORDS / 50, `${afterSameEntity} records follow one of their own entity`);
  });

  it('counts in meta.json what the files hold, and the truth scores itself perfectly', () => {
    const sizes = new Map<string, number>();
    for (const [, entityId] of truth.slice(1)) sizes.set(entityId!, (sizes.get(entityId!) ?? 0) + 1);
    const truePairs = [...sizes.values()].reduce((sum, n) => sum + (n * (n - 1)) / 2, 0);
    const onDisk = JSON.parse(readFileSync(join(dir, 'a', 'meta.json'), 'utf8')) as PeopleDatasetMeta;
    assert.deepEqual(onDisk, meta);
    assert.equal(meta.name, `synthetic_people_${RECORDS}`);
    assert.equal(meta.task, 'dedup');
    assert.equal(meta.score_pairs, 'all');
    assert.equal(meta.primary_key, 'id');
    assert.deepEqual(meta.columns, [...PEOPLE_COLUMNS]);
    assert.equal(meta.records, RECORDS);
    assert.equal(meta.entities, sizes.size);
    assert.equal(meta.true_pairs, truePairs);
    assert.equal(meta.source, 'doppel synthetic generator seed=11');
    const dataset = readDatasetTruth(join(dir, 'a'));
    const score = scoreAgainstDataset(dataset, dataset.truth.map((t) => ({ id: t.id, matchId: t.entityId })));
    assert.equal(score.f1, 1);
    assert.equal(score.truePairs, truePairs);
  });

  it('gives every duplicate 1 to 4 changed fields against its first record, never more', () => {
    const rowOfId = new Map(records.slice(1).map((r, i) => [r[0]!, i + 1]));
    const changedCounts = new Map<number, number>();
    for (let row = 1; row <= RECORDS; row++) {
      const [id, entityId] = truth[row] as [string, string];
      if (id === entityId) continue;
      const first = records[rowOfId.get(entityId)!]!;
      const duplicate = records[row]!;
      let changed = 0;
      for (let column = 1; column <= PEOPLE_COLUMNS.length; column++) if (duplicate[column] !== first[column]) changed++;
      assert.ok(changed >= 1 && changed <= 4, `${id} differs from ${entityId} in ${changed} fields`);
      changedCounts.set(changed, (changedCounts.get(changed) ?? 0) + 1);
    }
    // One corruption is the most common, and some duplicates have several.
    assert.ok((changedCounts.get(1) ?? 0) > (changedCounts.get(2) ?? 0));
    assert.ok((changedCounts.get(3) ?? 0) > 0);
  });
});
