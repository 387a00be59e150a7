/**
 * Candidate generation: an inverted index over (column, token) and (column, whole value) keys;
 * each record's top-k neighbours by IDF-weighted cosine over shared keys. Keys whose posting
 * list is longer than a cap (oversized blocks) are skipped. Column weights (learned from
 * labels through the model's column importances) scale the key weights, so blocking follows
 * what the labels say matters. `accuracyCostTradeoff` sets k and the block cap. Rows equal in
 * every compared column are always candidates, however many there are.
 */
import type { PreparedTable } from './profile.js';

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

export function blockingWidth(act: number, n: number): { k: number; cap: number } {
  const k = Math.round(6 + 34 * act * act);
  const cap = Math.max(40, Math.min(3000, Math.round(4 * Math.sqrt(n) * (0.5 + act))));
  return { k, cap };
}

export function generateCandidates(t: PreparedTable, opts: BlockingOptions): Candidates {
  const n = t.rowCount;
  const { k, cap } = blockingWidth(opts.accuracyCostTradeoff, n);
  // Collect keys per row: [keyId, weight].
  const keyDict = new Map<string, number>();
  const rowKeys: number[][] = new Array(n);
  for (let r = 0; r < n; r++) rowKeys[r] = [];
  const colOfKey: number[] = [];
  t.columns.forEach((col, ci) => {
    const kind = col.profile.kind;
    const w = opts.columnWeights ? opts.columnWeights[ci]! : 1;
    if (w <= 0 || kind === 'categorical' || kind === 'mostlyEmpty') return;
    const tok = col.tokens;
    for (let r = 0; r < n; r++) {
      if (col.missing[r]) continue;
      const keys = rowKeys[r]!;
      const whole = `${ci}\u0001${col.norm[r]}`;
      let id = keyDict.get(whole);
      if (id === undefined) { id = keyDict.size; keyDict.set(whole, id); colOfKey.push(ci); }
      keys.push(id);
      if (tok.offsets[r + 1]! - tok.offsets[r]! > 1) {
        for (let i = tok.offsets[r]!; i < tok.offsets[r + 1]!; i++) {
          const key = `${ci}\u0002${tok.ids[i]}`;
          let kid = keyDict.get(key);
          if (kid === undefined) { kid = keyDict.size; keyDict.set(key, kid); colOfKey.push(ci); }
          keys.push(kid);
        }
      }
    }
  });
  const K = keyDict.size;
  const df = new Int32Array(K);
  for (let r = 0; r < n; r++) {
    const ks = rowKeys[r]!;
    ks.sort((x, y) => x - y);
    let w = 0;
    for (let i = 0; i < ks.length; i++) if (i === 0 || ks[i] !== ks[i - 1]) ks[w++] = ks[i]!;
    ks.length = w;
    for (const kk of ks) df[kk]!++;
  }
  const weight = new Float32Array(K);
  for (let kk = 0; kk < K; kk++) {
    const cw = opts.columnWeights ? opts.columnWeights[colOfKey[kk]!]! : 1;
    weight[kk] = df[kk]! > cap || df[kk]! < 2 ? 0 : Math.log(n / df[kk]!) * cw;
  }
  // Postings.
  const pOff = new Uint32Array(K + 1);
  for (let kk = 0; kk < K; kk++) pOff[kk + 1] = pOff[kk]! + (weight[kk]! > 0 ? df[kk]! : 0);
  const post = new Uint32Array(pOff[K]!);
  const fill = pOff.slice(0, K);
  const norm = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (const kk of rowKeys[r]!) {
      const w = weight[kk]!;
      if (w > 0) post[fill[kk]!++] = r;
      s += w * w;
    }
    norm[r] = Math.sqrt(s) || 1;
  }
  // Top-k neighbours.
  const acc = new Float64Array(n);
  const touched = new Uint32Array(n);
  const nbrOffsets = new Uint32Array(n + 1);
  const nbrList: number[] = [];
  const nbrScore: number[] = [];
  const heapIdx = new Uint32Array(k);
  const heapVal = new Float64Array(k);
  for (let r = 0; r < n; r++) {
    let nt = 0;
    for (const kk of rowKeys[r]!) {
      const w = weight[kk]!;
      if (w <= 0) continue;
      const w2 = w * w;
      for (let i = pOff[kk]!; i < pOff[kk + 1]!; i++) {
        const s = post[i]!;
        if (s === r) continue;
        if (acc[s] === 0) touched[nt++] = s;
        acc[s] = acc[s]! + w2;
      }
    }
    // Select top-k by a simple min-heap.
    let hs = 0;
    for (let i = 0; i < nt; i++) {
      const s = touched[i]!;
      const v = acc[s]! / (norm[r]! * norm[s]!);
      acc[s] = 0;
      if (hs < k) {
        let j = hs++;
        while (j > 0) {
          const p = (j - 1) >> 1;
          if (heapVal[p]! <= v) break;
          heapVal[j] = heapVal[p]!; heapIdx[j] = heapIdx[p]!; j = p;
        }
        heapVal[j] = v; heapIdx[j] = s;
      } else if (v > heapVal[0]! || (v === heapVal[0]! && s < heapIdx[0]!)) {
        let j = 0;
        for (;;) {
          const l = 2 * j + 1;
          if (l >= hs) break;
          const c = l + 1 < hs && heapVal[l + 1]! < heapVal[l]! ? l + 1 : l;
          if (heapVal[c]! >= v) break;
          heapVal[j] = heapVal[c]!; heapIdx[j] = heapIdx[c]!; j = c;
        }
        heapVal[j] = v; heapIdx[j] = s;
      }
    }
    const items: Array<[number, number]> = [];
    for (let i = 0; i < hs; i++) items.push([heapIdx[i]!, heapVal[i]!]);
    items.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    for (const [s, v] of items) { nbrList.push(s); nbrScore.push(v); }
    nbrOffsets[r + 1] = nbrList.length;
  }
  // Union of neighbour pairs and exact-duplicate pairs.
  const duplicates = exactDuplicatePairs(t);
  const m = nbrList.length;
  const keys = new Float64Array(m + duplicates.length);
  const sc = new Map<number, number>();
  for (let r = 0; r < n; r++) {
    for (let i = nbrOffsets[r]!; i < nbrOffsets[r + 1]!; i++) {
      const s = nbrList[i]!;
      const key = r < s ? r * n + s : s * n + r;
      keys[i] = key;
      sc.set(key, nbrScore[i]!);
    }
  }
  duplicates.forEach((key, i) => {
    keys[m + i] = key;
    sc.set(key, 1);
  });
  keys.sort();
  let u = 0;
  for (let i = 0; i < keys.length; i++) if (i === 0 || keys[i] !== keys[i - 1]) keys[u++] = keys[i]!;
  const A = new Uint32Array(u), B = new Uint32Array(u), S = new Float32Array(u);
  for (let i = 0; i < u; i++) {
    const key = keys[i]!;
    A[i] = Math.floor(key / n);
    B[i] = key - A[i]! * n;
    S[i] = sc.get(key)!;
  }
  return { a: A, b: B, score: S, nbrOffsets, nbrs: Uint32Array.from(nbrList) };
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
 * Rows equal in every compared column, as pairs (first row of the group, each other row) keyed
 * a·n + b. Their keys are the most common of all, so a group larger than the block cap would
 * otherwise have every shared key skipped as an oversized block and never be compared: the
 * easiest duplicates of all (one customer inserted 200 times) would stay apart. Rows missing every
 * compared value are not duplicates of each other.
 */
function exactDuplicatePairs(t: PreparedTable): number[] {
  const n = t.rowCount;
  const firstOf = new Map<string, number>();
  const out: number[] = [];
  for (let r = 0; r < n; r++) {
    let present = false;
    const parts: string[] = [];
    for (const col of t.columns) {
      if (col.missing[r]) parts.push('\u0000');
      else { parts.push(col.norm[r]!); present = true; }
    }
    if (!present) continue;
    const fingerprint = parts.join('\u0001');
    const first = firstOf.get(fingerprint);
    if (first === undefined) firstOf.set(fingerprint, r);
    else out.push(first * n + r);
  }
  return out;
}
