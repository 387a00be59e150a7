/**
 * One part file of a table: the local path DuckDB reads, and the name the owner knows it by
 * (its S3 URI) for messages and partition folders.
 */
export interface TablePart {
  path: string;
  uri: string;
  /**
   * The partition key values of a part read from a catalog partition (the catalog's values, in
   * key order); without them, they come from the `key=value` folders of its URI.
   */
  partitionValues?: string[];
}

/** A local path, or a path with the URI to report it as (and its catalog partition's values). */
export type PartFile = string | { path: string; uri?: string; partitionValues?: string[] };

export function toTableParts(files: readonly PartFile[]): TablePart[] {
  return files.map((f) =>
    typeof f === 'string'
      ? { path: f, uri: f }
      : { path: f.path, uri: f.uri ?? f.path, ...(f.partitionValues ? { partitionValues: f.partitionValues } : {}) },
  );
}
