import type { CatalogChange } from '../catalog-change.js';
import type { TableKey } from '../records.js';
import { partitionRow, tableRow, valuesKey } from '../rows.js';
import type { PgClient } from './pg-database.js';
import { insertRow } from './pg-row-inserts.js';

const OF_TABLE = 'account_id = $1 AND region = $2 AND catalog_id = $3 AND database_name = $4 AND table_name = $5';
const keyOf = (t: TableKey) => [t.accountId, t.region, t.catalogId, t.databaseName, t.name];

/**
 * Applies a crawl's catalog changes (see CatalogChange for what is skipped) inside the caller's
 * transaction: the task queue commits them with the crawl's SUCCEEDED.
 */
export async function applyCatalogChange(client: PgClient, change: CatalogChange): Promise<void> {
  for (const t of change.createTables) await insertRow(client, 'catalog_tables', tableRow(t), 'ON CONFLICT DO NOTHING');
  for (const t of change.updateTables) {
    await client.query(
      `INSERT INTO catalog_table_versions (account_id, region, catalog_id, database_name, table_name,
         version_id, created_on, updated_on, created_by, doc)
       SELECT account_id, region, catalog_id, database_name, name, version_id, created_on, updated_on, created_by, doc
       FROM catalog_tables WHERE account_id = $1 AND region = $2 AND catalog_id = $3 AND database_name = $4 AND name = $5
         AND version_id = $6
       ON CONFLICT (account_id, region, catalog_id, database_name, table_name, version_id)
       DO UPDATE SET created_on = excluded.created_on, updated_on = excluded.updated_on,
         created_by = excluded.created_by, doc = excluded.doc`,
      [...keyOf(t), t.versionId - 1],
    );
    const row = tableRow(t);
    await client.query(
      `UPDATE catalog_tables SET updated_on = $1, version_id = $2, doc = $3
       WHERE account_id = $4 AND region = $5 AND catalog_id = $6 AND database_name = $7 AND name = $8 AND version_id = $9`,
      [row.updated_on, row.version_id, row.doc, ...keyOf(t), row.version_id - 1],
    );
  }
  for (const t of change.deleteTables) {
    await client.query(
      'DELETE FROM catalog_tables WHERE account_id = $1 AND region = $2 AND catalog_id = $3 AND database_name = $4 AND name = $5',
      keyOf(t),
    );
    await client.query(`DELETE FROM catalog_partitions WHERE ${OF_TABLE}`, keyOf(t));
    await client.query(`DELETE FROM catalog_table_versions WHERE ${OF_TABLE}`, keyOf(t));
  }
  for (const p of change.createPartitions) await insertRow(client, 'catalog_partitions', partitionRow(p), 'ON CONFLICT DO NOTHING');
  for (const { table, values } of change.deletePartitions) {
    await client.query(`DELETE FROM catalog_partitions WHERE ${OF_TABLE} AND partition_values = $6`, [...keyOf(table), valuesKey(values)]);
  }
}
