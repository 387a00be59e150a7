import { isDataObject } from '../../storage/data-objects.js';
import { asPrefix, splitS3Uri, type S3Location } from '../../storage/s3-uri.js';
import { TableDataError } from './table-data-error.js';

/**
 * Which stored objects hold a table's data. `StorageDescriptor.Location` names either one object or
 * a "folder" prefix; under a prefix, Hadoop's rules decide what is data: markers (`_SUCCESS`,
 * `…_$folder$`, zero-byte folder objects) and anything under a hidden (`.` or `_`) path segment are
 * not.
 */
export interface ListedObject {
  key: string;
  size: number;
}

export function partFilesOf<T extends ListedObject>(objects: readonly T[], prefixKey: string): T[] {
  if (prefixKey !== '' && !prefixKey.endsWith('/')) {
    const named = objects.find((o) => o.key === prefixKey);
    // An empty object holds no rows; a Parquet reader would even reject it.
    if (named) return named.size > 0 ? [named] : [];
  }
  const prefix = asPrefix(prefixKey);
  return objects
    .filter((o) => o.key.startsWith(prefix) && isDataObject(o, o.key.slice(prefix.length)))
    .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key))); // S3's UTF-8 byte order
}

/** `s3://bucket/key` (also s3a:// and s3n://, as Hadoop writes them) → bucket and key. */
export function parseS3Location(location: string): S3Location {
  // Unlike a task's S3 path, a Location is taken as the catalog holds it: no bucket-name check.
  const at = splitS3Uri(location.trim(), 'hadoop');
  if (!at || !at.bucket) {
    throw new TableDataError(`Location "${location}" is not an S3 location (s3://bucket/prefix/).`);
  }
  return at;
}
