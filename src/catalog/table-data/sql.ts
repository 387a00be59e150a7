/** SQL text helpers for DuckDB: literals and identifiers built here are never spliced raw. */

export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function sqlStringList(values: readonly string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}

/** Internal column names c0, c1, …: catalog names may repeat case-insensitively or hold any character. */
export function slot(index: number): string {
  return sqlIdent(slotName(index));
}

/** The name behind slot(index), as DuckDB lists it (in DESCRIBE or UNPIVOT's name column). */
export function slotName(index: number): string {
  return `c${index}`;
}
