import { checkCsvHeader } from './csv-header.js';
import { duckEscapeFor } from './csv-dialect.js';
import { copyCsvPart, rejectError } from './csv-rejects.js';
import { toNumber, type DuckDbSession } from './duckdb-session.js';
import { jsonSelects } from './json-source.js';
import { copyOpenCsvPart } from './opencsv-part.js';
import { parquetSelects } from './parquet-source.js';
import { partitionValuesOf } from './partition-values.js';
import { slot, sqlString } from './sql.js';
import { STAGED_ROWS, type StagedTable } from './staged-table.js';
import { checkValues } from './table-checks.js';
import type { TablePart } from './table-part.js';
import type { CatalogColumn, TableFormat } from './table-format.js';
import { TableDataError } from './table-data-error.js';

export interface StageOptions {
  /** Checked to be present in every row and unique across all parts. */
  primaryKey?: string;
  /** Findings that do not stop the read (a header naming other columns, a column no JSON record has). */
  onWarning?: (message: string) => void;
}

/**
 * Copies a table's part files (local paths, in order) into the session as the catalog declares
 * them, and checks everything before anyone sees a row: the format's own checks while copying
 * (for CSV the header and every line's shape and encoding, for JSON that every line is an object,
 * for Parquet that the columns exist), then every value against the catalog types and the primary
 * key, the same way for every format. A DuckDB failure nobody foresaw names the part it came from.
 */
export async function stageTable(
  session: DuckDbSession,
  format: TableFormat,
  parts: readonly TablePart[],
  options: StageOptions = {},
): Promise<StagedTable> {
  const columns = [...format.columns, ...format.partitionKeys];
  const primaryKey = primaryKeyIndex(format, columns, options.primaryKey);
  const warn = options.onWarning ?? (() => {});
  const table: StagedTable = { name: format.table, columns, primaryKey, rowCount: 0, parts: [] };
  // Partition folders first: a misplaced file is the cheapest mistake to report.
  const partitionValues = parts.map((part) => part.partitionValues ?? partitionValuesOf(part.uri, format.partitionKeys));
  const insert = (p: number) => (select: string) =>
    session.run(`INSERT INTO ${STAGED_ROWS} ${withPartitionValues(select, format, partitionValues[p]!)}`);
  const recordPart = async (p: number) => {
    const [counted] = await session.rows(`SELECT count(*) FROM ${STAGED_ROWS}`);
    const rowCount = toNumber(counted?.[0]);
    table.parts.push({ ...parts[p]!, firstRow: table.rowCount, rowCount: rowCount - table.rowCount });
    table.rowCount = rowCount;
  };

  await duckdbStep(parts, async () => {
    await session.run(`CREATE TABLE ${STAGED_ROWS} (${columns.map((_, i) => `${slot(i)} VARCHAR`).join(', ')})`);
    if (format.kind === 'csv') {
      // Part files usually share one header: one warning per distinct header, not one per file.
      const warnedHeaders = new Set<string>();
      for (const [p, part] of parts.entries()) {
        const mismatch = await checkCsvHeader(part, format);
        const headerKey = mismatch?.names.join('\u0000');
        if (mismatch && !warnedHeaders.has(headerKey!)) {
          warnedHeaders.add(headerKey!);
          warn(mismatch.warning);
        }
        if (format.csv!.openCsv) {
          await copyOpenCsvPart(session, part, format, insert(p));
        } else {
          const escape = await duckEscapeFor(part.path, format.csv!);
          const reject = await copyCsvPart(session, part, format, escape, insert(p));
          if (reject) throw rejectError(part, format, escape, reject);
        }
        await recordPart(p);
      }
    } else {
      const selects =
        format.kind === 'json'
          ? await jsonSelects(session, parts, format, warn)
          : await parquetSelects(session, parts, format, warn);
      for (const [p, select] of selects.entries()) {
        await insert(p)(select);
        await recordPart(p);
      }
    }
    await checkValues(session, table);
  }, session.signal);
  return table;
}

/**
 * Runs a step and turns a DuckDB failure the checks did not foresee into a TableDataError that
 * names the part by its URI. DuckDB's message is kept: it is the only account of the problem.
 */
export async function duckdbStep<T>(parts: readonly TablePart[], step: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  try {
    return await step();
  } catch (e) {
    // File-system errors (they carry a code, ENOENT and the like) and aborts are the caller's to handle.
    if (e instanceof TableDataError || !(e instanceof Error) || 'code' in e || signal?.aborted) throw e;
    let message = e.message.split('\n').filter((l) => l.trim() !== '').slice(0, 3).join(' ');
    for (const part of parts) message = message.replaceAll(part.path, part.uri);
    const part = parts.length === 1 ? parts[0] : parts.find((p) => message.includes(p.uri));
    throw new TableDataError(`${part ? `${part.uri}: ` : ''}${message}`, { uri: part?.uri });
  }
}

function primaryKeyIndex(format: TableFormat, columns: CatalogColumn[], primaryKey: string | undefined): number | undefined {
  if (primaryKey === undefined) return undefined;
  const index = columns.findIndex((c) => c.name.toLowerCase() === primaryKey.toLowerCase());
  if (index < 0) {
    throw new TableDataError(
      `Table ${format.table}: primary key column ${primaryKey} is not one of its columns (${columns.map((c) => c.name).join(', ')}).`,
      { table: format.table, column: primaryKey },
    );
  }
  return index;
}

function withPartitionValues(select: string, format: TableFormat, values: Array<string | null>): string {
  if (values.length === 0) return select;
  const first = format.columns.length;
  const literals = values.map((v, k) => `${v === null ? 'NULL::VARCHAR' : sqlString(v)} AS ${slot(first + k)}`);
  return `SELECT t.*, ${literals.join(', ')} FROM (${select}) AS t`;
}
