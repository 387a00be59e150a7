/**
 * Reads the files the pairwise scorer works on: a benchmark dataset in the layout of
 * ../shared/datasets/README.md (`records.csv`, `truth.csv`, `meta.json`) and predictions CSVs
 * (columns `id` and `match_id`, any others ignored), either one file or the part files of a
 * FindMatches output folder. Depends only on node:fs and csv-parse.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { scorePairwise, type PairMode, type PairwiseScore, type PredictionRow, type TruthRecord } from './pairwise-score.js';

export interface DatasetMeta {
  name: string;
  task: 'dedup' | 'link';
  records: number;
  entities: number;
  true_pairs: number;
  score_pairs: PairMode;
  columns: string[];
  primary_key: string;
  sources?: Record<string, number>;
}

export interface DatasetTruth {
  dir: string;
  meta: DatasetMeta;
  /** Every record once, in records.csv order, with its entity and (link tasks) its source. */
  truth: TruthRecord[];
}

export function readDatasetMeta(dir: string): DatasetMeta {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as DatasetMeta;
  if (meta.score_pairs !== 'all' && meta.score_pairs !== 'cross_source') {
    throw new Error(`${join(dir, 'meta.json')}: unknown score_pairs ${JSON.stringify(meta.score_pairs)}`);
  }
  return meta;
}

/** Loads a dataset's truth; for `cross_source` datasets the sources come from records.csv. */
export function readDatasetTruth(dir: string): DatasetTruth {
  const meta = readDatasetMeta(dir);
  const truthRows = parse(readFileSync(join(dir, 'truth.csv')), { columns: true, skip_empty_lines: true }) as Array<
    Record<string, string>
  >;
  let sources: Map<string, string> | undefined;
  if (meta.score_pairs === 'cross_source') {
    const records = parse(readFileSync(join(dir, 'records.csv')), { columns: true, skip_empty_lines: true }) as Array<
      Record<string, string>
    >;
    sources = new Map(records.map((r) => [r[meta.primary_key] ?? r['id']!, r['source'] ?? '']));
  }
  const truth = truthRows.map((row, i): TruthRecord => {
    const id = row['id'];
    const entityId = row['entity_id'];
    if (id === undefined || entityId === undefined) {
      throw new Error(`${join(dir, 'truth.csv')} row ${i + 1}: needs columns id and entity_id`);
    }
    const source = sources?.get(id);
    return source === undefined ? { id, entityId } : { id, entityId, source };
  });
  return { dir, meta, truth };
}

/** Part files of a folder (data files only: no markers, nothing hidden), in name order. */
export function predictionFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => !name.startsWith('.') && !name.startsWith('_') && statSync(join(path, name)).isFile())
    .filter((name) => statSync(join(path, name)).size > 0)
    .sort()
    .map((name) => join(path, name));
}

/** Parses predictions CSV text (a header with `id` and `match_id`). */
export function parsePredictionsCsv(text: string | Buffer, source = 'predictions', idColumn = 'id'): PredictionRow[] {
  const rows = parse(text, { columns: true, skip_empty_lines: true, bom: true }) as Array<Record<string, string>>;
  if (rows.length === 0) return [];
  const first = rows[0]!;
  if (!(idColumn in first) || !('match_id' in first)) {
    throw new Error(`${source}: needs columns ${idColumn} and match_id; has ${Object.keys(first).join(', ')}`);
  }
  return rows.map((r) => ({ id: r[idColumn]!, matchId: r['match_id']! }));
}

/** Reads predictions from one CSV file or every part file of a folder. */
export function readPredictions(path: string, idColumn = 'id'): PredictionRow[] {
  const out: PredictionRow[] = [];
  for (const file of predictionFiles(path)) {
    // A loop, not push(...rows): spreading a part file's rows as arguments overflows the stack.
    for (const row of parsePredictionsCsv(readFileSync(file), file, idColumn)) out.push(row);
  }
  return out;
}

/** Scores predictions against a dataset with the dataset's own pair mode. */
export function scoreAgainstDataset(dataset: DatasetTruth, predictions: Iterable<PredictionRow>): PairwiseScore {
  return scorePairwise(dataset.truth, predictions, dataset.meta.score_pairs);
}
