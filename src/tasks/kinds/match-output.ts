import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { MATCH_CONFIDENCE, MATCH_EXPLANATION, MATCH_ID } from '../../catalog/data-files.js';
import { DuckDbSession } from '../../catalog/table-data/duckdb-session.js';
import { sqlIdent, sqlString } from '../../catalog/table-data/sql.js';
import type { EngineColumn, EngineTable, MatchResult } from '../../engine/api.js';
import { valueAt } from '../../engine/index.js';
import type { OutputFormat } from '../../jobs/find-matches-args.js';
import { writeOutput } from '../../storage/data-objects.js';
import type { ObjectInfo, ObjectStore } from '../../storage/object-store.js';
import type { S3Location } from '../../storage/s3-uri.js';

/** Rows per part file (CSV and JSON); Parquet output is one part (after any an incremental run copies). */
const PART_ROWS = 500_000;
/** Bytes of records handed to the object store at once. */
const CHUNK_BYTES = 1 << 20;

export interface MatchOutputOptions {
  format: OutputFormat;
  confidence: boolean;
  /** Write each record's link to its group explained (`match_explanation`, see linkExplanations). */
  explain?: boolean;
  removeDuplicates: boolean;
  /**
   * An earlier output holding the table's first `rows` rows, written with the same format and
   * columns: its part files are copied byte for byte under the same names and only the rows after
   * them are written, as parts numbered after its own.
   */
  copy?: { bucket: string; parts: ObjectInfo[]; prefix: string; rows: number };
  signal?: AbortSignal;
  /** Written once the parts are, before `_SUCCESS` (writeOutput): what else the output holds. */
  beforeMarker?: (parts: string[]) => Promise<void>;
}

/** The columns of an output, in order: the table's, then those find-matches adds. */
export function outputColumnNames(tableColumns: readonly string[], confidence: boolean, explain: boolean): string[] {
  return [...tableColumns, MATCH_ID, ...(confidence ? [MATCH_CONFIDENCE] : []), ...(explain ? [MATCH_EXPLANATION] : [])];
}

const partName = (index: number, format: OutputFormat) => `part-${String(index).padStart(5, '0')}.${format}`;

/** Compares primary keys: numerically when both are numbers, otherwise as text. */
export function compareKeys(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  const x = Number(a);
  const y = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(x) && Number.isFinite(y) && x !== y) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The rows to write, in input order: every row, or with `removeDuplicates` one row per match group,
 * the one with the lowest primary key.
 *
 * Match ids are any integers below 2^53, so groups are found by sorting the distinct ids (a typed
 * array sorts natively) and looking each row's id up, rather than in a Map of millions of entries.
 */
export function outputRows(table: EngineTable, result: MatchResult, removeDuplicates: boolean): Int32Array {
  const n = table.rowCount;
  const all = new Int32Array(n);
  for (let r = 0; r < n; r++) all[r] = r;
  if (!removeDuplicates) return all;
  const ids = result.matchId.slice(0, n).sort();
  let groups = 0;
  for (let i = 0; i < n; i++) if (i === 0 || ids[i] !== ids[i - 1]) ids[groups++] = ids[i]!;
  const group = new Int32Array(n);
  const best = new Int32Array(groups).fill(-1);
  for (let r = 0; r < n; r++) {
    const id = result.matchId[r]!;
    let lo = 0;
    let hi = groups - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ids[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    group[r] = lo;
    const kept = best[lo]!;
    if (kept < 0 || compareKeys(valueAt(table, table.primaryKey, r), valueAt(table, table.primaryKey, kept)) < 0) best[lo] = r;
  }
  let count = 0;
  for (let r = 0; r < n; r++) if (best[group[r]!] === r) all[count++] = r;
  return all.slice(0, count);
}

/** Per row, the JSON text of its link to its group, or undefined for a row alone in its group. */
type Explanations = (r: number) => string | undefined;

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/**
 * Why each record is in its group: the model's explanation (engine explain.ts) of the pair of the
 * record and its group's first record (the second, for the first itself), as JSON
 * `{"partner": <primary key>, "log_odds": …, "bias": …, "columns": {<column>: <contribution>, …}}`:
 * the bias plus the columns' contributions is the pair's log-odds (each rounded to 4 decimals).
 * Computed as the records are written, one pair per record in a group.
 */
export function linkExplanations(table: EngineTable, result: MatchResult): Explanations {
  const explain = result.explainPair;
  if (!explain) throw new Error('this match result cannot explain its pairs');
  const first = new Map<number, number>();
  const second = new Map<number, number>();
  for (let r = 0; r < table.rowCount; r++) {
    const id = result.matchId[r]!;
    if (!first.has(id)) first.set(id, r);
    else if (!second.has(id)) second.set(id, r);
  }
  return (r) => {
    const id = result.matchId[r]!;
    const head = first.get(id)!;
    const partner = head === r ? second.get(id) : head;
    if (partner === undefined) return undefined;
    const e = explain(r, partner);
    return JSON.stringify({
      partner: valueAt(table, table.primaryKey, partner),
      log_odds: round4(e.logOdds),
      bias: round4(e.bias),
      columns: Object.fromEntries(e.columns.map((c) => [c.column, round4(c.contribution)])),
    });
  };
}

/** Bytes appended to a buffer that grows when it must. */
class ByteSink {
  buffer: Buffer;
  length = 0;

  constructor(capacity: number) {
    this.buffer = Buffer.allocUnsafe(Math.max(64, capacity));
  }

  reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.length + bytes, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  text(text: string): void {
    // A UTF-16 code unit takes at most 3 bytes of UTF-8.
    this.reserve(3 * text.length);
    this.length += this.buffer.write(text, this.length);
  }

  /** Text known to be ASCII (a number's digits), without a call into the encoder. */
  ascii(text: string): void {
    this.reserve(text.length);
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
    this.length = at;
  }

  bytes(source: Uint8Array, from = 0, to = source.length): void {
    this.reserve(to - from);
    const buffer = this.buffer;
    let at = this.length;
    for (let i = from; i < to; i++) buffer[at++] = source[i]!;
    this.length = at;
  }

  /** A non-negative integer below 2^53, in decimal. */
  integer(value: number): void {
    this.reserve(16);
    const buffer = this.buffer;
    const start = this.length;
    let at = start;
    do {
      buffer[at++] = 48 + (value % 10);
      value = Math.floor(value / 10);
    } while (value > 0);
    for (let i = start, j = at - 1; i < j; i++, j--) {
      const digit = buffer[i]!;
      buffer[i] = buffer[j]!;
      buffer[j] = digit;
    }
    this.length = at;
  }

  take(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

/**
 * One column as a record writes it: each distinct value formatted and encoded once, so writing a
 * row copies bytes instead of building strings (a million rows would otherwise leave tens of
 * millions of short strings to the garbage collector).
 */
interface ColumnBytes {
  codes: Int32Array;
  /** Value `code` is `bytes[offsets[code]]` up to `bytes[offsets[code + 1]]`. */
  bytes: Buffer;
  offsets: Int32Array;
  /** Written before every value (a JSON member's key). */
  prefix: Buffer;
  missing: Buffer;
}

/**
 * The bytes of a column's values. An empty value is written as a missing one: every format has one
 * way to say "no value" (see the README's Running FindMatches).
 */
function columnBytes(column: EngineColumn, write: (sink: ByteSink, value: string) => void, prefix: string, missing: string): ColumnBytes {
  const { values } = column;
  let chars = 0;
  for (const v of values) chars += v.length;
  const sink = new ByteSink(chars + 2 * values.length + missing.length);
  const offsets = new Int32Array(values.length + 1);
  for (let code = 0; code < values.length; code++) {
    offsets[code] = sink.length;
    const value = values[code]!;
    if (value === '') sink.text(missing);
    else write(sink, value);
  }
  offsets[values.length] = sink.length;
  return { codes: column.codes, bytes: sink.take(), offsets, prefix: Buffer.from(prefix), missing: Buffer.from(missing) };
}

/** As csv-stringify writes a field: quoted when it holds the delimiter, a quote or a line break. */
const CSV_SPECIAL = /[",\r\n]/;
const csvField = (value: string) => (CSV_SPECIAL.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
const writeCsvField = (sink: ByteSink, value: string) => sink.text(csvField(value));

const NUMERIC = /^(tinyint|smallint|int|integer|bigint|float|double|double precision|decimal.*|numeric.*)$/;
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
/** A number as tables write it that JSON's grammar refuses: leading zeros, a bare decimal point ("007", ".5", "5."). */
const LOOSE_NUMBER = /^(-?)(\d*)(?:\.(\d*))?([eE][+-]?\d+)?$/;
/** What JSON.stringify escapes in a string. */
const JSON_SPECIAL = /["\\\u0000-\u001f\ud800-\udfff]/;
const QUOTE = Buffer.from('"');

const writeJsonText = (sink: ByteSink, value: string) => {
  if (JSON_SPECIAL.test(value)) return sink.text(JSON.stringify(value));
  sink.bytes(QUOTE);
  sink.text(value);
  sink.bytes(QUOTE);
};

/**
 * The JSON spelling of a number written loosely, digit for digit (no rounding through a double):
 * leading zeros dropped, a bare point completed ("-.25" → "-0.25", "5." → "5"); undefined for
 * anything else ("NaN", "1,000"), which stays text.
 */
function jsonNumberText(v: string): string | undefined {
  const m = LOOSE_NUMBER.exec(v);
  if (!m) return undefined;
  const [, sign, whole = '', fraction = '', exponent = ''] = m;
  if (whole === '' && fraction === '') return undefined;
  const int = whole.replace(/^0+(?=\d)/, '') || '0';
  return `${sign}${int}${fraction === '' ? '' : `.${fraction}`}${exponent}`;
}

/** A JSON value for a column of a catalog type: a number for a numeric column that holds one, true/false for a boolean, text otherwise. */
function jsonWriter(type: string): (sink: ByteSink, value: string) => void {
  const t = type.toLowerCase();
  if (NUMERIC.test(t)) {
    return (sink, value) => {
      const v = value.trim().replace(/^\+(?=[\d.])/, '');
      if (JSON_NUMBER.test(v)) return sink.text(v);
      const json = jsonNumberText(v);
      if (json !== undefined) sink.text(json);
      else writeJsonText(sink, value);
    };
  }
  if (t === 'boolean') {
    return (sink, value) => {
      const v = value.trim().toLowerCase();
      if (v === 'true' || v === 'false') sink.text(v);
      else writeJsonText(sink, value);
    };
  }
  return writeJsonText;
}

/**
 * How records are written: a header line, then per row `open`, the columns' values each after its
 * prefix and separated by commas, and `tail(row)` (the match id and confidence, and the line end).
 */
interface RecordFormat {
  header: Buffer;
  columns: ColumnBytes[];
  open: Buffer;
  tail: (sink: ByteSink, r: number) => void;
}

const COMMA = Buffer.from(',');
const NOTHING = Buffer.alloc(0);

/** CSV, a missing value an empty field. */
function csvFormat(table: EngineTable, result: MatchResult, confidence: boolean, explanation?: Explanations): RecordFormat {
  const names = outputColumnNames(table.columns.map((c) => c.name), confidence, explanation !== undefined);
  const newline = Buffer.from('\n');
  return {
    header: Buffer.from(`${names.map(csvField).join(',')}\n`, 'utf8'),
    columns: table.columns.map((c) => columnBytes(c, writeCsvField, '', '')),
    open: NOTHING,
    tail: (sink, r) => {
      sink.bytes(COMMA);
      sink.integer(Math.trunc(result.matchId[r]!));
      if (confidence) sink.ascii(`,${result.confidence[r]}`);
      if (explanation) sink.text(`,${csvField(explanation(r) ?? '')}`);
      sink.bytes(newline);
    },
  };
}

/** JSON lines, a missing value `null`: every line has every key. */
function jsonFormat(table: EngineTable, result: MatchResult, confidence: boolean, explanation?: Explanations): RecordFormat {
  const matchId = Buffer.from(`,"${MATCH_ID}":`);
  const score = Buffer.from(`,"${MATCH_CONFIDENCE}":`);
  const why = Buffer.from(`,"${MATCH_EXPLANATION}":`);
  const close = Buffer.from('}\n');
  return {
    header: NOTHING,
    columns: table.columns.map((c) =>
      columnBytes(c, jsonWriter(c.type), `${JSON.stringify(c.name)}:`, 'null'),
    ),
    open: Buffer.from('{'),
    tail: (sink, r) => {
      sink.bytes(matchId);
      sink.integer(Math.trunc(result.matchId[r]!));
      if (confidence) {
        sink.bytes(score);
        sink.ascii(String(result.confidence[r]));
      }
      if (explanation) {
        sink.bytes(why);
        sink.text(explanation(r) ?? 'null');
      }
      sink.bytes(close);
    },
  };
}

/** The records of `rows` in chunks of about CHUNK_BYTES, the header first. */
async function* records(format: RecordFormat, rows: Int32Array, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  if (format.header.length > 0) yield format.header;
  for (let next = 0; next < rows.length; ) {
    signal?.throwIfAborted();
    const sink = new ByteSink(CHUNK_BYTES + (CHUNK_BYTES >> 2));
    next = fillChunk(sink, format, rows, next);
    yield sink.take();
  }
}

/** Writes records from `rows[start]` on until the chunk is full; the index of the next row. */
function fillChunk(sink: ByteSink, format: RecordFormat, rows: Int32Array, start: number): number {
  const { columns, open, tail } = format;
  let i = start;
  while (i < rows.length && sink.length < CHUNK_BYTES) {
    const r = rows[i++]!;
    sink.bytes(open);
    for (let c = 0; c < columns.length; c++) {
      const column = columns[c]!;
      if (c > 0) sink.bytes(COMMA);
      sink.bytes(column.prefix);
      const code = column.codes[r]!;
      if (code < 0) sink.bytes(column.missing);
      else sink.bytes(column.bytes, column.offsets[code]!, column.offsets[code + 1]!);
    }
    tail(sink, r);
  }
  return i;
}

/** The DuckDB type a catalog column is written as in Parquet. */
function duckType(hive: string): string {
  const t = hive.trim().toLowerCase();
  const ints: Record<string, string> = { tinyint: 'TINYINT', smallint: 'SMALLINT', int: 'INTEGER', integer: 'INTEGER', bigint: 'BIGINT' };
  if (ints[t]) return ints[t]!;
  if (t === 'float') return 'FLOAT';
  if (t === 'double' || t === 'double precision') return 'DOUBLE';
  if (t === 'boolean') return 'BOOLEAN';
  if (t === 'date') return 'DATE';
  if (t === 'timestamp') return 'TIMESTAMP';
  const d = /^(?:decimal|numeric)(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/.exec(t);
  if (d) return `DECIMAL(${d[1] ?? 10},${d[2] ?? 0})`;
  return 'VARCHAR';
}

/**
 * Writes FindMatches output under `at`: the chosen rows with every input column plus `match_id`
 * (and `match_confidence_score`), as part files then `_SUCCESS`. CSV and JSON lines stream from the
 * in-memory table; for Parquet, DuckDB reads the rows as CSV from a temporary file and casts them to
 * the catalog types (`COPY ... TO`), which takes a fifth less time than reading JSON lines there.
 *
 * Measured on 2 idle cores, people data (9 columns) into the embedded store: 1M rows as CSV with
 * confidence in 1.6 s, JSON lines 2.5 s, Parquet 2.3 s (formatting a string per record took 4.1,
 * 4.1 and 4.8 s); 5M rows in 11, 15 and 13.5 s, most of it fetching the values of random rows.
 */
export async function writeMatchOutput(
  objects: ObjectStore,
  at: S3Location,
  table: EngineTable,
  result: MatchResult,
  opts: MatchOutputOptions,
): Promise<{ rows: number; parts: string[] }> {
  const all = outputRows(table, result, opts.removeDuplicates);
  const copy = opts.copy;
  if (copy && (opts.removeDuplicates || copy.rows > table.rowCount)) throw new Error('only every row of a table extending the copied output can follow it');
  const rows = copy ? all.subarray(copy.rows) : all;
  const parts: OutputPart[] = [];
  const names = new Set<string>();
  for (const part of copy?.parts ?? []) {
    const name = part.key.slice(copy!.prefix.length);
    names.add(name);
    parts.push({
      name,
      body: (async function* () { yield* (await objects.getObject(copy!.bucket, part.key)).body as AsyncIterable<Uint8Array>; })(),
      contentType: part.contentType ?? 'application/octet-stream',
    });
  }
  let next = parts.length;
  const nextName = () => {
    while (names.has(partName(next, opts.format))) next++;
    return partName(next++, opts.format);
  };
  if (opts.format === 'parquet') {
    if (!copy || rows.length > 0) parts.push(...(await parquetPart(table, result, rows, opts, nextName())));
    try {
      return { rows: all.length, parts: await writeOutput(objects, at, parts, opts.beforeMarker) };
    } finally {
      await Promise.all(parts.map((p) => p.cleanup?.()));
    }
  }
  const explanation = opts.explain ? linkExplanations(table, result) : undefined;
  const format = opts.format === 'csv' ? csvFormat(table, result, opts.confidence, explanation) : jsonFormat(table, result, opts.confidence, explanation);
  const count = copy ? Math.ceil(rows.length / PART_ROWS) : Math.max(1, Math.ceil(rows.length / PART_ROWS));
  for (let p = 0; p < count; p++) {
    parts.push({
      name: nextName(),
      body: records(format, rows.subarray(p * PART_ROWS, (p + 1) * PART_ROWS), opts.signal),
      contentType: opts.format === 'csv' ? 'text/csv' : 'application/json',
    });
  }
  return { rows: all.length, parts: await writeOutput(objects, at, parts, opts.beforeMarker) };
}

interface OutputPart {
  name: string;
  body: AsyncIterable<Uint8Array>;
  contentType: string;
  /** Removes what the part's body is read from, once it is written. */
  cleanup?: () => Promise<void>;
}

/** The rows as one Parquet part (made in a temporary folder, removed by the part's cleanup). */
async function parquetPart(
  table: EngineTable,
  result: MatchResult,
  rows: Int32Array,
  opts: MatchOutputOptions,
  name: string,
): Promise<OutputPart[]> {
  const dir = await mkdtemp(join(tmpdir(), 'doppel-parquet-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const csvPath = join(dir, 'rows.csv');
    const parquetPath = join(dir, 'part.parquet');
    const explanation = opts.explain ? linkExplanations(table, result) : undefined;
    await pipeline(records(csvFormat(table, result, opts.confidence, explanation), rows, opts.signal), createWriteStream(csvPath));
    const inputColumns = [
      ...table.columns.map((c, i) => `${sqlString(`c${i}`)}: 'VARCHAR'`),
      `${sqlString(MATCH_ID)}: 'BIGINT'`,
      ...(opts.confidence ? [`${sqlString(MATCH_CONFIDENCE)}: 'DOUBLE'`] : []),
      ...(opts.explain ? [`${sqlString(MATCH_EXPLANATION)}: 'VARCHAR'`] : []),
    ];
    const select = [
      ...table.columns.map((c, i) => `TRY_CAST(${sqlIdent(`c${i}`)} AS ${duckType(c.type)}) AS ${sqlIdent(c.name)}`),
      sqlIdent(MATCH_ID),
      ...(opts.confidence ? [sqlIdent(MATCH_CONFIDENCE)] : []),
      ...(opts.explain ? [sqlIdent(MATCH_EXPLANATION)] : []),
    ];
    const read =
      `read_csv(${sqlString(csvPath)}, columns = {${inputColumns.join(', ')}}, header = true, auto_detect = false, ` +
      `delim = ',', quote = '"', escape = '"', nullstr = '', allow_quoted_nulls = false, strict_mode = true)`;
    const session = await DuckDbSession.open(opts.signal);
    try {
      await session.run(
        `COPY (SELECT ${select.join(', ')} FROM ${read}) TO ${sqlString(parquetPath)} (FORMAT parquet)`,
      );
    } finally {
      await session.close();
    }
    opts.signal?.throwIfAborted();
    return [{ name, body: createReadStream(parquetPath), contentType: 'application/octet-stream', cleanup }];
  } catch (e) {
    await cleanup();
    throw e;
  }
}
