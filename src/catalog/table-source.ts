import { dataObjectsAt } from '../storage/data-objects.js';
import type { ObjectInfo, ObjectStore } from '../storage/object-store.js';
import type { TableRecord } from '../storage/records.js';
import { formatS3Uri, type S3Location } from '../storage/s3-uri.js';
import { parseS3Location } from './table-data/location.js';
import { TableDataError } from './table-data/table-data-error.js';
import { tableFormatOf, type GlueTableDocument, type TableFormat } from './table-data/table-format.js';
import { readTable, type ReadTableOptions, type RecordBatch } from './table-data/table-reader.js';

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

/**
 * The rows of a catalog table, read from wherever its Location points in the object store (listed
 * here unless the caller already did). Parts are made local (the embedded store hands out its own
 * files; an external one downloads them) for as long as the read lasts.
 */
export async function* readCatalogTable(
  table: TableRecord,
  objects: ObjectStore,
  options: ReadTableOptions = {},
  listed?: CatalogTableParts,
): AsyncGenerator<RecordBatch> {
  const { format, at, parts } = listed ?? (await listCatalogTable(table, objects));
  const copies: Array<{ path: string; uri: string; release: () => Promise<void> }> = [];
  try {
    for (const part of parts) {
      const copy = await objects.localCopy(at.bucket, part.key);
      copies.push({ ...copy, uri: formatS3Uri({ bucket: at.bucket, key: part.key }) });
    }
    yield* readTable(format, copies, options);
  } finally {
    for (const c of copies) await c.release().catch(() => undefined);
  }
}
