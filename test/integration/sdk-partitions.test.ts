/**
 * @aws-sdk/client-glue acceptance: catalog partitions (CreatePartition, BatchCreatePartition,
 * GetPartition, GetPartitions with Expression / paging / Segment, BatchGetPartition,
 * UpdatePartition, BatchUpdatePartition, DeletePartition, BatchDeletePartition), table versions
 * (UpdateTable archiving, GetTableVersions, GetTableVersion, DeleteTableVersion,
 * BatchDeleteTableVersion), BatchDeleteTable and SearchTables.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BatchCreatePartitionCommand,
  BatchDeletePartitionCommand,
  BatchDeleteTableCommand,
  BatchDeleteTableVersionCommand,
  BatchGetPartitionCommand,
  BatchUpdatePartitionCommand,
  CreateDatabaseCommand,
  CreatePartitionCommand,
  CreateTableCommand,
  DeleteDatabaseCommand,
  DeletePartitionCommand,
  DeleteTableCommand,
  DeleteTableVersionCommand,
  GetPartitionCommand,
  GetPartitionsCommand,
  GetTableCommand,
  GetTableVersionCommand,
  GetTableVersionsCommand,
  GlueClient,
  SearchTablesCommand,
  UpdatePartitionCommand,
  UpdateTableCommand,
  paginateGetPartitions,
  paginateGetTableVersions,
  paginateSearchTables,
  type Column,
  type PartitionInput,
  type SearchTablesCommandInput,
  type TableInput,
} from '@aws-sdk/client-glue';
import { startServer, type TestServer } from '../support/server.js';
import {
  collectPages,
  expectGlueError,
  glueClient,
  startGlueServer,
  stopGlueServer,
  uniqueName,
  validationMessage,
} from '../support/glue-client.js';

let server: TestServer;
let glue: GlueClient;

before(async () => {
  ({ server, glue } = await startGlueServer());
});

after(() => stopGlueServer({ server, glue }));

function tableInput(name: string, keys: Column[], patch: Partial<TableInput> = {}): TableInput {
  return {
    Name: name,
    Parameters: { classification: 'csv' },
    PartitionKeys: keys,
    StorageDescriptor: { Columns: [{ Name: 'id', Type: 'string' }], Location: `s3://bucket/${name}/` },
    ...patch,
  };
}

function partitionInput(values: string[], location?: string): PartitionInput {
  return {
    Values: values,
    Parameters: { origin: 'test' },
    StorageDescriptor: {
      Columns: [{ Name: 'id', Type: 'string' }],
      ...(location !== undefined ? { Location: location } : {}),
    },
  };
}

async function newTable(keys: Column[], patch: Partial<TableInput> = {}): Promise<{ db: string; table: string }> {
  const db = uniqueName('db');
  const table = uniqueName('t');
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: db } }));
  await glue.send(new CreateTableCommand({ DatabaseName: db, TableInput: tableInput(table, keys, patch) }));
  return { db, table };
}

const byDay: Column[] = [{ Name: 'day', Type: 'date' }];
const byRegionAndYear: Column[] = [
  { Name: 'region', Type: 'string' },
  { Name: 'year', Type: 'int' },
];

async function values(db: string, table: string, extra: { Expression?: string } = {}): Promise<string[][]> {
  const pages = await collectPages(paginateGetPartitions({ client: glue, pageSize: 2 }, { DatabaseName: db, TableName: table, ...extra }));
  return pages.flatMap((p) => (p.Partitions ?? []).map((x) => x.Values!));
}

describe('CreatePartition / GetPartition', () => {
  it('stores the partition as given, with its table, database, catalog and creation time', async () => {
    const { db, table } = await newTable(byDay);
    const before = Date.now();
    const input = partitionInput(['2024-01-02'], 's3://elsewhere/jan2/');
    await glue.send(new CreatePartitionCommand({ DatabaseName: db, TableName: table, PartitionInput: input }));
    const { Partition } = await glue.send(new GetPartitionCommand({ DatabaseName: db, TableName: table, PartitionValues: ['2024-01-02'] }));
    assert.deepEqual(Partition?.Values, ['2024-01-02']);
    assert.equal(Partition?.DatabaseName, db);
    assert.equal(Partition?.TableName, table);
    assert.equal(Partition?.CatalogId, '123456789012');
    assert.deepEqual(Partition?.StorageDescriptor, input.StorageDescriptor);
    assert.deepEqual(Partition?.Parameters, { origin: 'test' });
    assert.ok(Partition!.CreationTime!.getTime() >= before - 1000 && Partition!.CreationTime!.getTime() <= Date.now() + 1000);
  });

  it('refuses values taken, a wrong number of values, and an unknown table or partition', async () => {
    const { db, table } = await newTable(byRegionAndYear);
    await glue.send(new CreatePartitionCommand({ DatabaseName: db, TableName: table, PartitionInput: partitionInput(['eu', '2024']) }));
    await expectGlueError(
      glue.send(new CreatePartitionCommand({ DatabaseName: db, TableName: table, PartitionInput: partitionInput(['eu', '2024']) })),
      { name: 'AlreadyExistsException', message: 'Partition already exists.' },
    );
    await expectGlueError(
      glue.send(new CreatePartitionCommand({ DatabaseName: db, TableName: table, PartitionInput: partitionInput(['eu']) })),
      { name: 'InvalidInputException', message: `PartitionInput.Values has 1 value(s) but table ${table} has 2 partition key(s): a partition has one value per partition key.` },
    );
    await expectGlueError(
      glue.send(new CreatePartitionCommand({ DatabaseName: db, TableName: 'nope', PartitionInput: partitionInput(['eu', '2024']) })),
      { name: 'EntityNotFoundException', message: 'Table nope not found.' },
    );
    await expectGlueError(
      glue.send(new GetPartitionCommand({ DatabaseName: db, TableName: table, PartitionValues: ['us', '2024'] })),
      { name: 'EntityNotFoundException', message: 'Cannot find partition with values [us, 2024].' },
    );
    await expectGlueError(glue.send(new GetPartitionCommand({ DatabaseName: db, TableName: table, PartitionValues: [] as string[] })), {
      name: 'EntityNotFoundException',
    });
  });

  it('checks requests against the model (a missing PartitionInput is a ValidationException)', async () => {
    const { db, table } = await newTable(byDay);
    await expectGlueError(
      glue.send(new CreatePartitionCommand({ DatabaseName: db, TableName: table } as never)),
      { name: 'ValidationException', message: validationMessage('partitionInput', 'Member must not be null') },
    );
  });
});

describe('BatchCreatePartition / BatchGetPartition / BatchDeletePartition', () => {
  it('creates the valid entries and reports each other one in Errors', async () => {
    const { db, table } = await newTable(byRegionAndYear);
    await glue.send(new CreatePartitionCommand({ DatabaseName: db, TableName: table, PartitionInput: partitionInput(['eu', '2023']) }));
    const out = await glue.send(
      new BatchCreatePartitionCommand({
        DatabaseName: db,
        TableName: table,
        PartitionInputList: [
          partitionInput(['eu', '2024']),
          partitionInput(['eu', '2023']),
          partitionInput(['us']),
          partitionInput(['us', '2024']),
          partitionInput(['us', '2024']),
        ],
      }),
    );
    const errors = (out.Errors ?? []).map((e) => [e.PartitionValues, e.ErrorDetail?.ErrorCode]);
    assert.deepEqual(errors.sort(), [
      [['eu', '2023'], 'AlreadyExistsException'],
      [['us'], 'InvalidInputException'],
      [['us', '2024'], 'AlreadyExistsException'],
    ].sort());
    assert.deepEqual(await values(db, table), [['eu', '2023'], ['eu', '2024'], ['us', '2024']]);

    const got = await glue.send(
      new BatchGetPartitionCommand({ DatabaseName: db, TableName: table, PartitionsToGet: [{ Values: ['us', '2024'] }, { Values: ['xx', '1'] }, { Values: ['eu', '2023'] }] }),
    );
    assert.deepEqual(got.Partitions?.map((p) => p.Values), [['us', '2024'], ['eu', '2023']]);
    assert.deepEqual(got.UnprocessedKeys, []);

    const deleted = await glue.send(
      new BatchDeletePartitionCommand({ DatabaseName: db, TableName: table, PartitionsToDelete: [{ Values: ['eu', '2023'] }, { Values: ['xx', '1'] }] }),
    );
    assert.deepEqual(deleted.Errors?.map((e) => [e.PartitionValues, e.ErrorDetail?.ErrorCode]), [[['xx', '1'], 'EntityNotFoundException']]);
    assert.deepEqual(await values(db, table), [['eu', '2024'], ['us', '2024']]);
    const none = await glue.send(new BatchDeletePartitionCommand({ DatabaseName: db, TableName: table, PartitionsToDelete: [{ Values: ['us', '2024'] }] }));
    assert.equal(none.Errors, undefined);
  });
});

describe('UpdatePartition / BatchUpdatePartition / DeletePartition', () => {
  it('replaces the definition in place or moves the partition to new values, keeping its creation time', async () => {
    const { db, table } = await newTable(byDay);
    await glue.send(new CreatePartitionCommand({ DatabaseName: db, TableName: table, PartitionInput: partitionInput(['2024-01-01']) }));
    await glue.send(new CreatePartitionCommand({ DatabaseName: db, TableName: table, PartitionInput: partitionInput(['2024-01-02']) }));
    const created = (await glue.send(new GetPartitionCommand({ DatabaseName: db, TableName: table, PartitionValues: ['2024-01-01'] }))).Partition!;

    await glue.send(
      new UpdatePartitionCommand({ DatabaseName: db, TableName: table, PartitionValueList: ['2024-01-01'], PartitionInput: { Parameters: { state: 'checked' } } }),
    );
    const inPlace = (await glue.send(new GetPartitionCommand({ DatabaseName: db, TableName: table, PartitionValues: ['2024-01-01'] }))).Partition!;
    assert.deepEqual(inPlace.Parameters, { state: 'checked' });
    assert.equal(inPlace.StorageDescriptor, undefined, 'PartitionInput replaces the definition');
    assert.equal(inPlace.CreationTime?.getTime(), created.CreationTime?.getTime());

    await glue.send(
      new UpdatePartitionCommand({ DatabaseName: db, TableName: table, PartitionValueList: ['2024-01-01'], PartitionInput: partitionInput(['2024-02-01']) }),
    );
    assert.deepEqual(await values(db, table), [['2024-01-02'], ['2024-02-01']]);

    await expectGlueError(
      glue.send(new UpdatePartitionCommand({ DatabaseName: db, TableName: table, PartitionValueList: ['2024-01-02'], PartitionInput: partitionInput(['2024-02-01']) })),
      { name: 'AlreadyExistsException' },
    );
    await expectGlueError(
      glue.send(new UpdatePartitionCommand({ DatabaseName: db, TableName: table, PartitionValueList: ['1999-01-01'], PartitionInput: partitionInput(['1999-01-02']) })),
      { name: 'EntityNotFoundException', message: 'Cannot find partition with values [1999-01-01].' },
    );

    const batch = await glue.send(
      new BatchUpdatePartitionCommand({
        DatabaseName: db,
        TableName: table,
        Entries: [
          { PartitionValueList: ['2024-01-02'], PartitionInput: partitionInput(['2024-03-02']) },
          { PartitionValueList: ['1999-01-01'], PartitionInput: partitionInput(['1999-01-02']) },
        ],
      }),
    );
    assert.deepEqual(batch.Errors?.map((e) => [e.PartitionValueList, e.ErrorDetail?.ErrorCode]), [[['1999-01-01'], 'EntityNotFoundException']]);
    assert.deepEqual(await values(db, table), [['2024-02-01'], ['2024-03-02']]);

    await glue.send(new DeletePartitionCommand({ DatabaseName: db, TableName: table, PartitionValues: ['2024-02-01'] }));
    await expectGlueError(glue.send(new DeletePartitionCommand({ DatabaseName: db, TableName: table, PartitionValues: ['2024-02-01'] })), {
      name: 'EntityNotFoundException',
    });
    assert.deepEqual(await values(db, table), [['2024-03-02']]);
  });
});

describe('GetPartitions', () => {
  async function regionYearTable(): Promise<{ db: string; table: string }> {
    const t = await newTable(byRegionAndYear);
    const list = [
      ['eu', '2022'],
      ['eu', '2023'],
      ['eu', '2024'],
      ['us', '2023'],
      ['us', '2024'],
      ['asia-pacific', '2024'],
    ];
    await glue.send(new BatchCreatePartitionCommand({ DatabaseName: t.db, TableName: t.table, PartitionInputList: list.map((v) => partitionInput(v)) }));
    return t;
  }

  it('filters by Expression over the partition keys, comparing each as its type', async () => {
    const { db, table } = await regionYearTable();
    const cases: Array<[string, string[][]]> = [
      ["region = 'eu' AND year >= 2023", [['eu', '2023'], ['eu', '2024']]],
      ["region <> 'eu' and not year = 2024", [['us', '2023']]],
      ["region != 'eu' AND year < '2024'", [['us', '2023']]],
      ['year BETWEEN 2022 AND 2023 OR (region IN (\'asia-pacific\') AND year > 2000)', [['asia-pacific', '2024'], ['eu', '2022'], ['eu', '2023'], ['us', '2023']]],
      ["region LIKE 'a%' OR region NOT LIKE '_%'", [['asia-pacific', '2024']]],
      ['year not in (2023, 2024)', [['eu', '2022']]],
      ['region IS NULL', []],
      ['region IS NOT NULL AND year > 2023 AND year <= 2024 AND region > \'eu\'', [['us', '2024']]],
      ['   ', [['asia-pacific', '2024'], ['eu', '2022'], ['eu', '2023'], ['eu', '2024'], ['us', '2023'], ['us', '2024']]],
    ];
    for (const [expression, expected] of cases) {
      assert.deepEqual(await values(db, table, { Expression: expression }), expected, expression);
    }
  });

  it('compares dates as dates, and integers as numbers rather than text', async () => {
    const { db, table } = await newTable([{ Name: 'day', Type: 'date' }, { Name: 'n', Type: 'bigint' }]);
    const list = [['2024-01-09', '9'], ['2024-01-10', '10'], ['2024-02-01', '100']];
    await glue.send(new BatchCreatePartitionCommand({ DatabaseName: db, TableName: table, PartitionInputList: list.map((v) => partitionInput(v)) }));
    assert.deepEqual(await values(db, table, { Expression: 'n > 9' }), [['2024-01-10', '10'], ['2024-02-01', '100']]);
    assert.deepEqual(await values(db, table, { Expression: "day >= '2024-01-10' AND day < '2024-02-01'" }), [['2024-01-10', '10']]);
  });

  it('refuses a bad expression with InvalidInputException naming the problem', async () => {
    const { db, table } = await regionYearTable();
    const bad: Array<[string, string | RegExp]> = [
      ['year = 2024 AND', /^Unsupported expression 'year = 2024 AND': expected a partition key or a literal but found the end of the expression/],
      ["year = 'soon'", "'soon' is not an integer: partition key year is int."],
      ["year LIKE '20%'", /Integral data type doesn't support operation 'LIKE'/],
      ['month = 1 AND day > 2', /^Invalid partition expression! month, day are not partition keys: the partition keys of table \S+ are region, year\.$/],
      ["region = 'eu", /the string starting at position 9 is not closed/],
      ['region IS eu', /expected NULL after IS/],
      ['year BETWEEN 1 2', /expected AND in BETWEEN/],
    ];
    for (const [expression, message] of bad) {
      await expectGlueError(glue.send(new GetPartitionsCommand({ DatabaseName: db, TableName: table, Expression: expression })), {
        name: 'InvalidInputException',
        message,
      });
    }
  });

  it('pages with MaxResults and NextToken, and splits the partitions into disjoint Segments', async () => {
    const { db, table } = await regionYearTable();
    const first = await glue.send(new GetPartitionsCommand({ DatabaseName: db, TableName: table, MaxResults: 4 }));
    assert.equal(first.Partitions?.length, 4);
    assert.ok(first.NextToken);
    const second = await glue.send(new GetPartitionsCommand({ DatabaseName: db, TableName: table, MaxResults: 4, NextToken: first.NextToken }));
    assert.equal(second.Partitions?.length, 2);
    assert.equal(second.NextToken, undefined);
    await expectGlueError(
      glue.send(new GetPartitionsCommand({ DatabaseName: db, TableName: table, MaxResults: 4, NextToken: first.NextToken, Expression: "region = 'eu'" })),
      { name: 'InvalidInputException', message: 'The NextToken does not belong to this request: its filter or sort differs.' },
    );

    const all = await values(db, table);
    const segments: string[][][] = [];
    for (let n = 0; n < 3; n++) {
      const pages = await collectPages(paginateGetPartitions({ client: glue, pageSize: 1 }, { DatabaseName: db, TableName: table, Segment: { SegmentNumber: n, TotalSegments: 3 } }));
      segments.push(pages.flatMap((p) => (p.Partitions ?? []).map((x) => x.Values!)));
    }
    const union = segments.flat().map((v) => v.join('/')).sort();
    assert.deepEqual(union, all.map((v) => v.join('/')).sort(), 'every partition in exactly one segment');
    await expectGlueError(
      glue.send(new GetPartitionsCommand({ DatabaseName: db, TableName: table, Segment: { SegmentNumber: 3, TotalSegments: 3 } })),
      { name: 'InvalidInputException', message: 'Segment.SegmentNumber 3 must be less than Segment.TotalSegments 3.' },
    );
  });

  it('leaves out the columns with ExcludeColumnSchema', async () => {
    const { db, table } = await regionYearTable();
    const out = await glue.send(new GetPartitionsCommand({ DatabaseName: db, TableName: table, ExcludeColumnSchema: true, MaxResults: 1 }));
    assert.equal(out.Partitions?.[0]?.StorageDescriptor?.Columns, undefined);
  });
});

describe('table versions', () => {
  it('UpdateTable keeps the replaced definition as a version unless SkipArchive', async () => {
    const { db, table } = await newTable(byDay, { Description: 'first' });
    await glue.send(new UpdateTableCommand({ DatabaseName: db, TableInput: tableInput(table, byDay, { Description: 'second' }) }));
    await glue.send(new UpdateTableCommand({ DatabaseName: db, TableInput: tableInput(table, byDay, { Description: 'third' }) }));
    await glue.send(new UpdateTableCommand({ DatabaseName: db, TableInput: tableInput(table, byDay, { Description: 'fourth' }), SkipArchive: true }));
    const pages = await collectPages(paginateGetTableVersions({ client: glue, pageSize: 2 }, { DatabaseName: db, TableName: table }));
    const versions = pages.flatMap((p) => p.TableVersions ?? []);
    assert.deepEqual(
      versions.map((v) => [v.VersionId, v.Table?.VersionId, v.Table?.Description]),
      [['0', '0', 'first'], ['1', '1', 'second'], ['3', '3', 'fourth']],
    );

    const one = await glue.send(new GetTableVersionCommand({ DatabaseName: db, TableName: table, VersionId: '1' }));
    assert.equal(one.TableVersion?.Table?.Description, 'second');
    const current = await glue.send(new GetTableVersionCommand({ DatabaseName: db, TableName: table }));
    assert.equal(current.TableVersion?.VersionId, '3');
    await expectGlueError(glue.send(new GetTableVersionCommand({ DatabaseName: db, TableName: table, VersionId: '2' })), {
      name: 'EntityNotFoundException',
      message: 'Version not found.',
    });
    await expectGlueError(glue.send(new GetTableVersionCommand({ DatabaseName: db, TableName: table, VersionId: '1x' })), {
      name: 'InvalidInputException',
      message: "VersionId 1x is not a version number (a table's versions are 0, 1, 2, …).",
    });

    await glue.send(new DeleteTableVersionCommand({ DatabaseName: db, TableName: table, VersionId: '0' }));
    await expectGlueError(glue.send(new DeleteTableVersionCommand({ DatabaseName: db, TableName: table, VersionId: '0' })), {
      name: 'EntityNotFoundException',
    });
    await expectGlueError(glue.send(new DeleteTableVersionCommand({ DatabaseName: db, TableName: table, VersionId: '3' })), {
      name: 'InvalidInputException',
      message: `Version 3 is the current version of table ${table}: it cannot be deleted.`,
    });
    const batch = await glue.send(new BatchDeleteTableVersionCommand({ DatabaseName: db, TableName: table, VersionIds: ['1', '7', '3'] }));
    assert.deepEqual(batch.Errors?.map((e) => [e.VersionId, e.ErrorDetail?.ErrorCode]).sort(), [['3', 'InvalidInputException'], ['7', 'EntityNotFoundException']]);
    const left = await glue.send(new GetTableVersionsCommand({ DatabaseName: db, TableName: table }));
    assert.deepEqual(left.TableVersions?.map((v) => v.VersionId), ['3']);
  });

  it('an UpdateTable naming an older VersionId is a ConcurrentModificationException', async () => {
    const { db, table } = await newTable(byDay);
    await glue.send(new UpdateTableCommand({ DatabaseName: db, TableInput: tableInput(table, byDay), VersionId: '0' }));
    await expectGlueError(glue.send(new UpdateTableCommand({ DatabaseName: db, TableInput: tableInput(table, byDay), VersionId: '0' })), {
      name: 'ConcurrentModificationException',
    });
  });
});

describe('deleting tables and databases', () => {
  it('DeleteTable removes its partitions and versions: a new table of that name starts empty', async () => {
    const { db, table } = await newTable(byDay);
    await glue.send(new CreatePartitionCommand({ DatabaseName: db, TableName: table, PartitionInput: partitionInput(['2024-01-01']) }));
    await glue.send(new UpdateTableCommand({ DatabaseName: db, TableInput: tableInput(table, byDay) }));
    await glue.send(new DeleteTableCommand({ DatabaseName: db, Name: table }));
    await glue.send(new CreateTableCommand({ DatabaseName: db, TableInput: tableInput(table, byDay) }));
    assert.deepEqual(await values(db, table), []);
    const versions = await glue.send(new GetTableVersionsCommand({ DatabaseName: db, TableName: table }));
    assert.deepEqual(versions.TableVersions?.map((v) => v.VersionId), ['0']);
  });

  it('BatchDeleteTable deletes the tables listed and reports the unknown ones', async () => {
    const { db, table } = await newTable(byDay);
    await glue.send(new CreateTableCommand({ DatabaseName: db, TableInput: tableInput('second', byDay) }));
    await glue.send(new CreatePartitionCommand({ DatabaseName: db, TableName: table, PartitionInput: partitionInput(['2024-01-01']) }));
    const out = await glue.send(new BatchDeleteTableCommand({ DatabaseName: db, TablesToDelete: [table, 'SECOND', 'ghost'] }));
    assert.deepEqual(out.Errors?.map((e) => [e.TableName, e.ErrorDetail?.ErrorCode, e.ErrorDetail?.ErrorMessage]), [
      ['ghost', 'EntityNotFoundException', 'Table ghost not found.'],
    ]);
    await expectGlueError(glue.send(new GetTableCommand({ DatabaseName: db, Name: 'second' })), { name: 'EntityNotFoundException' });
    await glue.send(new CreateTableCommand({ DatabaseName: db, TableInput: tableInput(table, byDay) }));
    assert.deepEqual(await values(db, table), []);
    await expectGlueError(glue.send(new BatchDeleteTableCommand({ DatabaseName: 'nodb', TablesToDelete: ['x'] })), {
      name: 'EntityNotFoundException',
      message: 'Database nodb not found.',
    });
  });

  it('DeleteDatabase removes its tables with their partitions and versions', async () => {
    const { db, table } = await newTable(byDay);
    await glue.send(new CreatePartitionCommand({ DatabaseName: db, TableName: table, PartitionInput: partitionInput(['2024-01-01']) }));
    await glue.send(new DeleteDatabaseCommand({ Name: db }));
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: db } }));
    await glue.send(new CreateTableCommand({ DatabaseName: db, TableInput: tableInput(table, byDay) }));
    assert.deepEqual(await values(db, table), []);
  });
});

describe('SearchTables', () => {
  it('finds tables by text in names, descriptions and parameters, filters, sorts and pages', async () => {
    const marker = uniqueName('mk').replace(/[^a-z0-9]/g, '');
    const db = uniqueName('searchdb');
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: db } }));
    const make = (name: string, patch: Partial<TableInput>) =>
      glue.send(new CreateTableCommand({ DatabaseName: db, TableInput: tableInput(name, [], patch) }));
    await make(`customer-${marker}`, { Description: 'people to match' });
    await make(`orders_${marker}`, { Description: `orders, see ${marker}` });
    await make('unrelated', { Parameters: { source: marker } });
    await make(`x${marker}y`, { Owner: 'etl' });

    const names = async (input: SearchTablesCommandInput) => {
      const pages = await collectPages(paginateSearchTables({ client: glue, pageSize: 1 }, input));
      return pages.flatMap((p) => (p.TableList ?? []).map((t) => t.Name!));
    };
    assert.deepEqual(await names({ SearchText: marker.toUpperCase() }), [`customer-${marker}`, `orders_${marker}`, 'unrelated', `x${marker}y`]);
    assert.deepEqual(await names({ SearchText: `"${marker}"` }), ['unrelated']);
    assert.deepEqual(await names({ SearchText: marker, Filters: [{ Key: 'Name', Value: marker }] }), [`customer-${marker}`, `orders_${marker}`]);
    assert.deepEqual(await names({ Filters: [{ Key: 'source', Value: marker }] }), ['unrelated']);
    assert.deepEqual(await names({ SearchText: marker, SortCriteria: [{ FieldName: 'Name', Sort: 'DESC' }] }), [`x${marker}y`, 'unrelated', `orders_${marker}`, `customer-${marker}`]);
    const future = String(Math.floor(Date.now() / 1000) + 3600);
    assert.deepEqual(await names({ SearchText: marker, Filters: [{ Key: 'CreateTime', Value: future, Comparator: 'GREATER_THAN' }] }), []);
    assert.equal((await names({ SearchText: marker, Filters: [{ Key: 'CreateTime', Value: future, Comparator: 'LESS_THAN' }] })).length, 4);
  });

  it('searches only the caller’s region', async () => {
    const marker = uniqueName('reg').replace(/[^a-z0-9]/g, '');
    const { db } = await newTable(byDay);
    await glue.send(new CreateTableCommand({ DatabaseName: db, TableInput: tableInput(`in-${marker}`, byDay) }));
    const other = glueClient(server, { region: 'eu-west-1' });
    try {
      const out = await other.send(new SearchTablesCommand({ SearchText: marker }));
      assert.deepEqual(out.TableList, []);
    } finally {
      other.destroy();
    }
  });
});

describe('durability', () => {
  it('partitions and table versions survive a crash of the server', async () => {
    const first = await startServer();
    let client = glueClient(first);
    try {
      await client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'kept' } }));
      await client.send(new CreateTableCommand({ DatabaseName: 'kept', TableInput: tableInput('t', byDay, { Description: 'old' }) }));
      await client.send(new UpdateTableCommand({ DatabaseName: 'kept', TableInput: tableInput('t', byDay, { Description: 'new' }) }));
      await client.send(
        new BatchCreatePartitionCommand({ DatabaseName: 'kept', TableName: 't', PartitionInputList: [partitionInput(['2024-01-01'], 's3://x/1/'), partitionInput(['2024-01-02'])] }),
      );
      client.destroy();
      await first.kill();
      const second = await startServer({ dataDir: first.dataDir });
      client = glueClient(second);
      try {
        const { Partitions } = await client.send(new GetPartitionsCommand({ DatabaseName: 'kept', TableName: 't' }));
        assert.deepEqual(Partitions?.map((p) => [p.Values, p.StorageDescriptor?.Location]), [[['2024-01-01'], 's3://x/1/'], [['2024-01-02'], undefined]]);
        const { TableVersions } = await client.send(new GetTableVersionsCommand({ DatabaseName: 'kept', TableName: 't' }));
        assert.deepEqual(TableVersions?.map((v) => [v.VersionId, v.Table?.Description]), [['0', 'old'], ['1', 'new']]);
      } finally {
        client.destroy();
        await second.stop();
      }
    } finally {
      await first.cleanup();
    }
  });
});
