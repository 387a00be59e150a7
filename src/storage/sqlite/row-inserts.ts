import type Database from 'better-sqlite3';

/**
 * Inserts whole rows of one table (see rows.ts), one prepared statement for them all: the columns
 * are the first row's keys, bound by name, so that each column is named once, by the converter
 * that made the row. `or` is SQLite's conflict clause. Returns how many rows each insert wrote (0
 * for a row that `or: 'IGNORE'` skipped).
 */
export function insertRows(db: Database.Database, table: string, rows: readonly object[], or?: 'IGNORE' | 'REPLACE'): number[] {
  if (rows.length === 0) return [];
  const columns = Object.keys(rows[0]!);
  const insert = db.prepare(
    `INSERT${or ? ` OR ${or}` : ''} INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
  );
  return rows.map((row) => insert.run(row).changes);
}
