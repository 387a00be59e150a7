import type { LabelRow, Scope } from './records.js';

/**
 * The most rows one label write puts in a transaction. A task process writing labels holds the
 * database's write lock for that transaction only, and the API process waits for that lock before
 * each of its own writes, so no label write may take long, however large the import (a thousand rows
 * take milliseconds), and a series of them leaves the lock free half of the time.
 */
export const LABEL_BATCH_ROWS = 1000;

/**
 * Labels are kept in generations. A transform's labels are the rows of its current generation; an
 * import fills a new generation batch by batch, invisible to every reader, and its run's terminal
 * commit makes it current in one small transaction (TaskOutcome.labelChange). A failed, stopped or
 * interrupted import leaves only an unused generation behind, which collectGarbage deletes, as it
 * deletes a generation once another replaced it.
 */
export interface LabelStore {
  /** A new, empty generation for the import run `taskRunId`; `basedOn` is the transform's current one (0 while it has none). */
  beginGeneration(scope: Scope, transformId: string, taskRunId: string): Promise<{ generation: number; basedOn: number }>;
  /**
   * Adds rows (at most LABEL_BATCH_ROWS) to a generation being filled, in one transaction; they
   * take the positions `firstSeq`, `firstSeq + 1`, ... (rows read back in that order).
   */
  addRows(scope: Scope, transformId: string, generation: number, rows: readonly LabelRow[], firstSeq: number): Promise<void>;
  /**
   * Copies the rows of generation `from` whose labeling set is not one of `replacedSets` into
   * `into`, in their order and ahead of every row added with a position of 1 or more, at most
   * LABEL_BATCH_ROWS per transaction. Returns how many rows it copied and whether some copied
   * labeling set has two or more.
   */
  carryOver(
    scope: Scope,
    transformId: string,
    from: number,
    into: number,
    replacedSets: Iterable<string>,
  ): Promise<{ rows: number; someSetHasTwo: boolean }>;
  /**
   * Deletes, LABEL_BATCH_ROWS per transaction, the rows of every generation nobody needs: neither a
   * transform's current one nor the latest one of an import still in flight. Returns the rows deleted.
   */
  collectGarbage(): Promise<number>;
}
