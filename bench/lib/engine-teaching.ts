/**
 * The teaching loop run in-process against the engine, without a server: labeling sets are
 * generated, labeled from a dataset's truth the way a person with the answer key would (records of
 * one entity share a label within a set), and the matcher is run and scored after every round.
 * `bench:quality` plays the same loop through the public API; this one takes seconds on small
 * datasets, for experiments (engine-loop.ts) and the quality floors the test suite enforces.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { EngineLabel, EngineTable, EvaluationResult, Matcher, MatchParameters } from '../../src/engine/api.js';
import { columnValues, encodeTable } from '../../src/engine/table.js';
import { readDatasetTruth, type DatasetTruth } from '../../src/evaluation/dataset-files.js';
import { scorePairwise, type PairwiseScore } from '../../src/evaluation/pairwise-score.js';

export interface TeachingDataset extends DatasetTruth {
  table: EngineTable;
  /** The primary key of each row. */
  keys: readonly string[];
  /** Primary key → true entity. */
  entityOf: ReadonlyMap<string, string>;
}

/** A dataset folder (records.csv, truth.csv, meta.json) as an engine table with its truth. */
export function loadTeachingDataset(dir: string): TeachingDataset {
  const truth = readDatasetTruth(dir);
  const rows = parse(readFileSync(join(dir, 'records.csv')), { bom: true, skip_empty_lines: true }) as string[][];
  const header = rows.shift() ?? [];
  const primaryKey = header.indexOf(truth.meta.primary_key);
  if (primaryKey < 0) throw new Error(`${dir}/records.csv has no primary key column ${truth.meta.primary_key}`);
  const table = encodeTable(
    header.map((name) => ({ name, type: 'string' })),
    header.map((_, c) => rows.map((r) => (r[c] === undefined || r[c] === '' ? null : r[c]!))),
    primaryKey,
  );
  const keys = columnValues(table, primaryKey).map((k) => k ?? '');
  return { ...truth, table, keys, entityOf: new Map(truth.truth.map((t) => [t.id, t.entityId])) };
}

/** Pairwise precision / recall / F1 of an engine run's match ids against the dataset's truth. */
export function scoreMatches(ds: TeachingDataset, matchId: Float64Array): PairwiseScore {
  return scorePairwise(ds.truth, ds.keys.map((id, r) => ({ id, matchId: String(matchId[r]) })), ds.meta.score_pairs);
}

export interface TeachingRound {
  round: number;
  /** Labeled rows so far. */
  labels: number;
  /** The output of findMatches with those labels, scored against the truth. */
  score: PairwiseScore;
  candidatePairs: number;
  groups: number;
  /** The engine's own estimate (from round 1 on, when `evaluate` is set). */
  evaluation?: EvaluationResult;
  /** Wall seconds of findMatches. */
  findSeconds: number;
}

export interface TeachingOptions {
  rounds: number;
  seed: number;
  /** Also run the evaluation after each round with labels. */
  evaluate?: boolean;
  params?: Omit<MatchParameters, 'seed'>;
  /** Labels to start from (e.g. saved from an earlier run); the loop appends to this array. */
  labels?: EngineLabel[];
}

/** Rounds 0 (no labels) to `rounds`, each scored; labels a new batch of sets between rounds. */
export async function* teach(matcher: Matcher, ds: TeachingDataset, options: TeachingOptions): AsyncGenerator<TeachingRound> {
  const params: MatchParameters = { ...options.params, seed: options.seed };
  const labels = options.labels ?? [];
  for (let round = 0; ; round++) {
    const started = Date.now();
    const result = await matcher.findMatches(ds.table, labels, params);
    const findSeconds = (Date.now() - started) / 1000;
    const evaluation = options.evaluate && labels.length > 0 ? await matcher.evaluate(ds.table, labels, params) : undefined;
    yield {
      round,
      labels: labels.length,
      score: scoreMatches(ds, result.matchId),
      candidatePairs: result.stats.candidatePairs,
      groups: result.stats.groups,
      ...(evaluation ? { evaluation } : {}),
      findSeconds,
    };
    if (round === options.rounds) return;
    for (const set of await matcher.generateLabelingSets(ds.table, labels, params, {})) {
      const labelOf = new Map<string, string>();
      for (const { row } of set.rows) {
        const entity = ds.entityOf.get(ds.keys[row]!) ?? `unknown:${ds.keys[row]}`;
        if (!labelOf.has(entity)) labelOf.set(entity, `L${labelOf.size}`);
        labels.push({ labelingSetId: set.labelingSetId, label: labelOf.get(entity)!, key: ds.keys[row]! });
      }
    }
  }
}
