/**
 * Label import and export through the public APIs: files go into the embedded S3 store with the S3
 * SDK, runs are started with the Glue SDK, and stored labels come back out byte-for-byte.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateDatabaseCommand,
  GetMLTransformCommand,
  StartExportLabelsTaskRunCommand,
  StartImportLabelsTaskRunCommand,
  StartMLEvaluationTaskRunCommand,
  UpdateMLTransformCommand,
  type GlueClient,
} from '@aws-sdk/client-glue';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { stringify } from 'csv-stringify/sync';
import { createOpenCsvTransform, getTransform, glueClient, startGlueServer, stopGlueServer, waitForRun } from '../support/glue-client.js';
import { loadDataset, type Dataset } from '../support/datasets.js';
import { rawGlueCall } from '../support/raw-glue.js';
import { s3Client } from '../support/s3-tools.js';
import { startServer, type TestServer } from '../support/server.js';

const BUCKET = 'labels-test';

/**
 * Uploads the dataset's records into the embedded store (its records.csv, or the records split into
 * `parts` part files, each with the header) and creates a catalog table over them and a transform on
 * that table, as a user would.
 */
async function transformOverDataset(glue: GlueClient, s3: S3Client, ds: Dataset, tag: string, parts = 1): Promise<string> {
  const bodies =
    parts === 1
      ? [readFileSync(ds.recordsCsvPath)]
      : partsOf(ds, parts).map((records) => stringify([ds.header, ...records.map((r) => ds.header.map((h) => r[h]!))], { record_delimiter: '\n' }));
  return transformOverFiles(glue, s3, ds.header, bodies, tag);
}

/** A transform keyed by `id` over a CSV table of part files with a header line each. */
async function transformOverFiles(glue: GlueClient, s3: S3Client, header: string[], bodies: Array<string | Uint8Array>, tag: string): Promise<string> {
  for (const [p, body] of bodies.entries()) {
    const key = bodies.length === 1 ? `data/${tag}/records.csv` : `data/${tag}/part-${String(p).padStart(5, '0')}.csv`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  }
  const database = `db_${tag}`;
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database } }));
  return createOpenCsvTransform(glue, { database, table: 'records', columns: header, location: `s3://${BUCKET}/data/${tag}/`, name: `labels-${tag}` });
}

/** The dataset's records in `parts` consecutive runs of (nearly) equal length, as part files hold them. */
function partsOf(ds: Dataset, parts: number): Array<Array<Record<string, string>>> {
  const size = Math.ceil(ds.records.length / parts);
  return Array.from({ length: parts }, (_, p) => ds.records.slice(p * size, (p + 1) * size));
}

/**
 * A large label file from the dataset's records: `rows` rows in sets of two records (records repeat
 * across sets, never within one), with the given columns (all of them unless told).
 */
function largeLabelFile(ds: Dataset, rows: number, columns = ds.header): string {
  const lines = [['labeling_set_id', 'label', ...columns]];
  for (let i = 0; lines.length <= rows; i++) {
    const r = ds.records[i % ds.records.length]!;
    lines.push([`big-${Math.floor(i / 2)}`, i % 2 ? 'A' : 'B', ...columns.map((h) => r[h]!)]);
  }
  return stringify(lines, { record_delimiter: '\n' });
}

/** Labeling sets as a person would make them from the truth: each set holds two entities. */
function labelFileFrom(ds: Dataset, sets: number, firstSet = 0): { text: string; rows: number } {
  const byEntity = new Map<string, Array<Record<string, string>>>();
  for (const r of ds.records) {
    const e = ds.truth.get(r['id']!)!;
    byEntity.set(e, [...(byEntity.get(e) ?? []), r]);
  }
  const groups = [...byEntity.values()].filter((g) => g.length >= 2);
  const out: string[][] = [['labeling_set_id', 'label', ...ds.header]];
  for (let s = firstSet; s < firstSet + sets; s++) {
    const [a, b] = [groups[2 * s]!, groups[2 * s + 1]!];
    for (const r of a) out.push([`set-${s}`, 'A', ...ds.header.map((h) => r[h]!)]);
    for (const r of b) out.push([`set-${s}`, 'B', ...ds.header.map((h) => r[h]!)]);
  }
  return { text: stringify(out, { record_delimiter: '\n' }), rows: out.length - 1 };
}

/**
 * 300 labeled rows (one labeling set per row pair) whose lines 1-100 end in CRLF and the rest in LF,
 * as when two files are pasted together; `edit` may change the data lines (index 0 is line 2).
 */
function mixedLineEnds(ds: Dataset, edit: (rows: string[]) => void = () => {}): string {
  const header = `labeling_set_id,label,${ds.header.join(',')}`;
  const rows = Array.from({ length: 300 }, (_, i) =>
    [`mixed-${i}`, 'A', ds.records[i]!['id']!, ...ds.header.slice(1).map(() => 'x')].join(','),
  );
  edit(rows);
  const lines = [header, ...rows];
  return `${lines.slice(0, 100).join('\r\n')}\r\n${lines.slice(100).join('\n')}\n`;
}

describe('label import and export', () => {
  let server: TestServer;
  let glue: GlueClient;
  let s3: S3Client;
  let ds: Dataset;
  let transformId: string;

  const put = (key: string, body: string | Uint8Array) =>
    s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  const read = async (key: string) =>
    (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();
  const importRun = async (path: string, replace = false) => {
    const { TaskRunId } = await glue.send(
      new StartImportLabelsTaskRunCommand({ TransformId: transformId, InputS3Path: path, ReplaceAllLabels: replace }),
    );
    return waitForRun(glue, transformId, TaskRunId!);
  };
  const exportRun = async (path: string) => {
    const { TaskRunId } = await glue.send(
      new StartExportLabelsTaskRunCommand({ TransformId: transformId, OutputS3Path: path }),
    );
    return waitForRun(glue, transformId, TaskRunId!);
  };

  before(async () => {
    ({ server, glue } = await startGlueServer());
    s3 = s3Client(server);
    ds = loadDataset('febrl1');
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    transformId = await transformOverDataset(glue, s3, ds, 'main');
  });
  after(() => stopGlueServer({ server, glue }));

  it('imports a label file: LabelCount counts rows and the transform becomes READY', async () => {
    const file = labelFileFrom(ds, 5);
    await put('in/first.csv', file.text);
    const run = await importRun(`s3://${BUCKET}/in/first.csv`);
    assert.equal(run.Status, 'SUCCEEDED', run.ErrorString);
    const t = await getTransform(glue, transformId);
    assert.equal(t.LabelCount, file.rows);
    assert.equal(t.Status, 'READY');
  });

  it('exports every label as part files then _SUCCESS, and round-trips byte for byte', async () => {
    const first = await exportRun(`s3://${BUCKET}/out/one/`);
    assert.equal(first.Status, 'SUCCEEDED', first.ErrorString);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'out/one/' }));
    assert.deepEqual(listed.Contents?.map((o) => o.Key), ['out/one/_SUCCESS', 'out/one/part-00000.csv']);
    const exported = await read('out/one/part-00000.csv');
    assert.equal(exported, labelFileFrom(ds, 5).text, 'same columns (schema order), rows and values');

    // Importing the export (a prefix) in place of everything, then exporting again: same bytes.
    const again = await importRun(`s3://${BUCKET}/out/one/`, true);
    assert.equal(again.Status, 'SUCCEEDED', again.ErrorString);
    assert.equal((await exportRun(`s3://${BUCKET}/out/two`)).Status, 'SUCCEEDED');
    assert.equal(await read('out/two/part-00000.csv'), exported);
  });

  it('appends new labeling sets and replaces a re-imported one', async () => {
    const before = (await getTransform(glue, transformId)).LabelCount!;
    const more = labelFileFrom(ds, 2, 5); // sets 5 and 6: new
    await put('in/more.csv', more.text);
    assert.equal((await importRun(`s3://${BUCKET}/in/more.csv`)).Status, 'SUCCEEDED');
    assert.equal((await getTransform(glue, transformId)).LabelCount, before + more.rows);
    // Re-importing set-0 with a single pair replaces that set only.
    const header = ['labeling_set_id', 'label', ...ds.header];
    const [r1, r2] = [ds.records[0]!, ds.records[1]!];
    const redo = stringify(
      [header, ['set-0', 'A', ...ds.header.map((h) => r1[h]!)], ['set-0', 'B', ...ds.header.map((h) => r2[h]!)]],
      { record_delimiter: '\n' },
    );
    await put('in/redo.csv', redo);
    const set0 = labelFileFrom(ds, 1).rows;
    assert.equal((await importRun(`s3://${BUCKET}/in/redo.csv`)).Status, 'SUCCEEDED');
    assert.equal((await getTransform(glue, transformId)).LabelCount, before + more.rows - set0 + 2);
  });

  it('fails a bad file with a precise ErrorString and leaves the stored labels exactly as they were', async () => {
    await exportRun(`s3://${BUCKET}/before-bad/`);
    const snapshot = await read('before-bad/part-00000.csv');
    const count = (await getTransform(glue, transformId)).LabelCount;
    const header = `labeling_set_id,label,${ds.header.join(',')}`;
    const row = (set: string, label: string, id: string) =>
      [set, label, id, ...ds.header.slice(1).map(() => 'x')].join(',');
    const cases: Array<[string, string | Uint8Array, RegExp]> = [
      ['cp1252', Buffer.concat([Buffer.from(`${header}\n${row('s', 'A', 'r9')}\ns,B,r8,Ren`), Buffer.from([0xe9]), Buffer.from('\n')]), /not valid UTF-8: byte 0xE9 at line 3, column 11.*cp1252/],
      ['unknown column', `labeling_set_id,label,id,shoe_size\ns,A,r1,9\n`, /header column 4 \(shoe_size\) is not a column/],
      ['no primary key', `labeling_set_id,label,surname\ns,A,smith\n`, /lacks the primary key column id/],
      ['bad header', `set,label,id\ns,A,r1\n`, /must start with labeling_set_id,label/],
      ['empty label', `${header}\n${row('s', 'A', 'r1')}\n${row('s', '', 'r2')}\n`, /row 2 \(line 3\): label is empty/],
      ['empty set id', `${header}\n${row('', 'A', 'r1')}\n`, /row 1 \(line 2\): labeling_set_id is empty/],
      ['empty key', `${header}\n${row('s', 'A', '')}\n`, /row 1 \(line 2\): the primary key column id is empty/],
      ['ragged row', `${header}\n${row('s', 'A', 'r1')}\ns,B,r2\n`, /line 3/],
      ['zero bytes', '', /size 0/],
      ['a quote left open after a switch from CRLF to LF', mixedLineEnds(ds, (rows) => {
        rows[99] = rows[99]!.replace(',x,', ',"x,');
      }), /not a valid CSV file at line 101: .*\(the record starting there runs on to line \d+: a quote in it is not closed where it should be\)/],
      ['record not in the table', `${header}\n${row('s', 'A', 'r0001')}\n${row('s', 'B', 'no-such-id')}\n`, /1 labeled record\(s\) are not in the input table db_main.records \(primary key id\): no-such-id/],
    ];
    for (const [name, body, expected] of cases) {
      await put(`bad/${name}.csv`, body);
      const run = await importRun(`s3://${BUCKET}/bad/${name}.csv`);
      assert.equal(run.Status, 'FAILED', `${name}: ${run.Status}`);
      assert.match(run.ErrorString ?? '', expected, name);
    }
    const missing = await importRun(`s3://${BUCKET}/nothing/here.csv`);
    assert.match(missing.ErrorString ?? '', /Cannot access the label file at s3:\/\/labels-test\/nothing\/here\.csv/);
    assert.equal((await getTransform(glue, transformId)).LabelCount, count);
    await exportRun(`s3://${BUCKET}/after-bad/`);
    assert.equal(await read('after-bad/part-00000.csv'), snapshot);
  });

  it('imports 200,000 rows in a task process while the API keeps answering promptly', async (t) => {
    const large = await transformOverDataset(glue, s3, ds, 'large');
    // Only the key column: parsing the CSV is most of an import's time, and this is about the API.
    await put('in/large.csv', largeLabelFile(ds, 200_000, ['id']));
    const { TaskRunId } = await glue.send(
      new StartImportLabelsTaskRunCommand({ TransformId: large, InputS3Path: `s3://${BUCKET}/in/large.csv` }),
    );
    const rawRun = async () => (await rawGlueCall(server, 'GetMLTaskRun', { TransformId: large, TaskRunId })).body;
    const latencies: number[] = [];
    const stages = new Set<string>();
    let status = 'STARTING';
    // A call every 5 ms while the import runs (and at least 200), the run's progress every tenth.
    while (latencies.length < 200 || !['SUCCEEDED', 'FAILED'].includes(status)) {
      const sent = performance.now();
      await glue.send(new GetMLTransformCommand({ TransformId: large }));
      latencies.push(performance.now() - sent);
      await sleep(5);
      if (latencies.length % 10 === 0) {
        const run = await rawRun();
        status = run['Status'] as string;
        const stage = (run['Progress'] as { Stage?: string } | undefined)?.Stage;
        if (stage) stages.add(stage);
      }
    }
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.ceil(latencies.length * 0.99) - 1]!;
    t.diagnostic(`GetMLTransform over ${latencies.length} calls during the import: p99 ${p99.toFixed(1)} ms`);
    const run = await rawRun();
    assert.equal(run['Status'], 'SUCCEEDED', String(run['ErrorString']));
    assert.deepEqual([run['Attempt'], run['InterruptionCount']], [1, 0], 'executed once');
    assert.equal((await getTransform(glue, large)).LabelCount, 200_000);
    assert.ok(p99 <= 200, `p99 ${p99.toFixed(1)} ms`);
    assert.ok([...stages].some((s) => s === `reading s3://${BUCKET}/in/large.csv`), `stages seen: ${[...stages].join(' | ')}`);
  });

  it('exports labels of many store pages in import order, byte for byte', async () => {
    const paged = await transformOverDataset(glue, s3, ds, 'paged');
    const text = largeLabelFile(ds, 5_500);
    await put('in/paged.csv', text);
    const { TaskRunId } = await glue.send(
      new StartImportLabelsTaskRunCommand({ TransformId: paged, InputS3Path: `s3://${BUCKET}/in/paged.csv` }),
    );
    assert.equal((await waitForRun(glue, paged, TaskRunId!)).Status, 'SUCCEEDED');
    const exported = await glue.send(new StartExportLabelsTaskRunCommand({ TransformId: paged, OutputS3Path: `s3://${BUCKET}/out/paged/` }));
    const run = await waitForRun(glue, paged, exported.TaskRunId!);
    assert.equal(run.Status, 'SUCCEEDED', run.ErrorString);
    assert.equal(await read('out/paged/part-00000.csv'), text);
  });

  it('checks labeled records against a table of several part files', async () => {
    const parted = await transformOverDataset(glue, s3, ds, 'parted', 3);
    const importInto = async (path: string) => {
      const { TaskRunId } = await glue.send(new StartImportLabelsTaskRunCommand({ TransformId: parted, InputS3Path: path }));
      return waitForRun(glue, parted, TaskRunId!);
    };
    const header = ['labeling_set_id', 'label', ...ds.header];
    const row = (set: string, label: string, r: Record<string, string>) => [set, label, ...ds.header.map((h) => r[h]!)];
    // The first and last record of every part: keys the check must find in each part file.
    const spread = partsOf(ds, 3).flatMap((records, p) => [row(`part-${p}`, 'A', records[0]!), row(`part-${p}`, 'B', records.at(-1)!)]);
    const stranger = { ...ds.records[0]!, id: 'rec-not-in-any-part' };
    const cases: Array<[string, string[][], RegExp | undefined]> = [
      ['spread', spread, undefined],
      [
        'one-missing',
        [...spread.slice(0, 3), row('part-1', 'C', stranger), ...spread.slice(3)],
        /^1 labeled record\(s\) are not in the input table db_parted\.records \(primary key id\): rec-not-in-any-part\. Labels must describe records of the transform's table\.$/,
      ],
      [
        // Named in the file's order, each once (x1 is labeled in two sets), five at most, then ", ...".
        'many-missing',
        [...spread, ...['x1', 'x2', 'x3', 'x1', 'x4', 'x5', 'x6'].map((id, i) => row(`more-${i % 2}`, 'A', { ...stranger, id }))],
        /^6 labeled record\(s\) are not in the input table db_parted\.records \(primary key id\): x1, x2, x3, x4, x5, \.\.\.\. Labels must/,
      ],
    ];
    for (const [name, rows, fails] of cases) {
      await put(`parted/${name}.csv`, stringify([header, ...rows], { record_delimiter: '\n' }));
      const run = await importInto(`s3://${BUCKET}/parted/${name}.csv`);
      if (fails) {
        assert.equal(run.Status, 'FAILED', name);
        assert.match(run.ErrorString ?? '', fails, name);
      } else {
        assert.equal(run.Status, 'SUCCEEDED', `${name}: ${run.ErrorString}`);
      }
    }
    assert.equal((await getTransform(glue, parted)).LabelCount, spread.length, 'only the good file was imported');
  });

  it('reports how many sets and rows an import brought', async () => {
    const file = labelFileFrom(ds, 3, 10);
    await put('in/counted.csv', file.text);
    const run = await importRun(`s3://${BUCKET}/in/counted.csv`);
    assert.equal(run.Status, 'SUCCEEDED');
    // The counts are doppel's own members beside InputS3Path/Replace: SDKs drop members they do not
    // know, so read the raw wire.
    const raw = await rawGlueCall(server, 'GetMLTaskRun', { TransformId: transformId, TaskRunId: run.TaskRunId });
    const props = (raw.body['Properties'] as Record<string, Record<string, unknown>>)['ImportLabelsTaskRunProperties'];
    assert.deepEqual(props, {
      InputS3Path: `s3://${BUCKET}/in/counted.csv`,
      Replace: false,
      LabelingSetCount: 3,
      LabeledRowCount: file.rows,
    });
  });

  it('imports a file whose first 100 lines end in CRLF and the rest in LF', async () => {
    await put('in/mixed.csv', mixedLineEnds(ds));
    const run = await importRun(`s3://${BUCKET}/in/mixed.csv`);
    assert.equal(run.Status, 'SUCCEEDED', run.ErrorString);
    assert.equal(run.Properties?.ImportLabelsTaskRunProperties?.InputS3Path, `s3://${BUCKET}/in/mixed.csv`);
    const exported = await exportRun(`s3://${BUCKET}/out/mixed/`);
    assert.equal(exported.Status, 'SUCCEEDED');
    const text = await read('out/mixed/part-00000.csv');
    assert.ok(!text.includes('\r'), 'no carriage return was taken into a value');
    assert.match(text, /\nmixed-299,A,/);
  });

  it('UpdateMLTransform calls while an import commits leave its LabelCount, Status and the other members as set', async () => {
    // Replace-imports of 2 and 4 sets alternate, so a count written back from a read taken before a
    // commit shows; four clients keep updating meanwhile.
    const race = await transformOverDataset(glue, s3, ds, 'race');
    const files = [labelFileFrom(ds, 2), labelFileFrom(ds, 4)];
    for (const [i, file] of files.entries()) await put(`in/race-${i}.csv`, file.text);
    let updating = true;
    let updates = 0;
    const updaters = Array.from({ length: 4 }, async (_, k) => {
      while (updating) {
        await glue.send(new UpdateMLTransformCommand({ TransformId: race, Description: `client ${k}`, MaxRetries: k }));
        updates++;
      }
    });
    try {
      for (let attempt = 0; attempt < 6; attempt++) {
        const file = files[attempt % 2]!;
        const { TaskRunId } = await glue.send(
          new StartImportLabelsTaskRunCommand({ TransformId: race, InputS3Path: `s3://${BUCKET}/in/race-${attempt % 2}.csv`, ReplaceAllLabels: true }),
        );
        const run = await waitForRun(glue, race, TaskRunId!);
        assert.equal(run.Status, 'SUCCEEDED', run.ErrorString);
        const t = await getTransform(glue, race);
        assert.equal(t.LabelCount, file.rows, `attempt ${attempt}: LabelCount after the import`);
        assert.equal(t.Status, 'READY', `attempt ${attempt}: Status after the import`);
      }
    } finally {
      updating = false;
      await Promise.all(updaters);
    }
    assert.ok(updates > 0);
    const t = await getTransform(glue, race);
    assert.match(t.Description ?? '', /^client [0-3]$/);
    assert.equal(t.MaxRetries, Number(t.Description!.slice('client '.length)), 'Description and MaxRetries come from one update');
  });

  it('labels without a value in a changed PrimaryKeyColumnName fail a run with a message naming the column, until the key is set back', async () => {
    // A second unique column, `code`; the labels are imported holding `id` and `surname` only.
    const header = [...ds.header, 'code'];
    const body = stringify([header, ...ds.records.map((r) => [...ds.header.map((h) => r[h]!), `c-${r['id']}`])], { record_delimiter: '\n' });
    const keyed = await transformOverFiles(glue, s3, header, [body], 'rekeyed');
    const labels = stringify(
      [['labeling_set_id', 'label', 'id', 'surname'], ...ds.records.slice(0, 6).map((r, i) => [`set-${i % 2}`, i < 3 ? 'A' : 'B', r['id']!, r['surname']!])],
      { record_delimiter: '\n' },
    );
    await put('in/rekeyed.csv', labels);
    const { TaskRunId: importId } = await glue.send(new StartImportLabelsTaskRunCommand({ TransformId: keyed, InputS3Path: `s3://${BUCKET}/in/rekeyed.csv` }));
    assert.equal((await waitForRun(glue, keyed, importId!)).Status, 'SUCCEEDED');
    const keyedBy = (column: string) =>
      glue.send(
        new UpdateMLTransformCommand({
          TransformId: keyed,
          Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: column } },
        }),
      );
    const evaluate = async () => {
      const { TaskRunId } = await glue.send(new StartMLEvaluationTaskRunCommand({ TransformId: keyed }));
      return waitForRun(glue, keyed, TaskRunId!, undefined, 120_000);
    };
    await keyedBy('code');
    const failed = await evaluate();
    assert.equal(failed.Status, 'FAILED');
    assert.match(failed.ErrorString ?? '', /6 of the transform's 6 labels have no value in its primary key column code \(the first in labeling set set-0\)/);
    await keyedBy('id');
    const succeeded = await evaluate();
    assert.equal(succeeded.Status, 'SUCCEEDED', succeeded.ErrorString);
  });
});

describe('an import killed mid-way', () => {
  it('leaves the old labels intact after a restart', { timeout: 120_000 }, async () => {
    const ds = loadDataset('febrl1');
    const first = await startServer();
    try {
      let glue = glueClient(first);
      const s3 = s3Client(first);
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      const transformId = await transformOverDataset(glue, s3, ds, 'killed');
      const small = labelFileFrom(ds, 4);
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'small.csv', Body: small.text }));
      const ok = await glue.send(
        new StartImportLabelsTaskRunCommand({ TransformId: transformId, InputS3Path: `s3://${BUCKET}/small.csv` }),
      );
      assert.equal((await waitForRun(glue, transformId, ok.TaskRunId!)).Status, 'SUCCEEDED');

      // A large file (many sets of two records) keeps the import busy long enough to be killed.
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'big.csv', Body: largeLabelFile(ds, 400_000) }));
      const big = await glue.send(
        new StartImportLabelsTaskRunCommand({
          TransformId: transformId,
          InputS3Path: `s3://${BUCKET}/big.csv`,
          ReplaceAllLabels: true,
        }),
      );
      await waitForRun(glue, transformId, big.TaskRunId!, ['RUNNING']);
      await first.kill();

      // The transform's MaxRetries is 0 (the default): the restart fails the interrupted import
      // instead of starting it again, so what is stored is what the crash left.
      const second = await startServer({ dataDir: first.dataDir });
      try {
        glue = glueClient(second);
        const t = await getTransform(glue, transformId);
        assert.equal(t.LabelCount, small.rows, 'the old labels are all there');
        assert.equal(t.Status, 'READY');
        const run = await waitForRun(glue, transformId, big.TaskRunId!);
        assert.equal(run.Status, 'FAILED');
        assert.match(run.ErrorString ?? '', /^Task run failed: the doppel node running it \(\S+\) died or stopped renewing its lease\. That was attempt 1, and MaxRetries \(0\) is used up\.$/);
      } finally {
        await second.stop();
      }
    } finally {
      await first.kill();
      await first.cleanup();
    }
  });
});
