/**
 * @aws-sdk/client-glue acceptance for crawlers: what a crawl run is (a task run: RUNNING, stopped by
 * StopCrawler, resumed after a server crash) on a server with scripted task runs, where a crawl's
 * first S3 target path carries the scripted directives; and a real crawl of quoted CSV whose table a
 * transform then reads. Classification, partitions and second crawls are covered with boto3
 * (crawlers-boto3.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateCrawlerCommand,
  CreateDatabaseCommand,
  CreateMLTransformCommand,
  DeleteCrawlerCommand,
  GetCrawlerCommand,
  GetCrawlerMetricsCommand,
  GetMLTransformCommand,
  GetTableCommand,
  GlueClient,
  ListCrawlsCommand,
  StartCrawlerCommand,
  StartMLLabelingSetGenerationTaskRunCommand,
  StopCrawlerCommand,
  UpdateCrawlerCommand,
} from '@aws-sdk/client-glue';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../support/s3-tools.js';
import { startServer, stopAndRemove, type TestServer } from '../support/server.js';
import { expectGlueError, glueClient, scriptedPath, uniqueName, validationMessage, waitForCrawl, waitForRun } from '../support/glue-client.js';

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
  before(async () => {
    server = await startServer();
    glue = glueClient(server);
  });
  after(() => stopAndRemove(server));

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
});
