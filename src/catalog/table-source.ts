import { ServiceError } from '../core/errors.js';
import { dataObjectsAt } from '../storage/data-objects.js';
import type { MetadataStore } from '../storage/metadata-store.js';
import type { ObjectInfo, ObjectStore } from '../storage/object-store.js';
import type { PartitionRecord, TableRecord } from '../storage/records.js';
import { formatS3Uri } from '../storage/s3-uri.js';
import { keyOf, partitionKeysOf } from './catalog-service.js';
import { compilePartitionExpression } from './partition-expression.js';
import { parseS3Location } from './table-data/location.js';
import { TableDataError } from './table-data/table-data-error.js';
import { tableFormatOf, type GlueTableDocument, type TableFormat } from './table-data/table-format.js';
import { readEncodedTable, type EncodedTable, type ReadEncodedOptions } from './table-data/encoded-table.js';
import { findMissingKeys, type FindMissingKeysOptions, type MissingKeys } from './table-data/missing-keys.js';
import type { PartFile } from './table-data/table-part.js';

/** One data object of a table, where it lies and, when it belongs to a catalog partition, that partition's values. */
export interface TableObject extends ObjectInfo {
  bucket: string;
  partitionValues?: string[];
}

/** Where a catalog table's data lies: its format and its data objects, in read order. */
export interface CatalogTableParts {
  format: TableFormat;
  parts: TableObject[];
}

/**
 * Lists a catalog table's data objects. A table read through catalog partitions (`partitions`
 * given: those of its partitions to read) reads each partition's Location (its own
 * StorageDescriptor.Location, which may lie outside the table's, or else the Hive folder
 * `key=value/…` under the table's Location) with the table's format and the partition's values
 * as the key columns, as Glue's DynamicFrame does; otherwise the objects under the table's
 * Location are read, partition values coming from their `key=value` folders. A table with no data
 * at all is an error that names where it looked.
 */
export async function listCatalogTable(
  table: TableRecord,
  objects: ObjectStore,
  partitions?: readonly PartitionRecord[],
): Promise<CatalogTableParts> {
  const doc: GlueTableDocument = { ...(table.doc as GlueTableDocument), DatabaseName: table.databaseName };
  const format = tableFormatOf(doc);
  if (partitions === undefined) {
    const at = parseS3Location(format.location);
    const parts = (await dataObjectsAt(objects, at)).map((o) => ({ ...o, bucket: at.bucket }));
    if (parts.length === 0) {
      throw new TableDataError(
        `Table ${table.databaseName}.${table.name} has no data: nothing at ${format.location} (an object, or data files under that prefix).`,
      );
    }
    return { format, parts };
  }
  const parts: TableObject[] = [];
  for (const partition of partitions) {
    const at = parseS3Location(partitionLocation(format, partition));
    for (const o of await dataObjectsAt(objects, at)) parts.push({ ...o, bucket: at.bucket, partitionValues: partition.values });
  }
  if (parts.length === 0) {
    throw new TableDataError(
      `Table ${table.databaseName}.${table.name} has no data in the ${partitions.length} catalog partition(s) read` +
        (partitions.length > 0 ? ` (${partitions.slice(0, 3).map((p) => partitionLocation(format, p)).join(', ')}${partitions.length > 3 ? ', ...' : ''}).` : '.'),
    );
  }
  return { format, parts };
}

/** A partition's own Location, or Hive's folder for its values under the table's Location. */
function partitionLocation(format: TableFormat, partition: PartitionRecord): string {
  const own = (partition.doc['StorageDescriptor'] as { Location?: unknown } | undefined)?.Location;
  if (typeof own === 'string' && own.trim() !== '') return own;
  const folders = format.partitionKeys.map((k, i) => `${k.name}=${encodeURIComponent(partition.values[i] ?? '')}`);
  return `${format.location.replace(/\/*$/, '')}/${folders.join('/')}/`;
}

/**
 * The catalog partitions a read of the table covers (see listCatalogTable): undefined for a table
 * without partition keys or without catalog partitions, whose Location is read; otherwise its
 * partitions, only those `pushDownPredicate` selects when one is given (Glue's partition predicate
 * language, see partition-expression.ts). A predicate that cannot apply, or selects nothing, is an
 * error saying why.
 */
export async function partitionsToRead(
  store: MetadataStore,
  table: TableRecord,
  pushDownPredicate?: string,
): Promise<PartitionRecord[] | undefined> {
  const name = `${table.databaseName}.${table.name}`;
  const predicate = pushDownPredicate?.trim() === '' ? undefined : pushDownPredicate;
  const keys = partitionKeysOf(table);
  const all = keys.length === 0 ? [] : await store.listPartitions(keyOf(table));
  if (all.length === 0) {
    if (predicate === undefined) return undefined;
    throw new TableDataError(
      keys.length === 0
        ? `Table ${name} has no partition keys, so the push-down predicate "${predicate}" has nothing to select.`
        : `Table ${name} has no partitions in the catalog, so the push-down predicate "${predicate}" has nothing to select ` +
            '(create them with CreatePartition or BatchCreatePartition).',
    );
  }
  if (predicate === undefined) return all;
  let selected: PartitionRecord[];
  try {
    const selects = compilePartitionExpression(predicate, keys, name);
    selected = all.filter((p) => selects(p.values));
  } catch (e) {
    if (e instanceof ServiceError) throw new TableDataError(`The push-down predicate "${predicate}" cannot be applied to table ${name}: ${e.message}`);
    throw e;
  }
  if (selected.length === 0) {
    throw new TableDataError(`The push-down predicate "${predicate}" selects none of the ${all.length} partition(s) of table ${name}.`);
  }
  return selected;
}

/** The keys that are not primary keys of a catalog table (see findMissingKeys). */
export async function findMissingCatalogKeys(
  table: TableRecord,
  objects: ObjectStore,
  partitions: readonly PartitionRecord[] | undefined,
  options: FindMissingKeysOptions,
): Promise<MissingKeys> {
  const { format, parts } = await listCatalogTable(table, objects, partitions);
  const local = await localCopies(objects, parts);
  try {
    return await findMissingKeys(format, local.files, options);
  } finally {
    await local.release();
  }
}

/** A catalog table read whole into dictionary-encoded columns (see readEncodedTable). */
export async function readEncodedCatalogTable(
  objects: ObjectStore,
  listed: CatalogTableParts,
  options: ReadEncodedOptions,
): Promise<EncodedTable> {
  const local = await localCopies(objects, listed.parts);
  try {
    return await readEncodedTable(listed.format, local.files, options);
  } finally {
    await local.release();
  }
}

/**
 * Local files of a table's parts, until released: the embedded store hands out its own files; an
 * external one downloads them.
 */
async function localCopies(
  objects: ObjectStore,
  parts: readonly TableObject[],
): Promise<{ files: PartFile[]; release: () => Promise<void> }> {
  const copies: Array<{ path: string; uri: string; partitionValues?: string[]; release: () => Promise<void> }> = [];
  const release = async () => {
    for (const c of copies) await c.release().catch(() => undefined);
  };
  try {
    for (const part of parts) {
      const copy = await objects.localCopy(part.bucket, part.key);
      copies.push({
        ...copy,
        uri: formatS3Uri({ bucket: part.bucket, key: part.key }),
        ...(part.partitionValues ? { partitionValues: part.partitionValues } : {}),
      });
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { files: copies, release };
}
