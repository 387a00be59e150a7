/**
 * Pairwise precision / recall / F1 of a clustering against a ground truth, exactly as
 * ../shared/datasets/README.md ("Scoring") defines it:
 *
 * - predicted pairs = pairs inside predicted clusters, true pairs = pairs inside true entities,
 *   TP = pairs inside the cells (predicted cluster ∩ true entity);
 * - counted from group sizes, never by enumerating pairs: n records make n(n-1)/2 pairs, or, when
 *   only pairs of records from different sources count (`cross_source`, link tasks),
 *   (n² − Σ c_s²)/2 where c_s of the n records come from source s;
 * - a record of the truth missing from the predictions is a singleton; a predicted id the truth does
 *   not know is ignored; both are counted and reported;
 * - precision = TP / predicted pairs (0 if none), recall = TP / true pairs, F1 = harmonic mean.
 *
 * Pure computation with no dependencies, so the benchmark, tests and any future code can share it.
 */

/** `all`: every pair counts (dedup tasks); `cross_source`: only pairs across sources (link tasks). */
export type PairMode = 'all' | 'cross_source';

/** One record of the ground truth. */
export interface TruthRecord {
  id: string;
  entityId: string;
  /** The record's source; required in `cross_source` mode. */
  source?: string;
}

/** One row of a predictions file. */
export interface PredictionRow {
  id: string;
  matchId: string;
}

export interface PairwiseScore {
  mode: PairMode;
  precision: number;
  recall: number;
  f1: number;
  truePositives: number;
  predictedPairs: number;
  truePairs: number;
  /** Records in the truth. */
  records: number;
  /** Truth records that appear in the predictions. */
  scoredRecords: number;
  /** Truth records absent from the predictions (each scored as a singleton). */
  missingRecords: number;
  /** Prediction rows whose id the truth does not know (ignored). */
  unknownIds: number;
  /** Prediction rows repeating an id already seen (the first row counts, later ones are ignored). */
  duplicateIds: number;
  /** Predicted clusters (among known records, missing records not included). */
  predictedClusters: number;
  /** Entities in the truth. */
  trueEntities: number;
}

/** Pairs of n records: n(n-1)/2. */
export function pairsOf(n: number): number {
  return n < 2 ? 0 : (n * (n - 1)) / 2;
}

/** Cross-source pairs of a group with `counts[s]` records from source s: (n² − Σ c_s²)/2. */
export function crossSourcePairsOf(counts: Iterable<number>): number {
  let n = 0;
  let sumSquares = 0;
  for (const c of counts) {
    n += c;
    sumSquares += c * c;
  }
  return (n * n - sumSquares) / 2;
}

/**
 * Scores `predictions` against `truth`. Records are matched by id; the truth must not repeat an id
 * (an error). In `cross_source` mode every truth record needs a `source`.
 */
export function scorePairwise(
  truth: Iterable<TruthRecord>,
  predictions: Iterable<PredictionRow>,
  mode: PairMode = 'all',
): PairwiseScore {
  const byId = new Map<string, TruthRecord>();
  for (const t of truth) {
    if (byId.has(t.id)) throw new Error(`truth lists record ${JSON.stringify(t.id)} twice`);
    if (mode === 'cross_source' && (t.source === undefined || t.source === '')) {
      throw new Error(`cross_source scoring needs a source for record ${JSON.stringify(t.id)}`);
    }
    byId.set(t.id, t);
  }

  const entities = new Map<string, Map<string, number>>();
  const clusters = new Map<string, Map<string, number>>();
  const cells = new Map<string, Map<string, number>>();
  const bump = (groups: Map<string, Map<string, number>>, group: string, source: string) => {
    let bySource = groups.get(group);
    if (bySource === undefined) {
      bySource = new Map();
      groups.set(group, bySource);
    }
    bySource.set(source, (bySource.get(source) ?? 0) + 1);
  };
  const sourceKey = (t: TruthRecord) => (mode === 'cross_source' ? t.source! : '');

  for (const t of byId.values()) bump(entities, t.entityId, sourceKey(t));

  const seen = new Set<string>();
  let unknownIds = 0;
  let duplicateIds = 0;
  for (const p of predictions) {
    const t = byId.get(p.id);
    if (t === undefined) {
      unknownIds += 1;
      continue;
    }
    if (seen.has(p.id)) {
      duplicateIds += 1;
      continue;
    }
    seen.add(p.id);
    bump(clusters, p.matchId, sourceKey(t));
    // A cell is (predicted cluster, true entity); JSON keeps the pair unambiguous for any strings.
    bump(cells, JSON.stringify([p.matchId, t.entityId]), sourceKey(t));
  }

  const count = (groups: Map<string, Map<string, number>>): number => {
    let total = 0;
    for (const bySource of groups.values()) {
      total += mode === 'cross_source' ? crossSourcePairsOf(bySource.values()) : pairsOf(sum(bySource.values()));
    }
    return total;
  };
  const truePairs = count(entities);
  const predictedPairs = count(clusters);
  const truePositives = count(cells);
  const precision = predictedPairs === 0 ? 0 : truePositives / predictedPairs;
  const recall = truePairs === 0 ? 0 : truePositives / truePairs;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return {
    mode,
    precision,
    recall,
    f1,
    truePositives,
    predictedPairs,
    truePairs,
    records: byId.size,
    scoredRecords: seen.size,
    missingRecords: byId.size - seen.size,
    unknownIds,
    duplicateIds,
    predictedClusters: clusters.size,
    trueEntities: entities.size,
  };
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
