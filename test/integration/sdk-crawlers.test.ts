/**
 * @aws-sdk/client-glue acceptance for crawlers: what a crawl run is (a task run: RUNNING, stopped by
 * StopCrawler, resumed after a server crash) on a server with scripted task runs, where a crawl's
 * first S3 target path carries the scripted directives; and real crawls whose tables a transform then
 * reads: quoted CSV (from the first line, or only from line 122 on), a partition whose file cannot be
 * classified, and a 1,200-column file. Classification, partitions and second crawls are covered with
 * boto3 (crawlers-boto3.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateCrawlerCommand,
  CreateDatabaseCommand,
  CreateMLTransformCommand,
  DeleteCrawlerCommand,
  GetPartitionsCommand,
  GetCrawlerCommand,
  GetCrawlerMetricsCommand,
  GetMLTransformCommand,
  GetTableCommand,
  GlueClient,
  ListCrawlsCommand,
  StartCrawlerCommand,
  StartImportLabelsTaskRunCommand,
  StartJobRunCommand,
  StartMLLabelingSetGenerationTaskRunCommand,
  StopCrawlerCommand,
  UpdateCrawlerCommand,
} from '@aws-sdk/client-glue';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { s3Client } from '../support/s3-tools.js';
import { startServer, stopAndRemove, type TestServer } from '../support/server.js';
import {
  createFindMatchesJob,
  createTableTransform,
  expectGlueError,
  glueClient,
  scriptedPath,
  uniqueName,
  validationMessage,
  waitForCrawl,
  waitForJobRun,
  waitForRun,
} from '../support/glue-client.js';

const ROLE = 'arn:aws:iam::123456789012:role/GlueCrawler';

async function crawlerState(glue: GlueClient, name: string) {
  return (await glue.send(new GetCrawlerCommand({ Name: name }))).Crawler!;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    assert.ok(Date.now() < deadline, `${what}: still ${JSON.stringify(value)}`);
    await sleep(50);
  }
}

describe('crawls as task runs (scripted)', () => {
  let server: TestServer;
  let glue: GlueClient;
  before(async () => {
    server = await startServer({ scriptedTasks: true });
    glue = glueClient(server);
  });
  after(() => stopAndRemove(server));

  it('StartCrawler runs a crawl; StopCrawler cancels it; the crawler is READY again with LastCrawl CANCELLED', async () => {
    const name = uniqueName('crawler');
    await glue.send(new CreateCrawlerCommand({ Name: name, Role: ROLE, DatabaseName: 'db', Targets: { S3Targets: [{ Path: scriptedPath({ outcome: 'hang' }) }] } }));
    const since = Date.now();
    await glue.send(new StartCrawlerCommand({ Name: name }));
    const running = await until(() => crawlerState(glue, name), (c) => c.State === 'RUNNING' && (c.CrawlElapsedTime ?? 0) > 0, 'RUNNING');
    assert.equal(running.LastCrawl, undefined, 'no crawl has ended yet');
    await expectGlueError(glue.send(new StartCrawlerCommand({ Name: name })), { name: 'CrawlerRunningException', message: /already started/ });
    await expectGlueError(glue.send(new UpdateCrawlerCommand({ Name: name, Description: 'x' })), { name: 'CrawlerRunningException' });
    await expectGlueError(glue.send(new DeleteCrawlerCommand({ Name: name })), { name: 'CrawlerRunningException' });
    const { CrawlerMetricsList: [metrics] = [] } = await glue.send(new GetCrawlerMetricsCommand({ CrawlerNameList: [name] }));
    assert.equal(metrics!.StillEstimating, true, 'a first crawl has no runtimes to estimate from');

    await glue.send(new StopCrawlerCommand({ Name: name }));
    const stopped = await waitForCrawl(glue, name, since);
    assert.equal(stopped.LastCrawl!.Status, 'CANCELLED');
    assert.equal(stopped.CrawlElapsedTime, 0);
    await expectGlueError(glue.send(new StopCrawlerCommand({ Name: name })), { name: 'CrawlerNotRunningException' });
    const { Crawls = [] } = await glue.send(new ListCrawlsCommand({ CrawlerName: name }));
    assert.deepEqual(Crawls.map((c) => c.State), ['STOPPED']);
    assert.equal(Crawls[0]!.CrawlId, stopped.LastCrawl!.MessagePrefix);
    assert.ok(Crawls[0]!.EndTime! >= Crawls[0]!.StartTime!);

    // A failed crawl: LastCrawl FAILED with the crawl's error.
    await glue.send(new UpdateCrawlerCommand({ Name: name, Targets: { S3Targets: [{ Path: scriptedPath({ outcome: 'fail', message: 'no access' }) }] } }));
    const again = Date.now();
    await glue.send(new StartCrawlerCommand({ Name: name }));
    const failed = await waitForCrawl(glue, name, again);
    assert.equal(failed.LastCrawl!.Status, 'FAILED');
    assert.equal(failed.LastCrawl!.ErrorMessage, 'no access');
    assert.equal(failed.Version, 2);
    const filtered = await glue.send(new ListCrawlsCommand({ CrawlerName: name, Filters: [{ FieldName: 'STATE', FilterOperator: 'EQ', FieldValue: 'FAILED' }] }));
    assert.equal(filtered.Crawls!.length, 1);
    const afterFirst = new Date(Crawls[0]!.EndTime!.getTime() + 1).toISOString();
    const later = await glue.send(new ListCrawlsCommand({ CrawlerName: name, Filters: [{ FieldName: 'START_TIME', FilterOperator: 'GT', FieldValue: afterFirst }] }));
    assert.deepEqual(later.Crawls!.map((c) => c.State), ['FAILED']);
    await expectGlueError(
      glue.send(new ListCrawlsCommand({ CrawlerName: name, Filters: [{ FieldName: 'STATE', FilterOperator: 'LT', FieldValue: 'FAILED' }] })),
      { name: 'InvalidInputException', message: 'Only EQ or NE operator is allowed for field : STATE' },
    );
    await expectGlueError(glue.send(new ListCrawlsCommand({ CrawlerName: name, Filters: [{ FieldName: 'CRAWL_ID', FilterOperator: 'EQ' }] })), {
      name: 'InvalidInputException',
      message: /Invalid Filter Provided/,
    });
    await glue.send(new DeleteCrawlerCommand({ Name: name }));
  });

  it('a crawl cut short by a server crash is not retried: the next server ends it FAILED, naming the dead node, not left RUNNING', async () => {
    const name = uniqueName('crawler');
    await glue.send(new CreateCrawlerCommand({ Name: name, Role: ROLE, Targets: { S3Targets: [{ Path: scriptedPath({ sleep: 5000 }) }] } }));
    const since = Date.now();
    await glue.send(new StartCrawlerCommand({ Name: name }));
    await until(() => crawlerState(glue, name), (c) => c.State === 'RUNNING', 'RUNNING');
    await server.kill();
    server = await startServer({ scriptedTasks: true, dataDir: server.dataDir });
    glue = glueClient(server);
    const crawler = await waitForCrawl(glue, name, since);
    assert.equal(crawler.LastCrawl!.Status, 'FAILED');
    assert.match(
      crawler.LastCrawl!.ErrorMessage ?? '',
      /^Crawl failed: the doppel node running it \(\S+\) died or stopped renewing its lease\. A crawl is not retried \(crawlers have no MaxRetries\); start it again\.$/,
    );
    await glue.send(new StartCrawlerCommand({ Name: name }));
    // The next crawl starts afresh (the failed one is the only other).
    await until(() => crawlerState(glue, name), (c) => c.State === 'READY' && c.LastCrawl?.Status === 'SUCCEEDED', 'the next crawl SUCCEEDED');
  });

  it('validates requests against the model and names what doppel cannot crawl', async () => {
    await expectGlueError(glue.send(new CreateCrawlerCommand({ Name: uniqueName('c'), Role: ROLE, Targets: {}, TablePrefix: 'x'.repeat(200) })), {
      name: 'ValidationException',
      message: validationMessage('tablePrefix', 'Member must have length less than or equal to 128'),
    });
    await expectGlueError(
      glue.send(new CreateCrawlerCommand({ Name: uniqueName('c'), Role: ROLE, Targets: { DynamoDBTargets: [{ Path: 'orders' }] } })),
      { name: 'InvalidInputException', message: /Targets\.DynamoDBTargets is not supported/ },
    );
    await expectGlueError(
      glue.send(new CreateCrawlerCommand({ Name: uniqueName('c'), Role: ROLE, Targets: { S3Targets: [{ Path: 'data/people' }] } })),
      { name: 'InvalidInputException', message: /Targets\.S3Targets\[0\]\.Path/ },
    );
    await expectGlueError(glue.send(new ListCrawlsCommand({ CrawlerName: 'missing' })), {
      name: 'EntityNotFoundException',
      message: 'Crawler entry with name missing does not exist',
    });
  });
});

describe('a crawled table feeds a transform', () => {
  let server: TestServer;
  let glue: GlueClient;
  let s3: S3Client;
  before(async () => {
    server = await startServer();
    glue = glueClient(server);
    s3 = s3Client(server);
  });
  after(() => stopAndRemove(server));

  /** Uploads `files` to a new bucket and crawls `folder` of it into a new database: the database's name. */
  async function crawled(bucket: string, folder: string, files: Record<string, string | Buffer>): Promise<string> {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const [key, body] of Object.entries(files)) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const database = bucket.replaceAll('-', '_');
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database } }));
    await glue.send(new CreateCrawlerCommand({ Name: bucket, Role: ROLE, DatabaseName: database, Targets: { S3Targets: [{ Path: `s3://${bucket}/${folder}` }] } }));
    const since = Date.now();
    await glue.send(new StartCrawlerCommand({ Name: bucket }));
    const crawler = await waitForCrawl(glue, bucket, since, 100_000);
    assert.equal(crawler.LastCrawl!.Status, 'SUCCEEDED', crawler.LastCrawl!.ErrorMessage);
    return database;
  }

  /**
   * Every record of a table (primary key `id`) as a findmatches job writes it: a labeling set is
   * generated and imported as it comes (its labels are pre-filled), then the job runs over the table.
   */
  async function recordsRead(database: string, table: string, bucket: string): Promise<Array<Record<string, string>>> {
    const transformId = await createTableTransform(glue, { database, table, name: uniqueName('read') });
    const labeling = await glue.send(new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: `s3://${bucket}/labeling/` }));
    const generated = await waitForRun(glue, transformId, labeling.TaskRunId!, undefined, 100_000);
    assert.equal(generated.Status, 'SUCCEEDED', generated.ErrorString);
    const importing = await glue.send(new StartImportLabelsTaskRunCommand({ TransformId: transformId, InputS3Path: `s3://${bucket}/labeling/part-00000.csv` }));
    const imported = await waitForRun(glue, transformId, importing.TaskRunId!, undefined, 60_000);
    assert.equal(imported.Status, 'SUCCEEDED', imported.ErrorString);
    const jobName = uniqueName('read-job');
    await createFindMatchesJob(glue, { name: jobName, transformId, defaultArguments: { '--output-path': `s3://${bucket}/matches/` } });
    const { JobRunId } = await glue.send(new StartJobRunCommand({ JobName: jobName }));
    const run = await waitForJobRun(glue, jobName, JobRunId!);
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'matches/' }));
    const records: Array<Record<string, string>> = [];
    for (const { Key } of Contents.filter((o) => /\/part-\d+\.csv$/.test(o.Key!))) {
      const text = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body!.transformToString('utf8');
      records.push(...(parse(text, { columns: true }) as Array<Record<string, string>>));
    }
    return records;
  }

  it('quoted CSV becomes an OpenCSVSerde table that a labeling set run reads', { timeout: 120_000 }, async () => {
    const s3 = s3Client(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'crawled' }));
    const rows = ['"id","name","city","visits"'];
    for (let i = 0; i < 40; i++) rows.push(`"p${i}","${['Smith, Ann', 'Smith, Anne', 'Jones, Bob', 'Jones, Rob'][i % 4]}","${i % 2 ? 'Oslo' : 'Bergen'}","${i % 5}"`);
    await s3.send(new PutObjectCommand({ Bucket: 'crawled', Key: 'customers/2024/part-0.csv', Body: rows.slice(0, 21).join('\n') + '\n' }));
    await s3.send(new PutObjectCommand({ Bucket: 'crawled', Key: 'customers/2025/part-0.csv', Body: [rows[0], ...rows.slice(21)].join('\n') + '\n' }));
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'crm' } }));
    await glue.send(new CreateCrawlerCommand({ Name: 'customers', Role: ROLE, DatabaseName: 'crm', Targets: { S3Targets: [{ Path: 's3://crawled/customers/' }] } }));
    const since = Date.now();
    await glue.send(new StartCrawlerCommand({ Name: 'customers' }));
    assert.equal((await waitForCrawl(glue, 'customers', since)).LastCrawl!.Status, 'SUCCEEDED');

    const { Table } = await glue.send(new GetTableCommand({ DatabaseName: 'crm', Name: 'customers' }));
    assert.equal(Table!.StorageDescriptor!.SerdeInfo!.SerializationLibrary, 'org.apache.hadoop.hive.serde2.OpenCSVSerde');
    // Folders that are not key=value are partitions partition_0, …, read through their catalog Locations.
    assert.deepEqual(Table!.PartitionKeys, [{ Name: 'partition_0', Type: 'string' }]);
    assert.equal(Table!.Parameters!['skip.header.line.count'], '1');

    const { TransformId } = await glue.send(new CreateMLTransformCommand({
      Name: uniqueName('dedupe'),
      Role: ROLE,
      InputRecordTables: [{ DatabaseName: 'crm', TableName: 'customers' }],
      Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: 'id' } },
    }));
    const { Schema } = await glue.send(new GetMLTransformCommand({ TransformId }));
    assert.deepEqual(Schema, [
      { Name: 'id', DataType: 'string' },
      { Name: 'name', DataType: 'string' },
      { Name: 'city', DataType: 'string' },
      { Name: 'visits', DataType: 'bigint' },
      { Name: 'partition_0', DataType: 'string' },
    ]);
    const { TaskRunId } = await glue.send(new StartMLLabelingSetGenerationTaskRunCommand({ TransformId, OutputS3Path: 's3://crawled/labeling/' }));
    const run = await waitForRun(glue, TransformId!, TaskRunId!, undefined, 100_000);
    assert.equal(run.Status, 'SUCCEEDED', run.ErrorString);
  });

  it('a CSV whose first quote is on line 122 is an OpenCSVSerde table, read without the quotes', { timeout: 180_000 }, async () => {
    const names = ['Smith, Ann', 'Smith, Anne', 'Jones, Bob', 'Jones, Rob'];
    const lines = ['id,name,city,visits'];
    // Lines 2-121 unquoted (the first 100 lines are all a sample would see), then quoted fields holding the delimiter.
    for (let i = 0; i < 150; i++) {
      const name = names[i % 4]!;
      lines.push(i < 120 ? `p${i},${name.replace(', ', ' ')},Oslo,${i % 5}` : `p${i},"${name}","Bergen",${i % 5}`);
    }
    const database = await crawled('late-quote', 'people/', { 'people/data.csv': `${lines.join('\n')}\n` });
    const { Table } = await glue.send(new GetTableCommand({ DatabaseName: database, Name: 'people' }));
    assert.equal(Table!.StorageDescriptor!.SerdeInfo!.SerializationLibrary, 'org.apache.hadoop.hive.serde2.OpenCSVSerde');
    assert.equal(Table!.Parameters!['areColumnsQuoted'], 'true');
    assert.deepEqual(Table!.StorageDescriptor!.Columns!.map((c) => [c.Name, c.Type]), [['id', 'string'], ['name', 'string'], ['city', 'string'], ['visits', 'bigint']]);

    const records = await recordsRead(database, 'people', 'late-quote');
    assert.equal(records.length, 150);
    const byId = new Map(records.map((r) => [r['id'], r]));
    assert.deepEqual([byId.get('p121')!['name'], byId.get('p121')!['city']], ['Smith, Anne', 'Bergen']);
    assert.deepEqual([byId.get('p1')!['name'], byId.get('p1')!['city']], ['Smith Anne', 'Oslo']);
    assert.ok(records.every((r) => Object.values(r).every((v) => !v.includes('"'))), 'no value keeps a quote character');
  });

  it('a file the crawl cannot classify is none of the table: its partition is left out and the log says why', { timeout: 180_000 }, async () => {
    // A number column makes the first line a header (AWS's rule: some column below it is not text).
    const rows = ['id,name,city,age'];
    for (let i = 0; i < 40; i++) rows.push(`r${i},${['Robert Alan', 'Rob Alan', 'Ann Lee', 'Anne Lee'][i % 4]},${i % 2 ? 'Leeds' : 'York'},${30 + (i % 7)}`);
    const good = `${rows.join('\n')}\n`;
    // The same rows with one Latin-1 byte (é) on line 2: not UTF-8.
    const latin1 = Buffer.from(good.replace('Robert', 'Rob\u00e9rt'), 'latin1');
    const database = await crawled('partx', 't/', { 't/x=1/a.csv': good, 't/x=2/b.csv': latin1 });
    const { Table } = await glue.send(new GetTableCommand({ DatabaseName: database, Name: 't' }));
    assert.deepEqual(Table!.PartitionKeys, [{ Name: 'x', Type: 'string' }]);
    assert.equal(Table!.Parameters!['objectCount'], '1');
    const { Partitions = [] } = await glue.send(new GetPartitionsCommand({ DatabaseName: database, TableName: 't' }));
    assert.deepEqual(Partitions.map((p) => [p.Values, p.StorageDescriptor!.Location]), [[['1'], 's3://partx/t/x=1/']]);
    assert.match(server.output(), /s3:\/\/partx\/t\/x=2\/b\.csv not classified: .*CSV Error on Line: 2: .*This file is not utf-8 encoded/);

    const records = await recordsRead(database, 't', 'partx');
    assert.equal(records.length, 40);
    assert.ok(records.every((r) => r['x'] === '1'));
  });

  it('a CSV of 1,200 columns is crawled', { timeout: 120_000 }, async () => {
    const width = 1200;
    // Column j (after id) holds integers, decimals or names by j % 3.
    const header = ['id', ...Array.from({ length: width - 1 }, (_, j) => `f${j + 1}`)];
    const value = (row: number, j: number) => (j % 3 === 0 ? String(row * j) : j % 3 === 1 ? `${row}.5` : `name${row}`);
    const lines = [header.join(',')];
    for (let row = 0; row < 300; row++) lines.push([`r${row}`, ...Array.from({ length: width - 1 }, (_, j) => value(row, j + 1))].join(','));
    const database = await crawled('wide', 'wide/', { 'wide/data.csv': `${lines.join('\n')}\n` });
    const { Table } = await glue.send(new GetTableCommand({ DatabaseName: database, Name: 'wide' }));
    const columns = Table!.StorageDescriptor!.Columns!;
    assert.equal(columns.length, width);
    assert.deepEqual(columns.slice(0, 4).map((c) => [c.Name, c.Type]), [['id', 'string'], ['f1', 'double'], ['f2', 'string'], ['f3', 'bigint']]);
    assert.deepEqual([columns[width - 1]!.Name, columns[width - 1]!.Type], ['f1199', 'string']);
  });
});
