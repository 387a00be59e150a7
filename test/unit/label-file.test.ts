import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLabelFile, LabelFileError, parseLabelFile } from '../../src/transforms/labels/label-file.js';
import type { LabelRow } from '../../src/storage/records.js';
import { firstInvalidUtf8Offset } from '../../src/transforms/labels/utf8.js';

const schema = { columns: ['id', 'name', 'city'], primaryKey: 'id' };
const file = (text: string) => Buffer.from(text, 'utf8');
const fails = (bytes: Buffer, pattern: RegExp) =>
  assert.throws(() => parseLabelFile(bytes, 's3://b/labels.csv', schema), (e: unknown) => {
    assert.ok(e instanceof LabelFileError, `not a LabelFileError: ${e}`);
    assert.match((e as Error).message, pattern);
    return true;
  });

describe('label files', () => {
  it('parses sets, labels and a subset of the schema columns', () => {
    const rows = parseLabelFile(
      file('labeling_set_id,label,id,name\nS1,A,1,"Doe, John"\nS1,A,2,Jon Doe\nS1,B,3,"multi\nline"\nS2,A,1,x\n'),
      's3://b/l.csv',
      schema,
    );
    assert.deepEqual(rows[0], { labelingSetId: 'S1', label: 'A', values: { id: '1', name: 'Doe, John' } });
    assert.equal(rows[2]!.values['name'], 'multi\nline');
    assert.equal(rows.length, 4, 'the same record may appear in different labeling sets');
  });

  it('accepts a UTF-8 BOM and CRLF line ends', () => {
    const rows = parseLabelFile(file('\uFEFFlabeling_set_id,label,id\r\nS,A,1\r\nS,B,2\r\n'), 'x', schema);
    assert.deepEqual(rows.map((r) => r.values['id']), ['1', '2']);
  });

  it('refuses cp1252 with the line, column and a hint', () => {
    const bytes = Buffer.concat([file('labeling_set_id,label,id,name\nS,A,1,Ren'), Buffer.from([0xe9]), file('\n')]);
    fails(bytes, /not valid UTF-8: byte 0xE9 at line 2, column 10.*cp1252/);
  });

  it('names each problem precisely', () => {
    fails(Buffer.alloc(0), /size 0/);
    fails(file('set,label,id\nS,A,1\n'), /header must start with labeling_set_id,label/);
    fails(file('Labeling_Set_Id,label,id\nS,A,1\n'), /case-sensitive/);
    fails(file('labeling_set_id,label,id,zip\nS,A,1,9\n'), /header column 4 \(zip\) is not a column of the transform's schema/);
    fails(file('labeling_set_id,label,name\nS,A,x\n'), /lacks the primary key column id/);
    fails(file('labeling_set_id,label,id,id\nS,A,1,1\n'), /id appears twice/);
    fails(file('labeling_set_id,label,id\n'), /no labeled rows/);
    fails(file('labeling_set_id,label,id\nS,A,1\n,A,2\n'), /row 2 \(line 3\): labeling_set_id is empty/);
    fails(file('labeling_set_id,label,id\nS,A,1\nS,,2\n'), /row 2 \(line 3\): label is empty/);
    fails(file('labeling_set_id,label,id\nS,A,\n'), /row 1 \(line 2\): the primary key column id is empty/);
    fails(file('labeling_set_id,label,id\nS,A,1\nS,B,1\n'), /id=1 appears twice in labeling set S \(rows 1 and 2\)/);
    fails(file('labeling_set_id,label,id\nS,A,1\nS,B\n'), /not a valid CSV file at line 3/);
    fails(file('labeling_set_id,label,id\nS,A,"1\n'), /not a valid CSV file/);
  });

  it('formats labels so that they parse back to the same rows and bytes', () => {
    const rows: LabelRow[] = [
      { labelingSetId: 'S1', label: 'A', values: { id: '1', name: 'Doe, "JD" John', city: 'Köln' } },
      { labelingSetId: 'S1', label: 'B', values: { id: '2', name: 'line\nbreak' } },
    ];
    const text = formatLabelFile(rows, schema.columns);
    assert.equal(text.split('\n')[0], 'labeling_set_id,label,id,name,city');
    const back = parseLabelFile(file(text), 'x', schema);
    assert.equal(formatLabelFile(back, schema.columns), text);
    assert.deepEqual(back[1]!.values, { id: '2', name: 'line\nbreak', city: '' });
  });
});

describe('UTF-8 validation', () => {
  it('finds the first invalid sequence', () => {
    assert.equal(firstInvalidUtf8Offset(file('plain ascii')), -1);
    assert.equal(firstInvalidUtf8Offset(file('émoji 🎉 ok')), -1);
    assert.equal(firstInvalidUtf8Offset(Buffer.from([0x61, 0xc0, 0xaf])), 1, 'overlong');
    assert.equal(firstInvalidUtf8Offset(Buffer.from([0xed, 0xa0, 0x80])), 0, 'surrogate');
    assert.equal(firstInvalidUtf8Offset(Buffer.from([0x61, 0x62, 0xe2, 0x82])), 2, 'truncated');
    assert.equal(firstInvalidUtf8Offset(Buffer.from([0xf4, 0x90, 0x80, 0x80])), 0, 'past U+10FFFF');
  });
});
