import type { PartitionRecord, TableKey, TableRecord } from './records.js';

/**
 * Changes to the Data Catalog that one crawl makes, written in a single transaction together with
 * the crawl's terminal status (TaskOutcome.catalogChange). Each change holds only if the catalog is
 * still as the crawl saw it: a table created meanwhile is not overwritten, a table updated meanwhile
 * (another version) is left as it is, and a partition that already exists is kept.
 */
export interface CatalogChange {
  createTables: TableRecord[];
  /** New definitions of existing tables, `versionId` one past the one the crawl read; the replaced definition is kept as a table version. */
  updateTables: TableRecord[];
  deleteTables: TableKey[];
  createPartitions: PartitionRecord[];
  deletePartitions: Array<{ table: TableKey; values: string[] }>;
}
