/**
 * The comparison registry. A column's features are those of every comparison here planned for its
 * kind (and whose `appliesTo` holds), in this order and then in each comparison's plan order; the
 * order is part of the model (feature slots), so a new comparison goes at the end unless it
 * belongs beside a related one. To add one: a module declaring a `Comparison` (comparison.ts) and
 * one line here.
 */
import type { ColumnKind, PreparedColumn } from '../profile.js';
import { absoluteDifference } from './absolute-difference.js';
import { codes } from './codes.js';
import type { Comparison, Preparation } from './comparison.js';
import { dateDifference } from './date-difference.js';
import { editDistances } from './edit-distances.js';
import { exact } from './exact.js';
import { gramCosine } from './gram-cosine.js';
import { missing } from './missing.js';
import { relativeDifference } from './relative-difference.js';
import { tokenSets } from './token-sets.js';

export type { Comparison, Preparation } from './comparison.js';

export const COMPARISONS: readonly Comparison[] = [
  exact,
  relativeDifference,
  absoluteDifference,
  dateDifference,
  editDistances,
  tokenSets,
  gramCosine,
  missing,
  codes,
];

/** Where a feature comes from: its comparison (index into COMPARISONS) and its place among that comparison's outputs. */
export interface FeatureSource {
  comparison: number;
  output: number;
}

const SOURCES = new Map<string, FeatureSource>();
COMPARISONS.forEach((c, comparison) =>
  c.outputs.forEach((name, output) => {
    if (SOURCES.has(name)) throw new Error(`feature ${name} is declared by two comparisons`);
    SOURCES.set(name, { comparison, output });
  }),
);

/** The comparison and output computing the named feature. */
export function featureSource(name: string): FeatureSource {
  const source = SOURCES.get(name);
  if (!source) throw new Error(`no comparison computes feature ${name}`);
  return source;
}

/** The outputs a comparison is planned for on a prepared column (its kind and `appliesTo`), if any. */
export function plannedOutputs(c: Comparison, col: PreparedColumn): readonly string[] | undefined {
  const names = c.planned[col.profile.kind];
  return names && (!c.appliesTo || c.appliesTo(col)) ? names : undefined;
}

/** The feature names planned for a prepared column, in plan order. */
export function plannedFeatures(col: PreparedColumn): string[] {
  const out: string[] = [];
  for (const c of COMPARISONS) {
    const names = plannedOutputs(c, col);
    if (names) out.push(...names);
  }
  return out;
}

/** What the comparisons planned for a column kind read, so the column is prepared with it. */
export function preparationsFor(kind: ColumnKind): Set<Preparation> {
  const out = new Set<Preparation>();
  for (const c of COMPARISONS) if (c.planned[kind]) for (const p of c.needs) out.add(p);
  return out;
}

/** The main similarity of a column kind (the prior model's evidence), if any. */
export function mainFeature(kind: ColumnKind): string | undefined {
  for (const c of COMPARISONS) {
    const main = c.main?.[kind];
    if (main) return main;
  }
  return undefined;
}
