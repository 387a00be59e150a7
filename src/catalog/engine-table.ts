import type { EngineLabel, EngineTable } from '../engine/api.js';
import type { MetadataStore } from '../storage/metadata-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { PartitionRecord, Scope, TableRecord } from '../storage/records.js';
import { listCatalogTable, readEncodedCatalogTable } from './table-source.js';

/**
 * The last table loaded, by what it was loaded from: the table's definition and the key, ETag, size
 * and modification time of every data file. A labeling round runs three task runs on the same
 * unchanged table (labeling set, evaluation, find matches); handing the engine the same object lets
 * it keep its prepared columns and, for the same labels, its trained model and scored candidates
 * (the engine caches per table object). Any change to the definition or the files is a new key.
 */
let lastLoaded: { key: string; table: EngineTable } | undefined;

/**
 * A catalog table loaded whole into the engine's column-major, dictionary-encoded form, with every
 * check of the data made first. Every value stays text (NULL is code -1), columns in catalog order
 * (partition keys last), types from the catalog, rows in file order. `partitions`: the catalog
 * partitions to read (see partitionsToRead).
 */
export async function loadEngineTable(
  table: TableRecord,
  partitions: readonly PartitionRecord[] | undefined,
  objects: ObjectStore,
  primaryKey: string,
  signal?: AbortSignal,
): Promise<EngineTable> {
  const listed = await listCatalogTable(table, objects, partitions);
  const key = JSON.stringify([
    table.databaseName,
    table.name,
    table.doc,
    primaryKey,
    listed.parts.map((p) => [p.bucket, p.key, p.etag, p.size, p.lastModified, p.partitionValues ?? null]),
  ]);
  if (lastLoaded?.key === key) return lastLoaded.table;
  // Let the previous table go before the next one arrives, rather than holding both at the peak.
  lastLoaded = undefined;
  const loaded: EngineTable = await readEncodedCatalogTable(objects, listed, { primaryKey, signal });
  lastLoaded = { key, table: loaded };
  return loaded;
}

/** The transform's labels, ready for the engine. */
export async function loadEngineLabels(
  store: MetadataStore,
  scope: Scope,
  transformId: string,
  primaryKey: string,
): Promise<EngineLabel[]> {
  const labels: EngineLabel[] = [];
  for await (const page of store.labelPages(scope, transformId)) {
    for (const r of page) labels.push({ labelingSetId: r.labelingSetId, label: r.label, key: r.values[primaryKey] ?? '' });
  }
  return labels;
}
