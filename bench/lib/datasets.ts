/** Where the benchmark datasets live (../shared/datasets next to the checkout, or DOPPEL_DATASETS_DIR). */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * DOPPEL_DATASETS_DIR, else `datasets` in DOPPEL_SHARED_DIR (as the tests read it), else shared/datasets
 * beside the checkout (from dist/bench/lib/, four levels up).
 */
export const DATASETS_DIR = process.env['DOPPEL_DATASETS_DIR']
  ? resolve(process.env['DOPPEL_DATASETS_DIR'])
  : process.env['DOPPEL_SHARED_DIR']
    ? resolve(process.env['DOPPEL_SHARED_DIR'], 'datasets')
    : fileURLToPath(new URL('../../../../shared/datasets/', import.meta.url));

/** A dataset folder: `arg` itself when it holds meta.json, else the dataset of that name. */
export function resolveDatasetDir(arg: string): string {
  if (existsSync(join(arg, 'meta.json'))) return resolve(arg);
  const dir = join(DATASETS_DIR, arg);
  if (!existsSync(join(dir, 'meta.json'))) {
    const known = listDatasets();
    throw new Error(`no dataset ${JSON.stringify(arg)} (looked in ${DATASETS_DIR}; known: ${known.join(', ') || 'none'})`);
  }
  return dir;
}

export function listDatasets(): string[] {
  if (!existsSync(DATASETS_DIR)) return [];
  return readdirSync(DATASETS_DIR)
    .filter((d) => existsSync(join(DATASETS_DIR, d, 'meta.json')))
    .sort();
}
