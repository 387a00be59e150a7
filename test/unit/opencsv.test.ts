/** OpenCSV 2.3's line rules (the ones Hive's OpenCSVSerde reads with), one behaviour per case. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpenCsvParser, openCsvChars } from '../../src/catalog/table-data/opencsv.js';

const DEFAULTS = { delimiter: ',', quote: '"', escape: '\\' };

/** The fields of one line, as text. */
function fields(line: string, chars = DEFAULTS): string[] {
  const parsed = new OpenCsvParser(openCsvChars(chars)).parseLine(line, 1);
  assert.ok(parsed, `${line} leaves a quote open`);
  return parsed.map((f) => f.text);
}

describe('OpenCSV line rules', () => {
  it('splits on the delimiter and keeps unquoted text as it is, spaces included', () => {
    assert.deepEqual(fields('one, two ,three'), ['one', ' two ', 'three']);
    assert.deepEqual(fields(',,'), ['', '', '']);
  });

  it('reads a quote inside a field as an escaped quote (escape before it) or a doubled quote', () => {
    assert.deepEqual(fields('x,"say \\"hi\\"",y'), ['x', 'say "hi"', 'y']);
    assert.deepEqual(fields('x,"say ""hi""",y'), ['x', 'say "hi"', 'y']);
    assert.deepEqual(fields('x,"""",y'), ['x', '"', 'y']);
    assert.deepEqual(fields('x,"""hi""",y'), ['x', '"hi"', 'y']);
    // Also in an unquoted field, once it has begun.
    assert.deepEqual(fields('ab""cd,e\\"f'), ['ab"cd', 'e"f']);
  });

  it('reads an escaped escape as one, and drops an escape before anything else', () => {
    assert.deepEqual(fields('"C:\\\\temp",\\=x,"a\\b"'), ['C:\\temp', '=x', 'ab']);
  });

  it('keeps a quote in the middle of a field as data, and it still toggles quoting', () => {
    assert.deepEqual(fields('a,12"3"45,c'), ['a', '12"3"45', 'c']);
    assert.deepEqual(fields('a,b"c,d"e,f'), ['a', 'b"c,d"e', 'f']);
    assert.deepEqual(fields('"1","New ""York"" "City"","x"'), ['1', 'New "York" "City"', 'x']);
  });

  it('drops white space before an opening quote', () => {
    assert.deepEqual(fields('"one", "two",  "three"'), ['one', 'two', 'three']);
  });

  it('continues a quoted field on the next line, joined by a line feed', () => {
    const parser = new OpenCsvParser(openCsvChars(DEFAULTS));
    assert.equal(parser.parseLine('1,"first line', 1), undefined);
    assert.deepEqual(parser.openQuote, { field: 1, line: 1, column: 3 });
    assert.equal(parser.parseLine('second line', 2), undefined);
    assert.deepEqual(
      parser.parseLine('last" line,3', 3)?.map((f) => f.text),
      ['1', 'first line\nsecond line\nlast" line', '3'],
    );
    assert.equal(parser.openQuote, undefined);
    assert.deepEqual(parser.parseLine('a,b', 4)?.map((f) => f.text), ['a', 'b'], 'the next record starts afresh');
  });

  it('tells an empty quoted field from an empty unquoted one', () => {
    const parsed = new OpenCsvParser(openCsvChars(DEFAULTS)).parseLine('"",', 1)!;
    assert.deepEqual(parsed, [
      { text: '', quoted: true },
      { text: '', quoted: false },
    ]);
  });

  it('takes other characters, and an escape equal to the quote as no escape', () => {
    assert.deepEqual(fields("a;'b;c';'it~'s'", { delimiter: ';', quote: "'", escape: '~' }), ['a', 'b;c', "it's"]);
    assert.deepEqual(fields('"a\\",b', { delimiter: ',', quote: '"', escape: '"' }), ['a\\', 'b']);
  });
});
