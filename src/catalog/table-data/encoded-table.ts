import { DuckDbSession, int32Column, toNumber } from './duckdb-session.js';
import { slot } from './sql.js';
import { STAGED_ROWS, type StagedTable } from './staged-table.js';
import { duckdbStep, stageTable, type StageOptions } from './staging.js';
import { toTableParts, type PartFile } from './table-part.js';
import type { TableFormat } from './table-format.js';

/**
 * One column, dictionary-encoded: per row the index of its value in `values`, -1 when missing.
 * Values are numbered in order of first appearance in the file.
 */
export interface EncodedColumn {
  name: string;
  /** The catalog type (Hive, lower-cased). */
  type: string;
  codes: Int32Array;
  values: string[];
}

export interface EncodedTable {
  columns: EncodedColumn[];
  /** Index into `columns` of the primary key. */
  primaryKey: number;
  rowCount: number;
}

export interface ReadEncodedOptions extends StageOptions {
  primaryKey: string;
  signal?: AbortSignal;
}

/**
 * Reads a table's part files (local paths, in order) with every check of stageTable, straight
 * into dictionary-encoded columns: DuckDB stages the rows, numbers each column's distinct values
 * and gives every row its codes; JavaScript receives INTEGER vectors, copied in bulk, and each
 * distinct value once. No row ever exists as a JavaScript object.
 *
 * Measured on 2 idle cores with synthetic people (9 columns, 110 MB of CSV per million rows), all
 * checks included: 1M rows in ~2.9 s (4.3 s of CPU), peak RSS 0.7 GB; 5M rows in ~18 s (21 s of
 * CPU), 2.6 GB, of which DuckDB's staged copy is gone once the table is returned. Streaming every
 * row into JavaScript and interning it there took ~10 s for 1M rows and ~64 s for 5M (2.5 GB):
 * even with the checks and staging done in DuckDB, interning streamed VARCHAR vectors in Maps took
 * ~8 s for the eight non-key columns of 1M rows, against ~2.5 s for encoding them in DuckDB —
 * turning DuckDB strings into JavaScript strings one cell at a time is what costs.
 */
export async function readEncodedTable(
  format: TableFormat,
  files: readonly PartFile[],
  options: ReadEncodedOptions,
): Promise<EncodedTable> {
  const parts = toTableParts(files);
  const session = await DuckDbSession.open(options.signal);
  try {
    const table = await stageTable(session, format, parts, options);
    return await duckdbStep(parts, () => encode(session, table), options.signal);
  } finally {
    await session.close();
  }
}

async function encode(session: DuckDbSession, table: StagedTable): Promise<EncodedTable> {
  const n = table.rowCount;
  const primaryKey = table.primaryKey!;
  const columns: EncodedColumn[] = table.columns.map((c) => ({ name: c.name, type: c.type, codes: new Int32Array(n), values: [] }));
  for (const [c, column] of columns.entries()) {
    if (c === primaryKey) {
      // The key checks proved every key present and distinct: the codes are the row numbers, and
      // the values the keys in file order. Skipping the dictionary saves its largest one.
      for (let r = 0; r < n; r++) column.codes[r] = r;
      column.values = await readTexts(session, `SELECT ${slot(c)} AS text, rowid AS i FROM ${STAGED_ROWS}`);
      continue;
    }
    // Grouping the rows by value gives each distinct value (its rowid in the dictionary is its code
    // until renumbered below) and the rows that hold it: no second pass to look values up.
    await session.run(
      `CREATE TABLE dictionary AS SELECT ${slot(c)} AS text, list(rowid::INTEGER) AS rows FROM ${STAGED_ROWS} ` +
        `WHERE ${slot(c)} IS NOT NULL GROUP BY ${slot(c)}`,
    );
    column.values = await readTexts(session, `SELECT text, rowid AS i FROM dictionary`);
    column.codes.fill(-1);
    for await (const chunk of session.chunks(`SELECT rowid::INTEGER, unnest(rows) FROM dictionary`)) {
      const code = int32Column(chunk, 0);
      const rows = int32Column(chunk, 1);
      for (let i = 0; i < rows.length; i++) column.codes[rows[i]!] = code[i]!;
    }
    await session.run('DROP TABLE dictionary');
    numberByFirstAppearance(column);
  }
  return { columns, primaryKey, rowCount: n };
}

/**
 * Renumbers a column's values in order of first appearance. GROUP BY hands out values in whatever
 * order its threads finish; this makes the codes the same for the same table every time (the
 * matcher's choices must not depend on DuckDB's scheduling), and costs one pass over the codes.
 */
function numberByFirstAppearance(column: EncodedColumn): void {
  const renumbered = new Int32Array(column.values.length).fill(-1);
  const order = new Int32Array(column.values.length);
  let next = 0;
  const codes = column.codes;
  for (let r = 0; r < codes.length; r++) {
    const code = codes[r]!;
    if (code < 0) continue;
    let renamed = renumbered[code]!;
    if (renamed < 0) {
      renamed = renumbered[code] = next;
      order[next++] = code;
    }
    codes[r] = renamed;
  }
  const values: string[] = [];
  for (let k = 0; k < next; k++) values.push(column.values[order[k]!]!);
  column.values = values;
}

/** Text per block handed over at once; V8 strings stop at 2^29 characters. */
const BLOCK_BYTES = 1 << 25;
const BLOCK_VALUES = 1 << 16;

/**
 * The `text` column of `source` as an array indexed by its `i` column (0, 1, … without gaps).
 *
 * Turning DuckDB strings into JavaScript strings one at a time costs microseconds each, so values
 * travel in blocks joined by NUL into one string, which JavaScript splits again. A column where
 * some value holds a NUL itself travels as JSON arrays instead, which any text survives (slower).
 */
async function readTexts(session: DuckDbSession, source: string): Promise<string[]> {
  const [stats] = await session.rows(`SELECT max(strlen(text)), bool_or(contains(text, chr(0))) FROM (${source})`);
  const longest = toNumber(stats?.[0]);
  const holdsNul = stats?.[1] === true;
  // Blocks small enough that even the longest values fit one string, JSON escapes included.
  const block = Math.max(1, Math.min(BLOCK_VALUES, Math.floor(BLOCK_BYTES / ((longest + 1) * (holdsNul ? 6 : 1)))));
  const joined = holdsNul ? 'to_json(list(text ORDER BY i))::VARCHAR' : 'string_agg(text, chr(0) ORDER BY i)';
  const values: string[] = [];
  const sql = `SELECT ${joined} FROM (${source}) GROUP BY i // ${block} ORDER BY i // ${block}`;
  for await (const chunk of session.chunks(sql)) {
    const vector = chunk.getColumnVector(0);
    for (let b = 0; b < chunk.rowCount; b++) {
      const text = vector.getItem(b) as string;
      for (const value of holdsNul ? (JSON.parse(text) as string[]) : text.split('\0')) values.push(value);
    }
  }
  return values;
}
