import type { CsvDialect, TableFormat } from './table-format.js';
import { TableDataError } from './table-data-error.js';

/** Messages for CSV problems found both in the header (read here) and in the data (read by DuckDB). */

const DELIMITER_CANDIDATES = [',', '|', '\t', ';', '\u0001'];

export function notUtf8(uri: string, line: number, column?: string): TableDataError {
  return new TableDataError(
    `${uri} is not valid UTF-8 (line ${line}): declare serialization.encoding=ISO-8859-1 if it is Latin-1`,
    { uri, line, column },
  );
}

/** DuckDB's limit on one line (one record) of a CSV file, in bytes (its `max_line_size`, left at its default). */
export const MAX_LINE_BYTES = 2_000_000;

/** A line (a record) longer than DuckDB reads: `line` is where it starts in the file. */
export function lineTooLong(uri: string, line: number, quote: string, more = ''): TableDataError {
  return new TableDataError(
    `${uri} line ${line} is longer than the 2,000,000 bytes doppel reads as one line: a value that long, ` +
      `or a quote (${showChar(quote)}) left open${more}`,
    { uri, line },
  );
}

/**
 * A line that the declared delimiter leaves whole while the catalog has several columns: the
 * delimiter is wrong. The common delimiters found in the line suggest the right one.
 */
export function singleFieldError(
  uri: string,
  line: number,
  text: string,
  csv: CsvDialect,
  columns: number,
  more = '',
): TableDataError {
  const best = DELIMITER_CANDIDATES.map((d) => ({ d, n: text.split(d).length - 1 }))
    .filter((c) => c.n > 0)
    .sort((a, b) => b.n - a.n)[0];
  const hint = best
    ? ` It contains ${best.n} × ${showChar(best.d)}: if that is the delimiter, declare field.delim = ${showChar(best.d)}.`
    : '';
  return new TableDataError(
    `${uri} line ${line} is a single field when split on the delimiter ${showChar(csv.delimiter)}, ` +
      `but the catalog declares ${columns} columns.${hint}${more}`,
    { uri, line },
  );
}

/**
 * A line (a record) with another number of fields than the catalog has columns. `count` is the
 * number of fields when known; with too few, the first column left without a field is named.
 */
export function fieldCountError(
  uri: string,
  line: number,
  format: TableFormat,
  count: number | 'more' | 'fewer',
  text: string,
  more: string,
  hint: string,
): TableDataError {
  const csv = format.csv!;
  const columns = format.columns;
  const excerpt = JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
  const fields = typeof count === 'number' ? plural(count, 'field') : `${count} fields`;
  const missing = typeof count === 'number' && count < columns.length ? columns[count]!.name : undefined;
  return new TableDataError(
    `${uri} line ${line} has ${fields} (delimiter ${showChar(csv.delimiter)}) where the catalog declares ` +
      `${columns.length} columns${missing ? ` (none for column ${missing})` : ''}: ${excerpt}${more}.${hint}`,
    { uri, line, column: missing },
  );
}

/** What to add to the first bad line's message about the others. */
export function moreLines(others: number, capped: boolean): string {
  if (capped) return ' (and many more lines like it)';
  return others > 0 ? ` (${plural(others, 'more line')} like it)` : '';
}

export function showChar(c: string): string {
  if (c === '') return '(none)';
  return JSON.stringify(c).replace(/\\u0001/, '\\u0001 (Ctrl-A)');
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
