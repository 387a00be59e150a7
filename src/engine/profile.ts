/**
 * Column profiling and preparation: infer each column's kind from its values, then build the
 * column-major, interned representation that comparators work on (normalized strings, sorted
 * token-id arrays with TF-IDF weights in CSR form, parsed numbers / dates, missing flags).
 */
import type { EngineTable } from './api.js';
import { normalizeText, parseDate, parseNumber, qgrams, wordTokens } from './normalize.js';
import { valueAt } from './table.js';

export type ColumnKind =
  | 'identifier'
  | 'numeric'
  | 'date'
  | 'categorical'
  | 'shortText'
  | 'longText'
  | 'mostlyEmpty';

export interface ColumnProfile {
  index: number;
  name: string;
  kind: ColumnKind;
  nullRate: number;
  cardinality: number;
  meanLength: number;
  meanTokens: number;
}

/** Sparse per-row bags in CSR form: row r owns ids[offsets[r] .. offsets[r+1]), ids sorted ascending. */
export interface Bags {
  offsets: Uint32Array;
  ids: Int32Array;
  /** Unit-normalized TF-IDF weight of each entry. */
  weights: Float32Array;
  /** Document frequency per id. */
  df: Int32Array;
  vocabulary: number;
  /** Rows with at least one entry. */
  docs: number;
}

export interface PreparedColumn {
  profile: ColumnProfile;
  /** Normalized value per row ('' when missing). */
  norm: string[];
  missing: Uint8Array;
  tokens: Bags;
  grams?: Bags;
  /** Parsed number (numeric) or day number (date) per row, NaN when missing/unparsable. */
  num?: Float64Array;
  /** Spread of `num` (a tenth of the standard deviation, at least 1e-9) for absolute differences. */
  numScale?: number;
}

export interface PreparedTable {
  rowCount: number;
  columns: PreparedColumn[];
}

function isMissing(v: string | null | undefined): boolean {
  return v === null || v === undefined || v.trim().length === 0;
}

/** Infer the kind and statistics of one column. */
export function profileColumn(
  name: string,
  index: number,
  values: ReadonlyArray<string | null>,
): ColumnProfile {
  const n = values.length;
  let nonNull = 0, lenSum = 0, tokSum = 0, dates = 0, nums = 0, ints = 0, digitHeavy = 0;
  const distinct = new Set<string>();
  for (const v of values) {
    if (isMissing(v)) continue;
    const s = v!.trim();
    nonNull++;
    const norm = normalizeText(s);
    distinct.add(norm);
    lenSum += norm.length;
    tokSum += norm.length === 0 ? 0 : norm.split(' ').length;
    if (!Number.isNaN(parseDate(s))) dates++;
    const x = parseNumber(s);
    if (!Number.isNaN(x)) {
      nums++;
      if (/^\d+$/.test(s)) ints++;
    }
    let digits = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 48 && c <= 57) digits++;
    }
    if (digits * 2 >= s.length && digits >= 4) digitHeavy++;
  }
  const nullRate = n === 0 ? 1 : 1 - nonNull / n;
  const cardinality = distinct.size;
  const meanLength = nonNull ? lenSum / nonNull : 0;
  const meanTokens = nonNull ? tokSum / nonNull : 0;
  const ratio = nonNull ? cardinality / nonNull : 0;
  let kind: ColumnKind;
  if (nonNull === 0 || nullRate > 0.97) kind = 'mostlyEmpty';
  else if (dates >= 0.9 * nonNull) kind = 'date';
  else if (nums >= 0.9 * nonNull) kind = ints >= 0.9 * nonNull && ratio > 0.3 ? 'identifier' : 'numeric';
  else if (cardinality <= Math.max(12, Math.min(60, 0.01 * nonNull)) && cardinality <= 0.3 * nonNull) kind = 'categorical';
  else if (digitHeavy >= 0.8 * nonNull && ratio > 0.3 && meanTokens <= 4) kind = 'identifier';
  else if (meanLength > 40 || meanTokens > 6) kind = 'longText';
  else kind = 'shortText';
  return { index, name, kind, nullRate, cardinality, meanLength, meanTokens };
}

/** Build CSR bags from per-row token lists (interned per column), weights = unit-normalized TF-IDF. */
export function buildBags(rows: string[][]): Bags {
  const dict = new Map<string, number>();
  const n = rows.length;
  const offsets = new Uint32Array(n + 1);
  const idsTmp: number[] = [];
  const tfTmp: number[] = [];
  const counts = new Map<number, number>();
  for (let r = 0; r < n; r++) {
    counts.clear();
    for (const t of rows[r]!) {
      let id = dict.get(t);
      if (id === undefined) {
        id = dict.size;
        dict.set(t, id);
      }
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const ids = [...counts.keys()].sort((a, b) => a - b);
    for (const id of ids) {
      idsTmp.push(id);
      tfTmp.push(counts.get(id)!);
    }
    offsets[r + 1] = idsTmp.length;
  }
  const ids = Int32Array.from(idsTmp);
  const df = new Int32Array(dict.size);
  for (let i = 0; i < ids.length; i++) df[ids[i]!]!++;
  const weights = new Float32Array(ids.length);
  let docs = 0;
  for (let r = 0; r < n; r++) if (offsets[r + 1]! > offsets[r]!) docs++;
  for (let r = 0; r < n; r++) {
    let norm = 0;
    for (let i = offsets[r]!; i < offsets[r + 1]!; i++) {
      const w = (1 + Math.log(tfTmp[i]!)) * Math.log(1 + docs / df[ids[i]!]!);
      weights[i] = w;
      norm += w * w;
    }
    norm = Math.sqrt(norm) || 1;
    for (let i = offsets[r]!; i < offsets[r + 1]!; i++) weights[i] = weights[i]! / norm;
  }
  return { offsets, ids, weights, df, vocabulary: dict.size, docs };
}

/** Profile every column except the primary key and prepare the ones used as features. */
export function prepareTable(table: EngineTable): PreparedTable {
  const n = table.rowCount;
  const columns: PreparedColumn[] = [];
  table.columns.forEach((col, c) => {
    if (c === table.primaryKey) return;
    const values = Array.from({ length: n }, (_, r) => valueAt(table, c, r));
    const profile = profileColumn(col.name, c, values);
    const norm: string[] = new Array(n);
    const missing = new Uint8Array(n);
    const toks: string[][] = new Array(n);
    const grams: string[][] | undefined =
      profile.kind === 'shortText' || profile.kind === 'longText' ? new Array(n) : undefined;
    let num: Float64Array | undefined;
    if (profile.kind === 'numeric' || profile.kind === 'date') num = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const v = values[r];
      if (isMissing(v)) {
        missing[r] = 1;
        norm[r] = '';
        toks[r] = [];
        if (grams) grams[r] = [];
        if (num) num[r] = NaN;
        continue;
      }
      let s = normalizeText(v!);
      if (profile.kind === 'identifier' || profile.kind === 'date') s = s.replace(/ /g, '');
      norm[r] = s;
      if (s.length === 0) missing[r] = 1;
      toks[r] = wordTokens(s);
      if (grams) grams[r] = qgrams(s, 3);
      if (num) num[r] = profile.kind === 'date' ? parseDate(v!) : parseNumber(v!);
    }
    const prepared: PreparedColumn = { profile, norm, missing, tokens: buildBags(toks) };
    if (grams) prepared.grams = buildBags(grams);
    if (num) {
      prepared.num = num;
      let c0 = 0, s1 = 0, s2 = 0;
      for (let r = 0; r < n; r++) {
        const x = num[r]!;
        if (Number.isNaN(x)) continue;
        c0++; s1 += x; s2 += x * x;
      }
      const sd = c0 > 1 ? Math.sqrt(Math.max(0, s2 / c0 - (s1 / c0) ** 2)) : 1;
      prepared.numScale = Math.max(1e-9, sd / 10);
    }
    columns.push(prepared);
  });
  return { rowCount: n, columns };
}
