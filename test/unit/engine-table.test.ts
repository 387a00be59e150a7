import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadEngineTable } from '../../src/catalog/engine-table.js';
import { LocalObjectStore } from '../../src/storage/local/local-object-store.js';
import type { TableRecord } from '../../src/storage/records.js';
import { columnValues } from '../../src/engine/table.js';

async function* body(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

function tableRecord(columns: string[], location = 's3://bkt/people/', partitionKeys: string[] = []): TableRecord {
  return {
    accountId: '123456789012',
    region: 'us-east-1',
    catalogId: '123456789012',
    databaseName: 'db',
    name: 'people',
    createdOn: 0,
    updatedOn: 0,
    versionId: 0,
    createdBy: 'test',
    doc: {
      Name: 'people',
      Parameters: { classification: 'csv', 'skip.header.line.count': '1' },
      StorageDescriptor: {
        Columns: columns.map((Name) => ({ Name, Type: 'string' })),
        Location: location,
        SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde', Parameters: { separatorChar: ',' } },
      },
      PartitionKeys: partitionKeys.map((Name) => ({ Name, Type: 'string' })),
    },
  } as TableRecord;
}

describe('loadEngineTable: reuse of an unchanged table', () => {
  let root: string;
  let store: LocalObjectStore;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'doppel-engine-table-'));
    store = await LocalObjectStore.open(join(root, 'objects'));
    await store.createBucket('bkt', '123456789012');
    await store.putObject('bkt', 'people/part-0.csv', body('id,name\n1,anna\n2,bert\n'));
  });
  after(async () => {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('hands out the same table object while definition and files are unchanged', async () => {
    const a = await loadEngineTable(tableRecord(['id', 'name']), undefined, store, 'id');
    const b = await loadEngineTable(tableRecord(['id', 'name']), undefined, store, 'id');
    assert.equal(a, b);
    assert.deepEqual([columnValues(a, 0), columnValues(a, 1)], [['1', '2'], ['anna', 'bert']]);
  });

  it('reads again when a data file changes, is added, or the definition changes', async () => {
    const before = await loadEngineTable(tableRecord(['id', 'name']), undefined, store, 'id');
    await store.putObject('bkt', 'people/part-0.csv', body('id,name\n1,anna\n2,berta\n'));
    const rewritten = await loadEngineTable(tableRecord(['id', 'name']), undefined, store, 'id');
    assert.notEqual(rewritten, before);
    assert.deepEqual(columnValues(rewritten, 1), ['anna', 'berta']);

    await store.putObject('bkt', 'people/part-1.csv', body('id,name\n3,carl\n'));
    const added = await loadEngineTable(tableRecord(['id', 'name']), undefined, store, 'id');
    assert.equal(added.rowCount, 3);

    const renamed = await loadEngineTable(tableRecord(['id', 'first_name']), undefined, store, 'id');
    assert.deepEqual(renamed.columns.map((c) => c.name), ['id', 'first_name']);
  });
});

describe('loadEngineTable: the encoded table', () => {
  let root: string;
  let store: LocalObjectStore;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'doppel-engine-table-'));
    store = await LocalObjectStore.open(join(root, 'objects'));
    await store.createBucket('bkt', '123456789012');
    // Listed in key order: region=eu before region=us, part-0 before part-1.
    await store.putObject('bkt', 'people/region=us/part-0.csv', body('id,name,city\n5,ann,\n6,dora,oslo\n'));
    await store.putObject('bkt', 'people/region=eu/part-1.csv', body('id,name,city\n3,bert,rome\n4,ann,oslo\n'));
    await store.putObject('bkt', 'people/region=eu/part-0.csv', body('id,name,city\n1,ann,oslo\n2,,rome\n'));
  });
  after(async () => {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('has the rows in listing order, partition keys last, values numbered by first appearance, missing as -1', async () => {
    const t = await loadEngineTable(tableRecord(['id', 'name', 'city'], 's3://bkt/people/', ['region']), undefined, store, 'id');
    assert.equal(t.rowCount, 6);
    assert.equal(t.primaryKey, 0);
    assert.deepEqual(
      t.columns.map((c) => [c.name, Array.from(c.codes), c.values]),
      [
        ['id', [0, 1, 2, 3, 4, 5], ['1', '2', '3', '4', '5', '6']],
        ['name', [0, -1, 1, 0, 0, 2], ['ann', 'bert', 'dora']],
        ['city', [0, 1, 1, 0, -1, 0], ['oslo', 'rome']],
        ['region', [0, 0, 0, 0, 1, 1], ['eu', 'us']],
      ],
    );
  });

  it('fails on bad data with the message that names file and row', async () => {
    await store.putObject('bkt', 'dups/a.csv', body('id,name\n1,ann\n2,bert\n'));
    await store.putObject('bkt', 'dups/b.csv', body('id,name\n2,carl\n'));
    await assert.rejects(
      loadEngineTable(tableRecord(['id', 'name'], 's3://bkt/dups/'), undefined, store, 'id'),
      /primary key id "2" is used by two rows: s3:\/\/bkt\/dups\/a\.csv row 2 and s3:\/\/bkt\/dups\/b\.csv row 1/,
    );
  });
});
