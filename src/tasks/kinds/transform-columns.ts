import type { TransformRecord } from '../../storage/records.js';

/** The transform's schema column names (in order) and its primary key. */
export function transformColumns(t: TransformRecord): { columns: string[]; primaryKey: string } {
  const schema = (t.doc['Schema'] as Array<{ Name: string }> | undefined) ?? [];
  const params = t.doc['Parameters'] as { FindMatchesParameters?: { PrimaryKeyColumnName?: string } } | undefined;
  return {
    columns: schema.map((c) => c.Name),
    primaryKey: params?.FindMatchesParameters?.PrimaryKeyColumnName ?? '',
  };
}
