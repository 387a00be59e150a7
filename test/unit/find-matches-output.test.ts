/** FindMatches job arguments, output rows and formats, and the evaluation metrics mapping. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { EngineTable, MatchResult } from '../../src/engine/api.js';
import { ArgumentError, effectiveArguments, parseFindMatchesArgs } from '../../src/jobs/find-matches-args.js';
import { projectToShape } from '../../src/jobs/model-projection.js';
import { toEvaluationMetrics } from '../../src/tasks/kinds/evaluation-task.js';
import { goldenRecords } from '../../src/tasks/kinds/golden-records.js';
import { compareKeys, outputRows, writeMatchOutput } from '../../src/tasks/kinds/match-output.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { columnValues, encodeTable } from '../../src/engine/table.js';

const table = encodeTable([
    { name: 'id', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'age', type: 'int' },
  ], [
    ['10', '9', '2', '100'],
    ['ann', 'anne', null, 'bo, "the" man'],
    ['31', '31', 'x', ''],
  ], 0);

const result: MatchResult = {
  matchId: Float64Array.from([7, 7, 3, 7]),
  confidence: Float64Array.from([0.9, 0.9, 1, 0.9]),
  stats: { candidatePairs: 3, scoredPairs: 3, fullyScoredPairs: 3, matchedPairs: 3, groups: 2 },
};

/** An object store that keeps what is put, for the output writer. */
function memoryStore(): { store: ObjectStore; objects: Map<string, Buffer> } {
  const objects = new Map<string, Buffer>();
  const store = {
    async putObject(bucket: string, key: string, body: AsyncIterable<Uint8Array>) {
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(Buffer.from(c));
      objects.set(`${bucket}/${key}`, Buffer.concat(chunks));
      return { key, size: 0, etag: '', lastModified: new Date() };
    },
    async deleteObject(bucket: string, key: string) {
      objects.delete(`${bucket}/${key}`);
    },
    /** One page of the keys directly under the prefix (the output writer lists with delimiter "/"). */
    async listObjects(bucket: string, options: { prefix?: string }) {
      const prefix = `${bucket}/${options.prefix ?? ''}`;
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && !k.slice(prefix.length).includes('/')).sort();
      return { objects: keys.map((k) => ({ key: k.slice(bucket.length + 1), size: objects.get(k)!.length })), commonPrefixes: [], isTruncated: false };
    },
  } as unknown as ObjectStore;
  return { store, objects };
}

describe('findmatches job arguments', () => {
  it('merges DefaultArguments, Arguments and NonOverridableArguments in that order', () => {
    assert.deepEqual(effectiveArguments({ a: '1', b: '1', c: '1' }, { b: '2', c: '2' }, { c: '3' }), { a: '1', b: '2', c: '3' });
  });

  it('parses the arguments with their defaults', () => {
    assert.deepEqual(parseFindMatchesArgs({ '--transform-id': 'tfm-1', '--output-path': 's3://bucket/out/' }), {
      transformId: 'tfm-1',
      outputPath: 's3://bucket/out/',
      outputFormat: 'csv',
      computeMatchConfidenceScores: false,
      removeDuplicates: false,
      explain: false,
      goldenRecords: false,
      keepIncrementalState: true,
    });
    const full = parseFindMatchesArgs({
      '--transform-id': 'tfm-1',
      '--output-path': 's3://bucket/out/',
      '--output-format': 'PARQUET',
      '--compute-match-confidence-scores': 'True',
      '--remove-duplicates': 'true',
      '--input-database': 'db',
      '--input-table': 't',
    });
    assert.equal(full.outputFormat, 'parquet');
    assert.equal(full.computeMatchConfidenceScores, true);
    assert.equal(full.removeDuplicates, true);
    assert.equal(full.inputTable, 't');
    assert.equal(parseFindMatchesArgs({ '--transform-id': 't', '--output-path': 's3://bucket/', '--keep-incremental-state': 'false' }).keepIncrementalState, false);
    const incremental = parseFindMatchesArgs({
      '--transform-id': 'tfm-1',
      '--output-path': 's3://bucket/out/',
      '--existing-path': 's3://bucket/before/',
      '--incremental-database': 'db',
      '--incremental-table': 'new',
      '--explain': 'true',
    });
    assert.deepEqual(incremental.incremental, { existingPath: 's3://bucket/before/', newRecords: { database: 'db', table: 'new' } });
    assert.equal(incremental.explain, true);
  });

  it('names the argument that is wrong', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{}, /--transform-id is required/],
      [{ '--transform-id': 't' }, /--output-path is required/],
      [{ '--transform-id': 't', '--output-path': '/local' }, /--output-path must be an S3 URI/],
      [{ '--transform-id': 't', '--output-path': 's3://bucket/', '--output-format': 'avro' }, /--output-format must be csv, json or parquet/],
      [{ '--transform-id': 't', '--output-path': 's3://bucket/', '--remove-duplicates': 'maybe' }, /--remove-duplicates must be true or false/],
      [{ '--transform-id': 't', '--output-path': 's3://bucket/', '--input-table': 't' }, /must be given together/],
      [{ '--transform-id': 't', '--output-path': 's3://bucket/', '--explain': 'yes' }, /--explain must be true or false/],
      [{ '--transform-id': 't', '--output-path': 's3://bucket/', '--keep-incremental-state': 'no' }, /--keep-incremental-state must be true or false/],
      [{ '--transform-id': 't', '--output-path': 's3://bucket/', '--golden-records': 'true', '--remove-duplicates': 'true' }, /--golden-records .* cannot be combined with --remove-duplicates/],
      [{ '--transform-id': 't', '--output-path': 's3://bucket/', '--conflicts-path': 's3://bucket/c/' }, /--conflicts-path needs --existing-path/],
      [
        { '--transform-id': 't', '--output-path': 's3://bucket/', '--existing-path': 's3://bucket/e/', '--incremental-path': 's3://bucket/n/', '--incremental-table': 'x', '--incremental-database': 'd' },
        /either --incremental-path or --incremental-database with --incremental-table \(not both\)/,
      ],
    ];
    // The conflicts folder overlapping a folder the run reads or writes.
    const incremental = { '--transform-id': 't', '--output-path': 's3://bucket/out/', '--existing-path': 's3://bucket/base/', '--incremental-path': 's3://bucket/new/' };
    for (const [conflicts, other] of [
      ['s3://bucket/base/', '--existing-path'],
      ['s3://bucket/base', '--existing-path'],
      ['s3://bucket/base/conflicts/', '--existing-path'],
      ['s3://bucket/out/', '--output-path'],
      ['s3://bucket/', '--existing-path'],
      ['s3://bucket/new/c/', '--incremental-path'],
    ] as const) {
      bad.push([{ ...incremental, '--conflicts-path': conflicts }, new RegExp(`--conflicts-path \\(${conflicts}\\) must not overlap ${other}`)]);
    }
    assert.equal(parseFindMatchesArgs({ ...incremental, '--conflicts-path': 's3://bucket/based/' }).incremental?.conflictsPath, 's3://bucket/based/');
    for (const [args, message] of bad) assert.throws(() => parseFindMatchesArgs(args), (e) => e instanceof ArgumentError && message.test(e.message));
  });
});

describe('model projection', () => {
  it('keeps modeled members at every level and drops the rest', () => {
    const input = { Name: 'j', Role: 'r', Command: { Name: 'findmatches', Bogus: 1 }, DefaultArguments: { '--a': 'b' }, Extra: [[[]]] };
    assert.deepEqual(projectToShape(input, 'CreateJobRequest'), {
      Name: 'j',
      Role: 'r',
      Command: { Name: 'findmatches' },
      DefaultArguments: { '--a': 'b' },
    });
  });
});

describe('FindMatches output', () => {
  it('compares primary keys numerically when both are numbers, else as text', () => {
    assert.ok(compareKeys('9', '10') < 0);
    assert.ok(compareKeys('a10', 'a9') < 0);
    assert.ok(compareKeys('x', null) < 0);
    assert.equal(compareKeys('1', '1'), 0);
  });

  it('writes every row once; --remove-duplicates keeps the lowest primary key per group', () => {
    assert.deepEqual(Array.from(outputRows(table, result, false)), [0, 1, 2, 3]);
    assert.deepEqual(Array.from(outputRows(table, result, true)), [1, 2]);
  });

  it('CSV: header, all columns, match_id and the confidence, quoted as needed; then _SUCCESS', async () => {
    const { store, objects } = memoryStore();
    const out = await writeMatchOutput(store, { bucket: 'b', key: 'out' }, table, result, {
      format: 'csv',
      confidence: true,
      removeDuplicates: false,
    });
    assert.equal(out.rows, 4);
    assert.deepEqual([...objects.keys()], ['b/out/part-00000.csv', 'b/out/_SUCCESS']);
    assert.equal(
      objects.get('b/out/part-00000.csv')!.toString('utf8'),
      'id,name,age,match_id,match_confidence_score\n10,ann,31,7,0.9\n9,anne,31,7,0.9\n2,,x,3,1\n100,"bo, ""the"" man",,7,0.9\n',
    );
  });

  it('what else the output holds (the incremental state) is written after the parts and before _SUCCESS', async () => {
    const { store, objects } = memoryStore();
    const seen: string[][] = [];
    await writeMatchOutput(store, { bucket: 'b', key: 'out/' }, table, result, {
      format: 'csv',
      confidence: false,
      removeDuplicates: false,
      beforeMarker: async (parts) => {
        seen.push(parts, [...objects.keys()]);
        await store.putObject('b', 'out/_doppel/state', (async function* () {})());
      },
    });
    assert.deepEqual(seen, [['s3://b/out/part-00000.csv'], ['b/out/part-00000.csv']]);
    assert.deepEqual([...objects.keys()], ['b/out/part-00000.csv', 'b/out/_doppel/state', 'b/out/_SUCCESS']);
  });

  it('JSON lines: numbers for numeric columns that hold numbers, text otherwise, match_id a number', async () => {
    const { store, objects } = memoryStore();
    await writeMatchOutput(store, { bucket: 'b', key: 'out/' }, table, result, { format: 'json', confidence: false, removeDuplicates: true });
    const lines = objects.get('b/out/part-00000.json')!.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      { id: '9', name: 'anne', age: 31, match_id: 7 },
      { id: '2', name: null, age: 'x', match_id: 3 },
    ]);
  });

  it('JSON lines: a numeric value written loosely (leading zeros, a bare point) is a JSON number, digit for digit', async () => {
    const values = [' 0870', '007', '00', '.5', '5.', '-.25', '+007.5', '1e05', '12345678901234567890.5', 'NaN', '1,000', '.', '-', '+-5'];
    const loose = encodeTable([{ name: 'id', type: 'string' }, { name: 'v', type: 'double' }], [values.map((_, i) => String(i)), values], 0);
    const ids: MatchResult = {
      matchId: Float64Array.from(values.map((_, i) => i)),
      confidence: Float64Array.from(values.map(() => 1)),
      stats: { candidatePairs: 0, scoredPairs: 0, fullyScoredPairs: 0, matchedPairs: 0, groups: values.length },
    };
    const { store, objects } = memoryStore();
    await writeMatchOutput(store, { bucket: 'b', key: 'loose/' }, loose, ids, { format: 'json', confidence: false, removeDuplicates: false });
    const text = objects.get('b/loose/part-00000.json')!.toString('utf8').trim().split('\n');
    assert.deepEqual(
      text.map((l) => /"v":("[^"]*"|[^,}]*)/.exec(l)![1]),
      ['870', '7', '0', '0.5', '5', '-0.25', '7.5', '1e05', '12345678901234567890.5', '"NaN"', '"1,000"', '"."', '"-"', '"+-5"'],
    );
    for (const l of text) JSON.parse(l);
  });

  it('one rule for empty values: a missing or empty value is an empty CSV field, JSON null, Parquet NULL', async () => {
    // Row 2 has no name (missing), row 3 an empty age (empty text): both are "no value" in every format.
    const { store, objects } = memoryStore();
    for (const format of ['csv', 'json', 'parquet'] as const) {
      await writeMatchOutput(store, { bucket: 'b', key: `empty/${format}/` }, table, result, { format, confidence: false, removeDuplicates: false });
    }
    assert.equal(
      objects.get('b/empty/csv/part-00000.csv')!.toString('utf8'),
      'id,name,age,match_id\n10,ann,31,7\n9,anne,31,7\n2,,x,3\n100,"bo, ""the"" man",,7\n',
    );
    const json = objects.get('b/empty/json/part-00000.json')!.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(json.slice(2), [
      { id: '2', name: null, age: 'x', match_id: 3 },
      { id: '100', name: 'bo, "the" man', age: null, match_id: 7 },
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'doppel-output-'));
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await writeFile(join(dir, 'part.parquet'), objects.get('b/empty/parquet/part-00000.parquet')!);
      const reader = await connection.runAndReadAll(`SELECT name, age FROM read_parquet('${join(dir, 'part.parquet')}')`);
      assert.deepEqual(reader.getRowsJS(), [['ann', 31], ['anne', 31], [null, null], ['bo, "the" man', null]]);
    } finally {
      connection.closeSync();
      instance.closeSync();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('FindMatches output of a few thousand rows', () => {
  // Values chosen to need every kind of escaping, repeated so that columns have few distinct values.
  // (A loaded table's text is always well-formed: DuckDB checks the encoding.)
  const texts = ['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\rhere', 'ünïcödé', '\u{1F600}', '', 'nul\u0000in', 'back\\slash'];
  const ages = ['31', ' 42', '+7', '-0.5', '1e3', 'x', '007'];
  const flags = ['true', 'FALSE', 'yes', ' false '];
  const n = 3000;
  const missingEvery = (k: number) => (r: number, v: string) => (r % k === 0 ? null : v);
  const big = encodeTable(
    [
      { name: 'id', type: 'string' },
      { name: 'text, "quoted"', type: 'string' },
      { name: 'age', type: 'int' },
      { name: 'active', type: 'boolean' },
    ],
    [
      Array.from({ length: n }, (_, r) => String((r * 7919) % 10007)),
      Array.from({ length: n }, (_, r) => missingEvery(13)(r, texts[r % texts.length]!)),
      Array.from({ length: n }, (_, r) => missingEvery(17)(r, ages[r % ages.length]!)),
      Array.from({ length: n }, (_, r) => missingEvery(5)(r, flags[r % flags.length]!)),
    ],
    0,
  );
  // Match ids anywhere below 2^53, in no order.
  const bigResult: MatchResult = {
    matchId: Float64Array.from({ length: n }, (_, r) => 2 ** 52 + ((r * 31) % 977) * 1_000_003),
    confidence: Float64Array.from({ length: n }, (_, r) => (r % 7) / 7),
    stats: { candidatePairs: 0, scoredPairs: 0, fullyScoredPairs: 0, matchedPairs: 0, groups: 977 },
  };
  const columns = big.columns.map((_, c) => columnValues(big, c));
  const write = async (format: 'csv' | 'json' | 'parquet', confidence: boolean, removeDuplicates: boolean) => {
    const { store, objects } = memoryStore();
    const out = await writeMatchOutput(store, { bucket: 'b', key: 'out/' }, big, bigResult, { format, confidence, removeDuplicates });
    assert.deepEqual([...objects.keys()], [`b/out/part-00000.${format}`, 'b/out/_SUCCESS']);
    return { rows: out.rows, bytes: objects.get(`b/out/part-00000.${format}`)! };
  };

  it('CSV is byte for byte what csv-stringify writes', async () => {
    const { bytes } = await write('csv', true, false);
    const expected = stringify([
      [...big.columns.map((c) => c.name), 'match_id', 'match_confidence_score'],
      ...Array.from({ length: n }, (_, r) => [
        ...columns.map((values) => values[r] ?? ''),
        String(bigResult.matchId[r]),
        String(bigResult.confidence[r]),
      ]),
    ]);
    assert.equal(bytes.toString('utf8'), expected);
  });

  it('JSON lines hold every value: numbers and booleans where the column type allows, text otherwise', async () => {
    const { bytes } = await write('json', false, false);
    const lines = bytes.toString('utf8').split('\n');
    assert.equal(lines.pop(), '');
    const number = (v: string) => (/^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v.trim().replace(/^\+(?=[\d.])/, '')) ? Number(v) : v);
    const flag = (v: string) => (['true', 'false'].includes(v.trim().toLowerCase()) ? v.trim().toLowerCase() === 'true' : v);
    assert.deepEqual(
      lines.map((l) => JSON.parse(l) as unknown),
      Array.from({ length: n }, (_, r) => ({
        id: columns[0]![r],
        'text, "quoted"': columns[1]![r] || null,
        age: columns[2]![r] === null ? null : number(columns[2]![r]!),
        active: columns[3]![r] === null ? null : flag(columns[3]![r]!),
        match_id: bigResult.matchId[r],
      })),
    );
  });

  it('--remove-duplicates keeps the row with the lowest primary key of each group, in input order', async () => {
    const lowest = new Map<number, number>();
    for (let r = 0; r < n; r++) {
      const id = bigResult.matchId[r]!;
      const kept = lowest.get(id);
      if (kept === undefined || Number(columns[0]![r]) < Number(columns[0]![kept])) lowest.set(id, r);
    }
    const expected = [...lowest.values()].sort((a, b) => a - b);
    assert.deepEqual(Array.from(outputRows(big, bigResult, true)), expected);
    const { rows, bytes } = await write('csv', false, true);
    assert.equal(rows, 977);
    const ids = (parse(bytes, { columns: true }) as Array<Record<string, string>>).map((record) => record['id']);
    assert.deepEqual(ids, expected.map((r) => columns[0]![r]));
  });

  it('Parquet holds every value cast to its catalog type as DuckDB casts it (NULL where it cannot)', async () => {
    const { bytes } = await write('parquet', true, false);
    const dir = await mkdtemp(join(tmpdir(), 'doppel-output-'));
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      const path = join(dir, 'part.parquet');
      await writeFile(path, bytes);
      const cast = async (values: string[], type: string) => {
        const list = values.map((v) => `'${v}'`).join(', ');
        const rows = (await connection.runAndReadAll(`SELECT v, TRY_CAST(v AS ${type}) FROM (SELECT unnest([${list}]) AS v)`)).getRowsJS();
        return new Map(rows.map(([v, c]) => [v as string, c]));
      };
      const ageOf = await cast(ages, 'INTEGER');
      const flagOf = await cast(flags, 'BOOLEAN');
      const reader = await connection.runAndReadAll(`SELECT * FROM read_parquet('${path}')`);
      assert.deepEqual(reader.columnNames(), ['id', 'text, "quoted"', 'age', 'active', 'match_id', 'match_confidence_score']);
      assert.deepEqual(
        reader.getRowsJS(),
        Array.from({ length: n }, (_, r) => [
          columns[0]![r],
          columns[1]![r] || null,
          columns[2]![r] === null ? null : ageOf.get(columns[2]![r]!),
          columns[3]![r] === null ? null : flagOf.get(columns[3]![r]!),
          BigInt(bigResult.matchId[r]!),
          bigResult.confidence[r],
        ]),
      );
    } finally {
      connection.closeSync();
      instance.closeSync();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('golden records', () => {
  it('one record per group: the most complete record\'s key, each column\'s most frequent value', () => {
    const t = encodeTable(
      [{ name: 'id' }, { name: 'name' }, { name: 'city' }, { name: 'phone' }],
      [
        ['1', '3', '2', '4', '6', '5', '7'],
        ['ann lee', 'anne lee', 'ann lee', 'bob', 'cy', 'cy', null],
        ['leeds', 'york', 'york', null, null, 'hull', null],
        [null, '555', '555', null, '222', '111', null],
      ],
      0,
    );
    const result: MatchResult = {
      matchId: Float64Array.from([7, 7, 7, 3, 9, 9, 11]),
      confidence: Float64Array.from([0.8, 0.8, 0.8, 1, 0.9, 0.9, 1]),
      stats: { candidatePairs: 0, scoredPairs: 0, fullyScoredPairs: 0, matchedPairs: 0, groups: 4 },
    };
    const golden = goldenRecords(t, result);
    const rows = Array.from({ length: golden.table.rowCount }, (_, r) => golden.table.columns.map((c) => (c.codes[r]! < 0 ? null : c.values[c.codes[r]!])));
    assert.deepEqual(rows, [
      // Records 3 and 2 hold every value: the lower key, 2, is the most complete; "ann lee" and "york" are the most frequent.
      ['2', 'ann lee', 'york', '555'],
      ['4', 'bob', null, null],
      // 5 is the most complete; the phones are equally frequent, so the most complete record's wins.
      ['5', 'cy', 'hull', '111'],
      ['7', null, null, null],
    ]);
    assert.deepEqual(Array.from(golden.result.matchId), [7, 3, 9, 11]);
    assert.deepEqual(Array.from(golden.result.confidence), [0.8, 1, 0.9, 1]);
  });
});

describe('evaluation metrics', () => {
  it('maps the engine result to EvaluationMetrics: bounded doubles, undefined metrics omitted, importances descending', () => {
    const m = toEvaluationMetrics({
      areaUnderPRCurve: 0.8,
      precision: Number.NaN,
      recall: 1.0000001,
      f1: undefined,
      confusionMatrix: { numTruePositives: 3, numFalsePositives: 1, numTrueNegatives: 5, numFalseNegatives: 0 },
      columnImportances: [
        { columnName: 'a', importance: 0.2 },
        { columnName: 'b', importance: 0.9 },
      ],
    });
    assert.deepEqual(m, {
      TransformType: 'FIND_MATCHES',
      FindMatchesMetrics: {
        AreaUnderPRCurve: 0.8,
        Recall: 1,
        ConfusionMatrix: { NumTruePositives: 3, NumFalsePositives: 1, NumTrueNegatives: 5, NumFalseNegatives: 0 },
        ColumnImportances: [
          { ColumnName: 'b', Importance: 0.9 },
          { ColumnName: 'a', Importance: 0.2 },
        ],
      },
    });
  });

  it("adds doppel's BlockingRecall when the engine measured it, bounded to [0, 1]", () => {
    const base = {
      confusionMatrix: { numTruePositives: 0, numFalsePositives: 0, numTrueNegatives: 0, numFalseNegatives: 0 },
      columnImportances: [],
    };
    const fm = (r: Parameters<typeof toEvaluationMetrics>[0]) =>
      (toEvaluationMetrics(r)['FindMatchesMetrics'] as Record<string, unknown>)['BlockingRecall'];
    assert.equal(fm({ ...base, blockingRecall: 0.75 }), 0.75);
    assert.equal(fm({ ...base, blockingRecall: 1.0000001 }), 1);
    assert.equal(fm({ ...base, blockingRecall: Number.NaN }), undefined);
    assert.ok(!('BlockingRecall' in (toEvaluationMetrics(base)['FindMatchesMetrics'] as object)));
  });

  it("adds doppel's AuditPairCounts when the estimate was counted on audit pairs", () => {
    const base = {
      confusionMatrix: { numTruePositives: 0, numFalsePositives: 0, numTrueNegatives: 0, numFalseNegatives: 0 },
      columnImportances: [],
    };
    const metrics = (r: Parameters<typeof toEvaluationMetrics>[0]) => toEvaluationMetrics(r)['FindMatchesMetrics'] as Record<string, unknown>;
    assert.deepEqual(metrics({ ...base, auditPairs: { precision: 12, recall: 9, blockingRecall: 14 } })['AuditPairCounts'], {
      Precision: 12,
      Recall: 9,
      BlockingRecall: 14,
    });
    assert.ok(!('AuditPairCounts' in metrics(base)));
  });
});
