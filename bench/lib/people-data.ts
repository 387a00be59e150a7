/**
 * The synthetic people datasets of the speed benchmark: generated once per (records, seed) into a
 * cache folder, and read back column-wise (a truth of millions of rows as two string arrays, not
 * millions of row objects).
 */
import { createReadStream, createWriteStream, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse';
import type { TruthRecord } from '../../src/evaluation/pairwise-score.js';
import { labelName } from './labeler.js';
import { writePeopleDataset, type PeopleDatasetMeta } from './synthetic-people.js';

export interface CachedDataset {
  dir: string;
  meta: PeopleDatasetMeta;
  /** Seconds it took to generate, or null when it was already in the cache. */
  generatedSeconds: number | null;
}

/**
 * `<cacheDir>/people-<records>-seed<seed>`, generated unless it is there already (meta.json is
 * written last, so its presence means a complete dataset). Generation writes to a temporary folder
 * renamed at the end, so an interrupted one leaves nothing that looks complete.
 */
export async function ensurePeopleDataset(cacheDir: string, records: number, seed: number): Promise<CachedDataset> {
  const dir = join(cacheDir, `people-${records}-seed${seed}`);
  if (existsSync(join(dir, 'meta.json'))) {
    return { dir, meta: JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as PeopleDatasetMeta, generatedSeconds: null };
  }
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  const t = performance.now();
  const meta = await writePeopleDataset({ records, seed, outDir: partial });
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  return { dir, meta, generatedSeconds: (performance.now() - t) / 1000 };
}

/** truth.csv as columns: `entityIds[i]` is the entity of record `ids[i]`, in file order. */
export interface TruthColumns {
  ids: string[];
  entityIds: string[];
}

/** Streams a dataset's truth.csv (`id,entity_id,...`) into columns. */
export async function readTruthColumns(dir: string): Promise<TruthColumns> {
  const path = join(dir, 'truth.csv');
  const ids: string[] = [];
  const entityIds: string[] = [];
  let idAt = -1;
  let entityAt = -1;
  for await (const row of createReadStream(path).pipe(parseCsv({ bom: true, skip_empty_lines: true })) as AsyncIterable<string[]>) {
    if (idAt < 0) {
      idAt = row.indexOf('id');
      entityAt = row.indexOf('entity_id');
      if (idAt < 0 || entityAt < 0) throw new Error(`${path}: needs columns id and entity_id; has ${row.join(', ')}`);
      continue;
    }
    ids.push(row[idAt]!);
    entityIds.push(row[entityAt]!);
  }
  return { ids, entityIds };
}

/** The truth as the scorer takes it, one record object at a time. */
export function* truthRecords(truth: TruthColumns): Generator<TruthRecord> {
  for (let i = 0; i < truth.ids.length; i += 1) yield { id: truth.ids[i]!, entityId: truth.entityIds[i]! };
}

/** A label file written for a benchmark. */
export interface LabelFile {
  path: string;
  rows: number;
  labelingSets: number;
  bytes: number;
}

/**
 * A label file of about `rows` rows that labels records as their truth says, as a user importing a
 * big labeled sample would: whole entities, in order of their first record in the file, packed into
 * labeling sets of about `setSize` rows (an entity is never split; within a set each entity has its
 * own label). Columns `labeling_set_id,label,<primaryKey>`: the primary key is the only record column
 * a label file must have. Streamed to `path`.
 */
export async function writeTruthLabelFile(
  truth: TruthColumns,
  rows: number,
  path: string,
  primaryKey: string,
  setSize = 10,
): Promise<LabelFile> {
  // Entities numbered by first appearance, their records listed by a counting sort (no array per entity).
  const n = truth.ids.length;
  const numberOf = new Map<string, number>();
  const entityOf = new Int32Array(n);
  for (let i = 0; i < n; i += 1) {
    const e = truth.entityIds[i]!;
    let k = numberOf.get(e);
    if (k === undefined) {
      k = numberOf.size;
      numberOf.set(e, k);
    }
    entityOf[i] = k;
  }
  const entities = numberOf.size;
  numberOf.clear();
  const start = new Int32Array(entities + 1);
  for (let i = 0; i < n; i += 1) start[entityOf[i]! + 1]! += 1;
  for (let k = 0; k < entities; k += 1) start[k + 1]! += start[k]!;
  const members = new Int32Array(n);
  const fill = start.slice(0, entities);
  for (let i = 0; i < n; i += 1) members[fill[entityOf[i]!]!++] = i;

  const out = createWriteStream(path);
  let chunk = `labeling_set_id,label,${primaryKey}\n`;
  let written = 0;
  let sets = 0;
  let inSet = 0;
  let entitiesInSet = 0;
  for (let k = 0; k < entities && written < rows; k += 1) {
    if (inSet === 0) sets += 1;
    const setId = `set-${String(sets).padStart(7, '0')}`;
    const label = labelName(entitiesInSet);
    for (let m = start[k]!; m < start[k + 1]!; m += 1) chunk += `${setId},${label},${truth.ids[members[m]!]!}\n`;
    const size = start[k + 1]! - start[k]!;
    written += size;
    inSet += size;
    entitiesInSet += 1;
    if (inSet >= setSize) {
      inSet = 0;
      entitiesInSet = 0;
    }
    if (chunk.length >= 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return { path, rows: written, labelingSets: sets, bytes: out.bytesWritten };
}
