import type { DuckDBDataChunk } from '@duckdb/node-api';
import { DuckDbSession } from './duckdb-session.js';
import { STAGED_ROWS } from './staged-table.js';
import { duckdbStep, stageTable, type StageOptions } from './staging.js';
import { toTableParts, type PartFile } from './table-part.js';
import type { TableFormat } from './table-format.js';

/** Rows of a table, every value as text (NULL as null), columns in catalog order. */
export interface RecordBatch {
  columns: string[];
  rows: Array<Array<string | null>>;
}

export interface ReadTableOptions extends StageOptions {
  /** Rows per batch (default 2048, one DuckDB chunk). */
  batchSize?: number;
}

const DEFAULT_BATCH_SIZE = 2048;

/**
 * Reads a table's part files (local paths, in order) as the catalog declares them, row by row.
 *
 * Every problem is found before the first batch is yielded, so a caller never acts on part of a
 * table that turns out to be unreadable: the rows are staged in DuckDB and checked there (see
 * stageTable), then streamed from the staged copy. Only one batch is held in JavaScript at a time.
 */
export async function* readTable(
  format: TableFormat,
  files: readonly PartFile[],
  options: ReadTableOptions = {},
): AsyncGenerator<RecordBatch> {
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE));
  const parts = toTableParts(files);
  const session = await DuckDbSession.open();
  try {
    const table = await stageTable(session, format, parts, options);
    const columns = table.columns.map((c) => c.name);
    const rows: Array<Array<string | null>> = [];
    // A scan yields a table's rows in insertion order (the session preserves it): file order.
    const chunks = session.chunks(`SELECT * FROM ${STAGED_ROWS}`);
    for (;;) {
      const next = await duckdbStep(parts, () => chunks.next());
      if (next.done) break;
      appendRows(rows, next.value, columns.length);
      while (rows.length >= batchSize) yield { columns, rows: rows.splice(0, batchSize) };
    }
    if (rows.length > 0) yield { columns, rows: rows.splice(0) };
  } finally {
    await session.close();
  }
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
