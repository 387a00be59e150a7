/**
 * FindMatches over a partitioned catalog table whose partitions live in separate folders: one in
 * the Hive folder under the table's Location, one at a Location of its own outside it, one in
 * another bucket. The labeling set, the label import, the evaluation and a findmatches job read
 * every partition (the partition key as a column, its value from the catalog); a job with
 * --push-down-predicate reads only the partitions the predicate selects.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BatchCreatePartitionCommand,
  CreateDatabaseCommand,
  StartJobRunCommand,
  StartMLEvaluationTaskRunCommand,
  type GlueClient,
} from '@aws-sdk/client-glue';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { createFindMatchesJob, createOpenCsvTable, createTableTransform, getTransform, glueClient, teachOnce, waitForJobRun, waitForRun, waitForTransform } from '../support/glue-client.js';
import { runCli } from '../support/cli.js';
import { loadDataset, type Dataset } from '../support/datasets.js';
import { findMatchesRunProperties } from '../support/raw-glue.js';
import { s3Client } from '../support/s3-tools.js';
import { startServer, type TestServer } from '../support/server.js';

const BUCKET = 'partitioned-records';
const OTHER_BUCKET = 'partition-elsewhere';
const SOURCES = ['north', 'south', 'west'] as const;

describe('FindMatches over a partitioned table', { timeout: 600_000 }, () => {
  let server: TestServer;
  let glue: GlueClient;
  let s3: S3Client;
  let ds: Dataset;
  let transformId: string;
  /** Each record's partition (the `source` key). */
  const sourceOf = new Map<string, string>();
  const jobName = 'dedupe-partitioned';

  const getText = async (bucket: string, key: string) =>
    (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString('utf8');

  before(async () => {
    ds = loadDataset('restaurant');
    server = await startServer();
    glue = glueClient(server);
    s3 = s3Client(server);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new CreateBucketCommand({ Bucket: OTHER_BUCKET }));
    // Records dealt round-robin into three partitions, each a CSV file with a header line.
    const rowsOf = new Map<string, string[][]>(SOURCES.map((s) => [s, []]));
    ds.records.forEach((r, i) => {
      const source = SOURCES[i % SOURCES.length]!;
      sourceOf.set(r['id']!, source);
      rowsOf.get(source)!.push(ds.header.map((h) => r[h]!));
    });
    const csv = (source: string) => stringify([ds.header, ...rowsOf.get(source)!]);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'restaurants/source=north/part-0.csv', Body: csv('north') }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'imports/2024/south.csv', Body: csv('south') }));
    await s3.send(new PutObjectCommand({ Bucket: OTHER_BUCKET, Key: 'west/data.csv', Body: csv('west') }));
    // Not a partition in the catalog: a table read through its catalog partitions never sees it.
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'restaurants/source=stray/part-0.csv', Body: csv('north') }));

    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'eats' } }));
    await createOpenCsvTable(glue, {
      database: 'eats',
      table: 'restaurants',
      columns: ds.header,
      location: `s3://${BUCKET}/restaurants/`,
      partitionKeys: ['source'],
    });
    const { Errors } = await glue.send(
      new BatchCreatePartitionCommand({
        DatabaseName: 'eats',
        TableName: 'restaurants',
        PartitionInputList: [
          { Values: ['north'] },
          { Values: ['south'], StorageDescriptor: { Location: `s3://${BUCKET}/imports/2024/` } },
          { Values: ['west'], StorageDescriptor: { Location: `s3://${OTHER_BUCKET}/west/` } },
        ],
      }),
    );
    assert.equal(Errors, undefined);
    transformId = await createTableTransform(glue, { database: 'eats', table: 'restaurants', name: 'partitioned' });
    await createFindMatchesJob(glue, { name: jobName, transformId, ExecutionProperty: { MaxConcurrentRuns: 5 } });
  });

  after(async () => {
    glue?.destroy();
    s3?.destroy();
    await server?.stop();
    await server?.cleanup();
  });

  it('labeling sets and label imports read every partition, with the key as a column', async () => {
    const t = await getTransform(glue, transformId);
    assert.deepEqual(t.Schema?.map((c) => c.Name), [...ds.header, 'source']);
    const rows = await teachOnce(glue, { transformId, s3, bucket: BUCKET, labelingPrefix: 'labeling/', labelsKey: 'labels/round-1.csv', truth: ds.truth });
    assert.deepEqual(rows[0], ['labeling_set_id', 'label', ...ds.header, 'source']);
    const sourceColumn = rows[0]!.indexOf('source');
    for (const r of rows.slice(1)) assert.equal(r[sourceColumn], sourceOf.get(r[2]!), `record ${r[2]} is in partition ${sourceOf.get(r[2]!)}`);
    await waitForTransform(glue, transformId, (x) => x.Status === 'READY');
  });

  it('an evaluation runs over the partitioned table', async () => {
    const { TaskRunId } = await glue.send(new StartMLEvaluationTaskRunCommand({ TransformId: transformId }));
    const run = await waitForRun(glue, transformId, TaskRunId!, undefined, 120_000);
    assert.equal(run.Status, 'SUCCEEDED', run.ErrorString);
  });

  it('a findmatches job writes every record of every partition once, with its partition value', async () => {
    const { JobRunId } = await glue.send(new StartJobRunCommand({ JobName: jobName, Arguments: { '--output-path': `s3://${BUCKET}/out/all/` } }));
    const run = await waitForJobRun(glue, jobName, JobRunId!);
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    const rows = parse(await getText(BUCKET, 'out/all/part-00000.csv'), { columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(Object.keys(rows[0]!), [...ds.header, 'source', 'match_id']);
    assert.equal(rows.length, ds.records.length);
    assert.equal(new Set(rows.map((r) => r['id'])).size, rows.length);
    for (const r of rows) assert.equal(r['source'], sourceOf.get(r['id']!));
  });

  it('--push-down-predicate (of a job run, and of `doppel find-matches`) reads only the partitions it selects', async () => {
    const { JobRunId } = await glue.send(
      new StartJobRunCommand({ JobName: jobName, Arguments: { '--output-path': `s3://${BUCKET}/out/some/`, '--push-down-predicate': "source IN ('south', 'west')" } }),
    );
    const run = await waitForJobRun(glue, jobName, JobRunId!);
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    const rows = parse(await getText(BUCKET, 'out/some/part-00000.csv'), { columns: true }) as Array<Record<string, string>>;
    const expected = ds.records.filter((r) => sourceOf.get(r['id']!) !== 'north').map((r) => r['id']).sort();
    assert.deepEqual(rows.map((r) => r['id']).sort(), expected);
    assert.deepEqual(new Set(rows.map((r) => r['source'])), new Set(['south', 'west']));
    // The labeled records of the partition left out are trained on, not written.
    const labeledIds = new Set((parse(await getText(BUCKET, 'labels/round-1.csv')) as string[][]).slice(1).map((r) => r[2]!));
    const props = await findMatchesRunProperties(server, transformId, JobRunId!);
    assert.equal(props['LabeledRecordsFromTransformTable'], [...labeledIds].filter((id) => sourceOf.get(id) === 'north').length);
    assert.equal(props['LabeledRecordsNotFound'], 0);

    const cli = await runCli(['find-matches', '--endpoint', server.endpoint, '--transform-id', transformId, '--output-path', `s3://${BUCKET}/out/cli/`, '--push-down-predicate', "source = 'north'"]);
    assert.equal(cli.status, 0, `${cli.stdout}\n${cli.stderr}`);
    const north = parse(await getText(BUCKET, 'out/cli/part-00000.csv'), { columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(north.map((r) => r['id']).sort(), ds.records.filter((r) => sourceOf.get(r['id']!) === 'north').map((r) => r['id']).sort());
  });

  it('a push-down predicate that does not apply fails the run at once, or in its task when it selects nothing', async () => {
    const bad = await glue.send(
      new StartJobRunCommand({ JobName: jobName, Arguments: { '--output-path': `s3://${BUCKET}/out/bad/`, '--push-down-predicate': "region = 'x'" } }),
    );
    const failed = await waitForJobRun(glue, jobName, bad.JobRunId!);
    assert.equal(failed.JobRunState, 'FAILED');
    assert.equal(
      failed.ErrorMessage,
      'Argument --push-down-predicate: Invalid partition expression! region is not a partition key: the partition keys of table eats.restaurants are source.',
    );

    // The same records as a table without partition keys, read through --input-table.
    await createOpenCsvTable(glue, { database: 'eats', table: 'flat', columns: [...ds.header, 'source'], location: `s3://${BUCKET}/restaurants/source=north/` });
    const flat = await glue.send(
      new StartJobRunCommand({
        JobName: jobName,
        Arguments: { '--output-path': `s3://${BUCKET}/out/flat/`, '--input-database': 'eats', '--input-table': 'flat', '--push-down-predicate': "source = 'north' AND day > 1 OR source = 'west'" },
      }),
    );
    const unpartitioned = await waitForJobRun(glue, jobName, flat.JobRunId!);
    assert.equal(unpartitioned.JobRunState, 'FAILED');
    assert.equal(
      unpartitioned.ErrorMessage,
      'Argument --push-down-predicate: Invalid partition expression! source, day are not partition keys: table eats.flat has no partition keys (it is not partitioned).',
    );

    const none = await glue.send(
      new StartJobRunCommand({ JobName: jobName, Arguments: { '--output-path': `s3://${BUCKET}/out/none/`, '--push-down-predicate': "source = 'east'" } }),
    );
    const empty = await waitForJobRun(glue, jobName, none.JobRunId!);
    assert.equal(empty.JobRunState, 'FAILED');
    assert.match(empty.ErrorMessage!, /The push-down predicate "source = 'east'" selects none of the 3 partition\(s\) of table eats\.restaurants\./);
  });
});
