import { checkCsvHeader } from './csv-header.js';
import { csvSelect, duckEscapeFor } from './csv-dialect.js';
import { checkCsvStructure } from './csv-rejects.js';
import type { DuckDbSession } from './duckdb-session.js';
import { jsonSelects } from './json-source.js';
import { parquetSelects } from './parquet-source.js';
import { partitionValuesOf } from './partition-values.js';
import { slot, sqlString } from './sql.js';
import type { TablePart } from './table-part.js';
import type { TableFormat } from './table-format.js';

/**
 * One part file as a DuckDB query yielding the table's columns as text, named c0, c1, … in catalog
 * order (data columns, then partition keys).
 */
export interface PartSource {
  part: TablePart;
  select: string;
}

/**
 * Builds each part's query after the checks only the format can make: for CSV the header and
 * every line's shape and encoding, for JSON that every line is an object, for Parquet that the
 * columns exist. Values are checked afterwards, the same way for every format.
 */
export async function partSources(
  session: DuckDbSession,
  format: TableFormat,
  parts: readonly TablePart[],
  warn: (message: string) => void,
): Promise<PartSource[]> {
  // Partition folders first: a misplaced file is the cheapest mistake to report.
  const partitionValues = parts.map((part) => partitionValuesOf(part.uri, format.partitionKeys));
  let selects: string[];
  if (format.kind === 'csv') {
    selects = [];
    // Part files usually share one header: one warning per distinct header, not one per file.
    const warnedHeaders = new Set<string>();
    for (const part of parts) {
      const mismatch = await checkCsvHeader(part, format);
      const headerKey = mismatch?.names.join('\u0000');
      if (mismatch && !warnedHeaders.has(headerKey!)) {
        warnedHeaders.add(headerKey!);
        warn(mismatch.warning);
      }
      const escape = await duckEscapeFor(part.path, format.csv!);
      await checkCsvStructure(session, part, format, escape);
      selects.push(csvSelect(part.path, format, escape));
    }
  } else if (format.kind === 'json') {
    selects = await jsonSelects(session, parts, format, warn);
  } else {
    selects = await parquetSelects(session, parts, format, warn);
  }
  return parts.map((part, p) => ({ part, select: withPartitionValues(selects[p]!, format, partitionValues[p]!) }));
}

function withPartitionValues(select: string, format: TableFormat, values: Array<string | null>): string {
  if (values.length === 0) return select;
  const first = format.columns.length;
  const literals = values.map((v, k) => `${v === null ? 'NULL::VARCHAR' : sqlString(v)} AS ${slot(first + k)}`);
  return `SELECT t.*, ${literals.join(', ')} FROM (${select}) AS t`;
}
