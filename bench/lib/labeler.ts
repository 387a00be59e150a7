/**
 * The benchmark's "human": labels a labeling set the way a person with the answer key would.
 * Within one labeling set, records of the same true entity get the same label and records of
 * different entities get different labels; the suggested labels doppel pre-filled are replaced.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { EngineLabel } from '../../src/engine/api.js';

export interface LabeledSet {
  /** The label file to import: the labeling set's own header and rows with the labels replaced. */
  csv: string;
  rows: number;
  /** The file's rows as the server stores them (by primary key, in file order), for replaying them in-process. */
  labels: EngineLabel[];
  labelingSets: number;
  /** Rows whose label is shared with another row of their set (they take part in a match). */
  matchedRows: number;
  /** How many suggested labels agreed with the truth, as a partition of each set (pairwise). */
  suggestion: { agreeingPairs: number; pairs: number };
}

/**
 * Labels the CSV text of a labeling set (`labeling_set_id,label,<columns>`; one or more part files
 * concatenated by the caller as separate texts). `truth` maps primary key → entity id.
 */
export function labelFromTruth(
  parts: ReadonlyArray<string | Uint8Array>,
  truth: ReadonlyMap<string, string>,
  primaryKey: string,
): LabeledSet {
  let header: string[] | undefined;
  const rows: string[][] = [];
  for (const part of parts) {
    const text = typeof part === 'string' ? part : Buffer.from(part).toString('utf8');
    const records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: false }) as string[][];
    if (records.length === 0) continue;
    const h = records[0]!;
    if (header === undefined) header = h;
    else if (h.join('\u0000') !== header.join('\u0000')) {
      throw new Error(`labeling set parts disagree on the header: ${header.join(',')} vs ${h.join(',')}`);
    }
    // A loop, not push(...rows): spreading a large part's rows as arguments overflows the stack.
    for (let i = 1; i < records.length; i += 1) rows.push(records[i]!);
  }
  if (header === undefined || rows.length === 0) {
    // Nothing left to label (doppel found no new labeling set): nothing to import.
    return { csv: '', rows: 0, labels: [], labelingSets: 0, matchedRows: 0, suggestion: { agreeingPairs: 0, pairs: 0 } };
  }
  if (header[0] !== 'labeling_set_id' || header[1] !== 'label') {
    throw new Error(`a labeling set's header starts labeling_set_id,label; got ${header.slice(0, 3).join(',')}`);
  }
  const pk = header.indexOf(primaryKey);
  if (pk < 0) throw new Error(`the labeling set has no primary key column ${primaryKey}: ${header.join(',')}`);

  // Per set: entity → label, in order of first appearance (labels A, B, C, ...).
  const labelsBySet = new Map<string, Map<string, string>>();
  const sizes = new Map<string, number>();
  const suggestedCells = new Map<string, number>();
  const suggestedGroups = new Map<string, number>();
  const entityGroups = new Map<string, number>();
  const out: string[][] = [];
  for (const row of rows) {
    const setId = row[0]!;
    const key = row[pk]!;
    const entity = truth.get(key);
    if (entity === undefined) throw new Error(`the labeling set names a record the dataset does not have: ${key}`);
    let labels = labelsBySet.get(setId);
    if (labels === undefined) {
      labels = new Map();
      labelsBySet.set(setId, labels);
    }
    let label = labels.get(entity);
    if (label === undefined) {
      label = labelName(labels.size);
      labels.set(entity, label);
    }
    const groupKey = JSON.stringify([setId, label]);
    sizes.set(groupKey, (sizes.get(groupKey) ?? 0) + 1);
    const suggested = row[1]!;
    bump(suggestedGroups, JSON.stringify([setId, suggested]));
    bump(entityGroups, groupKey);
    bump(suggestedCells, JSON.stringify([setId, suggested, label]));
    out.push([setId, label, ...row.slice(2)]);
  }
  let matchedRows = 0;
  for (const row of out) if ((sizes.get(JSON.stringify([row[0], row[1]])) ?? 0) > 1) matchedRows += 1;

  // Pairwise agreement of the suggested partition with the truth inside sets: pairs where both say
  // "same" or both say "different", over all pairs within sets.
  const pairs = (n: number) => (n * (n - 1)) / 2;
  let pairsInSets = 0;
  const setSizes = new Map<string, number>();
  for (const row of out) bump(setSizes, row[0]!);
  for (const n of setSizes.values()) pairsInSets += pairs(n);
  const sumPairs = (m: Map<string, number>) => [...m.values()].reduce((a, n) => a + pairs(n), 0);
  const both = sumPairs(suggestedCells);
  const agreeing = pairsInSets - sumPairs(suggestedGroups) - sumPairs(entityGroups) + 2 * both;

  return {
    csv: stringify([header, ...out], { record_delimiter: '\n' }),
    rows: out.length,
    labels: out.map((row) => ({ labelingSetId: row[0]!, label: row[1]!, key: row[pk]! })),
    labelingSets: labelsBySet.size,
    matchedRows,
    suggestion: { agreeingPairs: agreeing, pairs: pairsInSets },
  };
}

function bump(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

/** A, B, ..., Z, AA, AB, ... */
export function labelName(index: number): string {
  let n = index;
  let name = '';
  do {
    name = String.fromCharCode(65 + (n % 26)) + name;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return name;
}
