/**
 * One part file of a table: the local path DuckDB reads, and the name the owner knows it by
 * (its S3 URI) for messages and partition folders.
 */
export interface TablePart {
  path: string;
  uri: string;
}

/** A local path, or a path with the URI to report it as. */
export type PartFile = string | { path: string; uri?: string };

export function toTableParts(files: readonly PartFile[]): TablePart[] {
  return files.map((f) => (typeof f === 'string' ? { path: f, uri: f } : { path: f.path, uri: f.uri ?? f.path }));
}
