/**
 * AWS CLI acceptance: drives every ML-transform, tagging and catalog operation with the unmodified
 * `aws` command (`aws glue ... --endpoint-url <server> --output json`), parsing its JSON stdout and
 * checking failed calls exit non-zero with `An error occurred (<Code>) when calling the <Op> operation`
 * on stderr. Skips when `aws` is not installed.
 *
 * The CLI reads only a config file written here (no user config or credentials file): profile
 * `default` prints timestamps as ISO 8601 (so they are parsed by botocore on the way), profile `wire`
 * prints them exactly as received, and profile `raw` turns off botocore's client-side validation so
 * bad input reaches the server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_ACCOUNT_ID, startServer, stopAndRemove, type TestServer } from '../support/server.js';
import { envWithoutAwsSettings, findAws, runCommand, type CommandOutput } from '../support/s3-tools.js';

const ACCOUNT = DEFAULT_ACCOUNT_ID;
const REGION = 'us-east-1';
const MISSING_TRANSFORM = `tfm-${'0'.repeat(40)}`;
const MISSING_RUN = `tsk-${'0'.repeat(40)}`;
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMEOUT', 'STOPPED']);
const COLUMNS = [
  { Name: 'id', Type: 'string' },
  { Name: 'full_name', Type: 'string' },
  { Name: 'email', Type: 'string' },
  { Name: 'age', Type: 'int' },
];
const EXPECTED_SCHEMA = COLUMNS.map((c) => ({ Name: c.Name, DataType: c.Type }));
const FIND_MATCHES = JSON.stringify({ TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: 'id' } });

/** Resolved past a pyenv shim: this suite makes ~150 calls, each of which the shim would slow down. */
const AWS = findAws();

// ---------------------------------------------------------------------------------------------------
// Running the CLI

interface CliResult extends CommandOutput {
  command: string;
}

interface CliOptions {
  profile?: 'default' | 'wire' | 'raw';
  region?: string;
}

let server: TestServer;
let configDir: string;

function cliEnv(): NodeJS.ProcessEnv {
  return {
    ...envWithoutAwsSettings(),
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_DEFAULT_REGION: REGION,
    AWS_CONFIG_FILE: join(configDir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
}

function aws(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const full = ['glue', ...args, '--endpoint-url', server.endpoint, '--output', 'json'];
  if (options.profile && options.profile !== 'default') full.push('--profile', options.profile);
  if (options.region) full.push('--region', options.region);
  const command = `aws ${full.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(' ')}`;
  return runCommand(AWS!, full, { env: cliEnv() }).then((result) => ({ ...result, command }));
}

/** Runs a command that must succeed; returns its parsed JSON output ({} when it prints nothing). */
async function ok(args: string[], options: CliOptions = {}): Promise<any> {
  const r = await aws(args, options);
  assert.equal(r.code, 0, `${r.command}\nexit ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout}`);
  const text = r.stdout.trim();
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    assert.fail(`${r.command}\nstdout is not JSON:\n${r.stdout}`);
  }
}

/** `get-ml-task-run` → `GetMLTaskRun`. */
function operationName(subcommand: string): string {
  return subcommand
    .split('-')
    .map((w) => (w === 'ml' ? 'ML' : w.charAt(0).toUpperCase() + w.slice(1)))
    .join('');
}

/**
 * Runs a command that must fail with a service error `code`: exit 254 (CLI v2) or 255 (CLI v1),
 * nothing on stdout, and botocore's error line on stderr. Returns the error message.
 */
async function fails(code: string, args: string[], options: CliOptions = {}): Promise<string> {
  const r = await aws(args, options);
  const op = operationName(args[0]!);
  const context = `${r.command}\nexit ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout}`;
  assert.ok(r.code === 254 || r.code === 255, `expected exit 254/255 for ${code}\n${context}`);
  const prefix = `An error occurred (${code}) when calling the ${op} operation: `;
  const line = r.stderr.split('\n').find((l) => l.includes('An error occurred ('));
  assert.ok(line?.includes(prefix), `expected "${prefix}"\n${context}`);
  assert.equal(r.stdout.trim(), '', context);
  return line!.slice(line!.indexOf(prefix) + prefix.length).trim();
}

// ---------------------------------------------------------------------------------------------------
// Fixtures

let counter = 0;
function unique(prefix: string): string {
  counter += 1;
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter}`;
}

function arn(transformId: string, region = REGION, account = ACCOUNT): string {
  return `arn:aws:glue:${region}:${account}:mlTransform/${transformId}`;
}

function tableInput(name: string, columns = COLUMNS, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    Name: name,
    TableType: 'EXTERNAL_TABLE',
    Parameters: { classification: 'csv' },
    StorageDescriptor: { Columns: columns, Location: `s3://bucket/${name}/` },
    ...extra,
  });
}

/** The database (with table `people`) that transforms are created on; made once in before(). */
let sharedDatabase = '';

/** `create-ml-transform` arguments: by default a fresh name, table `people` and FIND_MATCHES on `id`. */
function createTransformArgs(
  database: string,
  { name = unique('xf'), table = 'people', parameters = FIND_MATCHES }: { name?: string; table?: string; parameters?: string } = {},
): string[] {
  return [
    'create-ml-transform',
    '--name',
    name,
    '--input-record-tables',
    JSON.stringify([{ DatabaseName: database, TableName: table }]),
    '--parameters',
    parameters,
    '--role',
    'GlueRole',
  ];
}

async function createTransform(database: string, extra: string[] = []): Promise<string> {
  const out = await ok([...createTransformArgs(database), ...extra]);
  assert.match(out.TransformId, /^tfm-[0-9a-f]{40}$/);
  return out.TransformId as string;
}

async function waitForRun(transformId: string, runId: string, until = TERMINAL, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await ok(['get-ml-task-run', '--transform-id', transformId, '--task-run-id', runId]);
    if (until.has(run.Status)) return run;
    assert.ok(Date.now() < deadline, `task run ${runId} still ${run.Status} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function importLabels(transformId: string, count: number, replace = false): Promise<string> {
  const out = await ok([
    'start-import-labels-task-run',
    '--transform-id',
    transformId,
    '--input-s3-path',
    `s3://scripted/labels.csv?labels=${count}`,
    replace ? '--replace-all-labels' : '--no-replace-all-labels',
  ]);
  const run = await waitForRun(transformId, out.TaskRunId);
  assert.equal(run.Status, 'SUCCEEDED', run.ErrorString);
  return out.TaskRunId as string;
}

/** ISO 8601 (profile default) timestamps, parsed by botocore on the way: must be close to now. */
function assertRecentIso(value: unknown, what: string): void {
  assert.equal(typeof value, 'string', `${what}: ${JSON.stringify(value)}`);
  const ms = Date.parse(value as string);
  assert.ok(Number.isFinite(ms), `${what} is not a date: ${value}`);
  assert.ok(Math.abs(Date.now() - ms) < 600_000, `${what} is not close to now: ${value}`);
}

// ---------------------------------------------------------------------------------------------------

const SUITE = 'AWS CLI drives every operation';
// A skipped test (rather than a skipped suite) so that the runner counts and reports the skip.
if (!AWS) test(SUITE, { skip: 'aws CLI not installed: pip install awscli (or apt-get install awscli)' }, () => {});
else describe(SUITE, {
  concurrency: 3,
  // ~100 s on an idle 2-core machine (each aws call costs ~0.7 s of CPU); the margin is for a
  // loaded one, where it has taken over 300 s
  timeout: 900_000,
}, () => {
  before(async () => {
    configDir = mkdtempSync(join(tmpdir(), 'doppel-awscli-'));
    writeFileSync(
      join(configDir, 'config'),
      [
        '[default]',
        `region = ${REGION}`,
        'cli_timestamp_format = iso8601',
        // CLI v1 would otherwise download http(s):// parameter values; this suite stays on loopback
        'cli_follow_urlparam = false',
        '',
        // a profile named with --profile does not read AWS_ACCESS_KEY_ID: give it the keys itself
        '[profile wire]',
        `region = ${REGION}`,
        'aws_access_key_id = test',
        'aws_secret_access_key = test',
        'cli_timestamp_format = wire',
        'cli_follow_urlparam = false',
        '',
        '[profile raw]',
        `region = ${REGION}`,
        'aws_access_key_id = test',
        'aws_secret_access_key = test',
        'cli_timestamp_format = iso8601',
        'parameter_validation = false',
        'cli_follow_urlparam = false',
        '',
      ].join('\n'),
    );
    server = await startServer({ scriptedTasks: true });
    sharedDatabase = unique('shared');
    await ok(['create-database', '--database-input', JSON.stringify({ Name: sharedDatabase })]);
    await ok(['create-table', '--database-name', sharedDatabase, '--table-input', tableInput('people')]);
  });

  after(async () => {
    await stopAndRemove(server);
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  test('README quickstart: database, table, transform, import labels, tags, delete', async () => {
    const database = unique('quickstart');
    assert.deepEqual(await ok(['create-database', '--database-input', JSON.stringify({ Name: database })]), {});
    assert.deepEqual(
      await ok([
        'create-table',
        '--database-name',
        database,
        '--table-input',
        tableInput('people', COLUMNS, { PartitionKeys: [{ Name: 'source', Type: 'string' }] }),
      ]),
      {},
    );

    const name = unique('people-dedupe');
    const created = await ok([
      'create-ml-transform',
      '--name',
      name,
      '--input-record-tables',
      JSON.stringify([{ DatabaseName: database, TableName: 'people' }]),
      '--parameters',
      FIND_MATCHES,
      '--role',
      'arn:aws:iam::123456789012:role/GlueRole',
      '--tags',
      'team=data',
    ]);
    const transformId = created.TransformId as string;
    assert.match(transformId, /^tfm-[0-9a-f]{40}$/);

    const transform = await ok(['get-ml-transform', '--transform-id', transformId]);
    assert.equal(transform.TransformId, transformId);
    assert.equal(transform.Name, name);
    assert.equal(transform.Status, 'NOT_READY');
    assert.equal(transform.LabelCount, 0);
    assert.equal(transform.GlueVersion, '0.9');
    assert.equal(transform.MaxCapacity, 10);
    assert.equal(transform.Timeout, 2880);
    assert.equal(transform.MaxRetries, 0);
    assert.deepEqual(transform.Schema, [...EXPECTED_SCHEMA, { Name: 'source', DataType: 'string' }]);
    assert.deepEqual(transform.InputRecordTables, [{ DatabaseName: database, TableName: 'people' }]);
    assertRecentIso(transform.CreatedOn, 'CreatedOn');
    assertRecentIso(transform.LastModifiedOn, 'LastModifiedOn');

    const started = await ok([
      'start-import-labels-task-run',
      '--transform-id',
      transformId,
      '--input-s3-path',
      's3://scripted/labels/people.csv?labels=10&sleep=200',
    ]);
    assert.match(started.TaskRunId, /^tsk-[0-9a-f]{40}$/);
    const run = await waitForRun(transformId, started.TaskRunId);
    assert.equal(run.Status, 'SUCCEEDED', run.ErrorString);
    assert.equal(run.TransformId, transformId);
    assert.equal(run.Properties.TaskType, 'IMPORT_LABELS');
    assert.equal(run.Properties.ImportLabelsTaskRunProperties.InputS3Path, 's3://scripted/labels/people.csv?labels=10&sleep=200');
    assertRecentIso(run.StartedOn, 'StartedOn');
    assertRecentIso(run.CompletedOn, 'CompletedOn');
    assert.equal(typeof run.ExecutionTime, 'number');

    const ready = await ok(['get-ml-transform', '--transform-id', transformId]);
    assert.equal(ready.Status, 'READY');
    assert.equal(ready.LabelCount, 10);

    assert.deepEqual(await ok(['tag-resource', '--resource-arn', arn(transformId), '--tags-to-add', 'env=dev,owner=me']), {});
    assert.deepEqual((await ok(['get-tags', '--resource-arn', arn(transformId)])).Tags, {
      team: 'data',
      env: 'dev',
      owner: 'me',
    });

    assert.deepEqual(await ok(['delete-ml-transform', '--transform-id', transformId]), { TransformId: transformId });
    const message = await fails('EntityNotFoundException', ['get-ml-transform', '--transform-id', transformId]);
    assert.equal(message, `Cannot find MLTransform in account ${ACCOUNT} with handle ${transformId}.`);
    await ok(['delete-database', '--name', database]);
  });

  test('catalog databases: create, get, get-databases (paginated), delete, errors', async () => {
    const names = [unique('dba'), unique('dbb')];
    for (const name of names) {
      await ok(['create-database', '--database-input', JSON.stringify({ Name: name, Description: `about ${name}` })]);
    }
    const got = await ok(['get-database', '--name', names[0]!]);
    assert.equal(got.Database.Name, names[0]);
    assert.equal(got.Database.Description, `about ${names[0]}`);
    assertRecentIso(got.Database.CreateTime, 'CreateTime');

    // the CLI follows NextToken itself: --page-size 1 makes it walk every page
    const all = await ok(['get-databases', '--page-size', '1']);
    const listed = (all.DatabaseList as { Name: string }[]).map((d) => d.Name);
    for (const name of names) assert.ok(listed.includes(name), `${name} missing from ${listed.join(',')}`);
    assert.equal(new Set(listed).size, listed.length, 'pages repeated a database');
    const firstPage = await ok(['get-databases', '--max-items', '1']);
    assert.equal(firstPage.DatabaseList.length, 1);
    assert.ok(firstPage.NextToken, 'more pages expected');

    await fails('AlreadyExistsException', ['create-database', '--database-input', JSON.stringify({ Name: names[0] })]);
    await fails('EntityNotFoundException', ['get-database', '--name', unique('nope')]);
    await fails('ValidationException', ['get-databases', '--max-results', '101', '--no-paginate']);

    for (const name of names) assert.deepEqual(await ok(['delete-database', '--name', name]), {});
    await fails('EntityNotFoundException', ['get-database', '--name', names[0]!]);
    await fails('EntityNotFoundException', ['delete-database', '--name', names[0]!]);
  });

  test('catalog tables: create, get, get-tables, update, delete, errors', async () => {
    const database = unique('tables');
    await ok(['create-database', '--database-input', JSON.stringify({ Name: database })]);
    for (const table of ['alpha_one', 'alpha_two', 'beta_one']) {
      await ok(['create-table', '--database-name', database, '--table-input', tableInput(table)]);
    }
    const table = (await ok(['get-table', '--database-name', database, '--name', 'alpha_one'])).Table;
    assert.equal(table.Name, 'alpha_one');
    assert.equal(table.DatabaseName, database);
    assert.deepEqual(table.StorageDescriptor.Columns, COLUMNS);
    assertRecentIso(table.CreateTime, 'CreateTime');

    const alpha = await ok(['get-tables', '--database-name', database, '--expression', 'alpha*']);
    assert.deepEqual((alpha.TableList as { Name: string }[]).map((t) => t.Name).sort(), ['alpha_one', 'alpha_two']);
    const paged = await ok(['get-tables', '--database-name', database, '--page-size', '1']);
    assert.deepEqual((paged.TableList as { Name: string }[]).map((t) => t.Name).sort(), ['alpha_one', 'alpha_two', 'beta_one']);

    const columns = [...COLUMNS, { Name: 'phone', Type: 'string' }];
    assert.deepEqual(
      await ok(['update-table', '--database-name', database, '--table-input', tableInput('alpha_one', columns, { Description: 'v2' })]),
      {},
    );
    const updated = (await ok(['get-table', '--database-name', database, '--name', 'alpha_one'])).Table;
    assert.equal(updated.Description, 'v2');
    assert.deepEqual(updated.StorageDescriptor.Columns, columns);
    assert.notEqual(updated.VersionId, table.VersionId);

    await fails('AlreadyExistsException', ['create-table', '--database-name', database, '--table-input', tableInput('beta_one')]);
    await fails('EntityNotFoundException', ['create-table', '--database-name', unique('nope'), '--table-input', tableInput('t')]);
    await fails('EntityNotFoundException', ['get-table', '--database-name', database, '--name', 'nope']);
    await fails('EntityNotFoundException', ['get-tables', '--database-name', unique('nope')]);
    await fails('EntityNotFoundException', ['update-table', '--database-name', database, '--table-input', tableInput('nope')]);

    assert.deepEqual(await ok(['delete-table', '--database-name', database, '--name', 'beta_one']), {});
    await fails('EntityNotFoundException', ['get-table', '--database-name', database, '--name', 'beta_one']);
    await fails('EntityNotFoundException', ['delete-table', '--database-name', database, '--name', 'beta_one']);

    await ok(['delete-database', '--name', database]);
    await fails('EntityNotFoundException', ['get-table', '--database-name', database, '--name', 'alpha_one']);
  });

  test('transforms: create errors, get-ml-transforms, list-ml-transforms, update, delete', async () => {
    const database = sharedDatabase;
    const tag = unique('group');
    const first = await createTransform(database, ['--tags', `group=${tag}`]);
    const second = await createTransform(database, ['--tags', `group=${tag}`, '--glue-version', '2.0']);
    const firstName = (await ok(['get-ml-transform', '--transform-id', first])).Name as string;

    const byName = await ok(['get-ml-transforms', '--filter', `Name=${firstName}`]);
    assert.deepEqual((byName.Transforms as { TransformId: string }[]).map((t) => t.TransformId), [first]);
    assert.deepEqual(byName.Transforms[0].Schema, EXPECTED_SCHEMA);
    const byVersion = await ok(['get-ml-transforms', '--filter', JSON.stringify({ GlueVersion: '2.0', Schema: EXPECTED_SCHEMA })]);
    const versionIds = (byVersion.Transforms as { TransformId: string }[]).map((t) => t.TransformId);
    assert.ok(versionIds.includes(second) && !versionIds.includes(first), versionIds.join(','));

    const listed = await ok(['list-ml-transforms', '--tags', `group=${tag}`]);
    assert.deepEqual(listed.TransformIds, [first, second]);
    const desc = await ok(['list-ml-transforms', '--tags', `group=${tag}`, '--sort', 'Column=CREATED,SortDirection=DESCENDING']);
    assert.deepEqual(desc.TransformIds, [second, first]);
    const page = await ok(['list-ml-transforms', '--tags', `group=${tag}`, '--max-results', '1']);
    assert.deepEqual(page.TransformIds, [first]);
    assert.ok(page.NextToken, 'NextToken expected on the first of two pages');
    const rest = await ok(['list-ml-transforms', '--tags', `group=${tag}`, '--max-results', '1', '--next-token', page.NextToken]);
    assert.deepEqual(rest.TransformIds, [second]);
    assert.equal(rest.NextToken, undefined);
    await fails('InvalidInputException', [
      'list-ml-transforms',
      '--tags',
      `group=${tag}`,
      '--max-results',
      '1',
      '--next-token',
      page.NextToken,
      '--filter',
      'Status=READY',
    ]);

    const renamed = unique('renamed');
    assert.deepEqual(
      await ok(['update-ml-transform', '--transform-id', first, '--name', renamed, '--description', 'tuned', '--max-capacity', '20']),
      { TransformId: first },
    );
    const updated = await ok(['get-ml-transform', '--transform-id', first]);
    assert.equal(updated.Name, renamed);
    assert.equal(updated.Description, 'tuned');
    assert.equal(updated.MaxCapacity, 20);
    const secondName = (await ok(['get-ml-transform', '--transform-id', second])).Name as string;
    const conflict = await fails('InvalidInputException', ['update-ml-transform', '--transform-id', first, '--name', secondName]);
    assert.equal(conflict, `Another transform with name ${secondName} already exists.`);
    await fails('EntityNotFoundException', ['update-ml-transform', '--transform-id', MISSING_TRANSFORM, '--description', 'x']);

    const duplicate = await fails('AlreadyExistsException', createTransformArgs(database, { name: renamed }));
    assert.equal(duplicate, `Transform with name ${renamed} already exists.`);
    const missingTable = await fails('InvalidInputException', createTransformArgs(database, { table: 'nope' }));
    assert.ok(missingTable.startsWith('Problem fetching the data catalog schema: '), missingTable);
    const badTradeoff = { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: 'id', PrecisionRecallTradeoff: 1.5 } };
    await fails('ValidationException', createTransformArgs(database, { parameters: JSON.stringify(badTradeoff) }));
    await fails('ValidationException', ['get-ml-transforms', '--sort', 'Column=COLOR,SortDirection=ASCENDING']);
    await fails('ValidationException', ['list-ml-transforms', '--max-results', '1001']);

    await fails('EntityNotFoundException', ['get-ml-transform', '--transform-id', MISSING_TRANSFORM]);
    assert.deepEqual(await ok(['delete-ml-transform', '--transform-id', first]), { TransformId: first });
    await fails('EntityNotFoundException', ['delete-ml-transform', '--transform-id', first]);
  });

  test('task runs: labeling set, export, evaluation, get-ml-task-runs, cancel', async () => {
    const database = sharedDatabase;
    const transformId = await createTransform(database);

    const generated = await ok([
      'start-ml-labeling-set-generation-task-run',
      '--transform-id',
      transformId,
      '--output-s3-path',
      's3://scripted/labeling-set/',
    ]);
    const generation = await waitForRun(transformId, generated.TaskRunId);
    assert.equal(generation.Status, 'SUCCEEDED', generation.ErrorString);
    assert.equal(generation.Properties.TaskType, 'LABELING_SET_GENERATION');
    assert.equal(generation.Properties.LabelingSetGenerationTaskRunProperties.OutputS3Path, 's3://scripted/labeling-set/');

    const startExport = ['start-export-labels-task-run', '--transform-id', transformId, '--output-s3-path', 's3://scripted/export/'];
    const message = await fails('EntityNotFoundException', startExport);
    assert.equal(message, `No labelset exists for transformId ${transformId} in account id ${ACCOUNT}.`);
    const notReady = await fails('MLTransformNotReadyException', ['start-ml-evaluation-task-run', '--transform-id', transformId]);
    assert.equal(notReady, 'This operation can only be applied to a transform that is in a READY state.');

    const imported = await importLabels(transformId, 4);
    const exported = await ok(startExport);
    const exportRun = await waitForRun(transformId, exported.TaskRunId);
    assert.equal(exportRun.Status, 'SUCCEEDED', exportRun.ErrorString);
    assert.equal(exportRun.Properties.ExportLabelsTaskRunProperties.OutputS3Path, 's3://scripted/export/');

    const evaluated = await ok(['start-ml-evaluation-task-run', '--transform-id', transformId]);
    const evaluation = await waitForRun(transformId, evaluated.TaskRunId);
    assert.equal(evaluation.Status, 'SUCCEEDED', evaluation.ErrorString);
    assert.equal(evaluation.Properties.TaskType, 'EVALUATION');

    const history = await ok(['get-ml-task-runs', '--transform-id', transformId]);
    assert.deepEqual(
      (history.TaskRuns as { TaskRunId: string }[]).map((r) => r.TaskRunId),
      [evaluated.TaskRunId, exported.TaskRunId, imported, generated.TaskRunId],
    );
    const imports = await ok(['get-ml-task-runs', '--transform-id', transformId, '--filter', 'TaskRunType=IMPORT_LABELS']);
    assert.deepEqual((imports.TaskRuns as { TaskRunId: string }[]).map((r) => r.TaskRunId), [imported]);
    const ascending = await ok(['get-ml-task-runs', '--transform-id', transformId, '--sort', 'Column=STARTED,SortDirection=ASCENDING']);
    assert.deepEqual(
      (ascending.TaskRuns as { TaskRunId: string }[]).map((r) => r.TaskRunId),
      [generated.TaskRunId, imported, exported.TaskRunId, evaluated.TaskRunId],
    );
    // the CLI turns ISO input into epoch seconds on the wire
    const since = await ok(['get-ml-task-runs', '--transform-id', transformId, '--filter', 'StartedAfter=2020-01-01T00:00:00Z']);
    assert.equal(since.TaskRuns.length, 4);
    const future = await ok(['get-ml-task-runs', '--transform-id', transformId, '--filter', 'StartedAfter=2100-01-01T00:00:00Z']);
    assert.deepEqual(future.TaskRuns, []);
    const firstPage = await ok(['get-ml-task-runs', '--transform-id', transformId, '--max-results', '3']);
    assert.equal(firstPage.TaskRuns.length, 3);
    const lastPage = await ok(['get-ml-task-runs', '--transform-id', transformId, '--max-results', '3', '--next-token', firstPage.NextToken]);
    assert.deepEqual((lastPage.TaskRuns as { TaskRunId: string }[]).map((r) => r.TaskRunId), [generated.TaskRunId]);

    const hanging = await ok([
      'start-ml-labeling-set-generation-task-run',
      '--transform-id',
      transformId,
      '--output-s3-path',
      's3://scripted/hang?outcome=hang',
    ]);
    const running = await waitForRun(transformId, hanging.TaskRunId, new Set(['RUNNING']));
    assert.equal(running.CompletedOn, undefined);
    const cancelled = await ok(['cancel-ml-task-run', '--transform-id', transformId, '--task-run-id', hanging.TaskRunId]);
    assert.equal(cancelled.TransformId, transformId);
    assert.equal(cancelled.TaskRunId, hanging.TaskRunId);
    assert.ok(['STOPPING', 'STOPPED'].includes(cancelled.Status), cancelled.Status);
    assert.equal((await waitForRun(transformId, hanging.TaskRunId)).Status, 'STOPPED');
    const again = await ok(['cancel-ml-task-run', '--transform-id', transformId, '--task-run-id', imported]);
    assert.equal(again.Status, 'SUCCEEDED');

    const failed = await ok([
      'start-ml-labeling-set-generation-task-run',
      '--transform-id',
      transformId,
      '--output-s3-path',
      's3://scripted/x?outcome=fail&message=boom',
    ]);
    const failedRun = await waitForRun(transformId, failed.TaskRunId);
    assert.equal(failedRun.Status, 'FAILED');
    assert.ok(String(failedRun.ErrorString).includes('boom'), failedRun.ErrorString);
  });

  test('task runs: error paths', async () => {
    const database = sharedDatabase;
    const transformId = await createTransform(database);
    const other = await createTransform(database);

    await fails('InvalidInputException', [
      'start-ml-labeling-set-generation-task-run',
      '--transform-id',
      transformId,
      '--output-s3-path',
      '/local/path',
    ]);
    await fails('InvalidInputException', [
      'start-import-labels-task-run',
      '--transform-id',
      transformId,
      '--input-s3-path',
      // not http(s)://: CLI v1 fetches such parameter values itself
      'gs://bucket/labels.csv',
    ]);
    for (const args of [
      ['start-ml-labeling-set-generation-task-run', '--output-s3-path', 's3://scripted/x'],
      ['start-import-labels-task-run', '--input-s3-path', 's3://scripted/x'],
      ['start-export-labels-task-run', '--output-s3-path', 's3://scripted/x'],
      ['start-ml-evaluation-task-run'],
      ['get-ml-task-runs'],
      ['get-ml-task-run', '--task-run-id', MISSING_RUN],
      ['cancel-ml-task-run', '--task-run-id', MISSING_RUN],
    ]) {
      const message = await fails('EntityNotFoundException', [...args, '--transform-id', MISSING_TRANSFORM]);
      assert.equal(message, `Cannot find MLTransform in account ${ACCOUNT} with handle ${MISSING_TRANSFORM}.`);
    }
    const noRun = await fails('EntityNotFoundException', ['get-ml-task-run', '--transform-id', transformId, '--task-run-id', MISSING_RUN]);
    assert.equal(noRun, `No ML Task Run found for ${MISSING_RUN}: in account ${ACCOUNT} for transform ${transformId}.`);
    await fails('EntityNotFoundException', ['cancel-ml-task-run', '--transform-id', transformId, '--task-run-id', MISSING_RUN]);

    const own = await importLabels(other, 2);
    await fails('EntityNotFoundException', ['get-ml-task-run', '--transform-id', transformId, '--task-run-id', own]);

    const hanging: string[] = [];
    try {
      for (let i = 0; i < 3; i += 1) {
        const out = await ok([
          'start-ml-labeling-set-generation-task-run',
          '--transform-id',
          other,
          '--output-s3-path',
          `s3://scripted/hang-${i}?outcome=hang`,
        ]);
        hanging.push(out.TaskRunId);
      }
      await fails('ConcurrentRunsExceededException', [
        'start-ml-labeling-set-generation-task-run',
        '--transform-id',
        other,
        '--output-s3-path',
        's3://scripted/one-too-many?outcome=hang',
      ]);
      await fails('ConcurrentRunsExceededException', ['start-ml-evaluation-task-run', '--transform-id', other]);
      // the CLI retries throttling and 5xx (legacy mode, 5 attempts): a 400 must not create extra runs
      const active = await ok(['get-ml-task-runs', '--transform-id', other, '--filter', 'TaskRunType=LABELING_SET_GENERATION']);
      assert.equal(active.TaskRuns.length, 3);
    } finally {
      for (const runId of hanging) await aws(['cancel-ml-task-run', '--transform-id', other, '--task-run-id', runId]);
    }

    await fails('ValidationException', ['get-ml-task-runs', '--transform-id', transformId, '--filter', 'TaskRunType=BOGUS']);
    await fails('ValidationException', ['get-ml-task-runs', '--transform-id', transformId, '--max-results', '1001']);
  });

  test('tags: tag-resource, untag-resource, get-tags and their errors', async () => {
    const database = sharedDatabase;
    const transformId = await createTransform(database);
    const resource = arn(transformId);

    assert.deepEqual((await ok(['get-tags', '--resource-arn', resource])).Tags, {});
    await ok(['tag-resource', '--resource-arn', resource, '--tags-to-add', 'a=1,b=2,c=3']);
    await ok(['tag-resource', '--resource-arn', resource, '--tags-to-add', 'a=10']);
    assert.deepEqual(await ok(['untag-resource', '--resource-arn', resource, '--tags-to-remove', 'b', 'absent']), {});
    assert.deepEqual((await ok(['get-tags', '--resource-arn', resource])).Tags, { a: '10', c: '3' });
    assert.deepEqual((await ok(['list-ml-transforms', '--tags', 'a=10,c=3'])).TransformIds.includes(transformId), true);

    const missing = arn(MISSING_TRANSFORM);
    await fails('EntityNotFoundException', ['get-tags', '--resource-arn', missing]);
    await fails('EntityNotFoundException', ['tag-resource', '--resource-arn', missing, '--tags-to-add', 'a=1']);
    await fails('EntityNotFoundException', ['untag-resource', '--resource-arn', missing, '--tags-to-remove', 'a']);
    await fails('InvalidInputException', ['get-tags', '--resource-arn', `arn:aws:glue:${REGION}:${ACCOUNT}:somethingElse/${transformId}`]);
    await fails('InvalidInputException', ['get-tags', '--resource-arn', arn(transformId, 'eu-west-1')]);
    await fails('InvalidInputException', ['tag-resource', '--resource-arn', arn(transformId, REGION, '999999999999'), '--tags-to-add', 'a=1']);
    await fails('ValidationException', ['get-tags', '--resource-arn', 'not-an-arn']);
    const many = Array.from({ length: 50 }, (_, i) => `k${i}=v`).join(',');
    await fails('InvalidInputException', ['tag-resource', '--resource-arn', resource, '--tags-to-add', many]);

    await ok(['delete-ml-transform', '--transform-id', transformId]);
    await fails('EntityNotFoundException', ['get-tags', '--resource-arn', resource]);
  });

  test('wire format: timestamps are epoch-second numbers; resources are scoped per region', async () => {
    const database = sharedDatabase;
    const transformId = await createTransform(database);
    const wire = await ok(['get-ml-transform', '--transform-id', transformId], { profile: 'wire' });
    for (const key of ['CreatedOn', 'LastModifiedOn']) {
      assert.equal(typeof wire[key], 'number', `${key} on the wire: ${JSON.stringify(wire[key])}`);
      assert.ok(Math.abs(Date.now() / 1000 - wire[key]) < 600, `${key} ${wire[key]} is not epoch seconds near now`);
    }
    const db = await ok(['get-database', '--name', database], { profile: 'wire' });
    assert.equal(typeof db.Database.CreateTime, 'number');

    await fails('EntityNotFoundException', ['get-ml-transform', '--transform-id', transformId], { region: 'eu-west-1' });
    const elsewhere = await ok(['list-ml-transforms'], { region: 'eu-west-1' });
    assert.ok(!elsewhere.TransformIds.includes(transformId));
    await fails('EntityNotFoundException', ['get-database', '--name', database], { region: 'eu-west-1' });
  });

  test('server-side validation of input botocore would reject (parameter_validation = false)', async () => {
    const raw: CliOptions = { profile: 'raw' };
    await fails('ValidationException', ['get-ml-transforms', '--max-results', '0'], raw);
    await fails('ValidationException', ['create-database', '--database-input', JSON.stringify({ Name: '' })], raw);
    await fails('ValidationException', ['get-ml-transform', '--transform-id', ''], raw);
    await fails('ValidationException', ['get-tags', '--resource-arn', ''], raw);
  });
});
