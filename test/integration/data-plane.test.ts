/**
 * The data plane end to end, as users drive it: data files go into S3 (the embedded store through
 * the AWS CLI and boto3, or an external S3-compatible server), catalog tables declare CSV / JSON /
 * Parquet over them, a transform takes its Schema from the table, and labels go in and come back
 * out through label import and export runs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateDatabaseCommand,
  CreateMLTransformCommand,
  CreateTableCommand,
  StartExportLabelsTaskRunCommand,
  StartImportLabelsTaskRunCommand,
  StartMLLabelingSetGenerationTaskRunCommand,
  type Column,
  type GlueClient,
  type TableInput,
} from '@aws-sdk/client-glue';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { createOpenCsvTransform, getTransform, startGlueServer, stopGlueServer, waitForRun } from '../support/glue-client.js';
import { DATASETS_DIR, RAW_DATA_DIR } from '../support/datasets.js';
import { findAws, findPythonWithBoto3, isolatedAwsEnv, s3Client } from '../support/s3-tools.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import type { TestServer } from '../support/server.js';

const RAW = RAW_DATA_DIR;
const BUCKET = 'lake';

interface TableCase {
  name: string;
  /** Local file to upload, and the key it goes to. */
  file: string;
  key: string;
  /** The Glue table members apart from Name and Location. */
  table: (location: string) => Omit<TableInput, 'Name'>;
  primaryKey: string;
  /** A few primary keys of the data, read independently of doppel. */
  someKeys: () => string[];
}

const cols = (names: string[], types: Record<string, string> = {}): Column[] =>
  names.map((Name) => ({ Name, Type: types[Name] ?? 'string' }));

const lines = (path: string, encoding: BufferEncoding) => readFileSync(path, encoding).split(/\r?\n/);

function cases(tmp: string): TableCase[] {
  const restaurant = join(DATASETS_DIR, 'restaurant', 'records.csv');
  const dblp = join(RAW, 'leipzig_dblp_acm', 'DBLP2.csv');
  const imdb = join(RAW, 'jedai_imdb_tmdb', 'imdb.csv');
  const parquet = join(RAW, 'splink_historical_50k', 'historical_figures_with_errors_50k.parquet');
  const febrl = parse(readFileSync(join(DATASETS_DIR, 'febrl1', 'records.csv'), 'utf8'), { columns: true }) as Array<
    Record<string, string>
  >;
  const jsonLines = join(tmp, 'febrl1.jsonl');
  writeFileSync(jsonLines, febrl.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const restaurantHeader = lines(restaurant, 'utf8')[0]!.split(',');
  return [
    {
      name: 'csv_opencsv',
      file: restaurant,
      key: 'restaurant/records.csv',
      primaryKey: 'id',
      table: (Location) => ({
        Parameters: { classification: 'csv', 'skip.header.line.count': '1' },
        StorageDescriptor: {
          Columns: cols(restaurantHeader),
          Location,
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde', Parameters: { separatorChar: ',', quoteChar: '"' } },
        },
      }),
      someKeys: () => (parse(readFileSync(restaurant, 'utf8'), { columns: true }) as Array<{ id: string }>).slice(0, 6).map((r) => r.id),
    },
    {
      name: 'csv_latin1',
      file: dblp,
      key: 'dblp/DBLP2.csv',
      primaryKey: 'id',
      table: (Location) => ({
        Parameters: { classification: 'csv', 'skip.header.line.count': '1' },
        StorageDescriptor: {
          Columns: cols(['id', 'title', 'authors', 'venue', 'year'], { year: 'bigint' }),
          Location,
          SerdeInfo: {
            SerializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde',
            Parameters: { separatorChar: ',', quoteChar: '"', 'serialization.encoding': 'ISO-8859-1' },
          },
        },
      }),
      someKeys: () =>
        (parse(readFileSync(dblp, 'latin1'), { columns: true }) as Array<{ id: string }>).slice(0, 6).map((r) => r.id),
    },
    {
      name: 'csv_pipes',
      file: imdb,
      key: 'imdb/part-00000.csv',
      primaryKey: 'id',
      table: (Location) => ({
        Parameters: { classification: 'csv', 'skip.header.line.count': '1', delimiter: '|' },
        StorageDescriptor: {
          // Hive maps columns by position: the catalog gives the URL-named columns short names.
          Columns: cols(['id', 'title', 'name', 'episode', 'season', 'death_year', 'birth_year', 'end_year', 'start_year', 'genres', 'professions', 'runtime']),
          Location,
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe', Parameters: { 'field.delim': '|' } },
        },
      }),
      someKeys: () => lines(imdb, 'utf8').slice(1, 7).map((l) => l.split('|')[0]!),
    },
    {
      name: 'json_lines',
      file: jsonLines,
      key: 'febrl/json/part-00000.json',
      primaryKey: 'id',
      table: (Location) => ({
        Parameters: { classification: 'json' },
        StorageDescriptor: {
          Columns: cols(Object.keys(febrl[0]!)),
          Location,
          SerdeInfo: { SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
        },
      }),
      someKeys: () => febrl.slice(0, 6).map((r) => r['id']!),
    },
    {
      name: 'parquet',
      file: parquet,
      key: 'historical/part-00000.parquet',
      primaryKey: 'unique_id',
      table: (Location) => ({
        Parameters: { classification: 'parquet' },
        StorageDescriptor: {
          Columns: cols(['unique_id', 'cluster', 'full_name', 'first_and_surname', 'first_name', 'surname', 'dob', 'birth_place', 'postcode_fake', 'gender', 'occupation']),
          Location,
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        },
      }),
      someKeys: () => {
        const out = spawnSync(process.execPath, ['--input-type=module', '-e', `
          const { DuckDBInstance } = await import('@duckdb/node-api');
          const c = await (await DuckDBInstance.create(':memory:')).connect();
          const r = await c.runAndReadAll(${JSON.stringify(`select unique_id from '${parquet}' order by unique_id limit 6`)});
          console.log(JSON.stringify(r.getRows().map((x) => String(x[0]))));`], { encoding: 'utf8', cwd: process.cwd() });
        return JSON.parse(out.stdout) as string[];
      },
    },
  ];
}

/** Two labeling sets over six records: (k0 k1 | k2) and (k3 | k4 k5), primary key only. */
function labelFile(pk: string, keys: string[]): string {
  const [a, b, c, d, e, f] = keys;
  return stringify(
    [['labeling_set_id', 'label', pk], ['s1', 'A', a], ['s1', 'A', b], ['s1', 'B', c], ['s2', 'A', d], ['s2', 'B', e], ['s2', 'B', f]],
    { record_delimiter: '\n' },
  );
}

/** What export writes for those labels: every schema column, empty where the label file had none. */
function expectedExport(pk: string, keys: string[], schema: string[]): string {
  const labels = [['s1', 'A'], ['s1', 'A'], ['s1', 'B'], ['s2', 'A'], ['s2', 'B'], ['s2', 'B']];
  const rows = labels.map(([set, label], i) => [set!, label!, ...schema.map((c) => (c === pk ? keys[i]! : ''))]);
  return stringify([['labeling_set_id', 'label', ...schema], ...rows], { record_delimiter: '\n' });
}

type Uploader = (file: string, key: string) => void | Promise<void>;

async function importExportRoundTrip(glue: GlueClient, s3: S3Client, c: TableCase, upload: Uploader, bucket: string) {
  await upload(c.file, c.key);
  const database = `dp_${c.name}`;
  const folder = c.key.slice(0, c.key.lastIndexOf('/') + 1);
  const input = c.table(`s3://${bucket}/${folder}`);
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database } }));
  await glue.send(new CreateTableCommand({ DatabaseName: database, TableInput: { Name: 'data', ...input } }));
  const { TransformId } = await glue.send(
    new CreateMLTransformCommand({
      Name: `dp-${c.name}`,
      Role: 'arn:aws:iam::123456789012:role/GlueRole',
      InputRecordTables: [{ DatabaseName: database, TableName: 'data' }],
      Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: c.primaryKey } },
    }),
  );
  const transform = await getTransform(glue, TransformId!);
  assert.deepEqual(
    transform.Schema,
    input.StorageDescriptor!.Columns!.map((col) => ({ Name: col.Name, DataType: col.Type })),
    `${c.name}: the transform's Schema is the table's columns`,
  );

  const keys = c.someKeys();
  assert.equal(new Set(keys).size, 6);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `labels/${c.name}.csv`, Body: labelFile(c.primaryKey, keys) }));
  const imported = await glue.send(
    new StartImportLabelsTaskRunCommand({ TransformId, InputS3Path: `s3://${bucket}/labels/${c.name}.csv` }),
  );
  const run = await waitForRun(glue, TransformId!, imported.TaskRunId!, undefined, 60_000);
  assert.equal(run.Status, 'SUCCEEDED', `${c.name}: ${run.ErrorString}`);
  assert.equal((await getTransform(glue, TransformId!)).LabelCount, 6);

  const exported = await glue.send(
    new StartExportLabelsTaskRunCommand({ TransformId, OutputS3Path: `s3://${bucket}/exports/${c.name}/` }),
  );
  assert.equal((await waitForRun(glue, TransformId!, exported.TaskRunId!)).Status, 'SUCCEEDED');
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `exports/${c.name}/part-00000.csv` }));
  const schema = transform.Schema!.map((s) => s.Name!);
  assert.equal(await got.Body!.transformToString(), expectedExport(c.primaryKey, keys, schema), c.name);
  const marker = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `exports/${c.name}/_SUCCESS` }));
  assert.equal(marker.ContentLength, 0);
}

describe('data plane on the embedded store (AWS CLI and boto3 uploads)', () => {
  let server: TestServer;
  let glue: GlueClient;
  let s3: S3Client;
  let tmp: string;
  const aws = findAws();
  const python = findPythonWithBoto3();

  before(async () => {
    ({ server, glue } = await startGlueServer());
    s3 = s3Client(server);
    tmp = mkdtempSync(join(tmpdir(), 'doppel-dp-'));
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  after(async () => {
    await stopGlueServer({ server, glue });
    rmSync(tmp, { recursive: true, force: true });
  });

  const viaCli: Uploader = (file, key) => {
    const env = isolatedAwsEnv(join(tmp, 'config'), join(tmp, 'credentials'));
    const r = spawnSync(aws!, ['s3', 'cp', file, `s3://${BUCKET}/${key}`, '--endpoint-url', server.endpoint], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  const viaBoto3: Uploader = (file, key) => {
    const script = `import boto3,sys
s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')
s3.upload_file(sys.argv[2], '${BUCKET}', sys.argv[3])`;
    const env = isolatedAwsEnv(join(tmp, 'config'), join(tmp, 'credentials'));
    const r = spawnSync(python!, ['-c', script, server.endpoint, file, key], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };

  for (const [name, tool] of [
    ['csv_opencsv', 'cli'],
    ['csv_latin1', 'cli'],
    ['csv_pipes', 'boto3'],
    ['json_lines', 'boto3'],
    ['parquet', 'cli'],
  ] as const) {
    it(`${name}: upload with ${tool === 'cli' ? 'the AWS CLI' : 'boto3'}, table, transform, import, export`, async (t) => {
      if (tool === 'cli' && !aws) return t.skip('aws CLI not installed: apt-get install awscli');
      if (tool === 'boto3' && !python) return t.skip('boto3 not installed: apt-get install python3-boto3');
      const c = cases(tmp).find((x) => x.name === name)!;
      await importExportRoundTrip(glue, s3, c, tool === 'cli' ? viaCli : viaBoto3, BUCKET);
    });
  }

  it('a table whose data does not match its declaration fails the import with a precise message', async () => {
    const c = cases(tmp).find((x) => x.name === 'csv_latin1')!;
    // The same Latin-1 file declared as UTF-8 (the default).
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'dblp-utf8/DBLP2.csv', Body: readFileSync(c.file) }));
    const input = c.table(`s3://${BUCKET}/dblp-utf8/`);
    delete input.StorageDescriptor!.SerdeInfo!.Parameters!['serialization.encoding'];
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'dp_wrong_encoding' } }));
    await glue.send(new CreateTableCommand({ DatabaseName: 'dp_wrong_encoding', TableInput: { Name: 'data', ...input } }));
    const { TransformId } = await glue.send(
      new CreateMLTransformCommand({
        Name: 'dp-wrong-encoding',
        Role: 'r',
        InputRecordTables: [{ DatabaseName: 'dp_wrong_encoding', TableName: 'data' }],
        Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: 'id' } },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'labels/wrong.csv', Body: labelFile('id', c.someKeys()) }));
    const { TaskRunId } = await glue.send(
      new StartImportLabelsTaskRunCommand({ TransformId, InputS3Path: `s3://${BUCKET}/labels/wrong.csv` }),
    );
    const run = await waitForRun(glue, TransformId!, TaskRunId!, undefined, 60_000);
    assert.equal(run.Status, 'FAILED');
    assert.match(run.ErrorString ?? '', /DBLP2\.csv is not valid UTF-8 \(line \d+\).*ISO-8859-1/);
    assert.equal((await getTransform(glue, TransformId!)).LabelCount, 0);
  });
  it('a table whose files hold headers only has no labeling set to give: the run fails saying so', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'headers-only/part.csv', Body: 'id,name\n' }));
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'dp_headers_only' } }));
    const transformId = await createOpenCsvTransform(glue, {
      database: 'dp_headers_only',
      table: 'data',
      columns: ['id', 'name'],
      location: `s3://${BUCKET}/headers-only/`,
      name: 'dp-headers-only',
    });
    const { TaskRunId } = await glue.send(
      new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: `s3://${BUCKET}/headers-only-sets/` }),
    );
    const run = await waitForRun(glue, transformId, TaskRunId!, undefined, 60_000);
    assert.equal(run.Status, 'FAILED');
    assert.match(run.ErrorString ?? '', /Table dp_headers_only\.data has no records: a labeling set needs at least two\./);
  });

  it("an OpenCSVSerde table with both \\\" and doubled quotes is read as OpenCSV reads it; a misread escape names escapeChar", async () => {
    const minimal = 'id,title\na,"\\Are \\""V\\"" ok"\nb,plain\nc,"say ""hi"""';
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'opencsv/titles/part-0.csv', Body: minimal }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'opencsv/paths/part-0.csv', Body: 'id,title\na,"C:\\dir\\"\nb,plain\n' }));
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'dp_opencsv' } }));
    const transformOver = (table: string) =>
      createOpenCsvTransform(glue, {
        database: 'dp_opencsv',
        table,
        columns: ['id', 'title'],
        location: `s3://${BUCKET}/opencsv/${table}/`,
        name: `dp-opencsv-${table}`,
        serdeParameters: { separatorChar: ',' },
      });

    // A labeling-set run reads the whole table and writes its records back out, values as read.
    const titles = await transformOver('titles');
    const generated = await glue.send(
      new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: titles, OutputS3Path: `s3://${BUCKET}/opencsv/labeling/` }),
    );
    const run = await waitForRun(glue, titles, generated.TaskRunId!, undefined, 60_000);
    assert.equal(run.Status, 'SUCCEEDED', run.ErrorString);
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'opencsv/labeling/part-00000.csv' }));
    const rows = parse(await out.Body!.transformToString()) as string[][];
    const expected: Record<string, string> = { a: 'Are ""V"" ok', b: 'plain', c: 'say "hi"' };
    assert.ok(rows.length > 2, `labeling file has ${rows.length - 1} rows`);
    for (const [, , id, title] of rows.slice(1)) assert.equal(title, expected[id!], `title of ${id}`);
    // An import checks every labeled key against the table as read: all three records are there.
    const labels = 'labeling_set_id,label,id\ns1,A,a\ns1,B,b\ns1,B,c\n';
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'opencsv/labels.csv', Body: labels }));
    const imported = await glue.send(
      new StartImportLabelsTaskRunCommand({ TransformId: titles, InputS3Path: `s3://${BUCKET}/opencsv/labels.csv` }),
    );
    assert.equal((await waitForRun(glue, titles, imported.TaskRunId!, undefined, 60_000)).Status, 'SUCCEEDED');
    assert.equal((await getTransform(glue, titles)).LabelCount, 3);

    const paths = await transformOver('paths');
    const failed = await glue.send(
      new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: paths, OutputS3Path: `s3://${BUCKET}/opencsv/paths-labeling/` }),
    );
    const failure = await waitForRun(glue, paths, failed.TaskRunId!, undefined, 60_000);
    assert.equal(failure.Status, 'FAILED');
    assert.match(
      failure.ErrorString ?? '',
      /s3:\/\/lake\/opencsv\/paths\/part-0\.csv line 2, column title: the quote at character 3 opens a field that is not closed by the end of the file/,
    );
    assert.match(failure.ErrorString ?? '', /declare SerdeInfo\.Parameters\.escapeChar as a character the file never contains/);
  });
});

describe('data plane on an external S3-compatible server', () => {
  let s3rver: S3rver | undefined;
  let server: TestServer;
  let glue: GlueClient;
  let external: S3Client;
  let tmp: string;
  let skipReason: string | undefined;

  before(async () => {
    try {
      s3rver = await startS3rver();
    } catch (e) {
      skipReason = `s3rver could not start: ${(e as Error).message}`;
      return;
    }
    ({ server, glue } = await startGlueServer({
      env: {
        DOPPEL_S3_ENDPOINT: s3rver.endpoint,
        DOPPEL_S3_ACCESS_KEY_ID: s3rver.accessKeyId,
        DOPPEL_S3_SECRET_ACCESS_KEY: s3rver.secretAccessKey,
      },
    }));
    external = s3Client({ endpoint: s3rver.endpoint }, {
      credentials: { accessKeyId: s3rver.accessKeyId, secretAccessKey: s3rver.secretAccessKey },
    });
    tmp = mkdtempSync(join(tmpdir(), 'doppel-dp-ext-'));
    await external.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  after(async () => {
    await stopGlueServer({ server, glue });
    await s3rver?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  for (const name of ['csv_opencsv', 'json_lines', 'parquet'] as const) {
    it(`${name}: data and labels in the external store; doppel reads and writes there`, async (t) => {
      if (skipReason) return t.skip(skipReason);
      const c = cases(tmp).find((x) => x.name === name)!;
      const upload: Uploader = async (file, key) => {
        await external.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(file) }));
      };
      await importExportRoundTrip(glue, external, c, upload, BUCKET);
    });
  }
});
