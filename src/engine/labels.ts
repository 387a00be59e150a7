/** Labels → labeled record pairs (every pair inside a labeling set: same label = match). */
import type { EngineLabel, EngineTable } from './api.js';

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
 * `byKey` resolves the labels' keys to rows (rowIndexByKey: one scan of the table, which callers
 * splitting labels can share). `centerOf` names a set's centers: when some of the set's keys are
 * centers, only the pairs with a center in them are taken.
 */
export function labeledPairs(
  table: EngineTable,
  labels: readonly EngineLabel[],
  byKey: ReadonlyMap<string, number> = rowIndexByKey(table, labels.map((l) => l.key)),
  centerOf: (labelingSetId: string) => ((key: string) => boolean) | undefined = () => undefined,
): LabeledPairs {
  const sets = new Map<string, Array<{ row: number; label: string; key: string }>>();
  const labeledRows = new Set<number>();
  for (const l of labels) {
    const row = byKey.get(l.key);
    if (row === undefined) continue;
    labeledRows.add(row);
    let s = sets.get(l.labelingSetId);
    if (!s) sets.set(l.labelingSetId, (s = []));
    if (!s.some((x) => x.row === row)) s.push({ row, label: l.label, key: l.key });
  }
  const out: LabeledPairs = { a: [], b: [], y: [], set: [], setIds: [], labeledRows, labelCount: labels.length };
  const ids = [...sets.keys()].sort();
  ids.forEach((id, si) => {
    out.setIds.push(id);
    const s = sets.get(id)!;
    const isCenter = centerOf(id);
    const central = isCenter ? s.map((x) => isCenter(x.key)) : [];
    const anyCenter = central.some(Boolean);
    for (let i = 0; i < s.length; i++) {
      for (let j = i + 1; j < s.length; j++) {
        const x = s[i]!, y = s[j]!;
        if (anyCenter && !central[i] && !central[j]) continue;
        out.a.push(Math.min(x.row, y.row));
        out.b.push(Math.max(x.row, y.row));
        out.y.push(x.label === y.label ? 1 : 0);
        out.set.push(si);
      }
    }
  });
  return out;
}
