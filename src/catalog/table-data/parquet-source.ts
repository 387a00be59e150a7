import type { DuckDbSession } from './duckdb-session.js';
import { slot, sqlIdent, sqlString } from './sql.js';
import type { TablePart } from './table-part.js';
import type { TableFormat } from './table-format.js';
import { TableDataError } from './table-data-error.js';

/**
 * Parquet tables: columns are found by name (case-insensitively, as Hive does) in each file's own
 * schema and turned into text. A column missing from some files is NULL there (schema evolution);
 * missing from every file, it is a mistake in the catalog.
 */
export async function parquetSelects(
  session: DuckDbSession,
  parts: readonly TablePart[],
  format: TableFormat,
  warn: (message: string) => void,
): Promise<string[]> {
  const schemas: string[][] = [];
  for (const part of parts) {
    try {
      const described = await session.rows(`DESCRIBE SELECT * FROM ${readCall(part)}`);
      schemas.push(described.map((r) => String(r[0])));
    } catch (e) {
      const message = (e as Error).message.split('\n')[0]!.replaceAll(part.path, part.uri);
      throw new TableDataError(`${part.uri} cannot be read as Parquet: ${message}`, { uri: part.uri });
    }
  }
  const find = (schema: string[], name: string) => schema.find((s) => s.toLowerCase() === name.toLowerCase());
  format.columns.forEach((column, i) => {
    const missingIn = parts.filter((_, p) => !find(schemas[p]!, column.name));
    if (missingIn.length === 0 || parts.length === 0) return;
    if (missingIn.length === parts.length) {
      throw new TableDataError(
        `${parts[0]!.uri}: Parquet column ${column.name} is not in ${parts.length > 1 ? 'any part file' : 'the file'}; ` +
          `it has ${schemas[0]!.join(', ')}.`,
        { uri: parts[0]!.uri, column: column.name },
      );
    }
    const files = missingIn.map((p) => p.uri).join(', ');
    warn(`Table ${format.table}: column ${column.name} (catalog column ${i + 1}) is missing from ${files}; it is NULL there.`);
  });
  return parts.map((part, p) => {
    const columns = format.columns.map((column, i) => {
      const actual = find(schemas[p]!, column.name);
      return `${actual ? `CAST(${sqlIdent(actual)} AS VARCHAR)` : 'NULL::VARCHAR'} AS ${slot(i)}`;
    });
    return `SELECT ${columns.join(', ')} FROM ${readCall(part)}`;
  });
}

/** Old Spark writes strings as unannotated BINARY; the catalog says they are text. */
function readCall(part: TablePart): string {
  return `read_parquet(${sqlString(part.path)}, binary_as_string = true)`;
}
