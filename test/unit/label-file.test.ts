import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatLabelFile,
  LabeledRecords,
  LabelFileError,
  readLabelFile,
  type LabelSchema,
} from '../../src/transforms/labels/label-file.js';
import type { LabelRow } from '../../src/storage/records.js';
import { Utf8Checker } from '../../src/transforms/labels/utf8.js';

const schema = { columns: ['id', 'name', 'city'], primaryKey: 'id' };
const file = (text: string) => Buffer.from(text, 'utf8');

/** The bytes as a stream of `chunkSize`-byte chunks (every chunk boundary is a place a sequence may straddle). */
async function* chunks(bytes: Buffer, chunkSize: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
}

/** Every row of one file, read as a stream with small batches. */
async function readAll(
  bytes: Buffer,
  source = 's3://b/labels.csv',
  options: { chunkSize?: number; seen?: LabeledRecords; schema?: LabelSchema } = {},
): Promise<LabelRow[]> {
  const rows: LabelRow[] = [];
  const s = options.schema ?? schema;
  const seen = options.seen ?? new LabeledRecords(s.primaryKey);
  for await (const batch of readLabelFile(chunks(bytes, options.chunkSize ?? 7), source, s, { batchRows: 2, seen })) {
    assert.ok(batch.length <= 2, `a batch of ${batch.length} rows`);
    rows.push(...batch);
  }
  return rows;
}

/** formatLabelFile's bytes for these pages, as text. */
async function formatted(pages: LabelRow[][]): Promise<string> {
  const out: Buffer[] = [];
  for await (const piece of formatLabelFile((async function* () { yield* pages; })(), schema.columns)) out.push(piece);
  return Buffer.concat(out).toString('utf8');
}

const fails = (bytes: Buffer, pattern: RegExp) =>
  assert.rejects(readAll(bytes), (e: unknown) => {
    assert.ok(e instanceof LabelFileError, `not a LabelFileError: ${e}`);
    assert.match((e as Error).message, pattern);
    return true;
  });

describe('label files', () => {
  it('parses sets, labels and a subset of the schema columns, in batches', async () => {
    const rows = await readAll(
      file('labeling_set_id,label,id,name\nS1,A,1,"Doe, John"\nS1,A,2,Jon Doe\nS1,B,3,"multi\nline"\nS2,A,1,x\n'),
      's3://b/l.csv',
    );
    assert.deepEqual(rows[0], { labelingSetId: 'S1', label: 'A', values: { id: '1', name: 'Doe, John' } });
    assert.equal(rows[2]!.values['name'], 'multi\nline');
    assert.equal(rows.length, 4, 'the same record may appear in different labeling sets');
  });

  it('accepts a UTF-8 BOM and CRLF line ends', async () => {
    const rows = await readAll(file('\uFEFFlabeling_set_id,label,id\r\nS,A,1\r\nS,B,2\r\n'), 'x', { chunkSize: 1 });
    assert.deepEqual(rows.map((r) => r.values['id']), ['1', '2']);
  });

  it('refuses cp1252 with the line, column and a hint', async () => {
    const bytes = Buffer.concat([file('labeling_set_id,label,id,name\nS,A,1,Ren'), Buffer.from([0xe9]), file('\n')]);
    await fails(bytes, /not valid UTF-8: byte 0xE9 at line 2, column 10.*cp1252/);
  });

  it('names each problem precisely', async () => {
    await fails(Buffer.alloc(0), /size 0/);
    await fails(file('\n\n'), /is empty: it has no header row/);
    await fails(file('set,label,id\nS,A,1\n'), /header must start with labeling_set_id,label/);
    await fails(file('Labeling_Set_Id,label,id\nS,A,1\n'), /case-sensitive/);
    await fails(file('labeling_set_id,label,id,zip\nS,A,1,9\n'), /header column 4 \(zip\) is not a column of the transform's schema/);
    await fails(file('labeling_set_id,label,name\nS,A,x\n'), /lacks the primary key column id/);
    await fails(file('labeling_set_id,label,id,id\nS,A,1,1\n'), /id appears twice/);
    await fails(file('labeling_set_id,label,id\n'), /no labeled rows/);
    await fails(file('labeling_set_id,label,id\nS,A,1\n,A,2\n'), /row 2 \(line 3\): labeling_set_id is empty/);
    await fails(file('labeling_set_id,label,id\nS,A,1\nS,,2\n'), /row 2 \(line 3\): label is empty/);
    await fails(file('labeling_set_id,label,id\nS,A,\n'), /row 1 \(line 2\): the primary key column id is empty/);
    await fails(file('labeling_set_id,label,id\nS,A,1\nS,B,1\n'), /id=1 appears twice in labeling set S \(rows 1 and 2\)/);
    await fails(file('labeling_set_id,label,id\nS,A,1\nS,B\n'), /not a valid CSV file at line 3/);
    await fails(file('labeling_set_id,label,id\nS,A,"1\n'), /not a valid CSV file at line 2: Quote Not Closed/);
    // A quote inside an unquoted value (csv-parse's INVALID_OPENING_QUOTE has no CSV_ prefix).
    await fails(file('labeling_set_id,label,id,name\nS,A,1,ann\nS,A,2, o"brien\n'), /not a valid CSV file at line 3: Invalid Opening Quote/);
  });

  it('reads CRLF and LF line ends mixed in one file; errors name the line the bad record starts on', async () => {
    const header = 'labeling_set_id,label,id,name,city';
    const crlf = Array.from({ length: 99 }, (_, i) => `S${i},A,${i},n${i},c${i}`);
    const lf = Array.from({ length: 200 }, (_, i) => `T${i},A,${100 + i},n,c`);
    // Lines 1-100 end in CRLF, the rest in LF (two files pasted together).
    const mixed = `${[header, ...crlf].join('\r\n')}\r\n${lf.join('\n')}\n`;
    const rows = await readAll(file(mixed), 's3://b/mixed.csv', { chunkSize: 4096 });
    assert.equal(rows.length, 299);
    assert.deepEqual(rows[98]!.values, { id: '98', name: 'n98', city: 'c98' }, 'no \\r left in a CRLF line');
    assert.deepEqual(rows[99]!.values, { id: '100', name: 'n', city: 'c' });
    const cr = await readAll(file(`${[header, ...crlf].join('\r')}\r`), 's3://b/cr.csv', { chunkSize: 7 });
    assert.deepEqual(cr.map((r) => r.values['city']), crlf.map((_, i) => `c${i}`), 'lines ended by CR alone');
    const split = await readAll(file(mixed), 's3://b/mixed.csv', { chunkSize: 3 });
    assert.deepEqual(split, rows, 'a CRLF split between chunks is one line end');

    const short = [...lf];
    short[50] = 'T50,A,150,n';
    await fails(
      file(`${[header, ...crlf].join('\r\n')}\r\n${short.join('\n')}\n`),
      /^s3:\/\/b\/labels\.csv is not a valid CSV file at line 151: Invalid Record Length: expect 5, got 4$/,
    );
    const unclosed = [...lf];
    unclosed[0] = 'T0,A,100,"n,c';
    await fails(
      file(`${[header, ...crlf].join('\r\n')}\r\n${unclosed.join('\n')}\n`),
      /^s3:\/\/b\/labels\.csv is not a valid CSV file at line 101: .* \(the record starting there runs on to line \d+: a quote in it is not closed where it should be\)$/,
    );
    await fails(file('labeling_set_id,label,id\n\nS,A,1\n\n\nS,B\n'), /not a valid CSV file at line 6: Invalid Record Length/);
    await fails(file('labeling_set_id,label,id\n\nS,A,1\n\n\n,B,2\n'), /row 2 \(line 6\): labeling_set_id is empty/);
  });

  it('remembers where each of many labeled records was read', () => {
    const seen = new LabeledRecords('id');
    for (let row = 1; row <= 5000; row++) seen.note('s3://b/a.csv', `row ${row}`, `S${row % 7}`, String(row), row);
    assert.throws(() => seen.note('s3://b/a.csv', 'row 5001', 'S3', '4000', 5001), {
      message: 'row 5001: record id=4000 appears twice in labeling set S3 (rows 4000 and 5001)',
    });
    assert.throws(() => seen.note('s3://b/b.csv', 'row 1', 'S3', '3', 1), {
      message: 's3://b/b.csv: record id=3 of labeling set S3 is also in s3://b/a.csv',
    });
    seen.note('s3://b/b.csv', 'row 2', 'S4', '3', 2);
  });

  it('finds a record repeated in a labeling set across the files of one import', async () => {
    const seen = new LabeledRecords('id');
    await readAll(file('labeling_set_id,label,id\nS,A,1\n'), 's3://b/part-1.csv', { seen });
    await assert.rejects(readAll(file('labeling_set_id,label,id\nT,A,1\nS,B,1\n'), 's3://b/part-2.csv', { seen }), {
      message: 's3://b/part-2.csv: record id=1 of labeling set S is also in s3://b/part-1.csv',
    });
  });

  it('formats labels so that they parse back to the same rows and bytes', async () => {
    const rows: LabelRow[] = [
      { labelingSetId: 'S1', label: 'A', values: { id: '1', name: 'Doe, "JD" John', city: 'Köln' } },
      { labelingSetId: 'S1', label: 'B', values: { id: '2', name: 'line\nbreak' } },
    ];
    const text = await formatted([rows.slice(0, 1), rows.slice(1)]);
    assert.equal(text.split('\n')[0], 'labeling_set_id,label,id,name,city');
    const back = await readAll(file(text), 'x', { chunkSize: 3 });
    assert.equal(await formatted([back]), text);
    assert.deepEqual(back[1]!.values, { id: '2', name: 'line\nbreak', city: '' });
  });
});

describe('UTF-8 validation', () => {
  /** The offset of the first fault when `bytes` arrive one byte at a time, or -1. */
  const faultAt = (bytes: Uint8Array): number => {
    const utf8 = new Utf8Checker();
    for (let i = 0; i < bytes.length; i++) {
      const fault = utf8.push(bytes.subarray(i, i + 1));
      if (fault) return fault.offset;
    }
    return utf8.end()?.offset ?? -1;
  };

  it('finds the first invalid sequence, also when sequences straddle chunks', () => {
    assert.equal(faultAt(file('plain ascii')), -1);
    assert.equal(faultAt(file('émoji 🎉 ok')), -1);
    assert.equal(faultAt(Buffer.from([0x61, 0xc0, 0xaf])), 1, 'overlong');
    assert.equal(faultAt(Buffer.from([0xed, 0xa0, 0x80])), 0, 'surrogate');
    assert.equal(faultAt(Buffer.from([0x61, 0x62, 0xe2, 0x82])), 2, 'truncated');
    assert.equal(faultAt(Buffer.from([0xf4, 0x90, 0x80, 0x80])), 0, 'past U+10FFFF');
  });

  it('locates the fault by line and byte column', () => {
    const utf8 = new Utf8Checker();
    assert.equal(utf8.push(file('ab\ncé')), undefined);
    assert.deepEqual(utf8.push(Buffer.from([0x0a, 0x78, 0xff])), { byte: 0xff, offset: 8, line: 3, column: 2 });
  });
});
