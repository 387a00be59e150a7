import type { CsvDialect } from './table-format.js';
import { TableDataError } from './table-data-error.js';

/** Messages for CSV problems found both in the header (read here) and in the data (read by DuckDB). */

const DELIMITER_CANDIDATES = [',', '|', '\t', ';', '\u0001'];

export function notUtf8(uri: string, line: number, column?: string): TableDataError {
  return new TableDataError(
    `${uri} is not valid UTF-8 (line ${line}): declare serialization.encoding=ISO-8859-1 if it is Latin-1`,
    { uri, line, column },
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

export function showChar(c: string): string {
  if (c === '') return '(none)';
  return JSON.stringify(c).replace(/\\u0001/, '\\u0001 (Ctrl-A)');
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
