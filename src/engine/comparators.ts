/**
 * String, token and number comparators. Strings are ranges of a TextPool's UTF-16 code units and
 * bags are CSR entries of distinct values, so they work the same on the main thread and in worker
 * threads (shared memory) and allocate nothing per call (scratch buffers grow on demand).
 */
import type { Bags, TextPool } from './profile.js';

/**
 * Per-call bit masks of the positions of each character in the shorter string (Jaro's matching and
 * Myers' Levenshtein both use them): `slotOf[c]` numbers the string's distinct characters from 1,
 * `masks` holds `words` words per slot. Reset after each call, so a call costs O(length).
 */
const slotOf = new Int32Array(65536);
let masks = new Int32Array(64 * 4);

/** Fills slotOf/masks for chars[start .. start + len); returns the number of 32-bit words per slot. */
function indexPositions(chars: Uint16Array, start: number, len: number): number {
  const words = (len + 31) >>> 5;
  if (masks.length < len * words) masks = new Int32Array(len * words * 2);
  let slots = 0;
  for (let j = 0; j < len; j++) {
    const c = chars[start + j]!;
    let slot = slotOf[c]!;
    if (slot === 0) {
      slot = slotOf[c] = ++slots;
      for (let w = (slot - 1) * words, end = slot * words; w < end; w++) masks[w] = 0;
    }
    const at = (slot - 1) * words + (j >>> 5);
    masks[at] = masks[at]! | (1 << (j & 31));
  }
  return words;
}

function clearPositions(chars: Uint16Array, start: number, len: number): void {
  for (let j = 0; j < len; j++) slotOf[chars[start + j]!] = 0;
}

let flagged = new Int32Array(4);
let matchedChars = new Uint16Array(64);

/**
 * Jaro-Winkler similarity in [0, 1] (prefix scale 0.1, up to 4 characters) of values a and b of a
 * pool. Jaro's matching (each character of a takes the first unmatched equal character of b within
 * the window) is done on bit masks of b's positions: O(|a| + |b|) instead of O(|a| · window).
 */
export function jaroWinklerAt(pool: TextPool, a: number, b: number): number {
  const { chars, offsets } = pool;
  const sa = offsets[a]!, la = offsets[a + 1]! - sa;
  const sb = offsets[b]!, lb = offsets[b + 1]! - sb;
  if (la === 0 && lb === 0) return 1;
  if (la === 0 || lb === 0) return 0;
  if (a === b) return 1;
  const words = indexPositions(chars, sb, lb);
  if (flagged.length < words) flagged = new Int32Array(words * 2);
  for (let w = 0; w < words; w++) flagged[w] = 0;
  if (matchedChars.length < la) matchedChars = new Uint16Array(la * 2);
  const window = Math.max(0, (Math.max(la, lb) >> 1) - 1);
  let m = 0;
  if (words === 1) {
    // b fits one word: the window is a mask, the first unmatched position its lowest bit.
    let taken = 0;
    for (let i = 0; i < la; i++) {
      const ca = chars[sa + i]!;
      const slot = slotOf[ca]!;
      if (slot === 0) continue;
      const lo = i - window > 0 ? i - window : 0;
      const hi = i + window < lb - 1 ? i + window : lb - 1;
      if (lo > hi) continue;
      let bits = masks[slot - 1]! & ~taken & (-1 << lo);
      if (hi < 31) bits &= (1 << (hi + 1)) - 1;
      if (bits !== 0) {
        taken |= bits & -bits;
        matchedChars[m++] = ca;
      }
    }
    flagged[0] = taken;
  } else for (let i = 0; i < la; i++) {
    const ca = chars[sa + i]!;
    const slot = slotOf[ca]!;
    if (slot === 0) continue;
    const lo = i - window > 0 ? i - window : 0;
    const hi = i + window < lb - 1 ? i + window : lb - 1;
    if (lo > hi) continue;
    const base = (slot - 1) * words;
    for (let w = lo >>> 5, last = hi >>> 5; w <= last; w++) {
      let bits = masks[base + w]! & ~flagged[w]!;
      if (w === lo >>> 5) bits &= -1 << (lo & 31);
      if (w === last && (hi & 31) !== 31) bits &= (1 << ((hi & 31) + 1)) - 1;
      if (bits !== 0) {
        flagged[w] = flagged[w]! | (bits & -bits);
        matchedChars[m++] = ca;
        break;
      }
    }
  }
  clearPositions(chars, sb, lb);
  if (m === 0) return 0;
  let t = 0, k = 0;
  for (let w = 0; w < words; w++) {
    let bits = flagged[w]!;
    while (bits !== 0) {
      const low = bits & -bits;
      const j = (w << 5) + 31 - Math.clz32(low);
      if (chars[sb + j] !== matchedChars[k]) t++;
      k++;
      bits ^= low;
    }
  }
  const jaro = (m / la + m / lb + (m - t / 2) / m) / 3;
  let p = 0;
  const maxP = Math.min(4, la, lb);
  while (p < maxP && chars[sa + p] === chars[sb + p]) p++;
  return jaro + p * 0.1 * (1 - jaro);
}

let vp = new Int32Array(4);
let vn = new Int32Array(4);

/**
 * Levenshtein distance of pool values a and b by Myers' bit-parallel algorithm (one pass over the
 * longer string, 32 rows of the shorter per word), capped at maxDist + 1.
 */
export function levenshteinAt(pool: TextPool, a: number, b: number, maxDist = Infinity): number {
  const { chars, offsets } = pool;
  let sa = offsets[a]!, la = offsets[a + 1]! - sa;
  let sb = offsets[b]!, lb = offsets[b + 1]! - sb;
  if (la < lb) {
    let t = sa; sa = sb; sb = t;
    t = la; la = lb; lb = t;
  }
  // Now b, the pattern, is the shorter one.
  if (la - lb > maxDist) return Math.min(la, maxDist + 1);
  if (lb === 0) return la;
  const words = indexPositions(chars, sb, lb);
  if (words === 1) {
    let pv = -1, mv = 0, score = lb;
    const last = 1 << (lb - 1);
    for (let i = 0; i < la; i++) {
      const slot = slotOf[chars[sa + i]!]!;
      const eq = slot === 0 ? 0 : masks[slot - 1]!;
      const xv = eq | mv;
      const xh = (((eq & pv) + pv) ^ pv) | eq;
      let ph = mv | ~(xh | pv);
      let mh = pv & xh;
      if (ph & last) score++;
      else if (mh & last) score--;
      ph = (ph << 1) | 1;
      mh <<= 1;
      pv = mh | ~(xv | ph);
      mv = ph & xv;
    }
    clearPositions(chars, sb, lb);
    return score > maxDist ? maxDist + 1 : score;
  }
  if (vp.length < words) {
    vp = new Int32Array(words * 2);
    vn = new Int32Array(words * 2);
  }
  for (let w = 0; w < words; w++) {
    vp[w] = -1;
    vn[w] = 0;
  }
  const lastWord = words - 1;
  const lastBit = 1 << ((lb - 1) & 31);
  let score = lb;
  for (let i = 0; i < la; i++) {
    const slot = slotOf[chars[sa + i]!]!;
    const base = (slot - 1) * words;
    // Horizontal delta entering the top of each word: +1 at the first row (D[0][j] = j).
    let hin = 1;
    for (let w = 0; w < words; w++) {
      let eq = slot === 0 ? 0 : masks[base + w]!;
      const pv = vp[w]!, mv = vn[w]!;
      const xv = eq | mv;
      if (hin < 0) eq |= 1;
      const xh = (((eq & pv) + pv) ^ pv) | eq;
      let ph = mv | ~(xh | pv);
      let mh = pv & xh;
      if (w === lastWord) {
        if (ph & lastBit) score++;
        else if (mh & lastBit) score--;
      }
      const hout = ph & 0x80000000 ? 1 : mh & 0x80000000 ? -1 : 0;
      ph <<= 1;
      mh <<= 1;
      if (hin < 0) mh |= 1;
      else if (hin > 0) ph |= 1;
      vp[w] = mh | ~(xv | ph);
      vn[w] = ph & xv;
      hin = hout;
    }
  }
  clearPositions(chars, sb, lb);
  return score > maxDist ? maxDist + 1 : score;
}

/** 1 - distance / max length, in [0, 1]; 0 once the distance exceeds half the longer length. */
export function levenshteinSimAt(pool: TextPool, a: number, b: number): number {
  const L = Math.max(pool.offsets[a + 1]! - pool.offsets[a]!, pool.offsets[b + 1]! - pool.offsets[b]!);
  if (L === 0 || a === b) return 1;
  const band = Math.ceil(L / 2);
  const d = levenshteinAt(pool, a, b, band);
  return d > band ? 0 : 1 - d / L;
}

/** Jaccard of two values' token sets. */
export function bagJaccard(bags: Bags, r1: number, r2: number): number {
  const { offsets, ids } = bags;
  let i = offsets[r1]!, j = offsets[r2]!;
  const ie = offsets[r1 + 1]!, je = offsets[r2 + 1]!;
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

/** TF-IDF cosine of two values' bags (weights are unit-normalized). */
export function bagCosine(bags: Bags, r1: number, r2: number): number {
  const { offsets, ids, weights } = bags;
  let i = offsets[r1]!, j = offsets[r2]!;
  const ie = offsets[r1 + 1]!, je = offsets[r2 + 1]!;
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
  let i = offsets[r1]!, j = offsets[r2]!;
  const ie = offsets[r1 + 1]!, je = offsets[r2 + 1]!;
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

/** A pool holding the given strings (for tests and one-off comparisons). */
export function textPool(strings: readonly string[]): TextPool {
  let total = 0;
  for (const s of strings) total += s.length;
  const chars = new Uint16Array(total);
  const offsets = new Uint32Array(strings.length + 1);
  let at = 0;
  strings.forEach((s, v) => {
    for (let k = 0; k < s.length; k++) chars[at++] = s.charCodeAt(k);
    offsets[v + 1] = at;
  });
  return { chars, offsets };
}

/** Jaro-Winkler of two strings. */
export function jaroWinkler(a: string, b: string): number {
  return jaroWinklerAt(textPool([a, b]), 0, 1);
}

/** Levenshtein distance of two strings (see levenshteinAt). */
export function levenshtein(a: string, b: string, maxDist = Infinity): number {
  return levenshteinAt(textPool([a, b]), 0, 1, maxDist);
}

/** Levenshtein similarity of two strings (see levenshteinSimAt). */
export function levenshteinSim(a: string, b: string): number {
  return levenshteinSimAt(textPool([a, b]), 0, 1);
}
