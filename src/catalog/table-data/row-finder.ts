import { textAt, type DuckDbSession } from './duckdb-session.js';

/** A test on one row of a part's select: `bad` is SQL true for a bad row, `value` the text to quote. */
export interface RowCheck {
  bad: string;
  value: string;
}

export interface FoundRow {
  /** 1-based data row of the part file. */
  row: number;
  /** Per check, in order: the value when that check failed on this row. */
  failures: Array<{ check: number; value: string | null }>;
}

/**
 * The first `limit` rows of `select` that fail any check, with their 1-based row numbers.
 *
 * DuckDB has no row numbers for CSV or JSON scans, so rows are counted as they stream by, in file
 * order. This runs only once a check has already failed, so it may take its time; it transfers
 * just a flag per row and the values of the rows it reports.
 */
export async function findRows(session: DuckDbSession, select: string, checks: RowCheck[], limit = 1): Promise<FoundRow[]> {
  const anyBad = checks.map((c) => `coalesce(${c.bad}, false)`).join(' OR ');
  const details = checks.flatMap((c) => [
    `CASE WHEN ${anyBad} THEN coalesce(${c.bad}, false)::VARCHAR END`,
    `CASE WHEN ${anyBad} THEN ${c.value} END`,
  ]);
  const sql = `SELECT (${anyBad})::VARCHAR AS hit, ${details.join(', ')} FROM (${select}) AS t`;
  const found: FoundRow[] = [];
  let row = 0;
  for await (const chunk of session.chunks(sql)) {
    for (let r = 0; r < chunk.rowCount; r++) {
      row++;
      if (textAt(chunk, 0, r) !== 'true') continue;
      const failures = checks
        .map((_, i) => ({ check: i, failed: textAt(chunk, 1 + 2 * i, r) === 'true', value: textAt(chunk, 2 + 2 * i, r) }))
        .filter((f) => f.failed)
        .map(({ check, value }) => ({ check, value }));
      found.push({ row, failures });
      if (found.length >= limit) return found;
    }
  }
  return found;
}
