import { dataObjectsAt } from '../storage/data-objects.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { TableRecord } from '../storage/records.js';
import { formatS3Uri } from '../storage/s3-uri.js';
import { parseS3Location } from './table-data/location.js';
import { TableDataError } from './table-data/table-data-error.js';
import { tableFormatOf, type GlueTableDocument } from './table-data/table-format.js';
import { readTable, type ReadTableOptions, type RecordBatch } from './table-data/table-reader.js';

/**
 * The rows of a catalog table, read from wherever its Location points in the object store. Parts
 * are made local (the embedded store hands out its own files; an external one downloads them) for
 * as long as the read lasts.
 */
export async function* readCatalogTable(
  table: TableRecord,
  objects: ObjectStore,
  options: ReadTableOptions = {},
): AsyncGenerator<RecordBatch> {
  const doc: GlueTableDocument = { ...(table.doc as GlueTableDocument), DatabaseName: table.databaseName };
  const format = tableFormatOf(doc);
  const at = parseS3Location(format.location);
  const parts = await dataObjectsAt(objects, at);
  if (parts.length === 0) {
    throw new TableDataError(
      `Table ${table.databaseName}.${table.name} has no data: nothing at ${format.location} (an object, or data files under that prefix).`,
    );
  }
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
