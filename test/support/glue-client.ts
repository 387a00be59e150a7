/**
 * Helpers for the @aws-sdk/client-glue acceptance suite (test/integration/sdk-*.test.ts): a client
 * factory pointed at a TestServer, catalog, transform and findmatches job fixtures, error assertions,
 * task-run polling and a round of teaching a transform with labels from the truth.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateDatabaseCommand,
  CreateJobCommand,
  CreateMLTransformCommand,
  CreateTableCommand,
  GetCrawlerCommand,
  GetJobRunCommand,
  GetMLTaskRunCommand,
  GetMLTransformCommand,
  GlueClient,
  StartImportLabelsTaskRunCommand,
  StartMLLabelingSetGenerationTaskRunCommand,
  type Crawler,
  type JobRun,
  type Column,
  type CreateJobCommandInput,
  type CreateMLTransformCommandInput,
  type GetMLTaskRunCommandOutput,
  type GetMLTransformCommandOutput,
  type TaskStatusType,
} from '@aws-sdk/client-glue';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import {
  DEFAULT_ACCOUNT_ID,
  TEST_CREDENTIALS,
  TEST_REGION,
  startServer,
  stopAndRemove,
  type StartOptions,
  type TestServer,
} from './server.js';

export interface ClientOptions {
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Shifts the signing clock (ms), to produce stale signatures. */
  systemClockOffset?: number;
}

/**
 * A GlueClient for the server. Retries are off so that every request in a test is exactly one
 * HTTP exchange (a mis-stated 5xx would otherwise be retried and hidden).
 */
export function glueClient(server: TestServer, options: ClientOptions = {}): GlueClient {
  return new GlueClient({
    endpoint: server.endpoint,
    region: options.region ?? TEST_REGION,
    credentials: options.credentials ?? TEST_CREDENTIALS,
    maxAttempts: 1,
    ...(options.systemClockOffset !== undefined ? { systemClockOffset: options.systemClockOffset } : {}),
  });
}

/** A server and a GlueClient for it: what most acceptance files share across their tests. */
export interface GlueServer {
  server: TestServer;
  glue: GlueClient;
}

/** Starts a server (see startServer) with a GlueClient for it, typically in a suite's `before`. */
export async function startGlueServer(options: StartOptions = {}): Promise<GlueServer> {
  const server = await startServer(options);
  return { server, glue: glueClient(server) };
}

/** Undoes startGlueServer, in a suite's `after`; either member may be unset if `before` failed. */
export async function stopGlueServer({ server, glue }: Partial<GlueServer>): Promise<void> {
  glue?.destroy();
  await stopAndRemove(server);
}

let counter = 0;
/** A name unique within this test process (lower case, valid for catalog and transform names). */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`.toLowerCase();
}

/** CreateMLTransform and CreateJob require a Role; the fixtures' transforms and jobs all name this one. */
const GLUE_ROLE = 'arn:aws:iam::123456789012:role/GlueRole';

export function transformArn(transformId: string, region = TEST_REGION, account = DEFAULT_ACCOUNT_ID): string {
  return `arn:aws:glue:${region}:${account}:mlTransform/${transformId}`;
}

export const DEFAULT_COLUMNS: Column[] = [
  { Name: 'id', Type: 'string' },
  { Name: 'name', Type: 'string' },
  { Name: 'email', Type: 'string' },
  { Name: 'age', Type: 'int' },
];

export interface TableSpec {
  database?: string;
  table?: string;
  columns?: Column[];
  partitionKeys?: Column[];
}

/** Creates a database (if `database` is not given, a fresh one) and a CSV table in it. */
export async function createCatalogTable(
  client: GlueClient,
  spec: TableSpec = {},
): Promise<{ database: string; table: string }> {
  const database = spec.database ?? uniqueName('db');
  const table = spec.table ?? uniqueName('tbl');
  if (spec.database === undefined) {
    await client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database } }));
  }
  await client.send(
    new CreateTableCommand({
      DatabaseName: database,
      TableInput: {
        Name: table,
        TableType: 'EXTERNAL_TABLE',
        Parameters: { classification: 'csv', 'skip.header.line.count': '1' },
        PartitionKeys: spec.partitionKeys,
        StorageDescriptor: {
          Columns: spec.columns ?? DEFAULT_COLUMNS,
          Location: `s3://doppel-test/${database}/${table}/`,
          InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          SerdeInfo: {
            SerializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe',
            Parameters: { 'field.delim': ',' },
          },
        },
      },
    }),
  );
  return { database, table };
}

export interface OpenCsvTableSpec {
  database: string;
  table: string;
  /** Column names, all of type string. */
  columns: string[];
  /** Where the CSV files (with a header line) are. */
  location: string;
  /** Partition key names, all of type string; the partitions themselves are the caller's to create. */
  partitionKeys?: string[];
  serdeParameters?: Record<string, string>;
}

/** An OpenCSVSerde table over CSV files with a header line, in an existing database. */
export async function createOpenCsvTable(client: GlueClient, spec: OpenCsvTableSpec): Promise<void> {
  await client.send(
    new CreateTableCommand({
      DatabaseName: spec.database,
      TableInput: {
        Name: spec.table,
        Parameters: { classification: 'csv', 'skip.header.line.count': '1' },
        ...(spec.partitionKeys ? { PartitionKeys: spec.partitionKeys.map((Name) => ({ Name, Type: 'string' })) } : {}),
        StorageDescriptor: {
          Columns: spec.columns.map((Name) => ({ Name, Type: 'string' })),
          Location: spec.location,
          SerdeInfo: {
            SerializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde',
            ...(spec.serdeParameters ? { Parameters: spec.serdeParameters } : {}),
          },
        },
      },
    }),
  );
}

/** The table a transform reads and its name; a CreateMLTransform member given besides (Role, WorkerType, …) replaces the default. */
export type TableTransformSpec = { database: string; table: string; name: string } & Partial<Omit<CreateMLTransformCommandInput, 'Name'>>;

/** A FIND_MATCHES transform (primary key `id`) on an existing table: its TransformId. */
export async function createTableTransform(client: GlueClient, spec: TableTransformSpec): Promise<string> {
  const { database, table, name, ...input } = spec;
  const { TransformId } = await client.send(
    new CreateMLTransformCommand({
      Name: name,
      Role: GLUE_ROLE,
      InputRecordTables: [{ DatabaseName: database, TableName: table }],
      Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: 'id' } },
      ...input,
    }),
  );
  assert.ok(TransformId, 'CreateMLTransform returned no TransformId');
  return TransformId;
}

export interface OpenCsvTransformSpec extends OpenCsvTableSpec {
  /** The transform's name. */
  name: string;
}

/** An OpenCSVSerde table over CSV files with a header line, and a FIND_MATCHES transform on it (primary key `id`): its TransformId. */
export async function createOpenCsvTransform(client: GlueClient, spec: OpenCsvTransformSpec): Promise<string> {
  await createOpenCsvTable(client, spec);
  return createTableTransform(client, { database: spec.database, table: spec.table, name: spec.name });
}

export interface FindMatchesJobSpec extends Omit<CreateJobCommandInput, 'Name' | 'Role' | 'Command' | 'DefaultArguments'> {
  name: string;
  transformId: string;
  /** Default arguments besides --transform-id (e.g. --output-path). */
  defaultArguments?: Record<string, string>;
}

/** A `findmatches` job running the transform; the other members of the request (ExecutionProperty, MaxRetries, …) as given. */
export async function createFindMatchesJob(client: GlueClient, spec: FindMatchesJobSpec): Promise<void> {
  const { name, transformId, defaultArguments, ...input } = spec;
  await client.send(
    new CreateJobCommand({
      Name: name,
      Role: GLUE_ROLE,
      Command: { Name: 'findmatches' },
      DefaultArguments: { '--transform-id': transformId, ...defaultArguments },
      ...input,
    }),
  );
}

export interface TransformFixture {
  transformId: string;
  name: string;
  database: string;
  table: string;
}

export type TransformOverrides = Partial<CreateMLTransformCommandInput> & TableSpec;

/** Creates a database, a table and a FIND_MATCHES transform over it (primary key `id`). */
export async function createTransform(
  client: GlueClient,
  overrides: TransformOverrides = {},
): Promise<TransformFixture> {
  const { database: db, table: tbl, columns, partitionKeys, Name, ...input } = overrides;
  const { database, table } = await createCatalogTable(client, {
    database: db,
    table: tbl,
    columns,
    partitionKeys,
  });
  const name = Name ?? uniqueName('xform');
  const transformId = await createTableTransform(client, { database, table, name, ...input });
  return { transformId, name, database, table };
}

export async function getTransform(client: GlueClient, transformId: string): Promise<GetMLTransformCommandOutput> {
  return client.send(new GetMLTransformCommand({ TransformId: transformId }));
}

export interface ExpectedError {
  name: string;
  /** Exact message, or a pattern it must match. Omitted: only required to be non-empty. */
  message?: string | RegExp;
  /** Defaults to 400. */
  status?: number;
}

interface SdkErrorShape {
  name?: unknown;
  message?: unknown;
  Message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
}

/**
 * Awaits `call` and asserts it failed with the given Glue error, checking the fields the SDK
 * exposes: name, message, $metadata.httpStatusCode, $metadata.requestId and $fault.
 */
export async function expectGlueError(call: Promise<unknown>, expected: ExpectedError): Promise<SdkErrorShape> {
  let error: unknown;
  try {
    const out = await call;
    assert.fail(`expected ${expected.name}, but the call succeeded: ${JSON.stringify(out)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    error = e;
  }
  assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
  const err = error as Error & SdkErrorShape;
  const status = expected.status ?? 400;
  const summary = `${String(err.name)} (${String(err.$metadata?.httpStatusCode)}): ${err.message}`;
  assert.equal(err.name, expected.name, `error name; got ${summary}`);
  if (expected.message === undefined) {
    assert.ok(typeof err.message === 'string' && err.message.length > 0, `empty message; got ${summary}`);
  } else if (typeof expected.message === 'string') {
    assert.equal(err.message, expected.message, `error message; got ${summary}`);
  } else {
    assert.match(err.message, expected.message, `error message; got ${summary}`);
  }
  assert.equal(err.$metadata?.httpStatusCode, status, `HTTP status; got ${summary}`);
  const requestId = err.$metadata?.requestId;
  assert.ok(typeof requestId === 'string' && requestId.length > 0, `$metadata.requestId missing; got ${summary}`);
  assert.equal(err.$fault, status >= 500 ? 'server' : 'client', `$fault; got ${summary}`);
  return err;
}

/** The Coral-style ValidationException message must name the member path and the violated rule. */
export function validationMessage(path: string, rule: string): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // [\s\S]: the echoed value may itself contain line breaks.
  return new RegExp(`validation errors? detected: [\\s\\S]*at '${esc(path)}' failed to satisfy constraint: ${esc(rule)}`);
}

export const TERMINAL: readonly TaskStatusType[] = ['SUCCEEDED', 'FAILED', 'TIMEOUT', 'STOPPED'];

/** Polls GetMLTaskRun until the run's status is one of `statuses` (default: any terminal one). */
export async function waitForRun(
  client: GlueClient,
  transformId: string,
  taskRunId: string,
  statuses: readonly TaskStatusType[] = TERMINAL,
  timeoutMs = 15_000,
): Promise<GetMLTaskRunCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  let last: GetMLTaskRunCommandOutput | undefined;
  while (Date.now() < deadline) {
    last = await client.send(new GetMLTaskRunCommand({ TransformId: transformId, TaskRunId: taskRunId }));
    if (last.Status && statuses.includes(last.Status)) return last;
    await sleep(25);
  }
  assert.fail(`task run ${taskRunId} did not reach ${statuses.join('|')} in ${timeoutMs} ms (last: ${last?.Status})`);
}

/** Polls GetCrawler until the crawler is READY after a crawl (its LastCrawl started at or after `since`). */
export async function waitForCrawl(glue: GlueClient, name: string, since: number, timeoutMs = 60_000): Promise<Crawler> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Crawler: crawler } = await glue.send(new GetCrawlerCommand({ Name: name }));
    const started = crawler?.LastCrawl?.StartTime?.getTime() ?? 0;
    if (crawler?.State === 'READY' && started >= since - 1000) return crawler;
    assert.ok(Date.now() < deadline, `crawler ${name} still ${crawler?.State} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Polls GetJobRun until the job run ends. */
export async function waitForJobRun(glue: GlueClient, jobName: string, runId: string, timeoutMs = 120_000): Promise<JobRun> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { JobRun } = await glue.send(new GetJobRunCommand({ JobName: jobName, RunId: runId }));
    if (['SUCCEEDED', 'FAILED', 'TIMEOUT', 'STOPPED'].includes(JobRun!.JobRunState!)) return JobRun!;
    assert.ok(Date.now() < deadline, `job run ${runId} still ${JobRun!.JobRunState}`);
    await sleep(100);
  }
}

/** Polls GetMLTransform until `check` accepts it. */
export async function waitForTransform(
  client: GlueClient,
  transformId: string,
  check: (t: GetMLTransformCommandOutput) => boolean,
  timeoutMs = 10_000,
): Promise<GetMLTransformCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  let last: GetMLTransformCommandOutput | undefined;
  while (Date.now() < deadline) {
    last = await getTransform(client, transformId);
    if (check(last)) return last;
    await sleep(25);
  }
  assert.fail(`transform ${transformId} did not reach the expected state (last: ${last?.Status}, ${last?.LabelCount})`);
}

/** Where one round of teaching (see teachOnce) keeps its files, and what it knows. */
export interface TeachingRound {
  transformId: string;
  /** A client of the store the transform's paths are in. */
  s3: S3Client;
  bucket: string;
  /** The folder (key prefix ending in `/`) the labeling set is written under. */
  labelingPrefix: string;
  /** The key the labeled file is written to and imported from. */
  labelsKey: string;
  /** Each record's entity, by the record's id: the first column of the records (Dataset.truth). */
  truth: ReadonlyMap<string, string>;
  /** How long each of the two task runs may take (default 120 s for the labeling set, 60 s for the import). */
  timeoutMs?: number;
}

/**
 * One round of teaching a transform as a person who knows the truth would: a labeling set is
 * generated, each of its records labeled with its entity, and the file imported; both runs must
 * succeed. Returns the labeling set's rows as generated, header first.
 */
export async function teachOnce(glue: GlueClient, round: TeachingRound): Promise<string[][]> {
  const { transformId, s3, bucket } = round;
  const generation = await glue.send(
    new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: `s3://${bucket}/${round.labelingPrefix}` }),
  );
  const generated = await waitForRun(glue, transformId, generation.TaskRunId!, undefined, round.timeoutMs ?? 120_000);
  assert.equal(generated.Status, 'SUCCEEDED', generated.ErrorString);
  const file = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${round.labelingPrefix}part-00000.csv` }));
  const rows = parse(await file.Body!.transformToString('utf8')) as string[][];
  // Columns: labeling_set_id, label, then the record's, its id first.
  const labeled = [rows[0]!, ...rows.slice(1).map((r) => [r[0]!, round.truth.get(r[2]!)!, ...r.slice(2)])];
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: round.labelsKey, Body: stringify(labeled) }));
  const importing = await glue.send(
    new StartImportLabelsTaskRunCommand({ TransformId: transformId, InputS3Path: `s3://${bucket}/${round.labelsKey}` }),
  );
  const imported = await waitForRun(glue, transformId, importing.TaskRunId!, undefined, round.timeoutMs ?? 60_000);
  assert.equal(imported.Status, 'SUCCEEDED', imported.ErrorString);
  return rows;
}

/** An S3 path carrying directives for the scripted test-only task kind. */
export function scriptedPath(directives: Record<string, string | number> = {}, key = 'run'): string {
  const query = new URLSearchParams(
    Object.entries(directives).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();
  return `s3://scripted/${key}${query ? `?${query}` : ''}`;
}

/** The output members other than $metadata (for operations whose output shape is empty). */
export function payloadKeys(out: object): string[] {
  return Object.keys(out).filter((k) => k !== '$metadata');
}

export function assertDate(value: unknown, label: string): Date {
  assert.ok(value instanceof Date, `${label} should be a Date, got ${String(value)}`);
  assert.ok(!Number.isNaN(value.getTime()), `${label} is an invalid Date`);
  return value;
}

/** Asserts `d` lies within [before - slack, after + slack] (ms). */
export function assertRecent(d: Date, before: number, after: number, label: string, slackMs = 2000): void {
  const t = d.getTime();
  assert.ok(t >= before - slackMs && t <= after + slackMs, `${label} ${d.toISOString()} not near now`);
}

/** Collects every page of a JS v3 paginator. */
export async function collectPages<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(page);
  return out;
}
