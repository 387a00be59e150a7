import type { PgClient } from './pg-database.js';

/**
 * Inserts one whole row (see rows.ts): the columns are the row's keys, in their order, bound as
 * $1..$n, so that each column is named once, by the converter that made the row. `onConflict` is
 * appended as it is (an ON CONFLICT clause).
 */
export function insertRow(client: Pick<PgClient, 'query'>, table: string, row: object, onConflict = '') {
  const columns = Object.keys(row);
  return client.query(
    `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})${onConflict ? ` ${onConflict}` : ''}`,
    Object.values(row),
  );
}
