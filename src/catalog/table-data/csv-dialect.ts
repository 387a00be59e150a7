import { createReadStream } from 'node:fs';
import type { CsvDialect } from './table-format.js';
import { sqlString, sqlStringList } from './sql.js';

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
  const columns = Array.from({ length: columnCount }, (_, i) => `${sqlString(`c${i}`)}: 'VARCHAR'`).join(', ');
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
  const needle = Buffer.from(csv.escape + csv.quote, byteEncoding);
  return (await fileContains(path, needle)) ? csv.escape : csv.quote;
}

export async function fileContains(path: string, needle: Buffer): Promise<boolean> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const window = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    if (window.includes(needle)) return true;
    // Keep the tail so a needle split across two chunks is still found.
    carry = window.subarray(window.length - (needle.length - 1));
  }
  return false;
}
