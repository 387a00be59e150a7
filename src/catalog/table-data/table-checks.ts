import { toNumber, type DuckDbSession } from './duckdb-session.js';
import { hiveTypeOf } from './hive-types.js';
import type { PartSource } from './part-sources.js';
import { findRows, type RowCheck } from './row-finder.js';
import { plural } from './csv-messages.js';
import { slot, sqlString } from './sql.js';
import type { CatalogColumn, TableFormat } from './table-format.js';
import { TableDataError } from './table-data-error.js';

const missing = (text: string) => `(${text} IS NULL OR trim(${text}) = '')`;

interface ValueCheck extends RowCheck {
  describe(uri: string, row: number, value: string | null, others: number): string;
  column: string;
}

/**
 * Checks every value before any row is handed out: values that do not fit their catalog type,
 * rows without a primary key, primary keys used twice. One aggregate query per part counts the
 * problems; only when there is one are rows streamed again to say where it is.
 */
export async function checkValues(
  session: DuckDbSession,
  format: TableFormat,
  sources: readonly PartSource[],
  primaryKey: number | undefined,
): Promise<void> {
  const columns = [...format.columns, ...format.partitionKeys];
  const checks = valueChecks(columns, primaryKey);
  if (checks.length > 0) {
    for (const source of sources) {
      const counts = checks.map((c) => `count(*) FILTER (WHERE ${c.bad})`).join(', ');
      const [row] = await session.rows(`SELECT ${counts} FROM (${source.select}) AS t`);
      if (!checks.some((_, i) => toNumber(row?.[i]) > 0)) continue;
      const [found] = await findRows(session, source.select, checks);
      // Rows stream in the order the counts saw, so a failing count always has a row to show.
      const failure = found!.failures[0]!;
      const check = checks[failure.check]!;
      const others = toNumber(row?.[failure.check]) - 1;
      throw new TableDataError(check.describe(source.part.uri, found!.row, failure.value, others), {
        uri: source.part.uri,
        row: found!.row,
        column: check.column,
      });
    }
  }
  if (primaryKey !== undefined) await checkUniqueKeys(session, format.table, columns[primaryKey]!, primaryKey, sources);
}

function valueChecks(columns: CatalogColumn[], primaryKey: number | undefined): ValueCheck[] {
  const checks: ValueCheck[] = [];
  if (primaryKey !== undefined) {
    const key = columns[primaryKey]!;
    checks.push({
      column: key.name,
      bad: missing(slot(primaryKey)),
      value: slot(primaryKey),
      describe: (uri, row, _value, others) =>
        `${uri} row ${row}: primary key column ${key.name} is empty` +
        `${others > 0 ? ` (${plural(others, 'more row')} like it)` : ''}.`,
    });
  }
  columns.forEach((column, i) => {
    const fits = hiveTypeOf(column.type)?.fits;
    if (!fits) return;
    checks.push({
      column: column.name,
      bad: `(${slot(i)} IS NOT NULL AND NOT ${fits(slot(i))})`,
      value: slot(i),
      describe: (uri, row, value, others) =>
        `${uri} row ${row}, column ${column.name}: ${JSON.stringify(value)} is not a ${column.type} value, ` +
        `as the catalog declares${others > 0 ? ` (${others} more in this file)` : ''}.` +
        // The usual cause of a bad first row: a header the table does not skip.
        (row === 1 && value?.trim().toLowerCase() === column.name.toLowerCase()
          ? ' Row 1 looks like a header: declare skip.header.line.count = 1.'
          : ''),
    });
  });
  return checks;
}

/**
 * FindMatches identifies records by their primary key, so a key used twice would merge two
 * records. DuckDB groups the keys (spilling to disk if it must), not JavaScript.
 */
async function checkUniqueKeys(
  session: DuckDbSession,
  table: string,
  key: CatalogColumn,
  index: number,
  sources: readonly PartSource[],
): Promise<void> {
  if (sources.length === 0) return;
  const keys = sources.map((s) => `SELECT ${slot(index)} AS k FROM (${s.select}) AS t`).join(' UNION ALL ');
  const [summary] = await session.rows(
    `SELECT count(*), min(k) FROM (` +
      `SELECT k FROM (${keys}) AS all_keys WHERE NOT ${missing('k')} GROUP BY k HAVING count(*) > 1) AS dup`,
  );
  const duplicated = toNumber(summary?.[0]);
  if (duplicated === 0) return;
  const value = String(summary![1]);
  const places: Array<{ uri: string; row: number }> = [];
  for (const source of sources) {
    const isValue = { bad: `${slot(index)} = ${sqlString(value)}`, value: slot(index) };
    const hits = await findRows(session, source.select, [isValue], 2 - places.length);
    places.push(...hits.map((h) => ({ uri: source.part.uri, row: h.row })));
    if (places.length >= 2) break;
  }
  const [a, b] = places;
  const where = (p: { uri: string; row: number } | undefined) => (p ? `${p.uri} row ${p.row}` : '?');
  throw new TableDataError(
    `Table ${table}: primary key ${key.name} ${JSON.stringify(value)} is used by two rows: ${where(a)} and ${where(b)}` +
      (duplicated > 1
        ? ` (${plural(duplicated - 1, 'other key value')} ${duplicated > 2 ? 'are' : 'is'} used more than once too).`
        : '.'),
    { uri: b?.uri, row: b?.row, column: key.name },
  );
}
