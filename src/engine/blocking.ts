/**
 * Candidate generation. Every row has blocking keys: per column its whole value, for values of
 * several words each word, and the keys its comparisons declare (comparisons/codes.ts: each model
 * and part number, however the source writes it). A key's weight is its IDF (scaled by the column's learned weight); each
 * row's candidates are its top-k neighbours by IDF-weighted cosine over shared keys.
 *
 * The cost is bounded per row, so it grows linearly with the table: a row walks the posting lists
 * of its keys from the rarest up and stops before the lists it has walked would exceed a budget of
 * rows. Rare keys (a phone number, an unusual surname, a date of birth) carry most of the evidence
 * and are always walked; a key shared by tens of thousands of rows (a common first name, a big
 * city) only adds to the cosine of neighbours found through rarer keys. Rows equal in every
 * compared column are always candidates, however many there are.
 *
 * The search runs per row in worker threads (threads.ts); each row's result depends on that row
 * only, so any split gives the same candidates.
 */
import { COMPARISONS, plannedOutputs } from './comparisons/index.js';
import type { Bags, PreparedTable } from './profile.js';
import { sharedFloat32, sharedInt32, sharedUint32, sharedUint8 } from './shared.js';

export interface Candidates {
  /** Pairs (a[i] < b[i]), sorted by (a, b), unique. */
  a: Uint32Array;
  b: Uint32Array;
  /** Blocking similarity of each pair. */
  score: Float32Array;
  /** Per-row neighbours, best first (CSR). */
  nbrOffsets: Uint32Array;
  nbrs: Uint32Array;
}

export interface BlockingOptions {
  accuracyCostTradeoff: number;
  /** Per PreparedTable column weight (default 1; 0 drops the column). */
  columnWeights?: Float64Array;
}

/** Posting-list entries the whole search may walk before the per-row budget shrinks: a few CPU seconds. */
const TOTAL_WALK = 200_000_000;
/** Keys of a row sorted by insertion at most; more are sorted by comparison. */
const INSERTION_SORT_KEYS = 64;

/**
 * How wide the search is for `n` rows: k neighbours per row, and a budget of posting-list entries
 * walked per row. Up to about a hundred thousand rows the budget is a fixed width; beyond, it
 * shrinks so the whole walk stays within TOTAL_WALK (linear cost), but never below a floor that
 * holds the rare keys (250 at the default AccuracyCostTradeoff): measured on a million synthetic
 * person records, true-pair recall of the candidates was 0.9968 / 0.9981 / 0.9987 at budgets
 * 150 / 300 / 600 (k = 15), at CPU cost 8 / 13 / 20 s. A wider walk on small tables is not better: walking every key of 10,000 rows
 * (budget 20,000 instead of 1,800) lowered the mean F1 of the learning curve from 0.970 to 0.950
 * (rldata10000) and 0.796 to 0.755 (leipzig_abt_buy): common keys crowd out the telling neighbours.
 */
export function blockingWidth(act: number, n: number): { k: number; budget: number } {
  const k = Math.round(6 + 34 * act * act);
  const width = Math.round(600 + 2400 * act);
  const floor = Math.round(100 + 300 * act);
  const budget = Math.max(floor, Math.min(width, Math.floor((TOTAL_WALK * (0.5 + act)) / Math.max(1, n))));
  return { k, budget };
}

/**
 * The inverted index: key ids per column (whole values first, then words), their weights, and the
 * rows holding each key (CSR). Shared with the worker threads.
 */
export interface KeyIndex {
  rowCount: number;
  k: number;
  budget: number;
  /**
   * Per blocking column: its index in PreparedTable.columns, where its whole-value and word keys
   * start, and the further keys its comparisons declare (comparison.ts `blockingKeys`: each id of
   * a value's bag, from `base`; the codes of model and part numbers).
   */
  columns: Array<{ column: number; wholeBase: number; wordBase: number; bagKeys: BagKeys[] }>;
  /** Per key. */
  df: Int32Array;
  weight: Float32Array;
  postingOffsets: Uint32Array;
  postings: Uint32Array;
  /** Per row: the norm of its key weights. */
  norm: Float32Array;
  /** The most keys a row can have. */
  maxKeys: number;
  /**
   * The order the rows are searched in: grouped by their rarest walkable key, so rows that walk
   * the same posting lists (and touch the same accumulators) follow each other while those are in
   * cache. Each row's result depends on that row only, so the order changes nothing else.
   */
  order: Uint32Array;
}

/** Keys from a bag per value (a comparison's `blockingKeys`): id i of a value's bag is key base + i. */
export interface BagKeys {
  base: number;
  bags: Bags;
}

/** The row's keys with a weight, written into `out` (grown as needed); returns how many. */
export function rowKeys(t: PreparedTable, index: KeyIndex, r: number, out: Int32Array): number {
  let n = 0;
  const row = r * t.columns.length;
  for (const { column, wholeBase, wordBase, bagKeys } of index.columns) {
    const col = t.columns[column]!;
    const v = t.codes[row + column]!;
    if (v < 0) continue;
    out[n++] = wholeBase + v;
    const from = col.tokens.offsets[v]!, to = col.tokens.offsets[v + 1]!;
    if (to - from > 1) for (let i = from; i < to; i++) out[n++] = wordBase + col.tokens.ids[i]!;
    for (const { base, bags } of bagKeys) {
      for (let i = bags.offsets[v]!; i < bags.offsets[v + 1]!; i++) out[n++] = base + bags.ids[i]!;
    }
  }
  return n;
}

/** The blocking columns and where their keys start; `keys` in all. */
function keyLayout(t: PreparedTable, opts: BlockingOptions): { columns: KeyIndex['columns']; columnWeight: number[]; keys: number } {
  const columns: KeyIndex['columns'] = [];
  const columnWeight: number[] = [];
  let keys = 0;
  t.columns.forEach((col, ci) => {
    const kind = col.profile.kind;
    const w = opts.columnWeights ? opts.columnWeights[ci]! : 1;
    if (w <= 0 || kind === 'categorical' || kind === 'mostlyEmpty') return;
    const wholeBase = keys, wordBase = keys + col.valueCount;
    keys += col.valueCount + col.tokens.vocabulary;
    const bagKeys: BagKeys[] = [];
    for (const c of COMPARISONS) {
      const bags = plannedOutputs(c, col) ? c.blockingKeys?.(col) : undefined;
      if (!bags) continue;
      bagKeys.push({ base: keys, bags });
      keys += bags.vocabulary;
    }
    columns.push({ column: ci, wholeBase, wordBase, bagKeys });
    columnWeight.push(w);
  });
  return { columns, columnWeight, keys };
}

/** A key's weight: log(n / df) times its column's weight; 0 for a key no other row shares. */
function keyWeights(columns: KeyIndex['columns'], columnWeight: readonly number[], keys: number, df: Int32Array, n: number): Float32Array {
  const weight = sharedFloat32(keys);
  columns.forEach(({ wholeBase }, i) => {
    const end = i + 1 < columns.length ? columns[i + 1]!.wholeBase : keys;
    for (let key = wholeBase; key < end; key++) {
      const d = df[key]!;
      weight[key] = d < 2 ? 0 : Math.log(n / d) * columnWeight[i]!;
    }
  });
  return weight;
}

/** Builds the key index (main thread; linear in rows × keys per row). */
export function buildKeyIndex(t: PreparedTable, opts: BlockingOptions): KeyIndex {
  const n = t.rowCount;
  const { k, budget } = blockingWidth(opts.accuracyCostTradeoff, n);
  const { columns, columnWeight, keys } = keyLayout(t, opts);
  const df = sharedInt32(keys);
  let maxKeys = 0;
  for (const { column, wholeBase, wordBase, bagKeys } of columns) {
    const col = t.columns[column]!;
    let widest = 0;
    for (let v = 0; v < col.valueCount; v++) {
      const rows = col.rowsOf[v]!;
      df[wholeBase + v] = rows;
      const from = col.tokens.offsets[v]!, to = col.tokens.offsets[v + 1]!;
      if (to - from > 1) for (let i = from; i < to; i++) df[wordBase + col.tokens.ids[i]!]! += rows;
      let bagCount = 0;
      for (const { base, bags } of bagKeys) {
        bagCount += bags.offsets[v + 1]! - bags.offsets[v]!;
        for (let i = bags.offsets[v]!; i < bags.offsets[v + 1]!; i++) df[base + bags.ids[i]!]! += rows;
      }
      if (to - from + 1 + bagCount > widest) widest = to - from + 1 + bagCount;
    }
    maxKeys += widest;
  }
  // A key no other row shares cannot find a neighbour; a key longer than the whole budget is never
  // walked. Both still count in a row's norm when shared by some rows, as in a plain cosine.
  const weight = keyWeights(columns, columnWeight, keys, df, n);
  const postingOffsets = sharedUint32(keys + 1);
  for (let key = 0; key < keys; key++) {
    const d = df[key]!;
    postingOffsets[key + 1] = postingOffsets[key]! + (weight[key]! > 0 && d <= budget ? d : 0);
  }
  const postings = sharedUint32(postingOffsets[keys]!);
  const fill = postingOffsets.slice(0, keys);
  const norm = sharedFloat32(n);
  const order = sharedUint32(n);
  const index: KeyIndex = { rowCount: n, k, budget, columns, df, weight, postingOffsets, postings, norm, maxKeys, order };
  const scratch = new Int32Array(Math.max(1, maxKeys));
  // Rarest walkable key per row (keys + 1: rows without one come last), for the search order.
  const rarest = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const m = rowKeys(t, index, r, scratch);
    let s = 0, best = keys, bestDf = Infinity;
    for (let i = 0; i < m; i++) {
      const key = scratch[i]!;
      const w = weight[key]!;
      if (w <= 0) continue;
      s += w * w;
      const d = df[key]!;
      if (d <= budget) {
        postings[fill[key]!++] = r;
        if (d < bestDf || (d === bestDf && key < best)) { best = key; bestDf = d; }
      }
    }
    norm[r] = Math.sqrt(s) || 1;
    rarest[r] = best;
  }
  const start = new Uint32Array(keys + 2);
  for (let r = 0; r < n; r++) start[rarest[r]! + 1]!++;
  for (let key = 0; key <= keys; key++) start[key + 1] = start[key + 1]! + start[key]!;
  for (let r = 0; r < n; r++) order[start[rarest[r]!]!++] = r;
  return index;
}

/**
 * The key index the neighbour search of rows `from` .. rowCount needs (an incremental run's new
 * rows), built without a pass over every row's keys: the same keys, document frequencies and
 * weights as buildKeyIndex, but posting lists only for the keys those rows walk (each complete, in
 * row order), and `order` holding only those rows. Costs the distinct values and their bags plus a
 * look-up per row and blocking column, not the keys of every row:
 *
 * - document frequencies come from the prepared bags, which count rows (a value's whole-value key
 *   is its rowsOf; a word key counts the rows of the values of two or more words holding it: the
 *   token's frequency less its single-word values' rows; a comparison's bag keys, their bags' own);
 * - a row's norm is the sum over its blocking columns of its value's sum of squared weights (the
 *   same terms as buildKeyIndex's, added in another order);
 * - a walked key's posting list is the rows of the values holding it (rows by value, counted per
 *   column for those values only), sorted.
 */
export function buildSearchIndex(t: PreparedTable, opts: BlockingOptions, from: number): KeyIndex {
  const n = t.rowCount, width = t.columns.length;
  const { k, budget } = blockingWidth(opts.accuracyCostTradeoff, n);
  const { columns, columnWeight, keys } = keyLayout(t, opts);
  const df = sharedInt32(keys);
  let maxKeys = 0;
  for (const { column, wholeBase, wordBase, bagKeys } of columns) {
    const col = t.columns[column]!;
    const offsets = col.tokens.offsets, ids = col.tokens.ids;
    df.set(col.rowsOf.subarray(0, col.valueCount), wholeBase);
    df.set(col.tokens.df.subarray(0, col.tokens.vocabulary), wordBase);
    for (const { base, bags } of bagKeys) df.set(bags.df.subarray(0, bags.vocabulary), base);
    let widest = 0;
    for (let v = 0; v < col.valueCount; v++) {
      const words = offsets[v + 1]! - offsets[v]!;
      if (words === 1) df[wordBase + ids[offsets[v]!]!]! -= col.rowsOf[v]!;
      let width = words + 1;
      for (const { bags } of bagKeys) width += bags.offsets[v + 1]! - bags.offsets[v]!;
      if (width > widest) widest = width;
    }
    maxKeys += widest;
  }
  const weight = keyWeights(columns, columnWeight, keys, df, n);
  const index: KeyIndex = {
    rowCount: n, k, budget, columns, df, weight,
    postingOffsets: sharedUint32(keys + 1), postings: sharedUint32(0), norm: sharedFloat32(n), maxKeys, order: sharedUint32(n - from),
  };
  // The keys the searched rows walk.
  const walked = new Uint8Array(keys);
  const scratch = new Int32Array(Math.max(1, maxKeys));
  const rarest = new Int32Array(n - from);
  for (let r = from; r < n; r++) {
    const m = rowKeys(t, index, r, scratch);
    let best = keys, bestDf = Infinity;
    for (let i = 0; i < m; i++) {
      const key = scratch[i]!, d = df[key]!;
      if (weight[key]! <= 0 || d > budget) continue;
      walked[key] = 1;
      if (d < bestDf || (d === bestDf && key < best)) { best = key; bestDf = d; }
    }
    rarest[r - from] = best;
  }
  // Per value: its sum of squared key weights, and the walked keys it holds as (key, column, value)
  // entries: a walked key's posting list is the rows of the values holding it.
  const valueNorm: Float64Array[] = [];
  let entries = new Int32Array(3 * 1024), count = 0;
  const hold = (key: number, c: number, v: number) => {
    if (3 * count + 3 > entries.length) {
      const grown = new Int32Array(entries.length * 2);
      grown.set(entries);
      entries = grown;
    }
    entries[3 * count] = key;
    entries[3 * count + 1] = c;
    entries[3 * count++ + 2] = v;
  };
  columns.forEach(({ column, wholeBase, wordBase, bagKeys }, c) => {
    const col = t.columns[column]!;
    const offsets = col.tokens.offsets, ids = col.tokens.ids;
    const norms = new Float64Array(col.valueCount);
    for (let v = 0; v < col.valueCount; v++) {
      let sum = 0;
      let key = wholeBase + v, w = weight[key]!;
      if (w > 0) sum += w * w;
      if (walked[key]) hold(key, c, v);
      if (offsets[v + 1]! - offsets[v]! > 1) {
        for (let i = offsets[v]!; i < offsets[v + 1]!; i++) {
          key = wordBase + ids[i]!;
          w = weight[key]!;
          if (w > 0) sum += w * w;
          if (walked[key]) hold(key, c, v);
        }
      }
      for (const { base, bags } of bagKeys) {
        for (let i = bags.offsets[v]!; i < bags.offsets[v + 1]!; i++) {
          key = base + bags.ids[i]!;
          w = weight[key]!;
          if (w > 0) sum += w * w;
          if (walked[key]) hold(key, c, v);
        }
      }
      norms[v] = sum;
    }
    valueNorm.push(norms);
  });
  // Every row's norm; per column, the rows of the values holding a walked key (CSR by value).
  const rowsOfValue: Array<{ offsets: Uint32Array; rows: Uint32Array }> = columns.map(({ column }) => {
    const valueCount = t.columns[column]!.valueCount;
    return { offsets: new Uint32Array(valueCount + 1), rows: new Uint32Array(0) };
  });
  const needed = columns.map(({ column }) => new Uint8Array(t.columns[column]!.valueCount));
  for (let i = 0; i < count; i++) needed[entries[3 * i + 1]!]![entries[3 * i + 2]!] = 1;
  for (let r = 0; r < n; r++) {
    let sum = 0;
    for (let c = 0; c < columns.length; c++) {
      const v = t.codes[r * width + columns[c]!.column]!;
      if (v < 0) continue;
      sum += valueNorm[c]![v]!;
      if (needed[c]![v]) rowsOfValue[c]!.offsets[v + 1]!++;
    }
    index.norm[r] = Math.sqrt(sum) || 1;
  }
  columns.forEach(({ column }, c) => {
    const { offsets } = rowsOfValue[c]!;
    for (let v = 0; v < offsets.length - 1; v++) offsets[v + 1] = offsets[v + 1]! + offsets[v]!;
    const rows = new Uint32Array(offsets[offsets.length - 1]!);
    const fill = offsets.slice(0, offsets.length - 1);
    for (let r = 0; r < n; r++) {
      const v = t.codes[r * width + column]!;
      if (v >= 0 && needed[c]![v]) rows[fill[v]!++] = r;
    }
    rowsOfValue[c]!.rows = rows;
  });
  // Posting lists: per walked key, the rows of its values, in row order.
  const postingOffsets = index.postingOffsets;
  for (let i = 0; i < count; i++) {
    const { offsets } = rowsOfValue[entries[3 * i + 1]!]!;
    const v = entries[3 * i + 2]!;
    postingOffsets[entries[3 * i]! + 1] = postingOffsets[entries[3 * i]! + 1]! + offsets[v + 1]! - offsets[v]!;
  }
  for (let key = 0; key < keys; key++) postingOffsets[key + 1] = postingOffsets[key + 1]! + postingOffsets[key]!;
  const postings = sharedUint32(postingOffsets[keys]!);
  const fill = postingOffsets.slice(0, keys);
  for (let i = 0; i < count; i++) {
    const key = entries[3 * i]!;
    const { offsets, rows } = rowsOfValue[entries[3 * i + 1]!]!;
    const v = entries[3 * i + 2]!;
    postings.set(rows.subarray(offsets[v]!, offsets[v + 1]!), fill[key]!);
    fill[key] = fill[key]! + offsets[v + 1]! - offsets[v]!;
  }
  for (let key = 0; key < keys; key++) if (walked[key]) postings.subarray(postingOffsets[key]!, postingOffsets[key + 1]!).sort();
  index.postings = postings;
  // The searched rows grouped by their rarest walkable key, as buildKeyIndex orders them.
  const rows = Uint32Array.from({ length: n - from }, (_, i) => i);
  rows.sort((x, y) => rarest[x]! - rarest[y]! || x - y);
  for (let i = 0; i < rows.length; i++) index.order[i] = from + rows[i]!;
  return index;
}

/** Top-k neighbours of rows [from, to), written at nbrs[r·k ..] with their count in counts[r]. */
export interface NeighbourLists {
  k: number;
  nbrs: Uint32Array;
  scores: Float32Array;
  counts: Uint8Array;
}

export function allocateNeighbours(n: number, k: number): NeighbourLists {
  return { k, nbrs: sharedUint32(n * k), scores: sharedFloat32(n * k), counts: sharedUint8(n) };
}

/**
 * Per-thread state of the neighbour search: score accumulators over all rows and the list of
 * rows touched, so each row costs only the postings it walks.
 */
export class NeighbourSearch {
  readonly #acc: Float32Array;
  readonly #touched: Uint32Array;
  readonly #keys: Int32Array;
  readonly #heapIdx: Uint32Array;
  readonly #heapVal: Float32Array;

  constructor(
    private readonly t: PreparedTable,
    private readonly index: KeyIndex,
  ) {
    this.#acc = new Float32Array(index.rowCount);
    this.#touched = new Uint32Array(index.rowCount);
    this.#heapIdx = new Uint32Array(index.k);
    this.#heapVal = new Float32Array(index.k);
    this.#keys = new Int32Array(Math.max(1, index.maxKeys));
  }

  /** Searches the rows at positions [from, to) of the index's order. */
  run(from: number, to: number, out: NeighbourLists): void {
    const order = this.index.order;
    for (let i = from; i < to; i++) this.#row(order[i]!, out);
  }

  #row(r: number, out: NeighbourLists): void {
    const { df, weight, postingOffsets, postings, norm, budget, k } = this.index;
    const keys = this.#keys;
    let m = rowKeys(this.t, this.index, r, keys);
    // Only walkable keys, rarest first (insertion sort: a row has a few dozen keys; a long text
    // may have thousands, which a comparison sort takes).
    let w = 0;
    for (let i = 0; i < m; i++) {
      const key = keys[i]!;
      if (weight[key]! > 0 && df[key]! <= budget) keys[w++] = key;
    }
    m = w;
    if (m > INSERTION_SORT_KEYS) keys.subarray(0, m).sort((x, y) => df[x]! - df[y]! || x - y);
    else for (let i = 1; i < m; i++) {
      const key = keys[i]!, d = df[key]!;
      let j = i - 1;
      while (j >= 0 && (df[keys[j]!]! > d || (df[keys[j]!]! === d && keys[j]! > key))) {
        keys[j + 1] = keys[j]!;
        j--;
      }
      keys[j + 1] = key;
    }
    const acc = this.#acc, touched = this.#touched;
    let nt = 0, spent = 0;
    for (let i = 0; i < m; i++) {
      const key = keys[i]!;
      if (i > 0 && key === keys[i - 1]) continue;
      const d = df[key]!;
      if (spent + d > budget) break;
      spent += d;
      const w2 = weight[key]! * weight[key]!;
      for (let p = postingOffsets[key]!, e = postingOffsets[key + 1]!; p < e; p++) {
        const s = postings[p]!;
        if (s === r) continue;
        if (acc[s] === 0) touched[nt++] = s;
        acc[s] = acc[s]! + w2;
      }
    }
    const heapIdx = this.#heapIdx, heapVal = this.#heapVal;
    let hs = 0;
    const nr = norm[r]!;
    for (let i = 0; i < nt; i++) {
      const s = touched[i]!;
      const v = acc[s]! / (nr * norm[s]!);
      acc[s] = 0;
      if (hs < k) {
        let j = hs++;
        while (j > 0) {
          const p = (j - 1) >> 1;
          if (heapVal[p]! < v || (heapVal[p] === v && heapIdx[p]! > s)) break;
          heapVal[j] = heapVal[p]!; heapIdx[j] = heapIdx[p]!; j = p;
        }
        heapVal[j] = v; heapIdx[j] = s;
      } else if (v > heapVal[0]! || (v === heapVal[0]! && s < heapIdx[0]!)) this.#replaceTop(s, v, hs);
    }
    // Best first: pop the min-heap into the list from the back.
    const base = r * k;
    out.counts[r] = hs;
    for (let end = hs - 1; end >= 0; end--) {
      out.nbrs[base + end] = heapIdx[0]!;
      out.scores[base + end] = heapVal[0]!;
      this.#replaceTop(heapIdx[end]!, heapVal[end]!, end);
    }
  }

  /**
   * Puts (s, v) at the top of the min-heap of its first `size` entries and sifts it down (the
   * lowest score on top; of equal scores the higher row, so ties keep the lower rows).
   */
  #replaceTop(s: number, v: number, size: number): void {
    const heapIdx = this.#heapIdx, heapVal = this.#heapVal;
    let j = 0;
    for (;;) {
      const l = 2 * j + 1;
      if (l >= size) break;
      let c = l;
      if (l + 1 < size && (heapVal[l + 1]! < heapVal[l]! || (heapVal[l + 1] === heapVal[l] && heapIdx[l + 1]! > heapIdx[l]!))) c = l + 1;
      if (heapVal[c]! > v || (heapVal[c] === v && heapIdx[c]! < s)) break;
      heapVal[j] = heapVal[c]!; heapIdx[j] = heapIdx[c]!; j = c;
    }
    heapVal[j] = v; heapIdx[j] = s;
  }
}

/** Quantization of blocking scores when pairs are sorted (scores are only used to rank). */
const SCORE_STEPS = 1 << 20;

/**
 * The unordered candidate pairs from the neighbour lists and the exact-duplicate pairs: grouped by
 * the lower row (counting sort), sorted within each group, duplicates dropped keeping the higher
 * score. No Map or Set: a million rows give tens of millions of directed pairs. The exact duplicates
 * come from `firstEqual` (firstEqualRows of `t`, passed by a caller that keeps it for clustering).
 */
export function collectCandidates(t: PreparedTable, lists: NeighbourLists, firstEqual: Int32Array = firstEqualRows(t)): Candidates {
  const n = t.rowCount, k = lists.k;
  const duplicates = exactDuplicatePairs(firstEqual);
  const perLow = new Uint32Array(n + 1);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < lists.counts[r]!; i++) {
      const s = lists.nbrs[r * k + i]!;
      perLow[Math.min(r, s) + 1]!++;
    }
  }
  for (let i = 0; i < duplicates.length; i += 2) perLow[duplicates[i]! + 1]!++;
  for (let r = 0; r < n; r++) perLow[r + 1] = perLow[r + 1]! + perLow[r]!;
  const total = perLow[n]!;
  const keys = new Float64Array(total);
  const fill = perLow.slice(0, n);
  const encode = (high: number, score: number) =>
    high * SCORE_STEPS + (SCORE_STEPS - 1 - Math.round(Math.min(1, Math.max(0, score)) * (SCORE_STEPS - 1)));
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < lists.counts[r]!; i++) {
      const s = lists.nbrs[r * k + i]!;
      const sc = lists.scores[r * k + i]!;
      keys[fill[Math.min(r, s)]!++] = encode(Math.max(r, s), sc);
    }
  }
  for (let i = 0; i < duplicates.length; i += 2) keys[fill[duplicates[i]!]!++] = encode(duplicates[i + 1]!, 1);
  let unique = 0;
  for (let r = 0; r < n; r++) {
    const from = perLow[r]!, to = perLow[r + 1]!;
    if (to - from > 1) keys.subarray(from, to).sort();
    for (let i = from; i < to; i++) if (i === from || Math.floor(keys[i]! / SCORE_STEPS) !== Math.floor(keys[i - 1]! / SCORE_STEPS)) unique++;
  }
  const A = sharedUint32(unique), B = sharedUint32(unique), S = sharedFloat32(unique);
  let u = 0;
  for (let r = 0; r < n; r++) {
    const from = perLow[r]!, to = perLow[r + 1]!;
    for (let i = from; i < to; i++) {
      const high = Math.floor(keys[i]! / SCORE_STEPS);
      if (i > from && high === Math.floor(keys[i - 1]! / SCORE_STEPS)) continue;
      A[u] = r;
      B[u] = high;
      S[u] = (SCORE_STEPS - 1 - (keys[i]! - high * SCORE_STEPS)) / (SCORE_STEPS - 1);
      u++;
    }
  }
  // Neighbour lists in CSR form, best first (active learning grows labeling sets along them).
  const nbrOffsets = new Uint32Array(n + 1);
  for (let r = 0; r < n; r++) nbrOffsets[r + 1] = nbrOffsets[r]! + lists.counts[r]!;
  const nbrs = new Uint32Array(nbrOffsets[n]!);
  for (let r = 0; r < n; r++) nbrs.set(lists.nbrs.subarray(r * k, r * k + lists.counts[r]!), nbrOffsets[r]!);
  return { a: A, b: B, score: S, nbrOffsets, nbrs };
}

/**
 * The candidates between rows below `rows` (the rows from `rows` on are in the table only for the
 * labels that name them): the pairs, and each row's neighbours, among those rows alone.
 */
export function candidatesWithin(c: Candidates, rows: number): Candidates {
  let m = 0;
  for (let i = 0; i < c.b.length; i++) if (c.b[i]! < rows) m++;
  const A = sharedUint32(m), B = sharedUint32(m), S = sharedFloat32(m);
  for (let i = 0, j = 0; i < c.b.length; i++) {
    if (c.b[i]! >= rows) continue;
    A[j] = c.a[i]!;
    B[j] = c.b[i]!;
    S[j++] = c.score[i]!;
  }
  const n = c.nbrOffsets.length - 1;
  const nbrOffsets = new Uint32Array(n + 1);
  for (let r = 0; r < n; r++) {
    let kept = 0;
    if (r < rows) for (let i = c.nbrOffsets[r]!; i < c.nbrOffsets[r + 1]!; i++) if (c.nbrs[i]! < rows) kept++;
    nbrOffsets[r + 1] = nbrOffsets[r]! + kept;
  }
  const nbrs = new Uint32Array(nbrOffsets[n]!);
  for (let r = 0, j = 0; r < rows && r < n; r++) {
    for (let i = c.nbrOffsets[r]!; i < c.nbrOffsets[r + 1]!; i++) if (c.nbrs[i]! < rows) nbrs[j++] = c.nbrs[i]!;
  }
  return { a: A, b: B, score: S, nbrOffsets, nbrs };
}

/** Share of the given pairs found among the candidates. */
export function blockingRecall(c: Candidates, pairs: ReadonlyArray<[number, number]>): number | undefined {
  if (pairs.length === 0) return undefined;
  let hit = 0;
  for (const [x, y] of pairs) {
    const a = Math.min(x, y), b = Math.max(x, y);
    if (hasPair(c, a, b)) hit++;
  }
  return hit / pairs.length;
}

export function hasPair(c: Candidates, a: number, b: number): boolean {
  let lo = 0, hi = c.a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const ma = c.a[mid]!, mb = c.b[mid]!;
    if (ma === a && mb === b) return true;
    if (ma < a || (ma === a && mb < b)) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * Rows equal in every compared column (`first`: firstEqualRows), as pairs (first row of the group, each other row), flat:
 * [low0, high0, low1, high1, …]. Their keys are the most common of all, so a group larger than the
 * budget would otherwise have every shared key skipped and never be compared: the easiest
 * duplicates of all (one customer inserted 200 times) would stay apart.
 */
function exactDuplicatePairs(first: Int32Array): Uint32Array {
  let m = 0;
  for (let r = 0; r < first.length; r++) if (first[r] !== r) m++;
  const out = new Uint32Array(2 * m);
  for (let r = 0, j = 0; r < first.length; r++) {
    if (first[r] === r) continue;
    out[j++] = first[r]!;
    out[j++] = r;
  }
  return out;
}

/**
 * Per row (of `rows`, default every row), the first row equal to it in every compared column (the
 * row itself when none comes before it), as an index into `rows`. Rows missing every compared value
 * are equal to no other row. An open-addressing table over the rows' value ids (typed arrays, no
 * string keys).
 */
export function firstEqualRows(t: PreparedTable, rows?: ArrayLike<number>): Int32Array {
  const n = rows ? rows.length : t.rowCount;
  const width = t.columns.length;
  const codes = t.codes;
  let size = 16;
  while (size < 2 * n) size *= 2;
  const mask = size - 1;
  const slotRow = new Int32Array(size).fill(-1);
  const first = new Int32Array(n);
  const same = (x: number, y: number) => {
    for (let c = 0; c < width; c++) if (codes[x * width + c] !== codes[y * width + c]) return false;
    return true;
  };
  for (let i = 0; i < n; i++) {
    first[i] = i;
    const r = rows ? rows[i]! : i;
    let h = 0x811c9dc5, present = false;
    for (let c = 0; c < width; c++) {
      const v = codes[r * width + c]!;
      if (v >= 0) present = true;
      h = Math.imul(h ^ v, 0x01000193);
      h ^= h >>> 15;
    }
    if (!present) continue;
    let slot = (h >>> 0) & mask;
    for (;;) {
      const earlier = slotRow[slot]!;
      if (earlier < 0) {
        slotRow[slot] = i;
        break;
      }
      if (same(rows ? rows[earlier]! : earlier, r)) {
        first[i] = earlier;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return first;
}

/** The whole candidate generation on the calling thread (the matcher spreads the search over threads). */
export function generateCandidates(t: PreparedTable, opts: BlockingOptions): Candidates {
  const index = buildKeyIndex(t, opts);
  const lists = allocateNeighbours(t.rowCount, index.k);
  new NeighbourSearch(t, index).run(0, t.rowCount, lists);
  return collectCandidates(t, lists);
}
