import type { DuckDBDataChunk } from '@duckdb/node-api';
import { DuckDbSession } from './duckdb-session.js';
import { partSources } from './part-sources.js';
import { checkValues } from './table-checks.js';
import { toTableParts, type PartFile, type TablePart } from './table-part.js';
import type { TableFormat } from './table-format.js';
import { TableDataError } from './table-data-error.js';

/** Rows of a table, every value as text (NULL as null), columns in catalog order. */
export interface RecordBatch {
  columns: string[];
  rows: Array<Array<string | null>>;
}

export interface ReadTableOptions {
  /** Checked to be present in every row and unique across all parts. */
  primaryKey?: string;
  /** Rows per batch (default 2048, one DuckDB chunk). */
  batchSize?: number;
  /** Findings that do not stop the read (a header naming other columns, a column no JSON record has). */
  onWarning?: (message: string) => void;
}

const DEFAULT_BATCH_SIZE = 2048;

/**
 * Reads a table's part files (local paths, in order) as the catalog declares them.
 *
 * Every problem is found before the first batch is yielded, so a caller never acts on part of a
 * table that turns out to be unreadable. DuckDB scans the files for their shape (CSV), for values
 * that break the catalog's types or the primary key, and groups the keys to find duplicates; then
 * it scans them once more to stream the rows. Only one batch is held in JavaScript at a time.
 */
export async function* readTable(
  format: TableFormat,
  files: readonly PartFile[],
  options: ReadTableOptions = {},
): AsyncGenerator<RecordBatch> {
  const columns = [...format.columns, ...format.partitionKeys].map((c) => c.name);
  const primaryKey = primaryKeyIndex(format, columns, options.primaryKey);
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE));
  const warn = options.onWarning ?? (() => {});
  const parts = toTableParts(files);

  const session = await DuckDbSession.open();
  try {
    const sources = await duckdbStep(parts, () => partSources(session, format, parts, warn));
    await duckdbStep(parts, () => checkValues(session, format, sources, primaryKey));

    const rows: Array<Array<string | null>> = [];
    for (const source of sources) {
      const chunks = session.chunks(source.select);
      for (;;) {
        const next = await duckdbStep([source.part], () => chunks.next());
        if (next.done) break;
        appendRows(rows, next.value, columns.length);
        while (rows.length >= batchSize) yield { columns, rows: rows.splice(0, batchSize) };
      }
    }
    if (rows.length > 0) yield { columns, rows: rows.splice(0) };
  } finally {
    await session.close();
  }
}

function primaryKeyIndex(format: TableFormat, columns: string[], primaryKey: string | undefined): number | undefined {
  if (primaryKey === undefined) return undefined;
  const index = columns.findIndex((c) => c.toLowerCase() === primaryKey.toLowerCase());
  if (index < 0) {
    throw new TableDataError(
      `Table ${format.table}: primary key column ${primaryKey} is not one of its columns (${columns.join(', ')}).`,
      { table: format.table, column: primaryKey },
    );
  }
  return index;
}

function appendRows(rows: Array<Array<string | null>>, chunk: DuckDBDataChunk, width: number): void {
  const vectors = Array.from({ length: width }, (_, i) => chunk.getColumnVector(i));
  for (let r = 0; r < chunk.rowCount; r++) {
    const row = new Array<string | null>(width);
    for (let c = 0; c < width; c++) {
      const value = vectors[c]!.getItem(r);
      row[c] = value === null ? null : String(value);
    }
    rows.push(row);
  }
}

/**
 * Runs a step and turns a DuckDB failure the checks did not foresee into a TableDataError that
 * names the part by its URI. DuckDB's message is kept: it is the only account of the problem.
 */
async function duckdbStep<T>(parts: readonly TablePart[], step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    // File-system errors (they carry a code, ENOENT and the like) are the caller's to handle.
    if (e instanceof TableDataError || !(e instanceof Error) || 'code' in e) throw e;
    let message = e.message.split('\n').filter((l) => l.trim() !== '').slice(0, 3).join(' ');
    for (const part of parts) message = message.replaceAll(part.path, part.uri);
    const part = parts.length === 1 ? parts[0] : parts.find((p) => message.includes(p.uri));
    throw new TableDataError(`${part ? `${part.uri}: ` : ''}${message}`, { uri: part?.uri });
  }
}
