/**
 * @aws-sdk/client-glue acceptance: CreateMLTransform, GetMLTransform, GetMLTransforms,
 * ListMLTransforms, UpdateMLTransform and DeleteMLTransform (spec §2.2–§2.6, §2.9).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateMLTransformCommand,
  DeleteMLTransformCommand,
  EntityNotFoundException,
  GetMLTransformCommand,
  GetMLTransformsCommand,
  GetTagsCommand,
  GlueClient,
  GlueServiceException,
  ListMLTransformsCommand,
  UpdateMLTransformCommand,
  paginateGetMLTransforms,
  paginateListMLTransforms,
  type CreateMLTransformCommandInput,
} from '@aws-sdk/client-glue';
import { DEFAULT_ACCOUNT_ID, type TestServer } from '../support/server.js';
import {
  assertDate,
  assertRecent,
  collectPages,
  createCatalogTable,
  createTransform,
  expectGlueError,
  getTransform,
  glueClient,
  startGlueServer,
  stopGlueServer,
  transformArn,
  uniqueName,
  validationMessage,
} from '../support/glue-client.js';

const ROLE = 'arn:aws:iam::123456789012:role/GlueRole';
const MISSING_ID = `tfm-${'0'.repeat(40)}`;

let server: TestServer;
let glue: GlueClient;

before(async () => {
  ({ server, glue } = await startGlueServer());
});

after(() => stopGlueServer({ server, glue }));

/** A CreateMLTransform input over an existing table; `patch` members replace the defaults. */
function createInput(
  table: { database: string; table: string },
  patch: Partial<CreateMLTransformCommandInput> = {},
): CreateMLTransformCommandInput {
  return {
    Name: uniqueName('xform'),
    Role: ROLE,
    InputRecordTables: [{ DatabaseName: table.database, TableName: table.table }],
    Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: 'id' } },
    ...patch,
  };
}

describe('CreateMLTransform + GetMLTransform: success shapes', () => {
  it('creates a transform with defaults and derives Schema from the catalog table', async () => {
    const before = Date.now();
    const table = await createCatalogTable(glue, {
      columns: [
        { Name: 'id', Type: 'string' },
        { Name: 'title', Type: 'string' },
        { Name: 'year', Type: 'bigint' },
      ],
      partitionKeys: [{ Name: 'source', Type: 'string' }],
    });
    const input = createInput(table);
    const created = await glue.send(new CreateMLTransformCommand(input));
    assert.match(created.TransformId ?? '', /^tfm-[0-9a-f]{40}$/);
    assert.deepEqual(Object.keys(created).filter((k) => k !== '$metadata'), ['TransformId']);
    assert.equal(created.$metadata.httpStatusCode, 200);
    assert.ok(created.$metadata.requestId, 'requestId on success');

    const t = await getTransform(glue, created.TransformId!);
    const afterCall = Date.now();
    assert.equal(t.TransformId, created.TransformId);
    assert.equal(t.Name, input.Name);
    assert.equal(t.Status, 'NOT_READY');
    assert.equal(t.LabelCount, 0);
    assert.equal(t.Role, ROLE);
    assert.equal(t.GlueVersion, '0.9');
    assert.equal(t.MaxCapacity, 10);
    assert.equal(t.Timeout, 2880);
    assert.equal(t.MaxRetries, 0);
    assert.deepEqual(t.InputRecordTables, [{ DatabaseName: table.database, TableName: table.table }]);
    assert.deepEqual(t.Parameters, {
      TransformType: 'FIND_MATCHES',
      FindMatchesParameters: { PrimaryKeyColumnName: 'id' },
    });
    assert.deepEqual(t.Schema, [
      { Name: 'id', DataType: 'string' },
      { Name: 'title', DataType: 'string' },
      { Name: 'year', DataType: 'bigint' },
      { Name: 'source', DataType: 'string' },
    ]);
    const createdOn = assertDate(t.CreatedOn, 'CreatedOn');
    const lastModified = assertDate(t.LastModifiedOn, 'LastModifiedOn');
    assertRecent(createdOn, before, afterCall, 'CreatedOn');
    assert.equal(lastModified.getTime(), createdOn.getTime(), 'LastModifiedOn = CreatedOn on create');
    for (const absent of ['Description', 'EvaluationMetrics', 'TransformEncryption', 'WorkerType', 'NumberOfWorkers'] as const) {
      assert.equal(t[absent], undefined, `${absent} should be omitted`);
    }
  });

  it('echoes every optional member supplied on create and computes MaxCapacity from workers', async () => {
    const table = await createCatalogTable(glue);
    const input = createInput(table, {
      Description: 'line one\nline two',
      GlueVersion: '2.0',
      WorkerType: 'G.2X',
      NumberOfWorkers: 3,
      Timeout: 60,
      MaxRetries: 2,
      Parameters: {
        TransformType: 'FIND_MATCHES',
        FindMatchesParameters: {
          PrimaryKeyColumnName: 'id',
          PrecisionRecallTradeoff: 0.9,
          AccuracyCostTradeoff: 0.25,
          EnforceProvidedLabels: true,
        },
      },
      TransformEncryption: {
        MlUserDataEncryption: { MlUserDataEncryptionMode: 'SSE-KMS', KmsKeyId: 'key-1234' },
      },
    });
    const { TransformId } = await glue.send(new CreateMLTransformCommand(input));
    const t = await getTransform(glue, TransformId!);
    assert.equal(t.Description, 'line one\nline two');
    assert.equal(t.GlueVersion, '2.0');
    assert.equal(t.WorkerType, 'G.2X');
    assert.equal(t.NumberOfWorkers, 3);
    assert.equal(t.MaxCapacity, 6);
    assert.equal(t.Timeout, 60);
    assert.equal(t.MaxRetries, 2);
    assert.deepEqual(t.Parameters, input.Parameters);
    assert.deepEqual(t.TransformEncryption, input.TransformEncryption);
  });

  it('keeps an explicit MaxCapacity', async () => {
    const table = await createCatalogTable(glue);
    const { TransformId } = await glue.send(new CreateMLTransformCommand(createInput(table, { MaxCapacity: 2.5 })));
    const t = await getTransform(glue, TransformId!);
    assert.equal(t.MaxCapacity, 2.5);
    assert.equal(t.WorkerType, undefined);
  });

  it('attaches Tags given on create to the transform ARN', async () => {
    const tags = { team: 'data', env: 'test' };
    const { transformId } = await createTransform(glue, { Tags: tags });
    const out = await glue.send(new GetTagsCommand({ ResourceArn: transformArn(transformId) }));
    assert.deepEqual(out.Tags, tags);
  });

  it('matches catalog names case-insensitively (folded to lower case)', async () => {
    const table = await createCatalogTable(glue);
    const { TransformId } = await glue.send(
      new CreateMLTransformCommand(
        createInput({ database: table.database.toUpperCase(), table: table.table.toUpperCase() }),
      ),
    );
    const t = await getTransform(glue, TransformId!);
    assert.equal(t.Schema?.length, 4);
  });
});

describe('CreateMLTransform: errors', () => {
  let table: { database: string; table: string };
  before(async () => {
    table = await createCatalogTable(glue);
  });

  it('rejects a duplicate name with AlreadyExistsException', async () => {
    const input = createInput(table);
    await glue.send(new CreateMLTransformCommand(input));
    await expectGlueError(glue.send(new CreateMLTransformCommand(createInput(table, { Name: input.Name, Description: 'other' }))), {
      name: 'AlreadyExistsException',
      message: `Transform with name ${input.Name} already exists.`,
    });
  });

  it('answers an identical create retried at once with the same TransformId (idempotent retry)', async () => {
    const input = createInput(table, { Description: 'retried', Tags: { a: 'b' } });
    const first = await glue.send(new CreateMLTransformCommand(input));
    const retry = await glue.send(new CreateMLTransformCommand(input));
    assert.equal(retry.TransformId, first.TransformId);
    const listed = await glue.send(new ListMLTransformsCommand({ Filter: { Name: input.Name } }));
    assert.deepEqual(listed.TransformIds, [first.TransformId]);
  });

  it('answers InvalidInputException for a table without columns', async () => {
    const bare = await createCatalogTable(glue, { columns: [] });
    await expectGlueError(glue.send(new CreateMLTransformCommand(createInput(bare))), {
      name: 'InvalidInputException',
      message: /^(Schema is not defined on the transform\.|Schema should contain given primary key: id\.)$/,
    });
  });

  const constraintCases: { title: string; patch: Partial<CreateMLTransformCommandInput>; path: string; rule: string }[] = [
    { title: 'empty Name', patch: { Name: '' }, path: 'name', rule: 'Member must have length greater than or equal to 1' },
    { title: 'Name over 255 chars', patch: { Name: 'n'.repeat(256) }, path: 'name', rule: 'Member must have length less than or equal to 255' },
    { title: 'Name with a newline', patch: { Name: 'bad\nname' }, path: 'name', rule: 'Member must satisfy regular expression pattern' },
    { title: 'Description over 2048 chars', patch: { Description: 'd'.repeat(2049) }, path: 'description', rule: 'Member must have length less than or equal to 2048' },
    { title: 'GlueVersion "2"', patch: { GlueVersion: '2' }, path: 'glueVersion', rule: 'Member must satisfy regular expression pattern' },
    { title: 'unknown WorkerType', patch: { WorkerType: 'G.3X' as never, NumberOfWorkers: 2 }, path: 'workerType', rule: 'Member must satisfy enum value set' },
    { title: 'Timeout 0', patch: { Timeout: 0 }, path: 'timeout', rule: 'Member must have value greater than or equal to 1' },
    {
      title: 'unknown TransformType',
      patch: { Parameters: { TransformType: 'FIND_DUPLICATES' as never, FindMatchesParameters: { PrimaryKeyColumnName: 'id' } } },
      path: 'parameters.transformType',
      rule: 'Member must satisfy enum value set',
    },
    {
      title: 'PrecisionRecallTradeoff 1.5',
      patch: { Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: 'id', PrecisionRecallTradeoff: 1.5 } } },
      path: 'parameters.findMatchesParameters.precisionRecallTradeoff',
      rule: 'Member must have value less than or equal to 1',
    },
    {
      title: 'AccuracyCostTradeoff -0.1',
      patch: { Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: 'id', AccuracyCostTradeoff: -0.1 } } },
      path: 'parameters.findMatchesParameters.accuracyCostTradeoff',
      rule: 'Member must have value greater than or equal to 0',
    },
    { title: 'missing Role', patch: { Role: undefined }, path: 'role', rule: 'Member must not be null' },
    { title: 'missing Parameters', patch: { Parameters: undefined }, path: 'parameters', rule: 'Member must not be null' },
    { title: 'missing InputRecordTables', patch: { InputRecordTables: undefined }, path: 'inputRecordTables', rule: 'Member must not be null' },
    {
      title: 'more than 10 InputRecordTables',
      patch: { InputRecordTables: Array.from({ length: 11 }, (_, i) => ({ DatabaseName: 'db', TableName: `t${i}` })) },
      path: 'inputRecordTables',
      rule: 'Member must have length less than or equal to 10',
    },
    {
      title: 'more than 50 Tags',
      patch: { Tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) },
      path: 'tags',
      rule: 'Member must have length less than or equal to 50',
    },
  ];
  for (const c of constraintCases) {
    it(`answers ValidationException for ${c.title}`, async () => {
      const input = createInput(table, c.patch);
      if ('Role' in c.patch && c.patch.Role === undefined) delete input.Role;
      await expectGlueError(glue.send(new CreateMLTransformCommand(input)), {
        name: 'ValidationException',
        message: validationMessage(c.path, c.rule),
      });
    });
  }

  const semanticCases: { title: string; patch: () => Partial<CreateMLTransformCommandInput>; message: string | RegExp }[] = [
    { title: 'no input table', patch: () => ({ InputRecordTables: [] }), message: 'Exactly one input record table must be provided.' },
    {
      title: 'two input tables',
      patch: () => ({
        InputRecordTables: [
          { DatabaseName: table.database, TableName: table.table },
          { DatabaseName: table.database, TableName: table.table },
        ],
      }),
      message: 'Exactly one input record table must be provided.',
    },
    {
      title: 'missing FindMatchesParameters',
      patch: () => ({ Parameters: { TransformType: 'FIND_MATCHES' } }),
      message: 'Find Matches parameters have not been set.',
    },
    {
      title: 'missing PrimaryKeyColumnName',
      patch: () => ({ Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrecisionRecallTradeoff: 0.5 } } }),
      message: 'A primary key must be specified in Find Matches parameters.',
    },
    {
      title: 'a primary key that is not a column',
      patch: () => ({ Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: 'nope' } } }),
      message: 'Schema should contain given primary key: nope.',
    },
    {
      title: 'an unknown table',
      patch: () => ({ InputRecordTables: [{ DatabaseName: table.database, TableName: 'no_such_table' }] }),
      message: /^Problem fetching the data catalog schema: .+/,
    },
    {
      title: 'an unknown database',
      patch: () => ({ InputRecordTables: [{ DatabaseName: 'no_such_db', TableName: table.table }] }),
      message: /^Problem fetching the data catalog schema: .+/,
    },
    {
      title: 'MaxCapacity together with WorkerType',
      patch: () => ({ MaxCapacity: 10, WorkerType: 'G.1X', NumberOfWorkers: 2 }),
      message: 'Cannot set Max Capacity and Worker Num/Type at the same time.',
    },
    {
      title: 'WorkerType without NumberOfWorkers',
      patch: () => ({ WorkerType: 'G.1X' }),
      message: 'Both WorkerType and NumberOfWorkers should be set.',
    },
    {
      title: 'NumberOfWorkers without WorkerType',
      patch: () => ({ NumberOfWorkers: 4 }),
      message: 'Both WorkerType and NumberOfWorkers should be set.',
    },
    { title: 'MaxCapacity below 2', patch: () => ({ MaxCapacity: 1 }), message: /^MaxCapacity should be >= 2(\.0)?\.$/ },
    {
      title: 'NumberOfWorkers below 1',
      patch: () => ({ WorkerType: 'G.1X', NumberOfWorkers: 0 }),
      message: 'NumberOfWorkers should be >= 1.',
    },
    { title: 'negative MaxRetries', patch: () => ({ MaxRetries: -1 }), message: 'Max retries should be non-negative.' },
  ];
  for (const c of semanticCases) {
    it(`answers InvalidInputException for ${c.title}`, async () => {
      await expectGlueError(glue.send(new CreateMLTransformCommand(createInput(table, c.patch()))), {
        name: 'InvalidInputException',
        message: c.message,
      });
    });
  }

  it('answers InvalidInputException for a column type FindMatches cannot use', async () => {
    const odd = await createCatalogTable(glue, {
      columns: [
        { Name: 'id', Type: 'string' },
        { Name: 'tags', Type: 'array<string>' },
      ],
    });
    await expectGlueError(glue.send(new CreateMLTransformCommand(createInput(odd))), {
      name: 'InvalidInputException',
      message: 'Input source column tags has an invalid data type defined in the catalog.',
    });
  });

  it('answers InvalidInputException for a table with more than 100 columns', async () => {
    const wide = await createCatalogTable(glue, {
      columns: Array.from({ length: 101 }, (_, i) => ({ Name: i === 0 ? 'id' : `c${i}`, Type: 'string' })),
    });
    await expectGlueError(glue.send(new CreateMLTransformCommand(createInput(wide))), { name: 'InvalidInputException' });
  });

  it('does not create anything when validation fails', async () => {
    const input = createInput(table, { MaxRetries: -1 });
    await expectGlueError(glue.send(new CreateMLTransformCommand(input)), { name: 'InvalidInputException' });
    const out = await glue.send(new GetMLTransformsCommand({ Filter: { Name: input.Name } }));
    assert.deepEqual(out.Transforms, []);
  });
});

describe('GetMLTransform: errors', () => {
  it('answers EntityNotFoundException with the AWS message and the SDK error fields', async () => {
    const err = await expectGlueError(glue.send(new GetMLTransformCommand({ TransformId: MISSING_ID })), {
      name: 'EntityNotFoundException',
      message: `Cannot find MLTransform in account ${DEFAULT_ACCOUNT_ID} with handle ${MISSING_ID}.`,
    });
    assert.ok(err instanceof EntityNotFoundException, 'modeled SDK exception class');
    assert.ok(err instanceof GlueServiceException);
  });

  it('answers ValidationException for an empty or missing TransformId', async () => {
    await expectGlueError(glue.send(new GetMLTransformCommand({ TransformId: '' })), {
      name: 'ValidationException',
      message: validationMessage('transformId', 'Member must have length greater than or equal to 1'),
    });
    await expectGlueError(glue.send(new GetMLTransformCommand({} as never)), {
      name: 'ValidationException',
      message: validationMessage('transformId', 'Member must not be null'),
    });
  });
});

describe('GetMLTransforms / ListMLTransforms: filters, sorting, pagination', () => {
  // A region of its own gives this block an empty account view to list from.
  let regional: GlueClient;
  const ids: string[] = []; // in creation order
  const names: string[] = [];
  let created: { id: string; createdOn: Date }[] = [];

  before(async () => {
    regional = glueClient(server, { region: 'ap-southeast-2' });
    const plain = await createCatalogTable(regional, {
      columns: [
        { Name: 'id', Type: 'string' },
        { Name: 'name', Type: 'string' },
        { Name: 'age', Type: 'int' },
      ],
    });
    const withEmail = await createCatalogTable(regional, {
      columns: [
        { Name: 'id', Type: 'string' },
        { Name: 'email', Type: 'string' },
      ],
    });
    // Names chosen so that NAME order differs from creation order.
    const specs: { name: string; table: { database: string; table: string }; glueVersion?: string }[] = [
      { name: 'delta', table: plain, glueVersion: '1.0' },
      { name: 'alpha', table: withEmail, glueVersion: '2.0' },
      { name: 'echo', table: plain },
      { name: 'charlie', table: withEmail, glueVersion: '2.0' },
      { name: 'bravo', table: plain, glueVersion: '1.0' },
    ];
    for (const s of specs) {
      const out = await regional.send(
        new CreateMLTransformCommand({
          ...createInput(s.table, { Name: s.name }),
          ...(s.glueVersion ? { GlueVersion: s.glueVersion } : {}),
        }),
      );
      ids.push(out.TransformId!);
      names.push(s.name);
      await sleep(15); // distinct CreatedOn values
    }
    created = [];
    for (const id of ids) created.push({ id, createdOn: (await getTransform(regional, id)).CreatedOn! });
  });

  after(() => regional?.destroy());

  const idOf = (name: string) => ids[names.indexOf(name)]!;

  it('returns all transforms in CREATED ascending order by default, with no NextToken', async () => {
    const out = await regional.send(new GetMLTransformsCommand({}));
    assert.deepEqual(out.Transforms?.map((t) => t.TransformId), ids);
    assert.equal(out.NextToken, undefined);
    for (const t of out.Transforms ?? []) {
      assertDate(t.CreatedOn, 'Transforms[].CreatedOn');
      assertDate(t.LastModifiedOn, 'Transforms[].LastModifiedOn');
      assert.equal(t.Status, 'NOT_READY');
      assert.ok(Array.isArray(t.Schema) && t.Schema.length > 0);
    }
    const list = await regional.send(new ListMLTransformsCommand({}));
    assert.deepEqual(list.TransformIds, ids);
    assert.equal(list.NextToken, undefined);
  });

  it('always returns the required list members, even when empty', async () => {
    const empty = glueClient(server, { region: 'sa-east-1' });
    try {
      const got = await empty.send(new GetMLTransformsCommand({}));
      assert.deepEqual(got.Transforms, []);
      assert.equal(got.NextToken, undefined);
      const listed = await empty.send(new ListMLTransformsCommand({}));
      assert.deepEqual(listed.TransformIds, []);
      assert.equal(listed.NextToken, undefined);
    } finally {
      empty.destroy();
    }
    const none = await regional.send(new GetMLTransformsCommand({ Filter: { Name: 'no-such-name' } }));
    assert.deepEqual(none.Transforms, []);
  });

  it('filters by exact Name', async () => {
    const out = await regional.send(new GetMLTransformsCommand({ Filter: { Name: 'alpha' } }));
    assert.deepEqual(out.Transforms?.map((t) => t.Name), ['alpha']);
    const prefix = await regional.send(new ListMLTransformsCommand({ Filter: { Name: 'alp' } }));
    assert.deepEqual(prefix.TransformIds, [], 'Name is an exact match, not a prefix');
  });

  it('filters by GlueVersion, Status and TransformType (ANDed)', async () => {
    const v2 = await regional.send(new GetMLTransformsCommand({ Filter: { GlueVersion: '2.0' } }));
    assert.deepEqual(v2.Transforms?.map((t) => t.Name), ['alpha', 'charlie']);
    const v09 = await regional.send(new ListMLTransformsCommand({ Filter: { GlueVersion: '0.9' } }));
    assert.deepEqual(v09.TransformIds, [idOf('echo')]);
    const notReady = await regional.send(
      new ListMLTransformsCommand({ Filter: { Status: 'NOT_READY', TransformType: 'FIND_MATCHES', GlueVersion: '1.0' } }),
    );
    assert.deepEqual(notReady.TransformIds, [idOf('delta'), idOf('bravo')]);
    const ready = await regional.send(new GetMLTransformsCommand({ Filter: { Status: 'READY' } }));
    assert.deepEqual(ready.Transforms, []);
  });

  it('filters by Schema (every listed column present, DataType case-insensitive)', async () => {
    const out = await regional.send(
      new GetMLTransformsCommand({ Filter: { Schema: [{ Name: 'email', DataType: 'STRING' }] } }),
    );
    assert.deepEqual(out.Transforms?.map((t) => t.Name), ['alpha', 'charlie']);
    const both = await regional.send(
      new ListMLTransformsCommand({
        Filter: { Schema: [{ Name: 'email', DataType: 'string' }, { Name: 'age', DataType: 'int' }] },
      }),
    );
    assert.deepEqual(both.TransformIds, []);
  });

  it('filters by CreatedAfter / CreatedBefore (strict comparisons)', async () => {
    const second = created[1]!;
    const newer = await regional.send(new ListMLTransformsCommand({ Filter: { CreatedAfter: second.createdOn } }));
    assert.deepEqual(newer.TransformIds, ids.slice(2));
    const beforeOut = await regional.send(new GetMLTransformsCommand({ Filter: { CreatedBefore: second.createdOn } }));
    assert.deepEqual(beforeOut.Transforms?.map((t) => t.TransformId), ids.slice(0, 1));
    const between = await regional.send(
      new ListMLTransformsCommand({ Filter: { CreatedAfter: created[0]!.createdOn, CreatedBefore: created[4]!.createdOn } }),
    );
    assert.deepEqual(between.TransformIds, ids.slice(1, 4));
  });

  it('filters by LastModifiedAfter / LastModifiedBefore', async () => {
    const last = created[4]!.createdOn;
    await sleep(15);
    await regional.send(new UpdateMLTransformCommand({ TransformId: idOf('delta'), Description: 'touched' }));
    const modified = await regional.send(new ListMLTransformsCommand({ Filter: { LastModifiedAfter: last } }));
    assert.deepEqual(modified.TransformIds, [idOf('delta')]);
    const untouched = await regional.send(new GetMLTransformsCommand({ Filter: { LastModifiedBefore: last } }));
    assert.deepEqual(
      untouched.Transforms?.map((t) => t.TransformId),
      ids.slice(0, 4).filter((id) => id !== idOf('delta')),
    );
  });

  it('sorts by NAME, CREATED and LAST_MODIFIED in both directions', async () => {
    const byName = await regional.send(new GetMLTransformsCommand({ Sort: { Column: 'NAME', SortDirection: 'ASCENDING' } }));
    assert.deepEqual(byName.Transforms?.map((t) => t.Name), ['alpha', 'bravo', 'charlie', 'delta', 'echo']);
    const byNameDesc = await regional.send(new ListMLTransformsCommand({ Sort: { Column: 'NAME', SortDirection: 'DESCENDING' } }));
    assert.deepEqual(byNameDesc.TransformIds, ['echo', 'delta', 'charlie', 'bravo', 'alpha'].map(idOf));
    const newest = await regional.send(new ListMLTransformsCommand({ Sort: { Column: 'CREATED', SortDirection: 'DESCENDING' } }));
    assert.deepEqual(newest.TransformIds, [...ids].reverse());
    const byModified = await regional.send(
      new GetMLTransformsCommand({ Sort: { Column: 'LAST_MODIFIED', SortDirection: 'DESCENDING' } }),
    );
    assert.equal(byModified.Transforms?.[0]?.Name, 'delta', 'delta was modified last (previous test)');
    const byStatus = await regional.send(new ListMLTransformsCommand({ Sort: { Column: 'STATUS', SortDirection: 'ASCENDING' } }));
    assert.deepEqual([...(byStatus.TransformIds ?? [])].sort(), [...ids].sort());
  });

  it('paginates GetMLTransforms with MaxResults/NextToken and paginateGetMLTransforms', async () => {
    const sort = { Column: 'NAME', SortDirection: 'ASCENDING' } as const;
    const first = await regional.send(new GetMLTransformsCommand({ MaxResults: 2, Sort: sort }));
    assert.deepEqual(first.Transforms?.map((t) => t.Name), ['alpha', 'bravo']);
    assert.ok(first.NextToken, 'NextToken on a non-final page');
    const second = await regional.send(new GetMLTransformsCommand({ MaxResults: 2, Sort: sort, NextToken: first.NextToken }));
    assert.deepEqual(second.Transforms?.map((t) => t.Name), ['charlie', 'delta']);
    const third = await regional.send(new GetMLTransformsCommand({ MaxResults: 2, Sort: sort, NextToken: second.NextToken }));
    assert.deepEqual(third.Transforms?.map((t) => t.Name), ['echo']);
    assert.equal(third.NextToken, undefined);

    const pages = await collectPages(paginateGetMLTransforms({ client: regional, pageSize: 2 }, {}));
    assert.deepEqual(pages.map((p) => p.Transforms?.length), [2, 2, 1]);
    assert.deepEqual(pages.flatMap((p) => p.Transforms ?? []).map((t) => t.TransformId), ids);

    const exact = await collectPages(paginateGetMLTransforms({ client: regional, pageSize: 5 }, {}));
    assert.equal(exact.flatMap((p) => p.Transforms ?? []).length, 5);
  });

  it('paginates ListMLTransforms with paginateListMLTransforms, keeping the filter', async () => {
    const pages = await collectPages(
      paginateListMLTransforms({ client: regional, pageSize: 1 }, { Filter: { GlueVersion: '2.0' } }),
    );
    assert.deepEqual(pages.map((p) => p.TransformIds), [[idOf('alpha')], [idOf('charlie')]]);
    assert.equal(pages.at(-1)?.NextToken, undefined);
    const all = await collectPages(paginateListMLTransforms({ client: regional, pageSize: 3 }, {}));
    assert.deepEqual(all.flatMap((p) => p.TransformIds ?? []), ids);
  });

  it('rejects a NextToken issued for a different request, and a garbage token', async () => {
    const first = await regional.send(
      new GetMLTransformsCommand({ MaxResults: 2, Sort: { Column: 'NAME', SortDirection: 'ASCENDING' } }),
    );
    await expectGlueError(
      regional.send(
        new GetMLTransformsCommand({
          MaxResults: 2,
          Sort: { Column: 'NAME', SortDirection: 'DESCENDING' },
          NextToken: first.NextToken,
        }),
      ),
      { name: 'InvalidInputException' },
    );
    const listed = await regional.send(new ListMLTransformsCommand({ MaxResults: 1 }));
    await expectGlueError(
      regional.send(new ListMLTransformsCommand({ MaxResults: 1, Filter: { GlueVersion: '2.0' }, NextToken: listed.NextToken })),
      { name: 'InvalidInputException' },
    );
    await expectGlueError(regional.send(new GetMLTransformsCommand({ NextToken: 'not-a-real-token' })), {
      name: 'InvalidInputException',
    });
  });

  it('answers ValidationException for out-of-range MaxResults and bad filter/sort members', async () => {
    for (const MaxResults of [0, 1001]) {
      await expectGlueError(regional.send(new GetMLTransformsCommand({ MaxResults })), {
        name: 'ValidationException',
        message: validationMessage('maxResults', MaxResults === 0
          ? 'Member must have value greater than or equal to 1'
          : 'Member must have value less than or equal to 1000'),
      });
      await expectGlueError(regional.send(new ListMLTransformsCommand({ MaxResults })), { name: 'ValidationException' });
    }
    await expectGlueError(regional.send(new GetMLTransformsCommand({ Filter: { Status: 'BROKEN' as never } })), {
      name: 'ValidationException',
      message: validationMessage('filter.status', 'Member must satisfy enum value set'),
    });
    await expectGlueError(regional.send(new ListMLTransformsCommand({ Filter: { GlueVersion: 'latest' } })), {
      name: 'ValidationException',
      message: validationMessage('filter.glueVersion', 'Member must satisfy regular expression pattern'),
    });
    await expectGlueError(
      regional.send(new GetMLTransformsCommand({ Sort: { Column: 'SIZE' as never, SortDirection: 'ASCENDING' } })),
      { name: 'ValidationException', message: validationMessage('sort.column', 'Member must satisfy enum value set') },
    );
    await expectGlueError(regional.send(new GetMLTransformsCommand({ Sort: { Column: 'NAME' } as never })), {
      name: 'ValidationException',
      message: validationMessage('sort.sortDirection', 'Member must not be null'),
    });
    await expectGlueError(
      regional.send(new ListMLTransformsCommand({ Tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) })),
      { name: 'ValidationException', message: validationMessage('tags', 'Member must have length less than or equal to 50') },
    );
  });
});

describe('UpdateMLTransform', () => {
  it('changes only the supplied members and bumps LastModifiedOn', async () => {
    const { transformId, name } = await createTransform(glue, { Description: 'first', MaxRetries: 1 });
    const before = await getTransform(glue, transformId);
    await sleep(20);
    const out = await glue.send(new UpdateMLTransformCommand({ TransformId: transformId, Description: 'second', Timeout: 30 }));
    assert.equal(out.TransformId, transformId);
    const t = await getTransform(glue, transformId);
    assert.equal(t.Description, 'second');
    assert.equal(t.Timeout, 30);
    assert.equal(t.Name, name);
    assert.equal(t.MaxRetries, 1);
    assert.equal(t.GlueVersion, before.GlueVersion);
    assert.equal(t.MaxCapacity, before.MaxCapacity);
    assert.deepEqual(t.Parameters, before.Parameters);
    assert.deepEqual(t.Schema, before.Schema);
    assert.deepEqual(t.InputRecordTables, before.InputRecordTables);
    assert.equal(t.Status, 'NOT_READY');
    assert.equal(t.CreatedOn?.getTime(), before.CreatedOn?.getTime());
    assert.ok(t.LastModifiedOn!.getTime() > before.LastModifiedOn!.getTime(), 'LastModifiedOn bumped');
  });

  it('replaces Parameters as a whole and updates capacity members', async () => {
    const { transformId } = await createTransform(glue, {
      Parameters: {
        TransformType: 'FIND_MATCHES',
        FindMatchesParameters: { PrimaryKeyColumnName: 'id', PrecisionRecallTradeoff: 0.2, EnforceProvidedLabels: true },
      },
    });
    const params = {
      TransformType: 'FIND_MATCHES' as const,
      FindMatchesParameters: { PrimaryKeyColumnName: 'email', AccuracyCostTradeoff: 0.8 },
    };
    await glue.send(
      new UpdateMLTransformCommand({ TransformId: transformId, Parameters: params, GlueVersion: '1.0', MaxCapacity: 4, MaxRetries: 3 }),
    );
    const t = await getTransform(glue, transformId);
    assert.deepEqual(t.Parameters, params);
    assert.equal(t.GlueVersion, '1.0');
    assert.equal(t.MaxCapacity, 4);
    assert.equal(t.MaxRetries, 3);
  });

  it('renames, freeing the old name and allowing the current name again', async () => {
    const { transformId, name } = await createTransform(glue);
    const newName = uniqueName('renamed');
    await glue.send(new UpdateMLTransformCommand({ TransformId: transformId, Name: newName }));
    assert.equal((await getTransform(glue, transformId)).Name, newName);
    await glue.send(new UpdateMLTransformCommand({ TransformId: transformId, Name: newName }));
    const again = await createTransform(glue, { Name: name });
    assert.notEqual(again.transformId, transformId);
  });

  it('answers InvalidInputException when renaming onto another transform', async () => {
    const a = await createTransform(glue);
    const b = await createTransform(glue);
    await expectGlueError(glue.send(new UpdateMLTransformCommand({ TransformId: b.transformId, Name: a.name })), {
      name: 'InvalidInputException',
      message: `Another transform with name ${a.name} already exists.`,
    });
    assert.equal((await getTransform(glue, b.transformId)).Name, b.name);
  });

  it('answers InvalidInputException for a blank name and for create-time semantic rules', async () => {
    const { transformId } = await createTransform(glue);
    await expectGlueError(glue.send(new UpdateMLTransformCommand({ TransformId: transformId, Name: '   ' })), {
      name: 'InvalidInputException',
      message: 'Transform name cannot be blank.',
    });
    await expectGlueError(
      glue.send(new UpdateMLTransformCommand({ TransformId: transformId, MaxCapacity: 5, WorkerType: 'G.1X', NumberOfWorkers: 2 })),
      { name: 'InvalidInputException', message: 'Cannot set Max Capacity and Worker Num/Type at the same time.' },
    );
    await expectGlueError(glue.send(new UpdateMLTransformCommand({ TransformId: transformId, MaxCapacity: 1 })), {
      name: 'InvalidInputException',
      message: /^MaxCapacity should be >= 2(\.0)?\.$/,
    });
    await expectGlueError(
      glue.send(new UpdateMLTransformCommand({ TransformId: transformId, WorkerType: 'G.1X', NumberOfWorkers: 0 })),
      { name: 'InvalidInputException', message: 'NumberOfWorkers should be >= 1.' },
    );
    await expectGlueError(glue.send(new UpdateMLTransformCommand({ TransformId: transformId, MaxRetries: -2 })), {
      name: 'InvalidInputException',
      message: 'Max retries should be non-negative.',
    });
    await expectGlueError(
      glue.send(new UpdateMLTransformCommand({ TransformId: transformId, Parameters: { TransformType: 'FIND_MATCHES' } })),
      { name: 'InvalidInputException', message: 'Find Matches parameters have not been set.' },
    );
    await expectGlueError(
      glue.send(
        new UpdateMLTransformCommand({
          TransformId: transformId,
          Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: 'missing_col' } },
        }),
      ),
      { name: 'InvalidInputException', message: 'Schema should contain given primary key: missing_col.' },
    );
  });

  it('answers ValidationException for model-constraint violations', async () => {
    const { transformId } = await createTransform(glue);
    await expectGlueError(glue.send(new UpdateMLTransformCommand({ TransformId: transformId, Name: '' })), {
      name: 'ValidationException',
      message: validationMessage('name', 'Member must have length greater than or equal to 1'),
    });
    await expectGlueError(glue.send(new UpdateMLTransformCommand({ TransformId: transformId, Timeout: 0 })), {
      name: 'ValidationException',
      message: validationMessage('timeout', 'Member must have value greater than or equal to 1'),
    });
    await expectGlueError(glue.send(new UpdateMLTransformCommand({ TransformId: transformId, GlueVersion: 'two' })), {
      name: 'ValidationException',
      message: validationMessage('glueVersion', 'Member must satisfy regular expression pattern'),
    });
    await expectGlueError(
      glue.send(new UpdateMLTransformCommand({ TransformId: transformId, WorkerType: 'Huge' as never, NumberOfWorkers: 2 })),
      { name: 'ValidationException', message: validationMessage('workerType', 'Member must satisfy enum value set') },
    );
    await expectGlueError(glue.send(new UpdateMLTransformCommand({} as never)), {
      name: 'ValidationException',
      message: validationMessage('transformId', 'Member must not be null'),
    });
  });

  it('answers EntityNotFoundException for an unknown transform', async () => {
    await expectGlueError(glue.send(new UpdateMLTransformCommand({ TransformId: MISSING_ID, Description: 'x' })), {
      name: 'EntityNotFoundException',
      message: `Cannot find MLTransform in account ${DEFAULT_ACCOUNT_ID} with handle ${MISSING_ID}.`,
    });
  });
});

describe('DeleteMLTransform', () => {
  it('deletes at once: Get, List and a second Delete no longer see it, and the name is free', async () => {
    const { transformId, name, database, table } = await createTransform(glue);
    const out = await glue.send(new DeleteMLTransformCommand({ TransformId: transformId }));
    assert.equal(out.TransformId, transformId);
    await expectGlueError(glue.send(new GetMLTransformCommand({ TransformId: transformId })), {
      name: 'EntityNotFoundException',
      message: `Cannot find MLTransform in account ${DEFAULT_ACCOUNT_ID} with handle ${transformId}.`,
    });
    const listed = await glue.send(new GetMLTransformsCommand({ Filter: { Name: name } }));
    assert.deepEqual(listed.Transforms, []);
    const ids = await glue.send(new ListMLTransformsCommand({ Filter: { Name: name } }));
    assert.deepEqual(ids.TransformIds, []);
    await expectGlueError(glue.send(new DeleteMLTransformCommand({ TransformId: transformId })), {
      name: 'EntityNotFoundException',
      message: `Cannot find MLTransform in account ${DEFAULT_ACCOUNT_ID} with handle ${transformId}.`,
    });
    const again = await glue.send(
      new CreateMLTransformCommand(createInput({ database, table }, { Name: name })),
    );
    assert.notEqual(again.TransformId, transformId);
  });

  it('answers ValidationException for a missing TransformId', async () => {
    await expectGlueError(glue.send(new DeleteMLTransformCommand({} as never)), {
      name: 'ValidationException',
      message: validationMessage('transformId', 'Member must not be null'),
    });
  });
});
