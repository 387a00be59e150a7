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
}

export function rowIndexByKey(table: EngineTable): Map<string, number> {
  const m = new Map<string, number>();
  const keys = table.values[table.primaryKey]!;
  for (let r = 0; r < table.rowCount; r++) {
    const k = keys[r];
    if (k !== null && k !== undefined && !m.has(k)) m.set(k, r);
  }
  return m;
}

export function labeledPairs(table: EngineTable, labels: readonly EngineLabel[]): LabeledPairs {
  const byKey = rowIndexByKey(table);
  const sets = new Map<string, Array<{ row: number; label: string }>>();
  const labeledRows = new Set<number>();
  for (const l of labels) {
    const row = byKey.get(l.key);
    if (row === undefined) continue;
    labeledRows.add(row);
    let s = sets.get(l.labelingSetId);
    if (!s) sets.set(l.labelingSetId, (s = []));
    if (!s.some((x) => x.row === row)) s.push({ row, label: l.label });
  }
  const out: LabeledPairs = { a: [], b: [], y: [], set: [], setIds: [], labeledRows };
  const ids = [...sets.keys()].sort();
  ids.forEach((id, si) => {
    out.setIds.push(id);
    const s = sets.get(id)!;
    for (let i = 0; i < s.length; i++) {
      for (let j = i + 1; j < s.length; j++) {
        const x = s[i]!, y = s[j]!;
        out.a.push(Math.min(x.row, y.row));
        out.b.push(Math.max(x.row, y.row));
        out.y.push(x.label === y.label ? 1 : 0);
        out.set.push(si);
      }
    }
  });
  return out;
}
