import { open } from 'node:fs/promises';
import { bytesPattern, csvReadCall, duckEscapeFor, fileMatches } from '../table-data/csv-dialect.js';
import { splitCsvLine } from '../table-data/csv-header.js';
import { toNumber, type DuckDbSession } from '../table-data/duckdb-session.js';
import { hiveTypeOf } from '../table-data/hive-types.js';
import { slotName, sqlString } from '../table-data/sql.js';
import type { CatalogColumn, CsvDialect } from '../table-data/table-format.js';

/**
 * Glue's built-in classifiers for the formats doppel reads, applied to one file: Parquet (the
 * `PAR1` magic number at both ends), JSON lines (the first lines are JSON objects) and CSV (a
 * delimiter among `,` `|` `;` tab and Ctrl-A splitting the first lines into the same number of
 * fields, at least two columns and two rows). Column names and types come from DuckDB reading the
 * sample; CSV columns are typed bigint, double, boolean or string by the same tests doppel's table
 * reader applies to a declared type, so that a crawled table reads back as it was crawled.
 */
export type FileSchema = {
  columns: CatalogColumn[];
  /** Records in the file. */
  recordCount: number;
} & (
  | { classification: 'parquet' | 'json' }
  | { classification: 'csv'; delimiter: string; quoted: boolean; header: boolean }
);

/** Bytes read from the start of a text file to classify it. */
const SNIFF_BYTES = 64 * 1024;
/** Lines of that start the CSV and JSON tests look at. */
const SNIFF_LINES = 100;
/** Glue's CSV delimiters, in the order a tie is settled. */
const CSV_DELIMITERS = [',', '|', ';', '\t', '\u0001'];
/** Glue's header rule: a header field (except the last) is shorter than this. */
const MAX_HEADER_FIELD = 150;
/** Rows of a CSV file whose values decide its column types. */
const TYPE_SAMPLE_ROWS = 10_000;

/** The file's format and schema, or a sentence saying why no built-in classifier recognizes it. */
export async function classifyFile(session: DuckDbSession, path: string): Promise<FileSchema | { unknown: string }> {
  const head = await readHead(path);
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') return parquetSchema(session, path);
  const text = head.toString('utf8');
  const lines = text.split('\n').slice(0, SNIFF_LINES + 1);
  // The last line of the sample may be cut short, unless the whole file fit.
  if (head.length === SNIFF_BYTES) lines.pop();
  const sample = lines.map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
  if (sample.length === 0) return { unknown: 'it holds no data' };
  if (sample[0]!.trimStart().startsWith('{')) {
    if (sample.every(isJsonObject)) return jsonSchema(session, path);
    return { unknown: 'it starts like JSON, but its lines are not one JSON object each (JSON lines)' };
  }
  return csvSchema(session, path, sample);
}

async function readHead(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await file.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

function isJsonObject(line: string): boolean {
  try {
    const v: unknown = JSON.parse(line);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

async function parquetSchema(session: DuckDbSession, path: string): Promise<FileSchema> {
  const read = `read_parquet(${sqlString(path)}, binary_as_string = true)`;
  const described = await session.rows(`DESCRIBE SELECT * FROM ${read}`);
  const [[count]] = (await session.rows(`SELECT count(*) FROM ${read}`)) as [[unknown]];
  return {
    classification: 'parquet',
    columns: described.map((r) => ({ name: String(r[0]).toLowerCase(), type: hiveTypeOfDuck(String(r[1])) })),
    recordCount: toNumber(count as bigint),
  };
}

async function jsonSchema(session: DuckDbSession, path: string): Promise<FileSchema> {
  const read = `read_json(${sqlString(path)}, format = 'newline_delimited', records = true)`;
  const described = await session.rows(`DESCRIBE SELECT * FROM ${read}`);
  const [[count]] = (await session.rows(`SELECT count(*) FROM ${read}`)) as [[unknown]];
  return {
    classification: 'json',
    columns: described.map((r) => ({ name: String(r[0]).toLowerCase(), type: hiveTypeOfDuck(String(r[1])) })),
    recordCount: toNumber(count as bigint),
  };
}

/** DuckDB's type name → the Hive type Glue writes for it (nested types spelled Hive's way). */
export function hiveTypeOfDuck(duck: string): string {
  const t = duck.trim();
  const upper = t.toUpperCase();
  if (upper.endsWith('[]')) return `array<${hiveTypeOfDuck(t.slice(0, -2))}>`;
  const struct = /^STRUCT\((.*)\)$/is.exec(t);
  if (struct) {
    const fields = splitTopLevel(struct[1]!).map((f) => {
      const m = /^\s*("(?:[^"]|"")*"|\S+)\s+(.*)$/s.exec(f)!;
      const name = m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replaceAll('""', '"') : m[1]!;
      return `${name.toLowerCase()}:${hiveTypeOfDuck(m[2]!)}`;
    });
    return `struct<${fields.join(',')}>`;
  }
  const map = /^MAP\((.*)\)$/is.exec(t);
  if (map) {
    const [k, v] = splitTopLevel(map[1]!);
    return `map<${hiveTypeOfDuck(k!)},${hiveTypeOfDuck(v!)}>`;
  }
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/i.exec(t);
  if (decimal) return `decimal(${decimal[1]},${decimal[2]})`;
  switch (upper) {
    case 'BOOLEAN':
      return 'boolean';
    case 'TINYINT':
      return 'tinyint';
    case 'SMALLINT':
      return 'smallint';
    case 'INTEGER':
      return 'int';
    case 'BIGINT':
    case 'UTINYINT':
    case 'USMALLINT':
    case 'UINTEGER':
      return 'bigint';
    case 'FLOAT':
      return 'float';
    case 'DOUBLE':
      return 'double';
    // Hive has no unsigned or 128-bit integers: decimals hold every value.
    case 'UBIGINT':
      return 'decimal(20,0)';
    case 'HUGEINT':
      return 'decimal(38,0)';
    case 'DATE':
      return 'date';
    case 'BLOB':
      return 'binary';
    default:
      return upper.startsWith('TIMESTAMP') ? 'timestamp' : 'string';
  }
}

/** Splits a DuckDB type list at its top-level commas. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '(') depth++;
    else if (!quoted && ch === ')') depth--;
    else if (!quoted && depth === 0 && ch === ',') {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts;
}

/** The delimiter that splits every sample line into the same number (two or more) of fields; the most fields wins. */
function csvDelimiterOf(sample: string[]): { delimiter: string; fields: number } | undefined {
  let best: { delimiter: string; fields: number } | undefined;
  for (const delimiter of CSV_DELIMITERS) {
    const dialect = { ...CSV_QUOTED, delimiter };
    const counts = new Set(sample.map((line) => splitCsvLine(line, dialect).length));
    const [fields] = counts;
    if (counts.size === 1 && fields! >= 2 && (!best || fields! > best.fields)) best = { delimiter, fields: fields! };
  }
  return best;
}

const CSV_QUOTED: CsvDialect = { delimiter: ',', quote: '"', escape: '"', headerLines: 0, encoding: 'UTF-8', quoted: true, openCsv: false };

/** The types a CSV column is tried as, narrowest first. */
const CSV_TYPES = ['bigint', 'double', 'boolean'] as const;

async function csvSchema(session: DuckDbSession, path: string, sample: string[]): Promise<FileSchema | { unknown: string }> {
  const found = csvDelimiterOf(sample);
  if (!found) return { unknown: 'no CSV delimiter (, | ; tab Ctrl-A) splits its lines into the same number of fields, two or more' };
  if (sample.length < 2) return { unknown: 'a CSV file needs at least two rows' };
  // Quoted when a field anywhere in the file starts with a quote, not only in the sample: every line
  // is read by the SerDe this decides, and LazySimpleSerDe would keep a later line's quotes as data.
  // A field starts after a line end or a delimiter; the file's own start is its first line's (the
  // windows fileMatches scans begin mid-line, so `^` there would take any quote for a field's start).
  const quoted =
    (sample[0] ?? '').replace(/^\uFEFF/, '').startsWith('"') ||
    (await fileMatches(path, new RegExp(`(?:[\\r\\n]|${bytesPattern(found.delimiter, 'utf8')})"`)));
  const dialect: CsvDialect = quoted
    ? { ...CSV_QUOTED, delimiter: found.delimiter }
    : { delimiter: found.delimiter, quote: '', escape: '', headerLines: 0, encoding: 'UTF-8', quoted: false, openCsv: false };
  const escape = await duckEscapeFor(path, dialect);
  const read = csvReadCall(path, found.fields, dialect, escape);
  await session.run(`CREATE OR REPLACE TEMP TABLE csv_sample AS SELECT row_number() OVER () AS rn, * FROM ${read} LIMIT ${TYPE_SAMPLE_ROWS}`);
  const [[count]] = (await session.rows(`SELECT count(*) FROM ${read}`)) as [[unknown]];
  const first = (await session.rows(`SELECT * EXCLUDE (rn) FROM csv_sample WHERE rn = 1`))[0]!.map((v) => (v === null ? '' : String(v)));

  // Per column and type: do all non-empty values fit, in the first row and in the rest? Asked of the
  // sample unpivoted into one (column, value) row per field, grouped by column: one test per type
  // whatever the width. Tests written out per column made a statement whose planning grew faster
  // than the columns (400 columns: 51 s and 10 GB; this way 0.1 s).
  const tests = CSV_TYPES.flatMap((type) => {
    const fits = hiveTypeOf(type)!.fits!('value');
    return [`coalesce(bool_and(${fits}) FILTER (WHERE rn > 1), false)`, `coalesce(bool_and(${fits}) FILTER (WHERE rn = 1), false)`];
  });
  const fitting = await session.rows(
    // UNPIVOT leaves out NULLs, which are the empty unquoted fields.
    `SELECT name, ${tests.join(', ')} FROM (UNPIVOT csv_sample ON COLUMNS(* EXCLUDE rn) INTO NAME name VALUE value) ` +
      `WHERE value <> '' GROUP BY name`,
  );
  const flags = new Map(fitting.map((row) => [String(row[0]), row.slice(1).map((v) => v === true)]));
  const typeOf = (c: number, row: 'rest' | 'first') => {
    // A column with no non-empty value has no row: it is a string.
    const fits = flags.get(slotName(c));
    const i = CSV_TYPES.findIndex((_, t) => fits?.[t * 2 + (row === 'rest' ? 0 : 1)] === true);
    return i < 0 ? 'string' : CSV_TYPES[i]!;
  };
  const restTypes = Array.from({ length: found.fields }, (_, c) => typeOf(c, 'rest'));
  const firstTypes = Array.from({ length: found.fields }, (_, c) => typeOf(c, 'first'));
  // AWS's rule: the first row is a header when each of its fields is a string fit to be a column
  // name, and the rows below differ from it: some column of theirs is not a string.
  const header =
    firstTypes.every((t) => t === 'string') &&
    first.every((f, c) => (c === first.length - 1 || f.length < MAX_HEADER_FIELD) && (f.trim() !== '' || c === first.length - 1)) &&
    restTypes.some((t) => t !== 'string');
  const names = header ? columnNames(first) : first.map((_, c) => `col${c}`);
  // Without a header the first row is data, and its values count for the types too.
  const types = header ? restTypes : restTypes.map((t, c) => widen(t, firstTypes[c]!, first[c]! === ''));
  return {
    classification: 'csv',
    delimiter: found.delimiter,
    quoted,
    header,
    columns: names.map((name, c) => ({ name, type: types[c]! })),
    recordCount: toNumber(count as bigint) - (header ? 1 : 0),
  };
}

/** A column's type once one more value (of type `other`, or empty) is taken into account. */
function widen(type: string, other: string, otherEmpty: boolean): string {
  if (otherEmpty || type === other) return type;
  if ((type === 'bigint' && other === 'double') || (type === 'double' && other === 'bigint')) return 'double';
  return 'string';
}

/** Header fields as column names: lower case, trimmed; an empty or repeated name becomes col<i>. */
function columnNames(fields: string[]): string[] {
  const seen = new Set<string>();
  return fields.map((f, c) => {
    let name = f.trim().toLowerCase();
    if (name === '' || seen.has(name)) name = `col${c}`;
    seen.add(name);
    return name;
  });
}
