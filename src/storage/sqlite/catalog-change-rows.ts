import type Database from 'better-sqlite3';
import type { CatalogChange } from '../catalog-change.js';
import type { TableKey } from '../records.js';
import { partitionRow, tableRow, valuesKey } from '../rows.js';
import { insertRows } from './row-inserts.js';

const OF_TABLE = 'account_id = ? AND region = ? AND catalog_id = ? AND database_name = ? AND table_name = ?';
const keyOf = (t: TableKey) => [t.accountId, t.region, t.catalogId, t.databaseName, t.name];

/**
 * Applies a crawl's catalog changes (see CatalogChange for what is skipped) inside the caller's
 * transaction: the task queue commits them with the crawl's SUCCEEDED.
 */
export function applyCatalogChange(db: Database.Database, change: CatalogChange): void {
  insertRows(db, 'catalog_tables', change.createTables.map(tableRow), 'IGNORE');
  const archive = db.prepare(
    `INSERT OR REPLACE INTO catalog_table_versions (account_id, region, catalog_id, database_name, table_name,
       version_id, created_on, updated_on, created_by, doc)
     SELECT account_id, region, catalog_id, database_name, name, version_id, created_on, updated_on, created_by, doc
     FROM catalog_tables WHERE account_id = ? AND region = ? AND catalog_id = ? AND database_name = ? AND name = ?
       AND version_id = ?`,
  );
  const update = db.prepare(
    `UPDATE catalog_tables SET updated_on = @updated_on, version_id = @version_id, doc = @doc
     WHERE account_id = @account_id AND region = @region AND catalog_id = @catalog_id
       AND database_name = @database_name AND name = @name AND version_id = @version_id - 1`,
  );
  for (const t of change.updateTables) {
    archive.run(...keyOf(t), t.versionId - 1);
    update.run(tableRow(t));
  }
  for (const t of change.deleteTables) {
    db.prepare('DELETE FROM catalog_tables WHERE account_id = ? AND region = ? AND catalog_id = ? AND database_name = ? AND name = ?').run(...keyOf(t));
    db.prepare(`DELETE FROM catalog_partitions WHERE ${OF_TABLE}`).run(...keyOf(t));
    db.prepare(`DELETE FROM catalog_table_versions WHERE ${OF_TABLE}`).run(...keyOf(t));
  }
  insertRows(db, 'catalog_partitions', change.createPartitions.map(partitionRow), 'IGNORE');
  const deletePartition = db.prepare(`DELETE FROM catalog_partitions WHERE ${OF_TABLE} AND partition_values = ?`);
  for (const { table, values } of change.deletePartitions) deletePartition.run(...keyOf(table), valuesKey(values));
}
