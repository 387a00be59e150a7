/** FindMatches job arguments, output rows and formats, and the evaluation metrics mapping. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineTable, MatchResult } from '../../src/engine/api.js';
import { ArgumentError, effectiveArguments, parseFindMatchesArgs } from '../../src/jobs/find-matches-args.js';
import { projectToShape } from '../../src/jobs/model-projection.js';
import { toEvaluationMetrics } from '../../src/tasks/kinds/evaluation-task.js';
import { compareKeys, outputRows, writeMatchOutput } from '../../src/tasks/kinds/match-output.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { encodeTable } from '../../src/engine/table.js';

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
  });

  it('names the argument that is wrong', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{}, /--transform-id is required/],
      [{ '--transform-id': 't' }, /--output-path is required/],
      [{ '--transform-id': 't', '--output-path': '/local' }, /--output-path must be an S3 URI/],
      [{ '--transform-id': 't', '--output-path': 's3://bucket/', '--output-format': 'avro' }, /--output-format must be csv, json or parquet/],
      [{ '--transform-id': 't', '--output-path': 's3://bucket/', '--remove-duplicates': 'maybe' }, /--remove-duplicates must be true or false/],
      [{ '--transform-id': 't', '--output-path': 's3://bucket/', '--input-table': 't' }, /must be given together/],
    ];
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
    assert.deepEqual(outputRows(table, result, false), [0, 1, 2, 3]);
    assert.deepEqual(outputRows(table, result, true), [1, 2]);
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

  it('JSON lines: numbers for numeric columns that hold numbers, text otherwise, match_id a number', async () => {
    const { store, objects } = memoryStore();
    await writeMatchOutput(store, { bucket: 'b', key: 'out/' }, table, result, { format: 'json', confidence: false, removeDuplicates: true });
    const lines = objects.get('b/out/part-00000.json')!.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      { id: '9', name: 'anne', age: 31, match_id: 7 },
      { id: '2', name: null, age: 'x', match_id: 3 },
    ]);
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
});
