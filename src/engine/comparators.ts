/**
 * String, token and number comparators. All work on normalized strings or CSR bags and
 * allocate nothing per call (scratch buffers are module-level and grow on demand).
 */
import type { Bags } from './profile.js';

let matchA = new Uint8Array(64);
let matchB = new Uint8Array(64);

/** Jaro-Winkler similarity in [0, 1] (prefix scale 0.1, up to 4 characters). */
export function jaroWinkler(a: string, b: string): number {
  const la = a.length, lb = b.length;
  if (la === 0 && lb === 0) return 1;
  if (la === 0 || lb === 0) return 0;
  if (a === b) return 1;
  if (matchA.length < la) matchA = new Uint8Array(la * 2);
  if (matchB.length < lb) matchB = new Uint8Array(lb * 2);
  const mA = matchA, mB = matchB;
  mA.fill(0, 0, la);
  mB.fill(0, 0, lb);
  const window = Math.max(0, (Math.max(la, lb) >> 1) - 1);
  let m = 0;
  for (let i = 0; i < la; i++) {
    const lo = Math.max(0, i - window), hi = Math.min(lb - 1, i + window);
    const ca = a.charCodeAt(i);
    for (let j = lo; j <= hi; j++) {
      if (mB[j] === 0 && b.charCodeAt(j) === ca) {
        mA[i] = 1;
        mB[j] = 1;
        m++;
        break;
      }
    }
  }
  if (m === 0) return 0;
  let t = 0, k = 0;
  for (let i = 0; i < la; i++) {
    if (mA[i] === 0) continue;
    while (mB[k] === 0) k++;
    if (a.charCodeAt(i) !== b.charCodeAt(k)) t++;
    k++;
  }
  const jaro = (m / la + m / lb + (m - t / 2) / m) / 3;
  let p = 0;
  const maxP = Math.min(4, la, lb);
  while (p < maxP && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  return jaro + p * 0.1 * (1 - jaro);
}

let prev = new Int32Array(64);
let cur = new Int32Array(64);

/**
 * Levenshtein distance, banded: gives up (returns maxDist + 1) as soon as the distance must
 * exceed maxDist.
 */
export function levenshtein(a: string, b: string, maxDist = Infinity): number {
  let la = a.length, lb = b.length;
  if (la < lb) {
    const t = a; a = b; b = t;
    la = a.length; lb = b.length;
  }
  if (la - lb > maxDist) return Math.min(la, maxDist + 1);
  if (lb === 0) return la;
  if (prev.length <= lb) {
    prev = new Int32Array(lb * 2 + 2);
    cur = new Int32Array(lb * 2 + 2);
  }
  let p = prev, c = cur;
  for (let j = 0; j <= lb; j++) p[j] = j;
  for (let i = 1; i <= la; i++) {
    c[0] = i;
    let rowMin = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= lb; j++) {
      const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
      let v = p[j - 1]! + cost;
      const del = p[j]! + 1;
      if (del < v) v = del;
      const ins = c[j - 1]! + 1;
      if (ins < v) v = ins;
      c[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > maxDist) return maxDist + 1;
    const t = p; p = c; c = t;
  }
  return p[lb]!;
}

/** 1 - distance / max length, in [0, 1]; strings longer than 64 use a band of half the length. */
export function levenshteinSim(a: string, b: string): number {
  const L = Math.max(a.length, b.length);
  if (L === 0) return 1;
  if (a === b) return 1;
  const band = Math.ceil(L / 2);
  const d = levenshtein(a, b, band);
  return d > band ? 0 : 1 - d / L;
}

/** Jaccard of two rows' token sets. */
export function bagJaccard(bags: Bags, r1: number, r2: number): number {
  const { offsets, ids } = bags;
  let i = offsets[r1]!, ie = offsets[r1 + 1]!, j = offsets[r2]!, je = offsets[r2 + 1]!;
  const na = ie - i, nb = je - j;
  if (na === 0 && nb === 0) return 1;
  if (na === 0 || nb === 0) return 0;
  let inter = 0;
  while (i < ie && j < je) {
    const x = ids[i]!, y = ids[j]!;
    if (x === y) { inter++; i++; j++; }
    else if (x < y) i++;
    else j++;
  }
  return inter / (na + nb - inter);
}

/** TF-IDF cosine of two rows' bags (weights are unit-normalized). */
export function bagCosine(bags: Bags, r1: number, r2: number): number {
  const { offsets, ids, weights } = bags;
  let i = offsets[r1]!, ie = offsets[r1 + 1]!, j = offsets[r2]!, je = offsets[r2 + 1]!;
  if (i === ie || j === je) return i === ie && j === je ? 1 : 0;
  let s = 0;
  while (i < ie && j < je) {
    const x = ids[i]!, y = ids[j]!;
    if (x === y) { s += weights[i]! * weights[j]!; i++; j++; }
    else if (x < y) i++;
    else j++;
  }
  return s > 1 ? 1 : s;
}

/** Relative numeric similarity: 1 - |a-b| / max(|a|,|b|), 0 for NaN. */
export function relativeSim(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return 0;
  if (a === b) return 1;
  const m = Math.max(Math.abs(a), Math.abs(b));
  return m === 0 ? 1 : Math.max(0, 1 - Math.abs(a - b) / m);
}

/** Absolute-difference similarity: 1 / (1 + |a-b| / scale). */
export function absoluteSim(a: number, b: number, scale: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return 0;
  return 1 / (1 + Math.abs(a - b) / scale);
}

/** Rarest shared token: max IDF over shared entries, scaled by the largest possible IDF (0 when none). */
export function bagMaxSharedIdf(bags: Bags, r1: number, r2: number): number {
  const { offsets, ids, df } = bags;
  let i = offsets[r1]!, ie = offsets[r1 + 1]!, j = offsets[r2]!, je = offsets[r2 + 1]!;
  let minDf = Infinity;
  while (i < ie && j < je) {
    const x = ids[i]!, y = ids[j]!;
    if (x === y) { if (df[x]! < minDf) minDf = df[x]!; i++; j++; }
    else if (x < y) i++;
    else j++;
  }
  if (minDf === Infinity || bags.docs < 2) return 0;
  return Math.log(bags.docs / minDf) / Math.log(bags.docs);
}
