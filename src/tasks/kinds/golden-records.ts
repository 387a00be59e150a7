import type { EngineColumn, EngineTable, MatchResult } from '../../engine/api.js';
import { valueAt } from '../../engine/index.js';
import { compareKeys } from './match-output.js';

/**
 * Golden records (`--golden-records`): one merged record per match group, by this survivorship
 * rule. The group's *most complete* record is the one with the most values (the lowest primary
 * key among equals); it gives the golden record its primary key. Every other column takes the
 * value most frequent among the group's records (missing values do not count); among equally
 * frequent values, the most complete record's wins when it is one of them, else that of the record
 * with the lowest primary key among those holding one. A record alone in its group is its own golden record.
 *
 * Returns the golden records as a table (the same columns and value dictionaries, one row per
 * group, in order of each group's first record) with their match ids and confidences, ready for
 * the output writer.
 */
export function goldenRecords(table: EngineTable, result: MatchResult): { table: EngineTable; result: MatchResult } {
  const n = table.rowCount;
  const pk = table.primaryKey;
  // Groups in order of first appearance, each its rows in table order.
  const groupOf = new Map<number, number[]>();
  for (let r = 0; r < n; r++) {
    const id = result.matchId[r]!;
    const rows = groupOf.get(id);
    if (rows) rows.push(r);
    else groupOf.set(id, [r]);
  }
  const groups = [...groupOf.values()];
  const width = table.columns.length;
  const present = (r: number) => {
    let k = 0;
    for (const c of table.columns) if (c.codes[r]! >= 0) k++;
    return k;
  };
  const byKey = (x: number, y: number) => compareKeys(valueAt(table, pk, x), valueAt(table, pk, y));
  const codes = table.columns.map(() => new Int32Array(groups.length));
  const matchId = new Float64Array(groups.length);
  const confidence = new Float64Array(groups.length);
  const counts = new Map<number, number>();
  groups.forEach((rows, g) => {
    let best = rows[0]!, bestPresent = present(best);
    for (const r of rows) {
      const p = present(r);
      if (p > bestPresent || (p === bestPresent && byKey(r, best) < 0)) {
        best = r;
        bestPresent = p;
      }
    }
    const byPrimaryKey = rows.length > 1 ? [...rows].sort(byKey) : rows;
    matchId[g] = result.matchId[best]!;
    confidence[g] = result.confidence[best]!;
    for (let c = 0; c < width; c++) {
      const col = table.columns[c]!.codes;
      if (c === pk || rows.length === 1) {
        codes[c]![g] = col[best]!;
        continue;
      }
      counts.clear();
      let top = 0;
      for (const r of rows) {
        const v = col[r]!;
        if (v < 0) continue;
        const k = (counts.get(v) ?? 0) + 1;
        counts.set(v, k);
        if (k > top) top = k;
      }
      if (top === 0) {
        codes[c]![g] = -1;
        continue;
      }
      const tied = (v: number) => v >= 0 && counts.get(v) === top;
      codes[c]![g] = tied(col[best]!) ? col[best]! : firstTied(byPrimaryKey, col, tied);
    }
  });
  const columns = table.columns.map((c, i): EngineColumn => ({ ...c, codes: codes[i]! }));
  return {
    table: { columns, primaryKey: pk, rowCount: groups.length },
    result: { matchId, confidence, stats: result.stats },
  };
}

/** The value of the first of `rows` (in primary key order) whose value is among the most frequent. */
function firstTied(rows: readonly number[], col: Int32Array, tied: (v: number) => boolean): number {
  for (const r of rows) if (tied(col[r]!)) return col[r]!;
  return -1;
}
