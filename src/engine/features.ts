/**
 * Feature plan: the comparison features chosen from each column's profile, and the pair
 * feature computation (writes into a caller-owned Float32Array; allocates nothing).
 */
import {
  bagCosine,
  bagJaccard,
  bagMaxSharedIdf,
  jaroWinkler,
  levenshteinSim,
  relativeSim,
  absoluteSim,
} from './comparators.js';
import type { ColumnKind, PreparedColumn, PreparedTable } from './profile.js';

export type FeatureKind =
  | 'exact'
  | 'jaroWinkler'
  | 'levenshtein'
  | 'tokenJaccard'
  | 'tokenTfidf'
  | 'tokenRarestShared'
  | 'gramTfidf'
  | 'relativeDiff'
  | 'absoluteDiff'
  | 'dateDiff'
  | 'eitherMissing';

export interface Feature {
  column: number; // index into PreparedTable.columns
  columnName: string;
  kind: FeatureKind;
}

const BY_KIND: Record<ColumnKind, FeatureKind[]> = {
  mostlyEmpty: ['exact', 'eitherMissing'],
  categorical: ['exact', 'eitherMissing'],
  identifier: ['exact', 'levenshtein', 'jaroWinkler', 'eitherMissing'],
  numeric: ['exact', 'relativeDiff', 'absoluteDiff', 'levenshtein', 'eitherMissing'],
  date: ['exact', 'dateDiff', 'levenshtein', 'eitherMissing'],
  shortText: ['exact', 'jaroWinkler', 'levenshtein', 'tokenJaccard', 'tokenTfidf', 'tokenRarestShared', 'gramTfidf', 'eitherMissing'],
  longText: ['tokenJaccard', 'tokenTfidf', 'tokenRarestShared', 'gramTfidf', 'eitherMissing'],
};

/** Choose features from the profiles (never the primary key: it is not in PreparedTable). */
export function planFeatures(t: PreparedTable): Feature[] {
  const out: Feature[] = [];
  t.columns.forEach((c, i) => {
    // A column with no missing value gets no missing indicator.
    let anyMissing = false;
    for (let r = 0; r < c.missing.length; r++) if (c.missing[r]) { anyMissing = true; break; }
    for (const kind of BY_KIND[c.profile.kind]) {
      if (kind === 'eitherMissing' && !anyMissing) continue;
      out.push({ column: i, columnName: c.profile.name, kind });
    }
  });
  return out;
}

function one(col: PreparedColumn, kind: FeatureKind, a: number, b: number): number {
  const ma = col.missing[a]!, mb = col.missing[b]!;
  if (kind === 'eitherMissing') return ma | mb ? 1 : 0;
  if (ma | mb) return 0;
  switch (kind) {
    case 'exact':
      return col.norm[a] === col.norm[b] ? 1 : 0;
    case 'jaroWinkler':
      return jaroWinkler(col.norm[a]!, col.norm[b]!);
    case 'levenshtein':
      return levenshteinSim(col.norm[a]!, col.norm[b]!);
    case 'tokenJaccard':
      return bagJaccard(col.tokens, a, b);
    case 'tokenTfidf':
      return bagCosine(col.tokens, a, b);
    case 'tokenRarestShared':
      return bagMaxSharedIdf(col.tokens, a, b);
    case 'gramTfidf':
      return col.grams ? bagCosine(col.grams, a, b) : 0;
    case 'relativeDiff':
      return relativeSim(col.num![a]!, col.num![b]!);
    case 'absoluteDiff':
      return absoluteSim(col.num![a]!, col.num![b]!, col.numScale ?? 1);
    case 'dateDiff':
      return absoluteSim(col.num![a]!, col.num![b]!, 30);
  }
}

/** Write the features of pair (a, b) into out[offset .. offset + features.length). */
export function pairFeatures(
  t: PreparedTable,
  features: readonly Feature[],
  a: number,
  b: number,
  out: Float32Array,
  offset = 0,
): void {
  for (let f = 0; f < features.length; f++) {
    const ft = features[f]!;
    out[offset + f] = one(t.columns[ft.column]!, ft.kind, a, b);
  }
}
