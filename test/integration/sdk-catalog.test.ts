/**
 * @aws-sdk/client-glue acceptance: the Data Catalog subset (spec §4) — CreateDatabase, GetDatabase,
 * GetDatabases, UpdateDatabase, DeleteDatabase, CreateTable, GetTable, GetTables, UpdateTable, DeleteTable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateDatabaseCommand,
  CreateTableCommand,
  DeleteDatabaseCommand,
  DeleteTableCommand,
  GetDatabaseCommand,
  GetDatabasesCommand,
  GetTableCommand,
  GetTablesCommand,
  GetTagsCommand,
  GlueClient,
  UpdateDatabaseCommand,
  UpdateTableCommand,
  paginateGetDatabases,
  paginateGetTables,
  type TableInput,
} from '@aws-sdk/client-glue';
import { DEFAULT_ACCOUNT_ID, TEST_REGION, type TestServer } from '../support/server.js';
import {
  assertDate,
  assertRecent,
  collectPages,
  expectGlueError,
  glueClient,
  payloadKeys,
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

function tableInput(name: string, patch: Partial<TableInput> = {}): TableInput {
  return {
    Name: name,
    Description: 'customer records',
    Owner: 'etl',
    Retention: 0,
    TableType: 'EXTERNAL_TABLE',
    Parameters: { classification: 'csv', 'skip.header.line.count': '1' },
    PartitionKeys: [{ Name: 'dt', Type: 'string' }],
    StorageDescriptor: {
      Columns: [
        { Name: 'id', Type: 'string', Comment: 'primary key' },
        { Name: 'name', Type: 'string' },
      ],
      Location: 's3://bucket/customers/',
      InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
      Compressed: false,
      NumberOfBuckets: -1,
      StoredAsSubDirectories: false,
      SerdeInfo: {
        SerializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe',
        Parameters: { 'field.delim': ',' },
      },
    },
    ...patch,
  };
}

async function newDatabase(client: GlueClient = glue): Promise<string> {
  const name = uniqueName('db');
  await client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: name } }));
  return name;
}

describe('databases', () => {
  it('CreateDatabase returns {} and GetDatabase echoes the input plus server members', async () => {
    const name = uniqueName('sales');
    const t0 = Date.now();
    const out = await glue.send(
      new CreateDatabaseCommand({
        DatabaseInput: {
          Name: name,
          Description: 'sales data',
          LocationUri: 's3://bucket/sales/',
          Parameters: { team: 'finance' },
        },
      }),
    );
    assert.deepEqual(payloadKeys(out), []);
    assert.equal(out.$metadata.httpStatusCode, 200);
    const { Database } = await glue.send(new GetDatabaseCommand({ Name: name }));
    assert.equal(Database?.Name, name);
    assert.equal(Database?.Description, 'sales data');
    assert.equal(Database?.LocationUri, 's3://bucket/sales/');
    assert.deepEqual(Database?.Parameters, { team: 'finance' });
    assert.equal(Database?.CatalogId, DEFAULT_ACCOUNT_ID);
    assertRecent(assertDate(Database?.CreateTime, 'CreateTime'), t0, Date.now(), 'CreateTime');
  });

  it('folds database names to lower case and looks them up case-insensitively', async () => {
    const mixed = `Mixed_${uniqueName('Case')}`;
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: mixed } }));
    const lower = await glue.send(new GetDatabaseCommand({ Name: mixed.toLowerCase() }));
    assert.equal(lower.Database?.Name, mixed.toLowerCase());
    const upper = await glue.send(new GetDatabaseCommand({ Name: mixed.toUpperCase() }));
    assert.equal(upper.Database?.Name, mixed.toLowerCase());
    await expectGlueError(glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: mixed.toUpperCase() } })), {
      name: 'AlreadyExistsException',
      message: 'Database already exists.',
    });
  });

  it('accepts an explicit CatalogId equal to the account', async () => {
    const name = uniqueName('explicit');
    await glue.send(new CreateDatabaseCommand({ CatalogId: DEFAULT_ACCOUNT_ID, DatabaseInput: { Name: name } }));
    const got = await glue.send(new GetDatabaseCommand({ CatalogId: DEFAULT_ACCOUNT_ID, Name: name }));
    assert.equal(got.Database?.Name, name);
  });

  it('rejects a duplicate with AlreadyExistsException', async () => {
    const name = await newDatabase();
    await expectGlueError(glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: name } })), {
      name: 'AlreadyExistsException',
      message: 'Database already exists.',
    });
  });

  it('answers EntityNotFoundException for an unknown database on Get and Delete', async () => {
    const name = uniqueName('nodb');
    await expectGlueError(glue.send(new GetDatabaseCommand({ Name: name })), {
      name: 'EntityNotFoundException',
      message: `Database ${name} not found.`,
    });
    await expectGlueError(glue.send(new DeleteDatabaseCommand({ Name: name })), {
      name: 'EntityNotFoundException',
      message: `Database ${name} not found.`,
    });
  });

  it('answers ValidationException for model-constraint violations', async () => {
    await expectGlueError(glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: '' } })), {
      name: 'ValidationException',
      message: validationMessage('databaseInput.name', 'Member must have length greater than or equal to 1'),
    });
    await expectGlueError(glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'x'.repeat(256) } })), {
      name: 'ValidationException',
      message: validationMessage('databaseInput.name', 'Member must have length less than or equal to 255'),
    });
    await expectGlueError(glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'two\nlines' } })), {
      name: 'ValidationException',
      message: validationMessage('databaseInput.name', 'Member must satisfy regular expression pattern'),
    });
    await expectGlueError(
      glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: uniqueName('d'), Description: 'd'.repeat(2049) } })),
      { name: 'ValidationException', message: validationMessage('databaseInput.description', 'Member must have length less than or equal to 2048') },
    );
    await expectGlueError(glue.send(new CreateDatabaseCommand({} as never)), {
      name: 'ValidationException',
      message: validationMessage('databaseInput', 'Member must not be null'),
    });
    await expectGlueError(glue.send(new GetDatabaseCommand({} as never)), {
      name: 'ValidationException',
      message: validationMessage('name', 'Member must not be null'),
    });
    await expectGlueError(glue.send(new DeleteDatabaseCommand({ Name: '' })), {
      name: 'ValidationException',
      message: validationMessage('name', 'Member must have length greater than or equal to 1'),
    });
    for (const MaxResults of [0, 101]) {
      await expectGlueError(glue.send(new GetDatabasesCommand({ MaxResults })), {
        name: 'ValidationException',
        message: validationMessage(
          'maxResults',
          MaxResults === 0 ? 'Member must have value greater than or equal to 1' : 'Member must have value less than or equal to 100',
        ),
      });
    }
  });

  it('GetDatabases lists every database, paginated with paginateGetDatabases', async () => {
    const regional = glueClient(server, { region: 'eu-central-1' });
    try {
      const empty = await regional.send(new GetDatabasesCommand({}));
      assert.deepEqual(empty.DatabaseList, []);
      assert.equal(empty.NextToken, undefined);

      const names: string[] = [];
      for (let i = 0; i < 5; i++) names.push(await newDatabase(regional));
      const all = await regional.send(new GetDatabasesCommand({}));
      assert.deepEqual(all.DatabaseList?.map((d) => d.Name).sort(), [...names].sort());
      assert.equal(all.NextToken, undefined);
      for (const d of all.DatabaseList ?? []) {
        assertDate(d.CreateTime, 'DatabaseList[].CreateTime');
        assert.equal(d.CatalogId, DEFAULT_ACCOUNT_ID);
      }

      const first = await regional.send(new GetDatabasesCommand({ MaxResults: 2 }));
      assert.equal(first.DatabaseList?.length, 2);
      assert.ok(first.NextToken, 'NextToken on a non-final page');

      const pages = await collectPages(paginateGetDatabases({ client: regional, pageSize: 2 }, {}));
      assert.deepEqual(pages.map((p) => p.DatabaseList?.length), [2, 2, 1]);
      assert.equal(pages.at(-1)?.NextToken, undefined);
      const paged = pages.flatMap((p) => p.DatabaseList ?? []).map((d) => d.Name);
      assert.deepEqual([...paged].sort(), [...names].sort(), 'every database exactly once');
    } finally {
      regional.destroy();
    }
  });

  it('UpdateDatabase returns {} and replaces the definition, keeping the name, CreateTime, tables and tags', async () => {
    const name = uniqueName('upd');
    await glue.send(
      new CreateDatabaseCommand({
        DatabaseInput: { Name: name, Description: 'before', Parameters: { stage: 'raw' } },
        Tags: { team: 'data' },
      }),
    );
    await glue.send(new CreateTableCommand({ DatabaseName: name, TableInput: tableInput('kept') }));
    const { Database: before } = await glue.send(new GetDatabaseCommand({ Name: name }));
    const out = await glue.send(
      new UpdateDatabaseCommand({ Name: name.toUpperCase(), DatabaseInput: { Name: name, Description: 'after', LocationUri: 's3://bucket/after/' } }),
    );
    assert.deepEqual(payloadKeys(out), []);
    const { Database } = await glue.send(new GetDatabaseCommand({ Name: name }));
    assert.equal(Database?.Description, 'after');
    assert.equal(Database?.LocationUri, 's3://bucket/after/');
    assert.equal(Database?.Parameters, undefined, 'members DatabaseInput leaves out are removed');
    assert.equal(Database?.CreateTime?.getTime(), before?.CreateTime?.getTime());
    assert.equal((await glue.send(new GetTableCommand({ DatabaseName: name, Name: 'kept' }))).Table?.Name, 'kept');
    const arn = `arn:aws:glue:${TEST_REGION}:${DEFAULT_ACCOUNT_ID}:database/${name}`;
    assert.deepEqual((await glue.send(new GetTagsCommand({ ResourceArn: arn }))).Tags, { team: 'data' });
  });

  it('UpdateDatabase of an unknown database is EntityNotFoundException; a new Name in DatabaseInput is refused', async () => {
    const missing = uniqueName('nodb');
    await expectGlueError(glue.send(new UpdateDatabaseCommand({ Name: missing, DatabaseInput: { Name: missing } })), {
      name: 'EntityNotFoundException',
      message: `Database ${missing} not found.`,
    });
    const db = await newDatabase();
    const other = uniqueName('renamed');
    await expectGlueError(glue.send(new UpdateDatabaseCommand({ Name: db, DatabaseInput: { Name: other, Description: 'x' } })), {
      name: 'InvalidInputException',
      message: `DatabaseInput.Name ${other} differs from Name ${db}: a database cannot be renamed.`,
    });
    assert.equal((await glue.send(new GetDatabaseCommand({ Name: db }))).Database?.Description, undefined);
    await expectGlueError(glue.send(new GetDatabaseCommand({ Name: other })), { name: 'EntityNotFoundException' });
    await expectGlueError(glue.send(new UpdateDatabaseCommand({ Name: db, DatabaseInput: { Name: 'x'.repeat(256) } })), {
      name: 'ValidationException',
      message: /at 'databaseInput\.name' failed to satisfy constraint: Member must have length less than or equal to 255/,
    });
  });

  it('DeleteDatabase returns {}, removes the database and its tables', async () => {
    const db = await newDatabase();
    await glue.send(new CreateTableCommand({ DatabaseName: db, TableInput: tableInput('orphan') }));
    const out = await glue.send(new DeleteDatabaseCommand({ Name: db }));
    assert.deepEqual(payloadKeys(out), []);
    await expectGlueError(glue.send(new GetDatabaseCommand({ Name: db })), {
      name: 'EntityNotFoundException',
      message: `Database ${db} not found.`,
    });
    await expectGlueError(glue.send(new GetTableCommand({ DatabaseName: db, Name: 'orphan' })), {
      name: 'EntityNotFoundException',
    });
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: db } }));
    const tables = await glue.send(new GetTablesCommand({ DatabaseName: db }));
    assert.deepEqual(tables.TableList, [], 'tables of a deleted database do not come back');
  });
});

describe('tables', () => {
  let db: string;
  before(async () => {
    db = await newDatabase();
  });

  it('CreateTable returns {} and GetTable echoes TableInput plus server members', async () => {
    const t0 = Date.now();
    const input = tableInput('customers');
    const out = await glue.send(new CreateTableCommand({ DatabaseName: db, TableInput: input }));
    assert.deepEqual(payloadKeys(out), []);
    const { Table } = await glue.send(new GetTableCommand({ DatabaseName: db, Name: 'customers' }));
    assert.ok(Table);
    assert.equal(Table.Name, 'customers');
    assert.equal(Table.DatabaseName, db);
    assert.equal(Table.CatalogId, DEFAULT_ACCOUNT_ID);
    assert.equal(Table.Description, input.Description);
    assert.equal(Table.Owner, 'etl');
    assert.equal(Table.Retention, 0);
    assert.equal(Table.TableType, 'EXTERNAL_TABLE');
    assert.deepEqual(Table.Parameters, input.Parameters);
    assert.deepEqual(Table.PartitionKeys, input.PartitionKeys);
    assert.deepEqual(Table.StorageDescriptor, input.StorageDescriptor);
    assert.equal(Table.VersionId, '0');
    assert.equal(Table.IsRegisteredWithLakeFormation, false);
    const created = assertDate(Table.CreateTime, 'CreateTime');
    assertDate(Table.UpdateTime, 'UpdateTime');
    assertRecent(created, t0, Date.now(), 'CreateTime');
  });

  it('refuses OpenTableFormatInput (Iceberg) naming it, rather than store a table it cannot read (found by moto\'s tests)', async () => {
    await expectGlueError(
      glue.send(
        new CreateTableCommand({
          DatabaseName: db,
          TableInput: tableInput('iceberg_table'),
          OpenTableFormatInput: { IcebergInput: { MetadataOperation: 'CREATE', Version: '2' } },
        }),
      ),
      { name: 'InvalidInputException', message: /^OpenTableFormatInput is not supported: .*not Iceberg tables\.$/ },
    );
    await expectGlueError(glue.send(new GetTableCommand({ DatabaseName: db, Name: 'iceberg_table' })), {
      name: 'EntityNotFoundException',
    });
  });

  it('folds table names to lower case and looks them up case-insensitively', async () => {
    await glue.send(new CreateTableCommand({ DatabaseName: db.toUpperCase(), TableInput: tableInput('MixedTable') }));
    const { Table } = await glue.send(new GetTableCommand({ DatabaseName: db, Name: 'MIXEDTABLE' }));
    assert.equal(Table?.Name, 'mixedtable');
    assert.equal(Table?.DatabaseName, db);
    await expectGlueError(glue.send(new CreateTableCommand({ DatabaseName: db, TableInput: tableInput('mixedtable') })), {
      name: 'AlreadyExistsException',
      message: 'Table already exists.',
    });
  });

  it('answers EntityNotFoundException for an unknown database or table', async () => {
    const nodb = uniqueName('nodb');
    await expectGlueError(glue.send(new CreateTableCommand({ DatabaseName: nodb, TableInput: tableInput('t') })), {
      name: 'EntityNotFoundException',
      message: `Database ${nodb} not found.`,
    });
    await expectGlueError(glue.send(new GetTableCommand({ DatabaseName: nodb, Name: 't' })), {
      name: 'EntityNotFoundException',
      message: `Database ${nodb} not found.`,
    });
    await expectGlueError(glue.send(new GetTablesCommand({ DatabaseName: nodb })), {
      name: 'EntityNotFoundException',
      message: `Database ${nodb} not found.`,
    });
    await expectGlueError(glue.send(new GetTableCommand({ DatabaseName: db, Name: 'no_such_table' })), {
      name: 'EntityNotFoundException',
      message: 'Table no_such_table not found.',
    });
    await expectGlueError(glue.send(new UpdateTableCommand({ DatabaseName: db, TableInput: tableInput('no_such_table') })), {
      name: 'EntityNotFoundException',
      message: 'Table no_such_table not found.',
    });
    await expectGlueError(glue.send(new UpdateTableCommand({ DatabaseName: nodb, TableInput: tableInput('t') })), {
      name: 'EntityNotFoundException',
      message: `Database ${nodb} not found.`,
    });
    await expectGlueError(glue.send(new DeleteTableCommand({ DatabaseName: db, Name: 'no_such_table' })), {
      name: 'EntityNotFoundException',
      message: 'Table no_such_table not found.',
    });
    await expectGlueError(glue.send(new DeleteTableCommand({ DatabaseName: nodb, Name: 't' })), {
      name: 'EntityNotFoundException',
      message: `Database ${nodb} not found.`,
    });
  });

  it('answers ValidationException for model-constraint violations', async () => {
    await expectGlueError(glue.send(new CreateTableCommand({ DatabaseName: db, TableInput: { StorageDescriptor: {} } as never })), {
      name: 'ValidationException',
      message: validationMessage('tableInput.name', 'Member must not be null'),
    });
    await expectGlueError(glue.send(new CreateTableCommand({ DatabaseName: db, TableInput: tableInput('x'.repeat(256)) })), {
      name: 'ValidationException',
      message: validationMessage('tableInput.name', 'Member must have length less than or equal to 255'),
    });
    const badComment = tableInput('bad_comment', {
      StorageDescriptor: { Columns: [{ Name: 'id', Type: 'string' }, { Name: 'n', Type: 'string', Comment: 'multi\nline' }] },
    });
    await expectGlueError(glue.send(new CreateTableCommand({ DatabaseName: db, TableInput: badComment })), {
      name: 'ValidationException',
      message: /validation errors? detected: [\s\S]*at 'tableInput\.storageDescriptor\.columns\.\d+\.member\.comment' failed to satisfy constraint: Member must satisfy regular expression pattern/,
    });
    await expectGlueError(glue.send(new CreateTableCommand({ TableInput: tableInput('t') } as never)), {
      name: 'ValidationException',
      message: validationMessage('databaseName', 'Member must not be null'),
    });
    await expectGlueError(glue.send(new GetTableCommand({ DatabaseName: db } as never)), {
      name: 'ValidationException',
      message: validationMessage('name', 'Member must not be null'),
    });
    await expectGlueError(glue.send(new GetTablesCommand({ DatabaseName: db, MaxResults: 101 })), {
      name: 'ValidationException',
      message: validationMessage('maxResults', 'Member must have value less than or equal to 100'),
    });
    await expectGlueError(glue.send(new DeleteTableCommand({ DatabaseName: '', Name: 't' })), {
      name: 'ValidationException',
      message: validationMessage('databaseName', 'Member must have length greater than or equal to 1'),
    });
  });

  it('UpdateTable returns {}, replaces the definition and bumps VersionId and UpdateTime', async () => {
    await glue.send(new CreateTableCommand({ DatabaseName: db, TableInput: tableInput('evolving') }));
    const v0 = (await glue.send(new GetTableCommand({ DatabaseName: db, Name: 'evolving' }))).Table!;
    await sleep(20);
    const changed = tableInput('evolving', {
      Description: 'now with email',
      StorageDescriptor: { Columns: [{ Name: 'id', Type: 'string' }, { Name: 'email', Type: 'string' }], Location: 's3://bucket/v2/' },
    });
    const out = await glue.send(new UpdateTableCommand({ DatabaseName: db, TableInput: changed }));
    assert.deepEqual(payloadKeys(out), []);
    const v1 = (await glue.send(new GetTableCommand({ DatabaseName: db, Name: 'evolving' }))).Table!;
    assert.equal(v1.Description, 'now with email');
    assert.deepEqual(v1.StorageDescriptor, changed.StorageDescriptor);
    assert.equal(v1.VersionId, '1');
    assert.equal(v1.CreateTime?.getTime(), v0.CreateTime?.getTime());
    assert.ok(v1.UpdateTime!.getTime() > v0.UpdateTime!.getTime(), 'UpdateTime bumped');

    await glue.send(new UpdateTableCommand({ DatabaseName: db, TableInput: tableInput('EVOLVING', { Description: 'third' }) }));
    const v2 = (await glue.send(new GetTableCommand({ DatabaseName: db, Name: 'evolving' }))).Table!;
    assert.equal(v2.VersionId, '2');
    assert.equal(v2.Description, 'third');
  });

  it('DeleteTable returns {} and removes the table', async () => {
    await glue.send(new CreateTableCommand({ DatabaseName: db, TableInput: tableInput('doomed') }));
    const out = await glue.send(new DeleteTableCommand({ DatabaseName: db, Name: 'doomed' }));
    assert.deepEqual(payloadKeys(out), []);
    await expectGlueError(glue.send(new GetTableCommand({ DatabaseName: db, Name: 'doomed' })), {
      name: 'EntityNotFoundException',
      message: 'Table doomed not found.',
    });
    await glue.send(new CreateTableCommand({ DatabaseName: db, TableInput: tableInput('doomed') }));
    const again = (await glue.send(new GetTableCommand({ DatabaseName: db, Name: 'doomed' }))).Table!;
    assert.equal(again.VersionId, '0');
  });
});

describe('GetTables', () => {
  let db: string;
  const names = ['customers', 'customer_archive', 'orders', 'order_items', 'products'];
  before(async () => {
    db = await newDatabase();
    for (const n of names) await glue.send(new CreateTableCommand({ DatabaseName: db, TableInput: tableInput(n) }));
  });

  it('lists every table with full Table shapes', async () => {
    const out = await glue.send(new GetTablesCommand({ DatabaseName: db }));
    assert.deepEqual(out.TableList?.map((t) => t.Name).sort(), [...names].sort());
    assert.equal(out.NextToken, undefined);
    for (const t of out.TableList ?? []) {
      assert.equal(t.DatabaseName, db);
      assertDate(t.CreateTime, 'TableList[].CreateTime');
      assert.equal(t.StorageDescriptor?.Columns?.length, 2);
    }
  });

  it('returns TableList [] for an empty database', async () => {
    const empty = await newDatabase();
    const out = await glue.send(new GetTablesCommand({ DatabaseName: empty }));
    assert.deepEqual(out.TableList, []);
    assert.equal(out.NextToken, undefined);
  });

  it('filters with Expression as a regular expression, "*" meaning ".*"', async () => {
    const regex = await glue.send(new GetTablesCommand({ DatabaseName: db, Expression: 'customer.*' }));
    assert.deepEqual(regex.TableList?.map((t) => t.Name).sort(), ['customer_archive', 'customers']);
    const star = await glue.send(new GetTablesCommand({ DatabaseName: db, Expression: 'order*' }));
    assert.deepEqual(star.TableList?.map((t) => t.Name).sort(), ['order_items', 'orders']);
    const alt = await glue.send(new GetTablesCommand({ DatabaseName: db, Expression: 'products|orders' }));
    assert.deepEqual(alt.TableList?.map((t) => t.Name).sort(), ['orders', 'products']);
    const none = await glue.send(new GetTablesCommand({ DatabaseName: db, Expression: 'zzz.*' }));
    assert.deepEqual(none.TableList, []);
  });

  it('paginates with MaxResults/NextToken and paginateGetTables', async () => {
    const first = await glue.send(new GetTablesCommand({ DatabaseName: db, MaxResults: 2 }));
    assert.equal(first.TableList?.length, 2);
    assert.ok(first.NextToken);
    const pages = await collectPages(paginateGetTables({ client: glue, pageSize: 2 }, { DatabaseName: db }));
    assert.deepEqual(pages.map((p) => p.TableList?.length), [2, 2, 1]);
    assert.equal(pages.at(-1)?.NextToken, undefined);
    const paged = pages.flatMap((p) => p.TableList ?? []).map((t) => t.Name!);
    assert.deepEqual([...paged].sort(), [...names].sort(), 'every table exactly once');
    const filtered = await collectPages(paginateGetTables({ client: glue, pageSize: 1 }, { DatabaseName: db, Expression: 'customer.*' }));
    assert.deepEqual(filtered.flatMap((p) => p.TableList ?? []).map((t) => t.Name).sort(), ['customer_archive', 'customers']);
  });
});
