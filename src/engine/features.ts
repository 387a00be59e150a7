/**
 * Feature plan: the comparison features chosen from each column's profile, and their computation.
 * A feature compares the two rows' distinct values, so it is a function of the value pair: the
 * FeatureWriter computes each column's features once per distinct value pair and keeps them in a
 * bounded cache (a million candidate pairs share a few thousand city or first-name pairs).
 */
import { absoluteSim, bagCosine, bagSimilarities, codeSimilarities, relativeSim, stringSimilarities } from './comparators.js';
import type { ColumnKind, PreparedColumn, PreparedTable } from './profile.js';

export type FeatureKind =
  | 'exact'
  | 'jaroWinkler'
  | 'levenshtein'
  | 'tokenJaccard'
  | 'tokenTfidf'
  | 'tokenRarestShared'
  | 'gramTfidf'
  | 'codeAgreement'
  | 'codeConflict'
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

const CODE_KINDS: readonly FeatureKind[] = ['codeAgreement', 'codeConflict'];

/** Choose features from the profiles (never the primary key: it is not in PreparedTable). */
export function planFeatures(t: PreparedTable): Feature[] {
  const out: Feature[] = [];
  t.columns.forEach((c, i) => {
    for (const kind of BY_KIND[c.profile.kind]) {
      // A column with no missing value gets no missing indicator.
      if (kind === 'eitherMissing' && !c.anyMissing) continue;
      out.push({ column: i, columnName: c.profile.name, kind });
    }
    // Text columns where codes are common (profile.ts CODE_SHARE) are also compared by their codes.
    if (c.codes) for (const kind of CODE_KINDS) out.push({ column: i, columnName: c.profile.name, kind });
  });
  return out;
}

/** A cheap feature (CHEAP_KINDS) of two present values (ids into the column's distinct values). */
function cheapFeature(col: PreparedColumn, kind: FeatureKind, a: number, b: number): number {
  switch (kind) {
    case 'exact':
      return a === b ? 1 : 0;
    case 'relativeDiff':
      return relativeSim(col.num![a]!, col.num![b]!);
    case 'absoluteDiff':
      return absoluteSim(col.num![a]!, col.num![b]!, col.numScale ?? 1);
    case 'dateDiff':
      return absoluteSim(col.num![a]!, col.num![b]!, 30);
    default:
      return 0;
  }
}

/** Where each string or bag kind finds its value among the outputs of the fused comparators. */
const STRING_OUTPUT: Partial<Record<FeatureKind, number>> = {
  jaroWinkler: 0,
  levenshtein: 1,
  tokenJaccard: 2,
  tokenTfidf: 3,
  tokenRarestShared: 4,
  gramTfidf: 5,
  codeAgreement: 6,
  codeConflict: 7,
};

/** What a column's string and bag kinds need computed, decided once per column. */
interface StringPlan {
  /** Per kind, its index among the fused outputs. */
  sources: Int8Array;
  strings: boolean;
  tokens: boolean;
  grams: boolean;
  codes: boolean;
}

function stringPlan(kinds: readonly FeatureKind[]): StringPlan {
  const sources = Int8Array.from(kinds, (k) => STRING_OUTPUT[k]!);
  return {
    sources,
    strings: sources.some((o) => o <= 1),
    tokens: sources.some((o) => o >= 2 && o <= 4),
    grams: sources.some((o) => o === 5),
    codes: sources.some((o) => o >= 6),
  };
}

/**
 * The string and bag features of one column for present values a and b, written to
 * out[at + k] (or out[at + slots[k]]) for the plan's kinds. Related comparisons share one pass:
 * Jaro-Winkler and Levenshtein one index of the shorter string, the three token-set similarities
 * one merge of the bags.
 */
function stringFeatures(
  col: PreparedColumn,
  plan: StringPlan,
  a: number,
  b: number,
  out: Float32Array,
  at: number,
  slots?: readonly number[],
): void {
  const v = fused;
  if (plan.strings) {
    stringSimilarities(col.text, a, b, pair);
    v[0] = pair[0]!;
    v[1] = pair[1]!;
  }
  if (plan.tokens) {
    bagSimilarities(col.tokens, a, b, triple);
    v[2] = triple[0]!;
    v[3] = triple[1]!;
    v[4] = triple[2]!;
  }
  if (plan.grams) v[5] = col.grams ? bagCosine(col.grams, a, b) : 0;
  if (plan.codes) {
    codeSimilarities(col.codes!, col.codeText!, a, b, pair);
    v[6] = pair[0]!;
    v[7] = pair[1]!;
  }
  const sources = plan.sources;
  if (slots) for (let k = 0; k < sources.length; k++) out[at + slots[k]!] = v[sources[k]!]!;
  else for (let k = 0; k < sources.length; k++) out[at + k] = v[sources[k]!]!;
}

const pair = new Float64Array(2);
const triple = new Float64Array(3);
const fused = new Float64Array(8);

/**
 * Features computed from the two rows' value ids and parsed numbers alone: no string or bag is
 * touched, so they cost a few memory reads. The scorer computes them first and can stop there
 * (scoring.ts: the prefilter).
 */
export const CHEAP_KINDS: ReadonlySet<FeatureKind> = new Set(['exact', 'eitherMissing', 'relativeDiff', 'absoluteDiff', 'dateDiff']);

/** The features of one column, in plan order, and where they go in a feature vector. */
interface ColumnGroup {
  column: PreparedColumn;
  /** Index of the column in PreparedTable.columns (its slot in a row of codes). */
  index: number;
  /** Slot of eitherMissing, or -1. */
  missingSlot: number;
  cheapKinds: FeatureKind[];
  cheapSlots: number[];
  /** The other kinds: strings and bags. */
  restKinds: FeatureKind[];
  restSlots: number[];
  restPlan: StringPlan;
  cache?: ValuePairCache;
}

/**
 * Open-addressing cache of one column's features per value pair (unordered). Bounded: when it is
 * full it starts over. A column whose pairs rarely repeat (a phone number, an address) stops using
 * it after a trial, so the cache costs nothing there.
 */
class ValuePairCache {
  readonly #mask: number;
  readonly #keysA: Int32Array;
  readonly #keysB: Int32Array;
  readonly #features: Float32Array;
  #used = 0;
  lookups = 0;
  hits = 0;

  constructor(readonly width: number, bits = 16) {
    const size = 1 << bits;
    this.#mask = size - 1;
    this.#keysA = new Int32Array(size).fill(-1);
    this.#keysB = new Int32Array(size);
    this.#features = new Float32Array(size * width);
  }

  /** The slot holding (a, b), or the negative (−1 − slot) of the slot where it would go. */
  find(a: number, b: number): number {
    this.lookups++;
    let h = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77)) & this.#mask;
    for (;;) {
      const ka = this.#keysA[h]!;
      if (ka === -1) return -1 - h;
      if (ka === a && this.#keysB[h] === b) {
        this.hits++;
        return h;
      }
      h = (h + 1) & this.#mask;
    }
  }

  /** Claims an empty slot for (a, b) and returns where its features go. */
  claim(emptySlot: number, a: number, b: number): number {
    if (this.#used * 4 >= this.#mask * 3) {
      this.#keysA.fill(-1);
      this.#used = 0;
      emptySlot = -1 - this.find(a, b);
      this.lookups--;
    }
    this.#keysA[emptySlot] = a;
    this.#keysB[emptySlot] = b;
    this.#used++;
    return emptySlot * this.width;
  }

  get features(): Float32Array {
    return this.#features;
  }
}

/** Lookups before a column decides whether its value pairs repeat enough to keep caching. */
const CACHE_TRIAL = 20_000;
const CACHE_MIN_HIT_RATE = 0.2;

/**
 * Writes feature vectors of row pairs, in steps: `writeCheap` (the cheap features of every column,
 * and every feature of a column either row misses), then `writeColumn` for chosen columns' string
 * and bag features, then `writeRest` for the columns not written yet; or `write` for all at once.
 * One per thread: it owns value-pair caches and the state of the pair being written.
 */
export class FeatureWriter {
  readonly #groups: ColumnGroup[];
  /** Group of each PreparedTable column, -1 when the column has no feature. */
  readonly #groupOf: Int32Array;
  readonly #codes: Int32Array;
  readonly #rowWidth: number;
  /** Per group, the two value ids of the current pair (ordered), -1 when either is missing. */
  readonly #va: Int32Array;
  readonly #vb: Int32Array;
  /** Per group, whether the current pair's string features are written. */
  readonly #written: Uint8Array;
  readonly width: number;
  /** Slots of the cheap features. */
  readonly cheapSlots: number[];

  constructor(t: PreparedTable, features: readonly Feature[], cache = true) {
    this.width = features.length;
    this.#codes = t.codes;
    this.#rowWidth = t.columns.length;
    const byColumn = new Map<number, ColumnGroup>();
    features.forEach((f, slot) => {
      let g = byColumn.get(f.column);
      if (!g) {
        g = { column: t.columns[f.column]!, index: f.column, missingSlot: -1, cheapKinds: [], cheapSlots: [], restKinds: [], restSlots: [], restPlan: stringPlan([]) };
        byColumn.set(f.column, g);
      }
      if (f.kind === 'eitherMissing') g.missingSlot = slot;
      else if (CHEAP_KINDS.has(f.kind)) {
        g.cheapKinds.push(f.kind);
        g.cheapSlots.push(slot);
      } else {
        g.restKinds.push(f.kind);
        g.restSlots.push(slot);
      }
    });
    this.#groups = [...byColumn.values()];
    this.#groupOf = new Int32Array(t.columns.length).fill(-1);
    this.#groups.forEach((g, gi) => {
      g.restPlan = stringPlan(g.restKinds);
      this.#groupOf[g.index] = gi;
      if (cache && g.restKinds.length > 1) g.cache = new ValuePairCache(g.restKinds.length);
    });
    this.#va = new Int32Array(this.#groups.length);
    this.#vb = new Int32Array(this.#groups.length);
    this.#written = new Uint8Array(this.#groups.length);
    this.cheapSlots = features.flatMap((f, slot) => (CHEAP_KINDS.has(f.kind) ? [slot] : []));
  }

  /** Slots of the string and bag features of a PreparedTable column (none when it has none). */
  columnSlots(column: number): readonly number[] {
    const gi = this.#groupOf[column]!;
    return gi < 0 ? [] : this.#groups[gi]!.restSlots;
  }

  /** Writes the features of rows (a, b) into out[offset .. offset + width). */
  write(a: number, b: number, out: Float32Array, offset = 0): void {
    this.writeCheap(a, b, out, offset);
    this.writeRest(out, offset);
  }

  /** Starts a pair: writes the cheap features of rows (a, b), and every feature of a column either row misses. */
  writeCheap(a: number, b: number, out: Float32Array, offset = 0): void {
    const codes = this.#codes;
    const ra = a * this.#rowWidth, rb = b * this.#rowWidth;
    const groups = this.#groups;
    for (let gi = 0; gi < groups.length; gi++) {
      const g = groups[gi]!;
      let va = codes[ra + g.index]!, vb = codes[rb + g.index]!;
      this.#written[gi] = 0;
      if (va < 0 || vb < 0) {
        this.#va[gi] = -1;
        for (let k = 0; k < g.cheapSlots.length; k++) out[offset + g.cheapSlots[k]!] = 0;
        for (let k = 0; k < g.restSlots.length; k++) out[offset + g.restSlots[k]!] = 0;
        if (g.missingSlot >= 0) out[offset + g.missingSlot] = 1;
        continue;
      }
      if (g.missingSlot >= 0) out[offset + g.missingSlot] = 0;
      if (va > vb) { const t = va; va = vb; vb = t; }
      this.#va[gi] = va;
      this.#vb[gi] = vb;
      for (let k = 0; k < g.cheapSlots.length; k++) out[offset + g.cheapSlots[k]!] = cheapFeature(g.column, g.cheapKinds[k]!, va, vb);
    }
  }

  /** Writes the string and bag features of one PreparedTable column for the current pair. */
  writeColumn(column: number, out: Float32Array, offset = 0): void {
    const gi = this.#groupOf[column]!;
    if (gi < 0 || this.#written[gi]) return;
    this.#written[gi] = 1;
    const va = this.#va[gi]!;
    if (va >= 0) this.#writeStrings(this.#groups[gi]!, va, this.#vb[gi]!, out, offset);
  }

  /** Writes the string and bag features of the current pair not written yet. */
  writeRest(out: Float32Array, offset = 0): void {
    const groups = this.#groups;
    for (let gi = 0; gi < groups.length; gi++) {
      const va = this.#va[gi]!;
      if (va >= 0 && !this.#written[gi]) this.#writeStrings(groups[gi]!, va, this.#vb[gi]!, out, offset);
    }
  }

  /** The string and bag features of one column for present values va ≤ vb. */
  #writeStrings(g: ColumnGroup, va: number, vb: number, out: Float32Array, offset: number): void {
    {
      const slots = g.restSlots;
      if (slots.length === 0) return;
      const cache = g.cache;
      if (cache && va !== vb) {
        const found = cache.find(va, vb);
        const store = cache.features;
        if (found >= 0) {
          const at = found * cache.width;
          for (let k = 0; k < slots.length; k++) out[offset + slots[k]!] = store[at + k]!;
        } else {
          const at = cache.claim(-1 - found, va, vb);
          stringFeatures(g.column, g.restPlan, va, vb, store, at);
          for (let k = 0; k < slots.length; k++) out[offset + slots[k]!] = store[at + k]!;
        }
        if (cache.lookups === CACHE_TRIAL && cache.hits < CACHE_MIN_HIT_RATE * CACHE_TRIAL) delete g.cache;
        return;
      }
      stringFeatures(g.column, g.restPlan, va, vb, out, offset, slots);
    }
  }
}
