/**
 * True candidate recall: the share of the truth's matching pairs that candidate generation proposes,
 * the pairs counted as the dataset's scoring counts them (every pair inside an entity, or only pairs
 * across sources for link tasks: src/evaluation/pairwise-score.ts). BlockingRecall, the engine's own
 * estimate, sees only labeled pairs (the audit sets' matches); this is the measured value it estimates.
 *
 * Candidate pairs can be millions, so the truth is interned once into per-row typed arrays and each
 * pair costs two array reads: no string, Map or Set per pair.
 */
import type { CandidatePairs } from '../../src/engine/api.js';
import { crossSourcePairsOf, pairsOf, type PairMode, type TruthRecord } from '../../src/evaluation/pairwise-score.js';

/** The truth per row of an engine table. */
export interface RowTruth {
  mode: PairMode;
  /** Per row: its entity's number, -1 for a row the truth does not list (it matches nothing). */
  entity: Int32Array;
  /** Per row: its source's number (cross_source), else 0. */
  source: Int32Array;
  /** Matching pairs of the whole truth as the scorer counts them (its `truePairs`). */
  truePairs: number;
}

/** Interns `truth` for the rows of a table whose primary keys are `keys` (in row order). */
export function rowTruth(keys: readonly string[], truth: readonly TruthRecord[], mode: PairMode): RowTruth {
  const entityNumbers = new Map<string, number>();
  const sourceNumbers = new Map<string, number>();
  const recordEntity = new Int32Array(truth.length);
  const recordSource = new Int32Array(truth.length);
  const recordOf = new Map<string, number>();
  truth.forEach((t, i) => {
    let e = entityNumbers.get(t.entityId);
    if (e === undefined) entityNumbers.set(t.entityId, (e = entityNumbers.size));
    recordEntity[i] = e;
    if (mode === 'cross_source') {
      const name = t.source ?? '';
      let s = sourceNumbers.get(name);
      if (s === undefined) sourceNumbers.set(name, (s = sourceNumbers.size));
      recordSource[i] = s;
    }
    recordOf.set(t.id, i);
  });

  // Records per (entity, source): sources are few (two for the link datasets).
  const sources = Math.max(1, sourceNumbers.size);
  const perCell = new Float64Array(entityNumbers.size * sources);
  for (let i = 0; i < truth.length; i++) perCell[recordEntity[i]! * sources + recordSource[i]!]! += 1;
  let truePairs = 0;
  for (let e = 0; e < entityNumbers.size; e++) {
    const counts = perCell.subarray(e * sources, (e + 1) * sources);
    truePairs += mode === 'cross_source' ? crossSourcePairsOf(counts) : pairsOf(counts[0]!);
  }

  const entity = new Int32Array(keys.length).fill(-1);
  const source = new Int32Array(keys.length);
  keys.forEach((key, row) => {
    const i = recordOf.get(key);
    if (i === undefined) return;
    entity[row] = recordEntity[i]!;
    source[row] = recordSource[i]!;
  });
  return { mode, entity, source, truePairs };
}

export interface CandidateRecall {
  candidatePairs: number;
  /** Candidate pairs that are matching pairs of the truth (as scored). */
  trueCandidatePairs: number;
  truePairs: number;
  /** trueCandidatePairs / truePairs; null when the truth has no matching pair. */
  recall: number | null;
}

/** How many of the truth's matching pairs are among `pairs` (each pair listed once). */
export function countTrueCandidates(truth: RowTruth, pairs: CandidatePairs): CandidateRecall {
  const { entity, source } = truth;
  const crossSourceOnly = truth.mode === 'cross_source';
  let hits = 0;
  for (let i = 0; i < pairs.a.length; i++) {
    const a = pairs.a[i]!, b = pairs.b[i]!;
    const e = entity[a]!;
    if (e >= 0 && e === entity[b] && (!crossSourceOnly || source[a] !== source[b])) hits++;
  }
  return {
    candidatePairs: pairs.a.length,
    trueCandidatePairs: hits,
    truePairs: truth.truePairs,
    recall: truth.truePairs > 0 ? hits / truth.truePairs : null,
  };
}
