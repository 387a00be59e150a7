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

function tableRecord(columns: string[], location = 's3://bkt/people/'): TableRecord {
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
    },
  } as TableRecord;
}

describe('loadEngineTable: reuse of an unchanged table', () => {
  let root: string;
  let store: LocalObjectStore;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'doppel-engine-table-'));
    store = await LocalObjectStore.open(join(root, 'objects'));
    await store.createBucket('bkt');
    await store.putObject('bkt', 'people/part-0.csv', body('id,name\n1,anna\n2,bert\n'));
  });
  after(async () => {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('hands out the same table object while definition and files are unchanged', async () => {
    const a = await loadEngineTable(tableRecord(['id', 'name']), store, 'id');
    const b = await loadEngineTable(tableRecord(['id', 'name']), store, 'id');
    assert.equal(a, b);
    assert.deepEqual([columnValues(a, 0), columnValues(a, 1)], [['1', '2'], ['anna', 'bert']]);
  });

  it('reads again when a data file changes, is added, or the definition changes', async () => {
    const before = await loadEngineTable(tableRecord(['id', 'name']), store, 'id');
    await store.putObject('bkt', 'people/part-0.csv', body('id,name\n1,anna\n2,berta\n'));
    const rewritten = await loadEngineTable(tableRecord(['id', 'name']), store, 'id');
    assert.notEqual(rewritten, before);
    assert.deepEqual(columnValues(rewritten, 1), ['anna', 'berta']);

    await store.putObject('bkt', 'people/part-1.csv', body('id,name\n3,carl\n'));
    const added = await loadEngineTable(tableRecord(['id', 'name']), store, 'id');
    assert.equal(added.rowCount, 3);

    const renamed = await loadEngineTable(tableRecord(['id', 'first_name']), store, 'id');
    assert.deepEqual(renamed.columns.map((c) => c.name), ['id', 'first_name']);
  });
});
