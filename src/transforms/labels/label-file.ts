import { Readable, pipeline } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { StringInterner } from '../../engine/table.js';
import type { LabelRow } from '../../storage/records.js';
import { Utf8Checker, type Utf8Fault } from './utf8.js';

/** A label file problem, worded for the person who wrote the file (it becomes the ErrorString). */
export class LabelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelFileError';
  }
}

export const LABEL_COLUMNS = ['labeling_set_id', 'label'] as const;

export interface LabelSchema {
  columns: string[];
  primaryKey: string;
}

/**
 * The (labeling set, record) pairs an import has read, and where: a record appears at most once per
 * labeling set, within one file and across the files of one import. One entry per labeled row, in
 * an interner and a typed array rather than one Map, which V8 caps at 2^24 entries.
 */
export class LabeledRecords {
  readonly #files: string[] = [];
  /** `setId NUL key` → its number in the order first seen. */
  readonly #pairs = new StringInterner();
  /** By pair number: file index × 2^32 + row number in that file. */
  #where = new Float64Array(1024);

  constructor(private readonly primaryKey: string) {}

  /** Records that `source` has `key` in labeling set `setId` at `row`; throws if it was there already. */
  note(source: string, where: string, setId: string, key: string, row: number): void {
    if (this.#files[this.#files.length - 1] !== source) this.#files.push(source);
    const pair = `${setId}\u0000${key}`;
    const known = this.#pairs.get(pair);
    if (known !== undefined) {
      const earlier = this.#where[known]!;
      const file = this.#files[Math.floor(earlier / 2 ** 32)]!;
      if (file === source) {
        throw new LabelFileError(
          `${where}: record ${this.primaryKey}=${key} appears twice in labeling set ${setId} (rows ${earlier % 2 ** 32} and ${row})`,
        );
      }
      throw new LabelFileError(`${source}: record ${this.primaryKey}=${key} of labeling set ${setId} is also in ${file}`);
    }
    const id = this.#pairs.intern(pair);
    if (id >= this.#where.length) {
      const grown = new Float64Array(this.#where.length * 2);
      grown.set(this.#where);
      this.#where = grown;
    }
    this.#where[id] = (this.#files.length - 1) * 2 ** 32 + row;
  }
}

/**
 * Reads one label file (spec §5.3) as it streams in and yields its rows in batches of at most
 * `batchRows`: UTF-8 CSV whose header starts `labeling_set_id,label`, followed by columns of the
 * transform's schema that include the primary key; no empty ids or labels; a record at most once
 * per labeling set (checked with `seen`, shared by the files of one import). Every problem names
 * the file, row, line and column. Memory stays at one batch plus `seen`, whatever the file's size.
 */
export async function* readLabelFile(
  body: AsyncIterable<Uint8Array>,
  source: string,
  schema: LabelSchema,
  options: { batchRows: number; seen: LabeledRecords; onBytes?: (bytes: number) => void },
): AsyncGenerator<LabelRow[]> {
  let bytes = 0;
  const checked = async function* () {
    const utf8 = new Utf8Checker();
    for await (const chunk of body) {
      const fault = utf8.push(chunk);
      if (fault) throw notUtf8(source, fault);
      bytes += chunk.length;
      options.onBytes?.(chunk.length);
      yield chunk;
    }
    const fault = utf8.end();
    if (fault) throw notUtf8(source, fault);
    if (bytes === 0) throw new LabelFileError(`Invalid label file of size 0: ${source}`);
  };
  // Where the record parsed last ended: the next one starts on the line after, past any empty lines.
  // The parser runs a few records ahead of the loop below, so it queues each record's first line.
  let parsedEnd: ParsePosition = { lines: 0, empty_lines: 0 };
  const firstLines: number[] = [];
  const startLine = (now: ParsePosition) => parsedEnd.lines + 1 + (now.empty_lines - parsedEnd.empty_lines);
  const parser = parse({
    skip_empty_lines: true,
    relax_column_count: false,
    bom: true,
    // Any line end (old Mac files end lines with CR alone), even mixed in one file (files are often
    // pasted together from several sources).
    record_delimiter: ['\r\n', '\n', '\r'],
    on_record: (record, position) => {
      firstLines.push(startLine(position));
      parsedEnd = { lines: position.lines, empty_lines: position.empty_lines };
      return record;
    },
  });
  // pipeline() hands a failure of either side to the other: a UTF-8 fault ends the parse with it.
  pipeline(Readable.from(checked()), parser, () => undefined);

  let columns: string[] | undefined;
  let r = 0;
  let batch: LabelRow[] = [];
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      const line = firstLines.shift()!;
      if (!columns) {
        columns = checkHeader(record, source, schema);
        continue;
      }
      r++;
      const where = `${source} row ${r} (line ${line})`;
      const [setId, label] = record as [string, string];
      if (setId.trim() === '') throw new LabelFileError(`${where}: labeling_set_id is empty`);
      if (label.trim() === '') throw new LabelFileError(`${where}: label is empty`);
      const values: Record<string, string> = {};
      columns.forEach((name, i) => {
        values[name] = record[i + 2]!;
      });
      const key = values[schema.primaryKey]!;
      if (key.trim() === '') throw new LabelFileError(`${where}: the primary key column ${schema.primaryKey} is empty`);
      options.seen.note(source, where, setId, key, r);
      batch.push({ labelingSetId: setId, label, values });
      if (batch.length >= options.batchRows) {
        yield batch;
        batch = [];
      }
    }
  } catch (e) {
    if (e instanceof LabelFileError) throw e;
    // Every fault of the file's CSV (csv-parse's codes are not all CSV_...: INVALID_OPENING_QUOTE).
    if (e instanceof CsvError) {
      const err = e as CsvError & Partial<ParsePosition>;
      // The parser reports the line it has reached; the record at fault starts earlier when a quote
      // left open carried it over several lines.
      const start = err.lines === undefined ? undefined : startLine({ lines: err.lines, empty_lines: err.empty_lines ?? 0 });
      const at = start === undefined ? '' : ` at line ${start}`;
      const spans =
        start !== undefined && err.lines! > start
          ? ` (the record starting there runs on to line ${err.lines}: a quote in it is not closed where it should be)`
          : '';
      const what = err.message.replace(/ (on|at) line \d+$/, '');
      throw new LabelFileError(`${source} is not a valid CSV file${at}: ${what}${spans}`);
    }
    throw e;
  }
  if (!columns) throw new LabelFileError(`${source} is empty: it has no header row`);
  if (r === 0) throw new LabelFileError(`${source} has a header but no labeled rows`);
  if (batch.length > 0) yield batch;
}

/** How far csv-parse has read: lines, and empty lines skipped, so far. */
interface ParsePosition {
  lines: number;
  empty_lines: number;
}

function notUtf8(source: string, fault: Utf8Fault): LabelFileError {
  return new LabelFileError(
    `${source} is not valid UTF-8: byte 0x${fault.byte.toString(16).toUpperCase().padStart(2, '0')} ` +
      `at line ${fault.line}, column ${fault.column}. Label files must be UTF-8; this looks like Windows-1252 ` +
      '(cp1252) or Latin-1, as spreadsheet programs on Windows often save CSV. Save it as UTF-8 and import it again.',
  );
}

/** The record columns of a label file header, or an error saying exactly what is wrong with it. */
function checkHeader(header: string[], source: string, schema: LabelSchema): string[] {
  if (header[0] !== LABEL_COLUMNS[0] || header[1] !== LABEL_COLUMNS[1]) {
    throw new LabelFileError(
      `${source}: the header must start with labeling_set_id,label (case-sensitive); it starts with ` +
        `${header.slice(0, 2).join(',')}`,
    );
  }
  const columns = header.slice(2);
  const known = new Set(schema.columns);
  const seen = new Set<string>();
  columns.forEach((name, i) => {
    if (!known.has(name)) {
      throw new LabelFileError(
        `${source}: header column ${i + 3} (${name}) is not a column of the transform's schema ` +
          `(${schema.columns.join(', ')})`,
      );
    }
    if (seen.has(name)) throw new LabelFileError(`${source}: header column ${name} appears twice`);
    seen.add(name);
  });
  if (!seen.has(schema.primaryKey)) {
    throw new LabelFileError(`${source}: the header lacks the primary key column ${schema.primaryKey}`);
  }
  return columns;
}

/**
 * Labels as a label file, `labeling_set_id,label,<schema columns in order>`, a page of rows at a time,
 * so that an exported file imports back to the same labels and exports again to the same bytes.
 */
export async function* formatLabelFile(pages: AsyncIterable<LabelRow[]>, schemaColumns: string[]): AsyncGenerator<Buffer> {
  yield Buffer.from(stringify([[...LABEL_COLUMNS, ...schemaColumns]], { record_delimiter: '\n' }), 'utf8');
  for await (const rows of pages) {
    const body = rows.map((r) => [r.labelingSetId, r.label, ...schemaColumns.map((c) => r.values[c] ?? '')]);
    yield Buffer.from(stringify(body, { record_delimiter: '\n' }), 'utf8');
  }
}
