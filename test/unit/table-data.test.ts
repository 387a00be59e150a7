import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse } from 'csv-parse/sync';
import { partFilesOf, parseS3Location } from '../../src/catalog/table-data/location.js';
import { TableDataError } from '../../src/catalog/table-data/table-data-error.js';
import { tableFormatOf, type GlueTableDocument, type TableFormat } from '../../src/catalog/table-data/table-format.js';
import { readEncodedTable, type EncodedTable } from '../../src/catalog/table-data/encoded-table.js';
import { DuckDbSession } from '../../src/catalog/table-data/duckdb-session.js';
import { findMissingKeys } from '../../src/catalog/table-data/missing-keys.js';
import { STAGED_ROWS } from '../../src/catalog/table-data/staged-table.js';
import { stageTable, type StageOptions } from '../../src/catalog/table-data/staging.js';
import { toTableParts, type PartFile } from '../../src/catalog/table-data/table-part.js';
import { DATASETS_DIR, RAW_DATA_DIR } from '../support/datasets.js';

const RAW_DIR = RAW_DATA_DIR;
const haveDatasets = existsSync(DATASETS_DIR) && existsSync(RAW_DIR);
const noDatasets = haveDatasets ? false : `shared datasets not found at ${DATASETS_DIR}`;

const LAZY = 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe';
const OPEN_CSV = 'org.apache.hadoop.hive.serde2.OpenCSVSerde';

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'doppel-table-data-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

// ---------- helpers ----------

interface TableSpec {
  columns: Array<string | [string, string]>;
  params?: Record<string, string>;
  serde?: string;
  serdeParams?: Record<string, string>;
  partitionKeys?: string[];
  location?: string;
}

function tableDoc(spec: TableSpec): GlueTableDocument {
  return {
    Name: 'things',
    DatabaseName: 'shop',
    Parameters: spec.params ?? { classification: 'csv', 'skip.header.line.count': '1' },
    StorageDescriptor: {
      Columns: spec.columns.map((c) => (typeof c === 'string' ? { Name: c, Type: 'string' } : { Name: c[0], Type: c[1] })),
      Location: spec.location ?? 's3://bucket/things/',
      ...(spec.serde ? { SerdeInfo: { SerializationLibrary: spec.serde, Parameters: spec.serdeParams ?? {} } } : {}),
    },
    PartitionKeys: (spec.partitionKeys ?? []).map((k) => ({ Name: k, Type: 'string' })),
  };
}

const format = (spec: TableSpec) => tableFormatOf(tableDoc(spec));

/** Stages a table and reads the staged rows back (file order), with the column names and the warnings. */
async function stagedRows(fmt: TableFormat, files: PartFile[], options: StageOptions = {}) {
  const warnings: string[] = [];
  const session = await DuckDbSession.open();
  try {
    const table = await stageTable(session, fmt, toTableParts(files), { onWarning: (w) => warnings.push(w), ...options });
    const rows = (await session.rows(`SELECT * FROM ${STAGED_ROWS} ORDER BY rowid`)) as Array<Array<string | null>>;
    return { columns: table.columns.map((c) => c.name), rows, warnings };
  } finally {
    await session.close();
  }
}

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(tmp, name);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content);
  return path;
}

/** Asserts that reading fails with a TableDataError whose message matches every pattern. */
async function assertDataError(read: Promise<unknown>, ...patterns: RegExp[]): Promise<TableDataError> {
  try {
    await read;
  } catch (e) {
    assert.ok(e instanceof TableDataError, `expected a TableDataError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return e;
  }
  assert.fail('expected the read to fail');
}

async function duck(sql: string): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(sql);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const sqlPath = (p: string) => `'${p.replaceAll("'", "''")}'`;

function datasetNames(): string[] {
  return readdirSync(DATASETS_DIR).filter((d) => existsSync(join(DATASETS_DIR, d, 'meta.json'))).sort();
}

function datasetMeta(name: string): { records: number; primary_key: string; sources?: Record<string, number> } {
  return JSON.parse(readFileSync(join(DATASETS_DIR, name, 'meta.json'), 'utf8'));
}

/** The header row of a CSV file, parsed by an independent CSV parser. */
function csvHeader(path: string, delimiter = ','): string[] {
  const head = readFileSync(path).subarray(0, 1 << 16).toString('latin1').split(/\r?\n/)[0]!;
  return (parse(head, { delimiter }) as string[][])[0]!;
}

const recordsCsv = (name: string) => join(DATASETS_DIR, name, 'records.csv');

function recordsTable(name: string, extra: Partial<TableSpec> = {}): TableFormat {
  return format({ columns: csvHeader(recordsCsv(name)), ...extra });
}

// ---------- table-format ----------

describe('tableFormatOf', () => {
  it('reads a crawler-made CSV table (LazySimpleSerDe, parameters in both places)', () => {
    const f = tableFormatOf({
      Name: 'dblp_acm_records_csv',
      DatabaseName: 'er',
      Parameters: { classification: 'csv', delimiter: ',', 'skip.header.line.count': '1', areColumnsQuoted: 'false' },
      StorageDescriptor: {
        Columns: [
          { Name: 'id', Type: 'string' },
          { Name: 'year', Type: 'bigint' },
        ],
        Location: 's3://bucket/dblp-acm/records/',
        InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
        SerdeInfo: { SerializationLibrary: LAZY, Parameters: { 'field.delim': ',' } },
        Parameters: { classification: 'csv', 'skip.header.line.count': '1', delimiter: ',' },
      },
    });
    assert.equal(f.kind, 'csv');
    assert.equal(f.table, 'er.dblp_acm_records_csv');
    assert.equal(f.location, 's3://bucket/dblp-acm/records/');
    assert.deepEqual(f.columns, [
      { name: 'id', type: 'string' },
      { name: 'year', type: 'bigint' },
    ]);
    assert.deepEqual(f.csv, { delimiter: ',', quote: '', escape: '', headerLines: 1, encoding: 'UTF-8', quoted: false, openCsv: false, nullFormat: '\\N' });
  });

  it('reads OpenCSVSerde parameters, with its defaults', () => {
    const f = format({ columns: ['a'], serde: OPEN_CSV, serdeParams: { separatorChar: '|' } });
    assert.deepEqual(f.csv, { delimiter: '|', quote: '"', escape: '\\', headerLines: 1, encoding: 'UTF-8', quoted: true, openCsv: true, nullFormat: undefined });
    const g = format({ columns: ['a'], serde: OPEN_CSV, serdeParams: { separatorChar: '\\t', quoteChar: "'", escapeChar: '\\\\' } });
    assert.equal(g.csv!.delimiter, '\t');
    assert.equal(g.csv!.quote, "'");
    assert.equal(g.csv!.escape, '\\');
  });

  it('looks parameters up in Table, then StorageDescriptor, then SerDe parameters', () => {
    const doc = tableDoc({ columns: ['a'], params: {}, serde: LAZY, serdeParams: { 'skip.header.line.count': '3', classification: 'json' } });
    doc.StorageDescriptor!.Parameters = { classification: 'csv', 'skip.header.line.count': '2' };
    let f = tableFormatOf(doc);
    assert.equal(f.kind, 'csv');
    assert.equal(f.csv!.headerLines, 2);
    doc.Parameters = { 'skip.header.line.count': '1' };
    f = tableFormatOf(doc);
    assert.equal(f.csv!.headerLines, 1);
    delete doc.StorageDescriptor!.Parameters;
    doc.Parameters = {};
    assert.equal(tableFormatOf(doc).kind, 'json');
  });

  it('infers the format from the SerDe or the input format when there is no classification', () => {
    const json = format({ columns: ['a'], params: {}, serde: 'org.openx.data.jsonserde.JsonSerDe' });
    assert.equal(json.kind, 'json');
    assert.equal(json.csv, undefined);
    assert.equal(format({ columns: ['a'], params: {}, serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' }).kind, 'parquet');
    const doc = tableDoc({ columns: ['a'], params: {} });
    doc.StorageDescriptor!.InputFormat = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat';
    assert.equal(tableFormatOf(doc).kind, 'parquet');
    assert.equal(format({ columns: ['a'], params: {}, serde: OPEN_CSV }).kind, 'csv');
  });

  it('understands the ways a delimiter is written', () => {
    const delim = (d: string, serde = LAZY) => format({ columns: ['a'], serde, serdeParams: { 'field.delim': d } }).csv!.delimiter;
    assert.equal(delim('|'), '|');
    assert.equal(delim('\\t'), '\t');
    assert.equal(delim('\t'), '\t');
    assert.equal(delim('\\u0001'), '\u0001');
    assert.equal(delim('\\001'), '\u0001');
    assert.equal(delim('9'), '\t'); // Hive reads a number as a byte value
    assert.equal(format({ columns: ['a'], params: { classification: 'csv', delimiter: ';' } }).csv!.delimiter, ';');
    assert.equal(format({ columns: ['a'] }).csv!.delimiter, ',');
  });

  it('maps serialization.encoding names', () => {
    for (const name of ['ISO-8859-1', 'iso8859_1', 'latin1', 'Latin-1']) {
      assert.equal(format({ columns: ['a'], serde: LAZY, serdeParams: { 'serialization.encoding': name } }).csv!.encoding, 'ISO-8859-1');
    }
    assert.equal(format({ columns: ['a'], serde: LAZY, serdeParams: { 'serialization.encoding': 'utf8' } }).csv!.encoding, 'UTF-8');
  });

  it('reports what is missing or unusable, naming the table', () => {
    const fails = (doc: GlueTableDocument, ...patterns: RegExp[]) => {
      assert.throws(
        () => tableFormatOf(doc),
        (e: unknown) => e instanceof TableDataError && patterns.every((p) => p.test(e.message)) && e.where.table === 'shop.things',
      );
    };
    fails(tableDoc({ columns: ['a'], params: {} }), /shop\.things/, /classification/, /SerializationLibrary/);
    const noLocation = tableDoc({ columns: ['a'] });
    delete noLocation.StorageDescriptor!.Location;
    fails(noLocation, /shop\.things/, /Location is missing/);
    fails(tableDoc({ columns: [] }), /Columns is empty/);
    fails(tableDoc({ columns: [['tags', 'array<string>']] }), /column tags has type "array<string>"/);
    fails(tableDoc({ columns: ['a'], params: { classification: 'orc' } }), /classification "orc" is not supported/);
    fails(tableDoc({ columns: ['a'], serde: LAZY, serdeParams: { 'serialization.encoding': 'windows-1252' } }), /serialization\.encoding "windows-1252"/);
    fails(tableDoc({ columns: ['a'], serde: LAZY, serdeParams: { 'field.delim': '||' } }), /field\.delim "\|\|" is not a single character/);
    fails(tableDoc({ columns: ['a'], params: { classification: 'csv', 'skip.header.line.count': 'one' } }), /skip\.header\.line\.count "one"/);
    fails(tableDoc({ columns: ['a', 'A'] }), /column A is declared twice/);
    fails(tableDoc({ columns: ['a'], serde: 'org.apache.hadoop.hive.serde2.RegexSerDe' }), /RegexSerDe/);
  });
});

// ---------- location ----------

describe('partFilesOf', () => {
  const objects = [
    { key: 'data/part-1.csv', size: 10 },
    { key: 'data/_SUCCESS', size: 0 },
    { key: 'data/part-0.csv', size: 10 },
    { key: 'data/', size: 0 },
    { key: 'data/year=2020/', size: 0 },
    { key: 'data/year=2020_$folder$', size: 0 },
    { key: 'data/year=2020/part-2.csv', size: 10 },
    { key: 'data/_temporary/0/part-9.csv', size: 10 },
    { key: 'data/.hidden.csv', size: 10 },
    { key: 'data/empty.csv', size: 0 },
    { key: 'data-old/part-0.csv', size: 10 },
    { key: 'single.csv', size: 5 },
  ];

  it('keeps the data objects under a prefix, sorted by key', () => {
    const expected = ['data/part-0.csv', 'data/part-1.csv', 'data/year=2020/part-2.csv'];
    assert.deepEqual(partFilesOf(objects, 'data/').map((o) => o.key), expected);
    assert.deepEqual(partFilesOf(objects, 'data').map((o) => o.key), expected, 'a prefix without its slash is still a folder');
  });

  it('takes the named object when Location names one', () => {
    assert.deepEqual(partFilesOf(objects, 'single.csv'), [{ key: 'single.csv', size: 5 }]);
    assert.deepEqual(partFilesOf(objects, 'data/part-1.csv').map((o) => o.key), ['data/part-1.csv']);
    assert.deepEqual(partFilesOf(objects, 'nothing/'), []);
  });

  it('splits S3 locations', () => {
    assert.deepEqual(parseS3Location('s3://bucket/a/b/'), { bucket: 'bucket', key: 'a/b/' });
    assert.deepEqual(parseS3Location('s3a://bucket'), { bucket: 'bucket', key: '' });
    assert.throws(() => parseS3Location('/local/path'), TableDataError);
  });
});

// ---------- reading real data ----------

describe('stageTable on the shared datasets', { skip: noDatasets }, () => {
  it('reads every records.csv with the row count meta.json states', async () => {
    for (const name of datasetNames()) {
      const meta = datasetMeta(name);
      const { rows, columns } = await stagedRows(recordsTable(name), [recordsCsv(name)], { primaryKey: meta.primary_key });
      assert.equal(rows.length, meta.records, name);
      assert.deepEqual(columns, csvHeader(recordsCsv(name)), name);
    }
  });

  it('keeps line breaks inside quoted values, and agrees with an independent CSV parser', async () => {
    const name = 'dedupe_csv_example';
    const expected = (
      parse(readFileSync(recordsCsv(name)), {
        from_line: 2,
        // Our rule: an empty unquoted field is NULL, a quoted empty field is ''.
        cast: (value, context) => (value === '' && !context.quoting ? null : value),
      }) as Array<Array<string | null>>
    );
    const { rows } = await stagedRows(recordsTable(name, { serde: OPEN_CSV }), [recordsCsv(name)]);
    assert.deepEqual(rows, expected);
    assert.ok(rows.some((r) => r.some((v) => v?.includes('\n'))), 'some values hold line breaks');
  });

  it('reads a Latin-1 raw file when the table declares ISO-8859-1, and names the line when it does not', async () => {
    const path = join(RAW_DIR, 'leipzig_dblp_acm', 'DBLP2.csv');
    const bytes = readFileSync(path);
    const lines = bytes.toString('latin1').split('\n');
    const firstBadLine = bytes
      .toString('binary')
      .split('\n')
      .findIndex((l) => !isUtf8(Buffer.from(l, 'binary')));
    assert.ok(firstBadLine >= 0, 'the raw file is not UTF-8');
    const accented = /[^\s",]*[\u00c0-\u00ff][^\s",]*/.exec(lines[firstBadLine]!)![0];

    const columns = csvHeader(path);
    const latin = format({ columns, serde: OPEN_CSV, serdeParams: { 'serialization.encoding': 'ISO-8859-1' } });
    const { rows } = await stagedRows(latin, [{ path, uri: 's3://bucket/dblp/DBLP2.csv' }], { primaryKey: 'id' });
    assert.equal(rows.length, datasetMeta('leipzig_dblp_acm').sources!['dblp']);
    assert.ok(rows.some((r) => r.some((v) => v?.includes(accented))), `a value contains ${accented}`);

    const utf8 = format({ columns, serde: OPEN_CSV });
    const e = await assertDataError(
      stagedRows(utf8, [{ path, uri: 's3://bucket/dblp/DBLP2.csv' }]),
      new RegExp(`^s3://bucket/dblp/DBLP2\\.csv is not valid UTF-8 \\(line ${firstBadLine + 1}\\)`),
      /declare serialization\.encoding=ISO-8859-1 if it is Latin-1/,
    );
    assert.equal(e.where.line, firstBadLine + 1);
  });

  it('reads a pipe-delimited raw file with LazySimpleSerDe', async () => {
    const path = join(RAW_DIR, 'jedai_imdb_tmdb', 'imdb.csv');
    const header = csvHeader(path, '|');
    const f = format({ columns: header.map((_, i) => (i === 0 ? 'id' : `p${i}`)), serde: LAZY, serdeParams: { 'field.delim': '|' } });
    const { rows, warnings } = await stagedRows(f, [path], { primaryKey: 'id' });
    assert.equal(rows.length, datasetMeta('jedai_imdb_tmdb').sources!['imdb']);
    assert.ok(rows.every((r) => r.length === header.length));
    // The file's header names URIs; the catalog's names differ, which Hive accepts (by position).
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /header \(line 1\) names 12 fields .* fields are read by position/);
  });

  it('skips a UTF-8 byte order mark', async () => {
    const name = 'febrl1';
    const original = readFileSync(recordsCsv(name));
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const withHeader = await file('bom/with-header.csv', Buffer.concat([bom, original]));
    const body = original.subarray(original.indexOf(0x0a) + 1);
    const withoutHeader = await file('bom/no-header.csv', Buffer.concat([bom, body]));
    const plain = await stagedRows(recordsTable(name), [recordsCsv(name)]);

    const a = await stagedRows(recordsTable(name), [withHeader], { primaryKey: 'id' });
    assert.deepEqual(a.warnings, [], 'the header still matches the catalog');
    assert.deepEqual(a.rows, plain.rows);
    const b = await stagedRows(recordsTable(name, { params: { classification: 'csv' } }), [withoutHeader], { primaryKey: 'id' });
    assert.deepEqual(b.rows, plain.rows);
    assert.ok(!b.rows[0]![0]!.startsWith('\uFEFF'));
  });

  it('reads JSON lines and Parquet written from a dataset, with the same rows as the CSV', async () => {
    const name = 'splink_fake_1000';
    const columns = csvHeader(recordsCsv(name));
    const jsonl = join(tmp, 'fake.jsonl');
    const parquet = join(tmp, 'fake.parquet');
    const source = `(SELECT * FROM read_csv(${sqlPath(recordsCsv(name))}, all_varchar = true, header = true))`;
    await duck(`COPY ${source} TO ${sqlPath(jsonl)} (FORMAT json); COPY ${source} TO ${sqlPath(parquet)} (FORMAT parquet)`);
    const csv = await stagedRows(recordsTable(name), [recordsCsv(name)]);

    const json = await stagedRows(format({ columns, params: { classification: 'json' } }), [jsonl], { primaryKey: 'id' });
    assert.equal(json.rows.length, datasetMeta(name).records);
    assert.deepEqual(json.rows, csv.rows);

    const pq = await stagedRows(format({ columns, params: { classification: 'parquet' } }), [parquet], { primaryKey: 'id' });
    assert.equal(pq.rows.length, datasetMeta(name).records);
    assert.deepEqual(pq.rows, csv.rows);
  });

  it('reads the raw Parquet file by column name', async () => {
    const path = join(RAW_DIR, 'splink_historical_50k', 'historical_figures_with_errors_50k.parquet');
    const schema = join(tmp, 'schema.csv');
    await duck(`COPY (SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(${sqlPath(path)}))) TO ${sqlPath(schema)} (HEADER false)`);
    const names = readFileSync(schema, 'utf8').trim().split('\n');
    // The catalog lists the columns in another order and case: Parquet columns are found by name.
    const catalog = [...names].reverse().map((n) => n.toUpperCase());
    const { rows, columns } = await stagedRows(format({ columns: catalog, params: { classification: 'parquet' } }), [path], {
      primaryKey: 'unique_id',
    });
    assert.equal(rows.length, datasetMeta('splink_historical_50k').records);
    assert.deepEqual(columns, catalog);
  });

  it('reads part files in order, as one table', async () => {
    const name = 'febrl2';
    const text = readFileSync(recordsCsv(name), 'utf8');
    const [header, ...lines] = text.trimEnd().split('\n'); // febrl has no line breaks inside values
    const third = Math.ceil(lines.length / 3);
    const parts: string[] = [];
    for (let p = 0; p < 3; p++) {
      parts.push(await file(`parts/part-0000${p}.csv`, `${header}\n${lines.slice(p * third, (p + 1) * third).join('\n')}\n`));
    }
    const whole = await stagedRows(recordsTable(name), [recordsCsv(name)]);
    const split = await stagedRows(recordsTable(name), parts, { primaryKey: 'id' });
    assert.equal(split.rows.length, datasetMeta(name).records);
    assert.deepEqual(split.rows, whole.rows);
  });
});

// ---------- dialects and values ----------

describe('stageTable: CSV dialects', () => {
  it('follows each SerDe for quotes and NULLs', async () => {
    const path = await file('nulls.csv', 'id,name,note\n1,"a, b",\\N\n2,,""\n3,"say ""hi""",x\n');
    // OpenCSV drops an escape character that escapes nothing: \N reads N.
    const open = await stagedRows(format({ columns: ['id', 'name', 'note'], serde: OPEN_CSV }), [path]);
    assert.deepEqual(open.rows, [
      ['1', 'a, b', 'N'],
      ['2', null, ''],
      ['3', 'say "hi"', 'x'],
    ]);
    const lazy = await stagedRows(format({ columns: ['id', 'name', 'note'], serde: LAZY, serdeParams: { 'field.delim': '|' } }), [
      await file('lazy.csv', 'id|name|note\n1|"a, b"|\\N\n2||""\n'),
    ]);
    assert.deepEqual(lazy.rows, [
      ['1', '"a, b"', null],
      ['2', null, '""'],
    ]);
  });

  it('reads plain CSV tables with backslash escapes when the file uses them, doubled quotes otherwise', async () => {
    const f = format({ columns: ['id', 'text'] });
    const backslash = await stagedRows(f, [await file('esc-backslash.csv', 'id,text\n1,"say \\"hi\\""\n')]);
    assert.deepEqual(backslash.rows, [['1', 'say "hi"']]);
    const doubled = await stagedRows(f, [await file('esc-doubled.csv', 'id,text\n1,"say ""hi"" C:\\dir"\n')]);
    assert.deepEqual(doubled.rows, [['1', 'say "hi" C:\\dir']]);
  });

  it('reads OpenCSVSerde tables by OpenCSV 2.3 rules: escapes and doubled quotes in one file', async () => {
    const f = format({ columns: ['id', 'title'], serde: OPEN_CSV });
    // The issue's minimal case, checked by hand against OpenCSV's CSVParser: \A drops its escape,
    // \" is a quote, and the quote after it sits inside the field, so it is kept.
    const mixed = await stagedRows(f, [await file('opencsv-mixed.csv', 'id,title\na,"\\Are \\""V\\"" ok"\nb,plain\nc,"say ""hi"""\n')]);
    assert.deepEqual(mixed.rows, [
      ['a', 'Are ""V"" ok'],
      ['b', 'plain'],
      ['c', 'say "hi"'],
    ]);
    // Doubled escapes, an escape outside quotes, CRLF line ends, a quote in an unquoted field.
    const more = await stagedRows(f, [
      await file('opencsv-more.csv', 'id,title\r\n1,"C:\\\\dir\\\\"\r\n2,5\\"7\r\n3,bc"d"ef\r\n4,  "padded"\r\n5,""\r\n6,\r\n'),
    ]);
    assert.deepEqual(more.rows, [
      ['1', 'C:\\dir\\'],
      ['2', '5"7'],
      ['3', 'bc"d"ef'],
      ['4', 'padded'],
      ['5', ''],
      ['6', null],
    ]);
  });

  it('reads OpenCSVSerde files without escapes the same whichever way they are read', async () => {
    const f = format({ columns: ['id', 'title'], serde: OPEN_CSV });
    // DuckDB reads the first file directly; the second has a backslash, so it is rewritten first;
    // the third has a quote DuckDB refuses, so its direct read is taken back and it is rewritten too.
    const lines = '1,"a ""b"", c"\n2,"line\nbreak"\n3,\n4,""\n';
    const direct = await stagedRows(f, [await file('opencsv-direct.csv', `id,title\n${lines}`)]);
    const rewritten = await stagedRows(f, [await file('opencsv-rewritten.csv', `id,title\n${lines}5,"\\\\"\n`)]);
    const retried = await stagedRows(f, [await file('opencsv-retried.csv', `id,title\n${lines}5,ab"c,d"e\n`)]);
    // White space after a closing quote: DuckDB would drop it; OpenCSV keeps quote and space.
    const spaced = await stagedRows(f, [await file('opencsv-spaced.csv', `id,title\n${lines}5,"b" \n6,"x" `)]);
    const expected = [
      ['1', 'a "b", c'],
      ['2', 'line\nbreak'],
      ['3', null],
      ['4', ''],
    ];
    assert.deepEqual(direct.rows, expected);
    assert.deepEqual(rewritten.rows, [...expected, ['5', '\\']]);
    assert.deepEqual(retried.rows, [...expected, ['5', 'ab"c,d"e']]);
    assert.deepEqual(spaced.rows, [...expected, ['5', 'b" '], ['6', 'x" ']]);
  });

  it('takes separatorChar, quoteChar and escapeChar from the SerDe; an escapeChar equal to quoteChar means doubled quotes', async () => {
    const custom = format({ columns: ['id', 'title'], serde: OPEN_CSV, serdeParams: { separatorChar: ';', quoteChar: "'", escapeChar: '~' } });
    const { rows } = await stagedRows(custom, [await file('opencsv-custom.csv', "id;title\n1;'it~'s; ok'\n2;'C:\\dir'\n")]);
    assert.deepEqual(rows, [
      ['1', "it's; ok"],
      ['2', 'C:\\dir'],
    ]);
    const doubledOnly = format({ columns: ['id', 'title'], serde: OPEN_CSV, serdeParams: { escapeChar: '"' } });
    const doubled = await stagedRows(doubledOnly, [await file('opencsv-doubled.csv', 'id,title\n1,"say ""hi"" C:\\dir\\"\n')]);
    assert.deepEqual(doubled.rows, [['1', 'say "hi" C:\\dir\\']]);
  });

  it('checks values against the catalog types, Hive style', async () => {
    const f = format({ columns: [['id', 'int'], ['price', 'decimal(6,2)'], ['on', 'boolean'], ['day', 'date'], ['score', 'double']] });
    const ok = await stagedRows(f, [await file('typed.csv', 'id,price,on,day,score\n1,9.99,true,2024-02-29,1e3\n-2,,false,,NaN\n')]);
    assert.deepEqual(ok.rows, [
      ['1', '9.99', 'true', '2024-02-29', '1e3'],
      ['-2', null, 'false', null, 'NaN'],
    ]);
  });

  it('adds partition keys from key=value folders', async () => {
    const f = format({ columns: ['id'], partitionKeys: ['year', 'region'] });
    const a = await file('part/year=2020/region=eu%2Fwest/a.csv', 'id\n1\n');
    const b = await file('part/year=2021/region=us/b.csv', 'id\n2\n');
    const { rows, columns } = await stagedRows(f, [
      { path: a, uri: 's3://bucket/t/year=2020/region=eu%2Fwest/a.csv' },
      { path: b, uri: 's3://bucket/t/year=2021/region=us/b.csv' },
    ]);
    assert.deepEqual(columns, ['id', 'year', 'region']);
    assert.deepEqual(rows, [
      ['1', '2020', 'eu/west'],
      ['2', '2021', 'us'],
    ]);
    await assertDataError(
      stagedRows(f, [{ path: a, uri: 's3://bucket/t/a.csv' }]),
      /s3:\/\/bucket\/t\/a\.csv is not inside a "year=…" folder/,
    );
  });

  it('matches JSON keys to columns case-insensitively', async () => {
    const path = await file('case.jsonl', '{"ID": 1, "firstName": "Ann", "extra": true}\n\n{"id": "2", "firstname": {"x": [1]}}\n');
    const { rows } = await stagedRows(format({ columns: ['id', 'firstname', 'missing'], params: { classification: 'json' } }), [path], {
      primaryKey: 'id',
    });
    assert.deepEqual(rows, [
      ['1', 'Ann', null],
      ['2', '{"x":[1]}', null],
    ]);
  });
});

// ---------- errors ----------

describe('stageTable: unreadable data gives precise errors', () => {
  const uri = (name: string) => `s3://bucket/things/${name}`;
  const at = async (name: string, content: string) => ({ path: await file(`errors/${name}`, content), uri: uri(name) });
  const three = format({ columns: ['id', 'name', 'year'], serde: OPEN_CSV });

  it('ragged rows', async () => {
    const e = await assertDataError(
      stagedRows(three, [await at('ragged.csv', 'id,name,year\n1,a,2000\n2,b,2001,extra\n3,c\n')]),
      /^s3:\/\/bucket\/things\/ragged\.csv line 3 has 4 fields \(delimiter ","\) where the catalog declares 3 columns: "2,b,2001,extra" \(1 more line like it\)/,
    );
    assert.deepEqual(e.where, { uri: uri('ragged.csv'), line: 3, column: undefined });
    await assertDataError(
      stagedRows(three, [await at('short.csv', 'id,name,year\n1,a,2000\n\n3,c\n')]),
      /short\.csv line 4 has 2 fields \(delimiter ","\) where the catalog declares 3/,
    );
    // DuckDB stops at the first field too many; the count is the line's own, a quoted delimiter not counted.
    await assertDataError(
      stagedRows(three, [await at('long.csv', 'id,name,year\n1,a,2000\n2,"b,c",2001,x,y,z\n')]),
      /long\.csv line 3 has 6 fields \(delimiter ","\) where the catalog declares 3 columns: "2,\\"b,c\\",2001,x,y,z"/,
    );
    await assertDataError(
      stagedRows(format({ columns: ['id', 'name', 'year'] }), [await at('long-lazy.csv', 'id,name,year\n1,a,2000\n2,b,2001,x,y\n')]),
      /long-lazy\.csv line 3 has 5 fields \(delimiter ","\) where the catalog declares 3 columns/,
    );
  });

  it('a delimiter that leaves one field per line', async () => {
    // Found in the header when there is one, in the data otherwise.
    await assertDataError(
      stagedRows(three, [await at('pipes.csv', 'id|name|year\n1|a|2000\n')]),
      /pipes\.csv line 1 is a single field when split on the delimiter ",", but the catalog declares 3 columns/,
      /It contains 2 × "\|": if that is the delimiter, declare field\.delim = "\|"/,
    );
    const headerless = format({ columns: ['id', 'name', 'year'], params: { classification: 'csv' } });
    await assertDataError(
      stagedRows(headerless, [await at('tabs.csv', '1\ta\t2000\n2\tb\t2001\n')]),
      /tabs\.csv line 1 is a single field when split on the delimiter ",".* It contains 2 × "\\t": .* \(1 more line like it\)/,
    );
  });

  it('quotes under LazySimpleSerDe, and a quote that is never closed', async () => {
    const lazy = format({ columns: ['id', 'name', 'year'], serde: LAZY, serdeParams: { 'field.delim': ',' } });
    await assertDataError(
      stagedRows(lazy, [await at('quoted.csv', 'id,name,year\n1,"Doe, J",2000\n')]),
      /line 2 has 4 fields/,
      /LazySimpleSerDe reads as data: for quoted CSV use OpenCSVSerde/,
    );
    await assertDataError(
      stagedRows(three, [await at('open-quote.csv', 'id,name,year\n1,"abc,2000\n2,b,2001\n')]),
      /open-quote\.csv line 2, column name: the quote at character 3 opens a field that is not closed by the end of the file/,
    );
    const plain = format({ columns: ['id', 'name', 'year'] });
    await assertDataError(
      stagedRows(plain, [await at('plain-open-quote.csv', 'id,name,year\n1,"abc,2000\n2,b,2001\n')]),
      /plain-open-quote\.csv line 2, column name: a quoted field is not closed/,
      /if the file escapes them with another character, declare it as SerdeInfo\.Parameters\.escapeChar/,
    );
    // Tables that name no SerDe take one escape per file: the issue's mixed case fails there, saying what reads it.
    await assertDataError(
      stagedRows(format({ columns: ['id', 'title'] }), [await at('plain-mixed.csv', 'id,title\na,"\\Are \\""V\\"" ok"\nb,plain\nc,"say ""hi"""\n')]),
      /plain-mixed\.csv line \d, column title: a quoted field is not closed, or text follows its closing quote \(quote "\\"", escape "\\\\"\)/,
      /The file contains \\", so "\\\\" is read as the escape character throughout; .* or use OpenCSVSerde, which reads both\./,
    );
  });

  it('OpenCSVSerde: a quote escaped by mistake, with the parameter that fixes it', async () => {
    // A Windows path ending in a backslash escapes its closing quote under the default escapeChar.
    const e = await assertDataError(
      stagedRows(three, [await at('escaped-close.csv', 'id,name,year\n1,"C:\\dir\\",2000\n2,b,2001\n')]),
      /^s3:\/\/bucket\/things\/escaped-close\.csv line 2, column name: the quote at character 3 opens a field that is not closed by the end of the file \(quote "\\"", escape "\\\\"\)/,
      /declare SerdeInfo\.Parameters\.escapeChar as a character the file never contains/,
    );
    assert.deepEqual(e.where, { uri: uri('escaped-close.csv'), line: 2, column: 'name' });
    const fixed = format({ columns: ['id', 'name', 'year'], serde: OPEN_CSV, serdeParams: { escapeChar: '\\u0000' } });
    assert.deepEqual((await stagedRows(fixed, [await at('escaped-close.csv', 'id,name,year\n1,"C:\\dir\\",2000\n2,b,2001\n')])).rows, [
      ['1', 'C:\\dir\\', '2000'],
      ['2', 'b', '2001'],
    ]);
    const short = await assertDataError(
      stagedRows(three, [await at('opencsv-short.csv', 'id,name,year\n1,"a \\"b\\"",2000\n2,b\n3\n')]),
      /opencsv-short\.csv line 3 has 2 fields \(delimiter ","\) where the catalog declares 3 columns \(none for column year\): "2,b" \(1 more line like it\)\./,
    );
    assert.deepEqual(short.where, { uri: uri('opencsv-short.csv'), line: 3, column: 'year' });
    // A quote left open is given up on after 2 MB rather than read to the end of a large file.
    const runaway = `id,name,year\n1,"C:\\tmp\\",2000\n${'2,b,2001 and some more text to make the line longer\n'.repeat(60_000)}`;
    await assertDataError(
      stagedRows(three, [await at('runaway.csv', runaway)]),
      /runaway\.csv line 2, column name: the quote at character 3 opens a field that is not closed within 2 MB \(it runs on to line \d+ and further\)/,
      /declare SerdeInfo\.Parameters\.escapeChar/,
    );
  });

  it('a header with the catalog columns in another order; other names only warn', async () => {
    await assertDataError(
      stagedRows(three, [await at('swapped.csv', 'id,year,name\n1,2000,a\n')]),
      /swapped\.csv header \(line 1\) has the catalog's columns in another order: field 2 is "year" but catalog column 2 is name/,
    );
    const { rows, warnings } = await stagedRows(three, [await at('renamed.csv', 'ID,Full Name,yr\n1,a,2000\n')]);
    assert.equal(rows.length, 1);
    assert.match(warnings[0]!, /renamed\.csv header \(line 1\) names 3 fields \(ID, Full Name, yr\)/);
    assert.deepEqual((await stagedRows(three, [await at('case.csv', 'ID,Name,YEAR\n1,a,2000\n')])).warnings, []);
  });

  it('an invalid UTF-8 header line', async () => {
    const path = await file('errors/latin-header.csv', Buffer.concat([Buffer.from('id,name,ann'), Buffer.from([0xe9, 0x65]), Buffer.from('\n1,a,2000\n')]));
    await assertDataError(
      stagedRows(three, [{ path, uri: uri('latin-header.csv') }]),
      /latin-header\.csv is not valid UTF-8 \(line 1\)/,
    );
  });

  it('a line longer than DuckDB reads, in both CSV serdes: its line named, the limit said, no line quoted back', async () => {
    const text = `id,name,year\n1,a,2000\n2,${'x'.repeat(2_100_000)},2001\n3,c,2002\n`;
    // With an escape in the file an OpenCSVSerde file is rewritten before DuckDB reads it: the
    // rewrite names the original line, as the direct read does. Multi-byte text counts in bytes.
    const escaped = `id,name,year\n1,"a \\"b\\"",2000\n2,${'é'.repeat(1_050_000)},2001\n3,c,2002\n`;
    const lazy = format({ columns: ['id', 'name', 'year'] });
    for (const [name, table, content] of [['open', three, text], ['open-escaped', three, escaped], ['lazy', lazy, text]] as const) {
      const e = await assertDataError(
        stagedRows(table, [await at(`long-${name}.csv`, content)]),
        new RegExp(`long-${name}\\.csv line 3 is longer than the 2,000,000 bytes doppel reads as one line`),
      );
      assert.ok(e.message.length < 400, `${name}: ${e.message.length} characters`);
    }
  });

  it('a UTF-16 file, and a part file that is not there', async () => {
    const path = await file('errors/utf16.csv', Buffer.from('\ufeffid,name,year\n1,a,2000\n', 'utf16le'));
    await assertDataError(stagedRows(three, [{ path, uri: uri('utf16.csv') }]), /utf16\.csv is UTF-16/);
    // A missing local copy is the caller's fault, not the table's: the file-system error passes through.
    await assert.rejects(stagedRows(three, [join(tmp, 'no-such-file.csv')]), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  });

  it('values that do not fit the catalog type', async () => {
    const typed = format({ columns: ['id', 'name', ['year', 'bigint']], serde: OPEN_CSV });
    const e = await assertDataError(
      stagedRows(typed, [await at('types.csv', 'id,name,year\n1,a,2000\n2,b,abc\n3,c,1.5\n4,d,\n')]),
      /^s3:\/\/bucket\/things\/types\.csv row 2, column year: "abc" is not a bigint value, as the catalog declares \(1 more in this file\)/,
    );
    assert.deepEqual(e.where, { uri: uri('types.csv'), row: 2, column: 'year' });
    const headerless = format({ columns: ['id', 'name', ['year', 'bigint']], params: { classification: 'csv' } });
    await assertDataError(
      stagedRows(headerless, [await at('unskipped.csv', 'id,name,year\n1,a,2000\n')]),
      /unskipped\.csv row 1, column year: "year" is not a bigint value.* Row 1 looks like a header: declare skip\.header\.line\.count = 1\./,
    );
    const dated = format({ columns: ['id', ['born', 'date']] });
    await assertDataError(
      stagedRows(dated, [await at('dates.csv', 'id,born\n1,2020-01-01\n2,2020-13-01\n')]),
      /dates\.csv row 2, column born: "2020-13-01" is not a date value/,
    );
  });

  it('missing primary key values', async () => {
    const e = await assertDataError(
      stagedRows(three, [await at('nokey.csv', 'id,name,year\n1,a,2000\n,b,2001\n"  ",c,2002\n')], { primaryKey: 'ID' }),
      /nokey\.csv row 2: primary key column id is empty \(1 more row like it\)/,
    );
    assert.equal(e.where.row, 2);
    await assertDataError(
      stagedRows(three, [await at('any.csv', 'id,name,year\n')], { primaryKey: 'key' }),
      /primary key column key is not one of its columns \(id, name, year\)/,
    );
  });

  it('duplicate primary key values, across part files', async () => {
    const a = await at('dup-a.csv', 'id,name,year\n1,a,2000\n2,b,2001\n3,c,2002\n');
    const b = await at('dup-b.csv', 'id,name,year\n4,d,2003\n2,e,2004\n');
    const e = await assertDataError(
      stagedRows(three, [a, b], { primaryKey: 'id' }),
      /Table shop.things: primary key id "2" is used by two rows: s3:\/\/bucket\/things\/dup-a\.csv row 2 and s3:\/\/bucket\/things\/dup-b\.csv row 2/,
    );
    assert.deepEqual(e.where, { uri: uri('dup-b.csv'), row: 2, column: 'id' });
    await assertDataError(
      stagedRows(three, [await at('dup-same.csv', 'id,name,year\n7,a,1\n8,b,2\n7,c,3\n8,d,4\n')], { primaryKey: 'id' }),
      /"7" is used by two rows: .*dup-same\.csv row 1 and .*dup-same\.csv row 3 \(1 other key value is used more than once too\)/,
    );
  });

  it('malformed JSON lines, and lines that are not objects', async () => {
    const json = format({ columns: ['id', 'name'], params: { classification: 'json' } });
    await assertDataError(
      stagedRows(json, [await at('bad.jsonl', '{"id": 1, "name": "a"}\n\n{"id": 2, "name": \n')]),
      /^s3:\/\/bucket\/things\/bad\.jsonl line 3 is not valid JSON/,
    );
    await assertDataError(
      stagedRows(json, [await at('array.jsonl', '{"id": 1}\n[1, 2]\n')]),
      /array\.jsonl line 2 is not a JSON object/,
    );
    const latin = await file('errors/latin.jsonl', Buffer.concat([Buffer.from('{"id": 1}\n{"id": 2, "name": "caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
    await assertDataError(
      stagedRows(json, [{ path: latin, uri: uri('latin.jsonl') }]),
      /latin\.jsonl line 2 is not valid UTF-8/,
    );
  });

  it('Parquet without a catalog column, and a file that is not Parquet', async () => {
    const path = join(tmp, 'errors', 'small.parquet');
    await duck(`COPY (SELECT 1 AS id, 'a' AS name) TO ${sqlPath(path)} (FORMAT parquet)`);
    const pq = format({ columns: ['id', 'title'], params: { classification: 'parquet' } });
    await assertDataError(
      stagedRows(pq, [{ path, uri: uri('small.parquet') }]),
      /small\.parquet: Parquet column title is not in the file; it has id, name/,
    );
    const notParquet = await at('fake.parquet', 'id,name\n1,a\n');
    await assertDataError(stagedRows(pq, [notParquet]), /^s3:\/\/bucket\/things\/fake\.parquet cannot be read as Parquet/);
  });
});

// ---------- dictionary-encoded ----------

describe('readEncodedTable', () => {
  /** Every column's values per row (null when missing), as the staged rows hold them, column by column. */
  const decoded = (t: EncodedTable) => t.columns.map((c) => Array.from(c.codes, (code) => (code < 0 ? null : c.values[code]!)));
  const transposed = (rows: Array<Array<string | null>>, width: number) =>
    Array.from({ length: width }, (_, c) => rows.map((r) => r[c]!));

  it("numbers each column's values by first appearance; a missing value is -1", async () => {
    const path = await file('encoded/people.csv', 'id,name,city\n1,ann,paris\n2,bob,\n3,ann,rome\n4,,paris\n5,"",rome\n');
    const f = format({ columns: ['id', 'name', ['city', 'varchar(20)']], serde: OPEN_CSV });
    const t = await readEncodedTable(f, [path], { primaryKey: 'ID' });
    assert.equal(t.rowCount, 5);
    assert.equal(t.primaryKey, 0);
    assert.deepEqual(
      t.columns.map((c) => [c.name, c.type, Array.from(c.codes), c.values]),
      [
        ['id', 'string', [0, 1, 2, 3, 4], ['1', '2', '3', '4', '5']],
        ['name', 'string', [0, 1, 0, -1, 2], ['ann', 'bob', '']],
        ['city', 'varchar(20)', [0, -1, 1, 0, 1], ['paris', 'rome']],
      ],
    );
  });

  it('gives the staged rows: part files in order, partition keys last', async () => {
    const f = format({ columns: ['id', 'name'], partitionKeys: ['year'] });
    const parts = [
      { path: await file('encoded/year=2021/b.csv', 'id,name\n3,cy\n1,ann\n'), uri: 's3://bucket/t/year=2021/b.csv' },
      { path: await file('encoded/year=2020/a.csv', 'id,name\n2,ann\n'), uri: 's3://bucket/t/year=2020/a.csv' },
      { path: await file('encoded/year=2022/c.csv', 'id,name\n5,\n4,cy\n'), uri: 's3://bucket/t/year=2022/c.csv' },
    ];
    const t = await readEncodedTable(f, parts, { primaryKey: 'id' });
    const { rows } = await stagedRows(f, parts, { primaryKey: 'id' });
    assert.deepEqual(t.columns.map((c) => c.name), ['id', 'name', 'year']);
    assert.deepEqual(decoded(t), transposed(rows, 3));
    assert.deepEqual(decoded(t), [
      ['3', '1', '2', '5', '4'],
      ['cy', 'ann', 'ann', null, 'cy'],
      ['2021', '2021', '2020', '2022', '2022'],
    ]);
  });

  it('agrees with the staged rows on a dataset with line breaks inside values', { skip: noDatasets }, async () => {
    const name = 'dedupe_csv_example';
    const f = recordsTable(name, { serde: OPEN_CSV });
    const primaryKey = datasetMeta(name).primary_key;
    const t = await readEncodedTable(f, [recordsCsv(name)], { primaryKey });
    const { rows, columns } = await stagedRows(f, [recordsCsv(name)], { primaryKey });
    assert.equal(t.rowCount, datasetMeta(name).records);
    assert.deepEqual(decoded(t), transposed(rows, columns.length));
    for (const c of t.columns) assert.equal(new Set(c.values).size, c.values.length, `${c.name}: each value once`);
  });

  it('keeps any text: delimiters, quotes, line breaks, astral characters, and NUL (JSON data may hold one)', async () => {
    const texts = ['a,b', 'say "hi"', 'two\nlines', '\u{1F600} grin', 'nul\u0000inside', '', 'a,b'];
    const lines = texts.map((text, i) => JSON.stringify({ id: i === 2 ? 'key\u0000two' : `k${i}`, text, plain: `p${i % 2}` }));
    const path = await file('encoded/texts.jsonl', `${lines.join('\n')}\n`);
    const f = format({ columns: ['id', 'text', 'plain'], params: { classification: 'json' } });
    const t = await readEncodedTable(f, [path], { primaryKey: 'id' });
    assert.deepEqual(decoded(t), [texts.map((_, i) => (i === 2 ? 'key\u0000two' : `k${i}`)), texts, texts.map((_, i) => `p${i % 2}`)]);
    assert.deepEqual(t.columns[1]!.values, texts.slice(0, 6));
  });

  it('fails as staging does, with the same messages', async () => {
    const three = format({ columns: ['id', 'name', ['year', 'int']], serde: OPEN_CSV });
    const a = { path: await file('encoded/dup-a.csv', 'id,name,year\n1,a,2000\n2,b,2001\n'), uri: 's3://bucket/t/dup-a.csv' };
    const b = { path: await file('encoded/dup-b.csv', 'id,name,year\n2,c,2002\n'), uri: 's3://bucket/t/dup-b.csv' };
    const bad = { path: await file('encoded/bad.csv', 'id,name,year\n7,a,x\n8,b,2000,extra\n'), uri: 's3://bucket/t/bad.csv' };
    const cases: Array<[PartFile[], string]> = [
      [[a, b], 'id'],
      [[a, { ...bad, path: await file('encoded/type.csv', 'id,name,year\n7,a,x\n') }], 'id'],
      [[bad], 'id'],
      [[a], 'key'],
    ];
    for (const [parts, primaryKey] of cases) {
      const expected = await stagedRows(three, parts, { primaryKey }).then(
        () => assert.fail('staging should fail'),
        (e: TableDataError) => e,
      );
      const e = await assertDataError(readEncodedTable(three, parts, { primaryKey }), new RegExp(`^${escapeRegExp(expected.message)}$`));
      assert.deepEqual(e.where, expected.where);
    }
  });

  it('stops when aborted, with the reason', async () => {
    const path = await file('encoded/abort.csv', 'key\n1\n');
    const controller = new AbortController();
    // The header warning comes before the rows are copied: the copy must not run.
    const read = readEncodedTable(format({ columns: ['id'] }), [path], {
      primaryKey: 'id',
      signal: controller.signal,
      onWarning: () => controller.abort('stop'),
    });
    await assert.rejects(read, (e) => e === 'stop');
  });
});

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---------- key lookup ----------

describe('findMissingKeys', () => {
  const people = format({ columns: ['id', 'name'], partitionKeys: ['year'], serde: OPEN_CSV });
  const partsOf = async (dir: string) => [
    { path: await file(`${dir}/year=2020/a.csv`, 'id,name\nr1,ann\nr2,bob\n'), uri: 's3://bucket/t/year=2020/a.csv' },
    { path: await file(`${dir}/year=2021/b.csv`, 'id,name\nr3,cy\n"r,4",dee\n'), uri: 's3://bucket/t/year=2021/b.csv' },
    { path: await file(`${dir}/year=2022/c.csv`, 'id,name\nr5,eve\n'), uri: 's3://bucket/t/year=2022/c.csv' },
  ];

  it('finds the keys no part file has: each once, the first named in the order given', async () => {
    const parts = await partsOf('lookup');
    const keys = [['r5', 'x9', 'r1'], ['R1', 'r,4', 'x9'], [], ['r3', 'r2', 'x7', 'r1 ']];
    assert.deepEqual(await findMissingKeys(people, parts, { primaryKey: 'id', keys, sample: 3 }), {
      count: 4,
      first: ['x9', 'R1', 'x7'],
    });
    const found = [['r1', 'r2'], ['r3', 'r,4', 'r5', 'r1']];
    assert.deepEqual(await findMissingKeys(people, parts, { primaryKey: 'id', keys: found, sample: 5 }), { count: 0, first: [] });
    assert.deepEqual(await findMissingKeys(people, parts, { primaryKey: 'id', keys: [], sample: 5 }), { count: 0, first: [] });
  });

  it('fails as staging does when the table itself is wrong', async () => {
    const again = { path: await file('lookup-bad/year=2023/d.csv', 'id,name\nr2,bo\n'), uri: 's3://bucket/t/year=2023/d.csv' };
    const parts = [...(await partsOf('lookup-bad')), again];
    const expected = await stagedRows(people, parts, { primaryKey: 'id' }).then(
      () => assert.fail('staging should fail'),
      (e: TableDataError) => e,
    );
    assert.match(expected.message, /primary key id "r2" is used by two rows/);
    const e = await assertDataError(
      findMissingKeys(people, parts, { primaryKey: 'id', keys: [['r1']], sample: 5 }),
      new RegExp(`^${escapeRegExp(expected.message)}$`),
    );
    assert.deepEqual(e.where, expected.where);
  });
});
