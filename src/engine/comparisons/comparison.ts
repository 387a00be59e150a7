/**
 * What a comparison declares: the features it computes for two values of a column, which columns
 * it is planned for, what the column must be prepared with, and how it is used besides scoring
 * (the prefilter's first stage, the prior model, blocking). features.ts plans and writes features
 * from these declarations alone, so a comparison lives in one file (registry: index.ts).
 */
import type { Bags, ColumnKind, PreparedColumn } from '../profile.js';

/** Per-value data of a column beyond its value ids; profile.ts builds what some planned comparison needs. */
export type Preparation = 'strings' | 'tokens' | 'grams' | 'codes' | 'numbers';

export interface Comparison {
  /**
   * The features `compare` writes, in that order. Related features that share one pass over the
   * values (Jaro-Winkler and Levenshtein from one index of a string, the token-set similarities
   * from one merge) come from one comparison.
   */
  outputs: readonly string[];
  /** Per column kind, the outputs planned for such a column, in plan order. */
  planned: Partial<Record<ColumnKind, readonly string[]>>;
  /** A further condition on the prepared column (it holds codes, some row misses the value). */
  appliesTo?: (col: PreparedColumn) => boolean;
  /** What `compare` reads besides value ids. */
  needs: readonly Preparation[];
  /**
   * Reads a few numbers per value at most, no string or bag: every pair gets it first, and the
   * prefilter's first stage sees only such features (scoring.ts).
   */
  cheap: boolean;
  /** Per column kind, the output that is the column's main similarity (training.ts priorModel, without labels). */
  main?: Partial<Record<ColumnKind, string>>;
  /**
   * Writes every output for two present values a ≤ b (ids into the column's distinct values) to
   * out[0 ..]. Called per pair: no allocation. Absent when `sameValue` says it all.
   */
  compare?: (col: PreparedColumn, a: number, b: number, out: Float64Array) => void;
  /**
   * For a comparison that depends only on whether the two present values are the same value: its
   * single output then and otherwise. The writer needs no call per pair for it (value equality
   * and the missing indicator are in every column's features, so a call would be paid by every
   * pair in every column).
   */
  sameValue?: { same: number; different: number };
  /**
   * The value of every output when either row misses the column's value (default 0): the missing
   * indicator is 1 there.
   */
  whenMissing?: number;
  /**
   * Blocking keys of each value besides its whole value and its words (which every blocked column
   * has): blocking.ts makes each id of the value's bag a key.
   */
  blockingKeys?: (col: PreparedColumn) => Bags | undefined;
}
