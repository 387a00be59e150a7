/**
 * The labeling work on one labeling file, as plain data (kept in localStorage, so an unfinished
 * session survives a reload): each set's records, doppel's suggested grouping, the user's grouping
 * and whether the user has decided it. No DOM here.
 */

/** `suggested`: the grouping is doppel's and not yet confirmed; `labeled`: the user confirmed or changed it; `skipped`: left out of the labels. */
export type SetState = 'suggested' | 'labeled' | 'skipped';

export interface LabelingSet {
  id: string;
  /** The records, each the table's columns in order. */
  rows: string[][];
  /** Group number per row, from the file's `label` column (doppel's suggestion). */
  suggested: number[];
  /** Group number per row, as it stands. */
  groups: number[];
  state: SetState;
}

export interface LabelingWork {
  transformId: string;
  /** Where the sets came from: the labeling set generation's output file, or the review screen. */
  source: string;
  /** The table's columns (the labeling file's columns after labeling_set_id and label). */
  columns: string[];
  /** The transform's primary key column, one of `columns`. */
  primaryKey: string;
  sets: LabelingSet[];
  current: number;
  /** Earlier states of changed sets, newest last, for undo (with the record a group key moved). */
  undo: Array<{ set: number; groups: number[]; state: SetState; row?: number }>;
}

/** Group numbers in order of first appearance of each label (A, B, ... in the file). */
export function groupNumbers(labels: string[]): number[] {
  const seen = new Map<string, number>();
  return labels.map((l) => {
    if (!seen.has(l)) seen.set(l, seen.size);
    return seen.get(l)!;
  });
}

/** A, B, ..., Z, AA, AB, ...: the labels written to the file and shown beside each record. */
export function groupName(group: number): string {
  let name = '';
  let n = group;
  do {
    name = String.fromCharCode(65 + (n % 26)) + name;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return name;
}

/** The group a name stands for (A is 0, Z 25, AA 26), the inverse of groupName; undefined for anything but letters. */
export function groupNumber(name: string): number | undefined {
  const letters = name.trim().toUpperCase();
  if (!/^[A-Z]+$/.test(letters)) return undefined;
  let n = 0;
  for (const c of letters) n = n * 26 + (c.charCodeAt(0) - 64);
  return n - 1;
}

/**
 * The group a key puts the chosen record in, given the set's groups: 1–9 the groups A–I, Shift and
 * a letter (the key "A" to "Z") the group of that name, 0 a new group after the highest in use.
 * Undefined for any other key.
 */
export function groupForKey(key: string, groups: readonly number[]): number | undefined {
  if (/^[1-9]$/.test(key)) return Number(key) - 1;
  if (key === '0') return Math.max(...groups) + 1;
  if (/^[A-Z]$/.test(key)) return groupNumber(key);
  return undefined;
}

/** Reads a labeling file (header `labeling_set_id,label,<columns>`), sets in file order. */
export function workFromLabelingFile(transformId: string, primaryKey: string, source: string, csv: string[][]): LabelingWork {
  const [header, ...records] = csv;
  if (!header || header[0] !== 'labeling_set_id' || header[1] !== 'label') throw new Error(`${source} is not a labeling file (its header is ${header?.join(',')})`);
  const bySet = new Map<string, string[][]>();
  for (const r of records) {
    if (r.length < 2) continue;
    const list = bySet.get(r[0]!) ?? [];
    list.push(r);
    bySet.set(r[0]!, list);
  }
  const sets = [...bySet].map(([id, rows]): LabelingSet => {
    const suggested = groupNumbers(rows.map((r) => r[1]!));
    return { id, rows: rows.map((r) => r.slice(2)), suggested, groups: [...suggested], state: 'suggested' };
  });
  return { transformId, source, columns: header.slice(2), primaryKey, sets, current: 0, undo: [] };
}

function change(work: LabelingWork, groups: number[], state: SetState, row?: number): void {
  const set = work.sets[work.current]!;
  work.undo.push({ set: work.current, groups: [...set.groups], state: set.state, ...(row !== undefined ? { row } : {}) });
  set.groups = groups;
  set.state = state;
}

/**
 * Puts one record of the current set in a group; the grouping becomes the user's. Groups keep the
 * names the keys gave them (no renumbering), so a key means the same group throughout a set.
 */
export function assign(work: LabelingWork, row: number, group: number): void {
  const set = work.sets[work.current]!;
  const groups = [...set.groups];
  groups[row] = group;
  change(work, groups, 'labeled', row);
}

export function allMatch(work: LabelingWork): void {
  change(work, work.sets[work.current]!.rows.map(() => 0), 'labeled');
}

export function noneMatch(work: LabelingWork): void {
  change(work, work.sets[work.current]!.rows.map((_, i) => i), 'labeled');
}

/** Accepts the grouping as it stands (the suggestion, or the user's) and moves on. */
export function confirm(work: LabelingWork): void {
  const set = work.sets[work.current]!;
  if (set.state !== 'labeled') change(work, [...set.groups], 'labeled');
  move(work, 1);
}

export function skip(work: LabelingWork): void {
  const set = work.sets[work.current]!;
  change(work, [...set.suggested], 'skipped');
  move(work, 1);
}

/**
 * Takes back the last change, going to the set it was made on; returns the record a group key had
 * moved (undefined for a change of the whole set), or false when there is nothing to undo.
 */
export function undo(work: LabelingWork): { row: number | undefined } | false {
  const last = work.undo.pop();
  if (!last) return false;
  const set = work.sets[last.set]!;
  set.groups = last.groups;
  set.state = last.state;
  work.current = last.set;
  return { row: last.row };
}

export function move(work: LabelingWork, step: number): void {
  work.current = Math.min(work.sets.length - 1, Math.max(0, work.current + step));
}

export function progress(work: LabelingWork): { labeled: number; skipped: number; total: number } {
  const count = (s: SetState) => work.sets.filter((set) => set.state === s).length;
  return { labeled: count('labeled'), skipped: count('skipped'), total: work.sets.length };
}

/** The label file the import reads: the labeled sets only, each group named A, B, ... */
export function labelFile(work: LabelingWork): string[][] {
  const rows: string[][] = [['labeling_set_id', 'label', ...work.columns]];
  for (const set of work.sets) {
    if (set.state !== 'labeled') continue;
    set.rows.forEach((r, i) => rows.push([set.id, groupName(set.groups[i]!), ...r]));
  }
  return rows;
}

/** Per column, whether the set's records disagree on it (those cells are highlighted). */
export function differingColumns(set: LabelingSet): boolean[] {
  return set.rows[0]!.map((_, c) => set.rows.some((r) => r[c] !== set.rows[0]![c]));
}
