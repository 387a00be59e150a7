/**
 * Feature plan: the comparison features chosen for each column (comparisons/: what each
 * comparison is planned for), and their computation. A feature compares the two rows' distinct
 * values, so it is a function of the value pair: the FeatureWriter computes each column's
 * non-cheap features once per distinct value pair and keeps them in a bounded cache (a million
 * candidate pairs share a few thousand city or first-name pairs).
 */
import { COMPARISONS, featureSource, plannedFeatures, type Comparison } from './comparisons/index.js';
import type { PreparedColumn, PreparedTable } from './profile.js';

export interface Feature {
  column: number; // index into PreparedTable.columns
  columnName: string;
  /** The feature's name among its comparison's outputs (comparisons/*.ts), e.g. 'jaroWinkler'. */
  kind: string;
}

/** Choose features from the profiles (never the primary key: it is not in PreparedTable). */
export function planFeatures(t: PreparedTable): Feature[] {
  return t.columns.flatMap((c, i) => plannedFeatures(c).map((kind) => ({ column: i, columnName: c.profile.name, kind })));
}

/** Whether a feature is cheap (comparison.ts `cheap`): the prefilter's first stage sees only these. */
export function isCheap(f: Feature): boolean {
  return COMPARISONS[featureSource(f.kind).comparison]!.cheap;
}

type Compare = NonNullable<Comparison['compare']>;

/**
 * The features of one column that comparisons compute by a call, resolved once per writer: call p
 * writes its comparison's outputs to `into[p]`, a view of `outputs`, and feature k (in plan order)
 * is outputs[sources[k]], going to slot slots[k]. Flat arrays: per pair the writer makes its
 * calls and one copy, as one fused computation would.
 */
interface Calls {
  compare: Compare[];
  into: Float64Array[];
  outputs: Float64Array;
  sources: Int32Array;
  slots: Int32Array;
}

/** The features of one column, in plan order, and where they go in a feature vector. */
interface ColumnGroup {
  column: PreparedColumn;
  /** Index of the column in PreparedTable.columns (its slot in a row of codes). */
  index: number;
  /** Every slot of the column, and its value when either row misses the value. */
  slots: Int32Array;
  whenMissing: Float32Array;
  /** Features that only tell whether the two values are the same (comparison.ts `sameValue`), and their two values. */
  sameSlots: Int32Array;
  ifSame: Float32Array;
  ifDifferent: Float32Array;
  /** The other cheap features, and the strings and bags (`rest.slots`, in plan order: the cached features of a value pair). */
  cheap: Calls;
  rest: Calls;
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
    const slotsOf = new Map<number, number[]>();
    features.forEach((f, slot) => {
      const slots = slotsOf.get(f.column);
      if (slots) slots.push(slot);
      else slotsOf.set(f.column, [slot]);
    });
    this.#groups = [...slotsOf].map(([index, slots]) => columnGroup(t.columns[index]!, index, slots, features));
    this.#groupOf = new Int32Array(t.columns.length).fill(-1);
    this.#groups.forEach((g, gi) => {
      this.#groupOf[g.index] = gi;
      if (cache && g.rest.slots.length > 1) g.cache = new ValuePairCache(g.rest.slots.length);
    });
    this.#va = new Int32Array(this.#groups.length);
    this.#vb = new Int32Array(this.#groups.length);
    this.#written = new Uint8Array(this.#groups.length);
    this.cheapSlots = features.flatMap((f, slot) => (isCheap(f) ? [slot] : []));
  }

  /** Slots of the string and bag features of a PreparedTable column (none when it has none). */
  columnSlots(column: number): readonly number[] {
    const gi = this.#groupOf[column]!;
    return gi < 0 ? [] : Array.from(this.#groups[gi]!.rest.slots);
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
        const { slots, whenMissing } = g;
        for (let k = 0; k < slots.length; k++) out[offset + slots[k]!] = whenMissing[k]!;
        continue;
      }
      if (va > vb) { const t = va; va = vb; vb = t; }
      this.#va[gi] = va;
      this.#vb[gi] = vb;
      const sameSlots = g.sameSlots;
      const values = va === vb ? g.ifSame : g.ifDifferent;
      for (let k = 0; k < sameSlots.length; k++) out[offset + sameSlots[k]!] = values[k]!;
      const cheap = g.cheap;
      if (cheap.compare.length > 0) this.#call(cheap, g.column, va, vb, out, offset);
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

  /** The features of `calls` for present values va ≤ vb, to out[offset + their slots]. */
  #call(calls: Calls, column: PreparedColumn, va: number, vb: number, out: Float32Array, offset: number): void {
    compute(calls, column, va, vb);
    const { outputs, sources, slots } = calls;
    for (let k = 0; k < slots.length; k++) out[offset + slots[k]!] = outputs[sources[k]!]!;
  }

  /** The string and bag features of one column for present values va ≤ vb. */
  #writeStrings(g: ColumnGroup, va: number, vb: number, out: Float32Array, offset: number): void {
    const { outputs, sources, slots } = g.rest;
    if (slots.length === 0) return;
    const cache = g.cache;
    if (cache && va !== vb) {
      const found = cache.find(va, vb);
      const store = cache.features;
      let at: number;
      if (found >= 0) at = found * cache.width;
      else {
        at = cache.claim(-1 - found, va, vb);
        compute(g.rest, g.column, va, vb);
        for (let k = 0; k < sources.length; k++) store[at + k] = outputs[sources[k]!]!;
      }
      for (let k = 0; k < slots.length; k++) out[offset + slots[k]!] = store[at + k]!;
      if (cache.lookups === CACHE_TRIAL && cache.hits < CACHE_MIN_HIT_RATE * CACHE_TRIAL) delete g.cache;
      return;
    }
    this.#call(g.rest, g.column, va, vb, out, offset);
  }
}

/** Runs the comparisons of `calls` for present values va ≤ vb, into `calls.outputs`. */
function compute(calls: Calls, column: PreparedColumn, va: number, vb: number): void {
  const { compare, into } = calls;
  for (let p = 0; p < compare.length; p++) compare[p]!(column, va, vb, into[p]!);
}

/** A column's features (at `slots`, in plan order) resolved into their comparisons. */
function columnGroup(column: PreparedColumn, index: number, slots: readonly number[], features: readonly Feature[]): ColumnGroup {
  const whenMissing = new Float32Array(slots.length);
  const same: number[] = [], ifSame: number[] = [], ifDifferent: number[] = [];
  /** Per comparison computed by a call, its features' outputs and slots, in order of first appearance. */
  const called = new Map<number, Array<{ output: number; slot: number }>>();
  slots.forEach((slot, k) => {
    const { comparison, output } = featureSource(features[slot]!.kind);
    const c = COMPARISONS[comparison]!;
    whenMissing[k] = c.whenMissing ?? 0;
    if (c.sameValue) {
      same.push(slot);
      ifSame.push(c.sameValue.same);
      ifDifferent.push(c.sameValue.different);
      return;
    }
    const outputs = called.get(comparison);
    if (outputs) outputs.push({ output, slot });
    else called.set(comparison, [{ output, slot }]);
  });
  const calls = (cheap: boolean): Calls => {
    const chosen = [...called].filter(([comparison]) => COMPARISONS[comparison]!.cheap === cheap);
    const outputs = new Float64Array(chosen.reduce((n, [comparison]) => n + COMPARISONS[comparison]!.outputs.length, 0));
    const into: Float64Array[] = [];
    const features: Array<{ source: number; slot: number }> = [];
    let base = 0;
    for (const [comparison, list] of chosen) {
      into.push(outputs.subarray(base));
      for (const { output, slot } of list) features.push({ source: base + output, slot });
      base += COMPARISONS[comparison]!.outputs.length;
    }
    // In plan order: the cache holds a column's non-cheap features in the order of rest.slots.
    features.sort((x, y) => x.slot - y.slot);
    return {
      compare: chosen.map(([comparison]) => COMPARISONS[comparison]!.compare!),
      into,
      outputs,
      sources: Int32Array.from(features, (f) => f.source),
      slots: Int32Array.from(features, (f) => f.slot),
    };
  };
  return {
    column,
    index,
    slots: Int32Array.from(slots),
    whenMissing,
    sameSlots: Int32Array.from(same),
    ifSame: Float32Array.from(ifSame),
    ifDifferent: Float32Array.from(ifDifferent),
    cheap: calls(true),
    rest: calls(false),
    cache: undefined,
  };
}
