import type { TablePart } from './table-part.js';
import type { CatalogColumn } from './table-format.js';

/** The DuckDB table of a session that holds the staged rows. */
export const STAGED_ROWS = 'staged_rows';

/**
 * A table's rows copied once into the session's DuckDB table STAGED_ROWS and checked there.
 *
 * Its columns are text (NULL for a missing value) named c0, c1, … in catalog order (data columns,
 * then partition keys), and its rowid is the row's index in file order (part files in the order
 * given). Every later step (the value checks, encoding the columns, looking keys up) reads this
 * copy: the files are parsed once, however many questions are asked of them.
 */
export interface StagedTable {
  /** `database.table`, for messages. */
  name: string;
  columns: CatalogColumn[];
  /** Index into `columns` of the primary key, when one was named. */
  primaryKey: number | undefined;
  rowCount: number;
  /** The part files in order; part `p` holds rowids [firstRow, firstRow + rowCount). */
  parts: StagedPart[];
}

export interface StagedPart extends TablePart {
  firstRow: number;
  rowCount: number;
}

/** The part file a rowid of the staged table comes from, and its 1-based data row there. */
export function partRowOf(table: StagedTable, rowid: number): { part: StagedPart; row: number } {
  const part = table.parts.find((p) => rowid >= p.firstRow && rowid < p.firstRow + p.rowCount);
  if (!part) throw new Error(`rowid ${rowid} is outside the staged table (${table.rowCount} rows)`);
  return { part, row: rowid - part.firstRow + 1 };
}
