/** Reads the shared benchmark datasets (../shared/datasets) for tests: records, truth, meta. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

/**
 * The workplace's shared/ folder: beside the repository (where CI puts it too), unless
 * DOPPEL_SHARED_DIR says otherwise. Tests run from dist/test/support, four levels below the parent.
 */
export const SHARED_DIR = process.env['DOPPEL_SHARED_DIR'] ?? fileURLToPath(new URL('../../../../shared/', import.meta.url));
export const DATASETS_DIR = join(SHARED_DIR, 'datasets');
export const RAW_DATA_DIR = join(SHARED_DIR, 'data');

export interface Dataset {
  name: string;
  meta: { records: number; columns: string[]; primary_key: string; task: string };
  header: string[];
  records: Array<Record<string, string>>;
  /** id → entity id */
  truth: Map<string, string>;
  recordsCsvPath: string;
}

export function loadDataset(name: string): Dataset {
  const dir = join(DATASETS_DIR, name);
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Dataset['meta'];
  const rows = parse(readFileSync(join(dir, 'records.csv'), 'utf8')) as string[][];
  const header = rows[0]!;
  const records = rows.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]!])));
  const truthRows = parse(readFileSync(join(dir, 'truth.csv'), 'utf8'), { columns: true }) as Array<{
    id: string;
    entity_id: string;
  }>;
  return {
    name,
    meta,
    header,
    records,
    truth: new Map(truthRows.map((t) => [t.id, t.entity_id])),
    recordsCsvPath: join(dir, 'records.csv'),
  };
}
