import { toNumber, type DuckDbSession } from './duckdb-session.js';
import { hiveTypeOf } from './hive-types.js';
import { plural } from './csv-messages.js';
import { slot, sqlString } from './sql.js';
import { partRowOf, STAGED_ROWS, type StagedTable } from './staged-table.js';
import type { CatalogColumn } from './table-format.js';
import { TableDataError } from './table-data-error.js';

const missing = (text: string) => `(${text} IS NULL OR trim(${text}) = '')`;

/** A test on one staged row: `bad` is SQL true for a bad row, `value` the text to quote. */
interface ValueCheck {
  bad: string;
  value: string;
  describe(uri: string, row: number, value: string | null, others: number): string;
  column: string;
}

/**
 * Checks every staged value before any row is handed out: values that do not fit their catalog
 * type, rows without a primary key, primary keys used twice. One aggregate query counts the
 * problems; only when there is one is the first bad row in file order looked up by its rowid.
 */
export async function checkValues(session: DuckDbSession, table: StagedTable): Promise<void> {
  const checks = valueChecks(table.columns, table.primaryKey);
  if (checks.length > 0) {
    const counts = checks.map((c) => `count(*) FILTER (WHERE ${c.bad})`).join(', ');
    const [row] = await session.rows(`SELECT ${counts} FROM ${STAGED_ROWS}`);
    if (checks.some((_, i) => toNumber(row?.[i]) > 0)) throw await firstBadValue(session, table, checks);
  }
  if (table.primaryKey !== undefined) await checkUniqueKeys(session, table, table.primaryKey);
}

/** The first row that fails a check, named by its file and row, with how many more rows of that file fail the same check. */
async function firstBadValue(session: DuckDbSession, table: StagedTable, checks: ValueCheck[]): Promise<TableDataError> {
  const failed = checks.map((c) => `coalesce(${c.bad}, false)`);
  const [found] = await session.rows(
    `SELECT rowid, ${checks.map((c, i) => `${failed[i]}, ${c.value}`).join(', ')} FROM ${STAGED_ROWS} ` +
      `WHERE ${failed.join(' OR ')} ORDER BY rowid LIMIT 1`,
  );
  const { part, row } = partRowOf(table, toNumber(found![0]));
  const index = checks.findIndex((_, i) => found![1 + 2 * i] === true);
  const check = checks[index]!;
  const value = found![2 + 2 * index] as string | null;
  const [counted] = await session.rows(
    `SELECT count(*) FROM ${STAGED_ROWS} WHERE ${check.bad} AND rowid >= ${part.firstRow} AND rowid < ${part.firstRow + part.rowCount}`,
  );
  const others = toNumber(counted?.[0]) - 1;
  return new TableDataError(check.describe(part.uri, row, value, others), {
    uri: part.uri,
    row,
    column: check.column,
  });
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
async function checkUniqueKeys(session: DuckDbSession, table: StagedTable, index: number): Promise<void> {
  const key = table.columns[index]!;
  const [summary] = await session.rows(
    `SELECT count(*), min(k) FROM (` +
      `SELECT ${slot(index)} AS k FROM ${STAGED_ROWS} WHERE NOT ${missing(slot(index))} GROUP BY k HAVING count(*) > 1) AS dup`,
  );
  const duplicated = toNumber(summary?.[0]);
  if (duplicated === 0) return;
  const value = String(summary![1]);
  const hits = await session.rows(
    `SELECT rowid FROM ${STAGED_ROWS} WHERE ${slot(index)} = ${sqlString(value)} ORDER BY rowid LIMIT 2`,
  );
  const [a, b] = hits.map((h) => {
    const { part, row } = partRowOf(table, toNumber(h[0]));
    return { uri: part.uri, row };
  });
  const where = (p: { uri: string; row: number } | undefined) => (p ? `${p.uri} row ${p.row}` : '?');
  throw new TableDataError(
    `Table ${table.name}: primary key ${key.name} ${JSON.stringify(value)} is used by two rows: ${where(a)} and ${where(b)}` +
      (duplicated > 1
        ? ` (${plural(duplicated - 1, 'other key value')} ${duplicated > 2 ? 'are' : 'is'} used more than once too).`
        : '.'),
    { uri: b?.uri, row: b?.row, column: key.name },
  );
}
