import type { CatalogColumn } from './table-format.js';
import { TableDataError } from './table-data-error.js';

/** Hive's name for the partition of rows whose key is NULL. */
const HIVE_NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/**
 * The partition key values of one part file, read from the `key=value` folders in its path
 * (values are URL-escaped there, as Hive writes them). A file outside such folders is not a member
 * of any partition, which Hive would not read at all; doppel says so instead of inventing NULLs.
 */
export function partitionValuesOf(uri: string, keys: readonly CatalogColumn[]): Array<string | null> {
  if (keys.length === 0) return [];
  const found = new Map<string, string>();
  for (const segment of uri.split('/')) {
    const eq = segment.indexOf('=');
    if (eq > 0) found.set(segment.slice(0, eq).toLowerCase(), segment.slice(eq + 1));
  }
  return keys.map((key) => {
    const raw = found.get(key.name.toLowerCase());
    if (raw === undefined) {
      throw new TableDataError(
        `${uri} is not inside a "${key.name}=…" folder, ` +
          `but the table is partitioned by ${keys.map((k) => k.name).join(', ')}.`,
        { uri, column: key.name },
      );
    }
    let value: string;
    try {
      value = decodeURIComponent(raw);
    } catch {
      value = raw;
    }
    return value === HIVE_NULL_PARTITION ? null : value;
  });
}
