import { createReadStream } from 'node:fs';
import type { CsvDialect } from './table-format.js';
import { slotName, sqlString, sqlStringList } from './sql.js';

/**
 * The DuckDB `read_csv(...)` call for one part file of a CSV table: every catalog column as
 * VARCHAR (the catalog types are checked separately, with messages of our own), no sniffing, and
 * strict parsing so a row with the wrong number of fields is an error rather than padded.
 *
 * Empty unquoted fields are NULL; a quoted empty field (`""`) is an empty string.
 */
export function csvReadCall(
  path: string,
  columnCount: number,
  csv: CsvDialect,
  escape: string,
  extraOptions: string[] = [],
): string {
  const columns = Array.from({ length: columnCount }, (_, i) => `${sqlString(slotName(i))}: 'VARCHAR'`).join(', ');
  const options = [
    `columns = {${columns}}`,
    'auto_detect = false',
    'header = false',
    `skip = ${csv.headerLines}`,
    `delim = ${sqlString(csv.delimiter)}`,
    `quote = ${sqlString(csv.quoted ? csv.quote : '')}`,
    `escape = ${sqlString(csv.quoted ? escape : '')}`,
    `encoding = ${csv.encoding === 'ISO-8859-1' ? "'latin-1'" : "'utf-8'"}`,
    'strict_mode = true',
    'null_padding = false',
    `nullstr = ${sqlStringList(csv.nullFormat === undefined ? [''] : ['', csv.nullFormat])}`,
    'allow_quoted_nulls = false',
    ...extraOptions,
  ];
  return `read_csv(${sqlString(path)}, ${options.join(', ')})`;
}

/**
 * The escape character to give DuckDB for one file of a quoted CSV table that is not OpenCSVSerde's
 * (those are read by OpenCSV's rules, see opencsv-part.ts).
 *
 * DuckDB takes exactly one escape. Files written by spreadsheets, pandas or Spark double their
 * quotes, so unless the file really contains the declared escape in front of a quote, doubling is
 * what its writer meant and DuckDB is told so.
 */
export async function duckEscapeFor(path: string, csv: CsvDialect): Promise<string> {
  if (!csv.quoted) return '';
  if (csv.escape === '' || csv.escape === csv.quote) return csv.quote;
  const byteEncoding = csv.encoding === 'ISO-8859-1' ? 'latin1' : 'utf8';
  return (await fileMatches(path, new RegExp(bytesPattern(csv.escape + csv.quote, byteEncoding)))) ? csv.escape : csv.quote;
}

/** How far a match may reach back across a chunk boundary (a run of white space, say). */
const MATCH_CARRY = 4096;

/**
 * Whether the file's bytes, read as latin1 (one character per byte, so any encoding's bytes can be
 * matched), match `pattern` somewhere; the end of the file counts as a line end. Streams the file.
 */
export async function fileMatches(path: string, pattern: RegExp): Promise<boolean> {
  let carry = '';
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const window = carry + chunk.toString('latin1');
    if (pattern.test(window)) return true;
    carry = window.slice(-MATCH_CARRY);
  }
  return pattern.test(`${carry}\n`);
}

/** `text` in `encoding` as a pattern matching its bytes in fileMatches's latin1 reading. */
export function bytesPattern(text: string, encoding: BufferEncoding): string {
  return Buffer.from(text, encoding).toString('latin1').replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}
