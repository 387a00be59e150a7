import { dataObjectsAt } from '../storage/data-objects.js';
import type { ObjectInfo, ObjectStore } from '../storage/object-store.js';
import type { TableRecord } from '../storage/records.js';
import { formatS3Uri, type S3Location } from '../storage/s3-uri.js';
import { parseS3Location } from './table-data/location.js';
import { TableDataError } from './table-data/table-data-error.js';
import { tableFormatOf, type GlueTableDocument, type TableFormat } from './table-data/table-format.js';
import { readEncodedTable, type EncodedTable, type ReadEncodedOptions } from './table-data/encoded-table.js';
import { findMissingKeys, type FindMissingKeysOptions, type MissingKeys } from './table-data/missing-keys.js';
import type { PartFile } from './table-data/table-part.js';

/** Where a catalog table's data lies: its format and the data objects under its Location. */
export interface CatalogTableParts {
  format: TableFormat;
  at: S3Location;
  parts: ObjectInfo[];
}

/** Lists a catalog table's data objects; a table with none is an error that names the Location. */
export async function listCatalogTable(table: TableRecord, objects: ObjectStore): Promise<CatalogTableParts> {
  const doc: GlueTableDocument = { ...(table.doc as GlueTableDocument), DatabaseName: table.databaseName };
  const format = tableFormatOf(doc);
  const at = parseS3Location(format.location);
  const parts = await dataObjectsAt(objects, at);
  if (parts.length === 0) {
    throw new TableDataError(
      `Table ${table.databaseName}.${table.name} has no data: nothing at ${format.location} (an object, or data files under that prefix).`,
    );
  }
  return { format, at, parts };
}

/** The keys that are not primary keys of a catalog table (see findMissingKeys). */
export async function findMissingCatalogKeys(
  table: TableRecord,
  objects: ObjectStore,
  options: FindMissingKeysOptions,
): Promise<MissingKeys> {
  const { format, ...located } = await listCatalogTable(table, objects);
  const local = await localCopies(objects, located);
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
  const local = await localCopies(objects, listed);
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
  { at, parts }: Pick<CatalogTableParts, 'at' | 'parts'>,
): Promise<{ files: PartFile[]; release: () => Promise<void> }> {
  const copies: Array<{ path: string; uri: string; release: () => Promise<void> }> = [];
  const release = async () => {
    for (const c of copies) await c.release().catch(() => undefined);
  };
  try {
    for (const part of parts) {
      const copy = await objects.localCopy(at.bucket, part.key);
      copies.push({ ...copy, uri: formatS3Uri({ bucket: at.bucket, key: part.key }) });
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { files: copies, release };
}
