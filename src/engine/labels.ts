/** Labels → labeled record pairs (every pair inside a labeling set: same label = match). */
import type { EngineLabel, EngineTable } from './api.js';
import { hashString, makeRng } from './rng.js';

export interface LabeledPairs {
  a: number[];
  b: number[];
  y: number[];
  /** Index of the labeling set each pair comes from. */
  set: number[];
  setIds: string[];
  /** Rows appearing in any label. */
  labeledRows: Set<number>;
  /** Labels given (rows placed in a set). */
  labelCount: number;
}

/**
 * The first row of each of the given primary key values. Labels name a few thousand records of a
 * table of millions, so the lookup is built for the wanted keys only.
 */
export function rowIndexByKey(table: EngineTable, wanted: Iterable<string>): Map<string, number> {
  const pk = table.columns[table.primaryKey]!;
  const want = new Set(wanted);
  const rowOfCode = new Map<number, number>();
  pk.values.forEach((v, code) => {
    if (want.has(v)) rowOfCode.set(code, -1);
  });
  let remaining = rowOfCode.size;
  for (let r = 0; r < table.rowCount && remaining > 0; r++) {
    const code = pk.codes[r]!;
    if (rowOfCode.get(code) === -1) {
      rowOfCode.set(code, r);
      remaining--;
    }
  }
  const out = new Map<string, number>();
  for (const [code, r] of rowOfCode) if (r >= 0) out.set(pk.values[code]!, r);
  return out;
}

/**
 * Pairs taken from one labeling set at most before it is thinned. A set as the service makes it
 * holds ten to twenty rows; a label file may put thousands in one (a ground truth as one set), and
 * every pair of 16,000 rows is more than a JavaScript array holds.
 */
export const MAX_SET_PAIRS = 1_000_000;

/**
 * `byKey` resolves the labels' keys to rows (rowIndexByKey: one scan of the table, which callers
 * splitting labels can share). `centerOf` names a set's centers: when some of the set's keys are
 * centers, only the pairs with a center in them are taken. A set with more than MAX_SET_PAIRS pairs
 * gives, instead of all of them, each label's rows as a chain (so its matches stay connected, for
 * EnforceProvidedLabels) and each row's pairs with the next few rows of other labels in a shuffled
 * order: linear in the set's rows.
 */
export function labeledPairs(
  table: EngineTable,
  labels: readonly EngineLabel[],
  byKey: ReadonlyMap<string, number> = rowIndexByKey(table, labels.map((l) => l.key)),
  centerOf: (labelingSetId: string) => ((key: string) => boolean) | undefined = () => undefined,
): LabeledPairs {
  const sets = new Map<string, { members: Array<{ row: number; label: string; key: string }>; rows: Set<number> }>();
  const labeledRows = new Set<number>();
  for (const l of labels) {
    const row = byKey.get(l.key);
    if (row === undefined) continue;
    labeledRows.add(row);
    let s = sets.get(l.labelingSetId);
    if (!s) sets.set(l.labelingSetId, (s = { members: [], rows: new Set() }));
    if (s.rows.has(row)) continue;
    s.rows.add(row);
    s.members.push({ row, label: l.label, key: l.key });
  }
  const out: LabeledPairs = { a: [], b: [], y: [], set: [], setIds: [], labeledRows, labelCount: labels.length };
  const add = (x: { row: number; label: string }, y: { row: number; label: string }, si: number) => {
    out.a.push(Math.min(x.row, y.row));
    out.b.push(Math.max(x.row, y.row));
    out.y.push(x.label === y.label ? 1 : 0);
    out.set.push(si);
  };
  const ids = [...sets.keys()].sort();
  ids.forEach((id, si) => {
    out.setIds.push(id);
    const s = sets.get(id)!.members;
    if ((s.length * (s.length - 1)) / 2 > MAX_SET_PAIRS) {
      thinnedPairs(id, s, si, add);
      return;
    }
    const isCenter = centerOf(id);
    const central = isCenter ? s.map((x) => isCenter(x.key)) : [];
    const anyCenter = central.some(Boolean);
    for (let i = 0; i < s.length; i++) {
      for (let j = i + 1; j < s.length; j++) {
        if (anyCenter && !central[i] && !central[j]) continue;
        add(s[i]!, s[j]!, si);
      }
    }
  });
  return out;
}

/** A large set's pairs (labeledPairs): each label's chain, and the pairs of other labels within a band of a seeded shuffle. */
function thinnedPairs<M extends { row: number; label: string }>(id: string, s: M[], si: number, add: (x: M, y: M, si: number) => void): void {
  const previous = new Map<string, M>();
  for (const x of s) {
    const before = previous.get(x.label);
    if (before) add(before, x, si);
    previous.set(x.label, x);
  }
  const order = s.slice();
  const rng = makeRng(hashString(id));
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  // Offsets up to (n − 1) / 2 around the cycle give each pair at most once.
  const band = Math.max(1, Math.min(Math.floor(MAX_SET_PAIRS / order.length), Math.floor((order.length - 1) / 2)));
  for (let i = 0; i < order.length; i++) {
    for (let d = 1; d <= band; d++) {
      const y = order[(i + d) % order.length]!;
      if (y.label !== order[i]!.label) add(order[i]!, y, si);
    }
  }
}
