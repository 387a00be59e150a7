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
  let slots = 0;
  for (let j = 0; j < len; j++) {
    const c = chars[start + j]!;
    let slot = slotOf[c]!;
    if (slot === 0) {
      slot = slotOf[c] = ++slots;
      // Sized by the distinct characters met, not the length: a long value has few of them.
      if (masks.length < slot * words) {
        const grown = new Int32Array(Math.max(slot * words, masks.length * 2));
        grown.set(masks.subarray(0, (slot - 1) * words));
        masks = grown;
      }
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


/** Jaro-Winkler of non-empty strings a and b, b's positions indexed (`words` words per character). */
function jaroWinklerIndexed(chars: Uint16Array, sa: number, la: number, sb: number, lb: number, words: number): number {
  if (flagged.length < words) flagged = new Int32Array(words * 2);
  for (let w = 0; w < words; w++) flagged[w] = 0;
  if (matchedChars.length < la) matchedChars = new Uint16Array(la * 2);
  const window = Math.max(0, (Math.max(la, lb) >> 1) - 1);
  let m = 0;
  for (let i = 0; i < la; i++) {
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
  if (la - lb > maxDist) return Math.min(la, maxDist + 1);
  if (lb === 0) return la;
  const words = indexPositions(chars, sb, lb);
  const d = levenshteinIndexed(chars, sa, la, lb, words);
  clearPositions(chars, sb, lb);
  return d > maxDist ? maxDist + 1 : d;
}

/** Levenshtein distance of text chars[sa .. sa + la) to the indexed pattern of length lb ≤ la. */
function levenshteinIndexed(chars: Uint16Array, sa: number, la: number, lb: number, words: number): number {
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
    return score;
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
  return score;
}

/**
 * Jaro-Winkler and Levenshtein similarity of two values at once, from one index of the shorter
 * string's positions (out[0] = Jaro-Winkler with the shorter string as the one matched into,
 * out[1] = Levenshtein similarity). Symmetric in a and b.
 */
export function stringSimilarities(pool: TextPool, a: number, b: number, out: Float64Array): void {
  const { chars, offsets } = pool;
  let sa = offsets[a]!, la = offsets[a + 1]! - sa;
  let sb = offsets[b]!, lb = offsets[b + 1]! - sb;
  if (a === b || (la === 0 && lb === 0)) {
    out[0] = 1;
    out[1] = 1;
    return;
  }
  if (la === 0 || lb === 0) {
    out[0] = 0;
    out[1] = 0;
    return;
  }
  if (la < lb || (la === lb && a > b)) {
    let t = sa; sa = sb; sb = t;
    t = la; la = lb; lb = t;
  }
  const words = indexPositions(chars, sb, lb);
  out[0] = jaroWinklerIndexed(chars, sa, la, sb, lb, words);
  const band = Math.ceil(la / 2);
  if (la - lb > band) out[1] = 0;
  else {
    const d = levenshteinIndexed(chars, sa, la, lb, words);
    out[1] = d > band ? 0 : 1 - d / la;
  }
  clearPositions(chars, sb, lb);
}

/**
 * Token-set similarities of two values at once, in one merge of their sorted bags: out[0] =
 * Jaccard, out[1] = TF-IDF cosine, out[2] = rarest shared token (as bagMaxSharedIdf).
 */
export function bagSimilarities(bags: Bags, r1: number, r2: number, out: Float64Array): void {
  const { offsets, ids, weights, df } = bags;
  let i = offsets[r1]!, j = offsets[r2]!;
  const ie = offsets[r1 + 1]!, je = offsets[r2 + 1]!;
  const na = ie - i, nb = je - j;
  if (na === 0 || nb === 0) {
    const both = na === 0 && nb === 0 ? 1 : 0;
    out[0] = both;
    out[1] = both;
    out[2] = 0;
    return;
  }
  let inter = 0, dot = 0, minDf = Infinity;
  while (i < ie && j < je) {
    const x = ids[i]!, y = ids[j]!;
    if (x === y) {
      inter++;
      dot += weights[i]! * weights[j]!;
      if (df[x]! < minDf) minDf = df[x]!;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  out[0] = inter / (na + nb - inter);
  out[1] = dot > 1 ? 1 : dot;
  out[2] = minDf === Infinity || bags.docs < 2 ? 0 : Math.log(bags.docs / minDf) / Math.log(bags.docs);
}



/**
 * Code evidence of two values from their code bags (profile.ts `codes`): out[0] = the best
 * agreement between a code of one and a code of the other, 1 for the same code and
 * shorter / longer when one code begins or ends the other (a family code and its variant:
 * "cli221" and "cli221gry"; the shorter at least 4 characters), times the rarity of the more
 * common of the two (log(docs / df) / log(docs)): two records sharing a code that half the table
 * holds say little. out[1] = 1 when both values hold codes and none agree (different model
 * numbers), else 0. Both 0 when either value holds no code.
 */
export function codeSimilarities(codes: Bags, text: TextPool, a: number, b: number, out: Float64Array): void {
  const { offsets, ids, df, docs } = codes;
  const ia = offsets[a]!, ea = offsets[a + 1]!, ib = offsets[b]!, eb = offsets[b + 1]!;
  if (ia === ea || ib === eb) {
    out[0] = 0;
    out[1] = 0;
    return;
  }
  const logDocs = Math.log(Math.max(2, docs));
  let best = 0;
  for (let i = ia; i < ea; i++) {
    const x = ids[i]!;
    for (let j = ib; j < eb; j++) {
      const y = ids[j]!;
      const agreement = x === y ? 1 : affixAgreement(text, x, y);
      if (agreement === 0) continue;
      const rarity = Math.max(0, Math.log(Math.max(2, docs) / Math.max(df[x]!, df[y]!, 1)) / logDocs);
      if (agreement * rarity > best) best = agreement * rarity;
    }
  }
  out[0] = best;
  out[1] = best === 0 ? 1 : 0;
}

/** shorter / longer when code x begins or ends code y or the other way round (shorter ≥ 4), else 0. */
function affixAgreement(text: TextPool, x: number, y: number): number {
  const { chars, offsets } = text;
  let sx = offsets[x]!, lx = offsets[x + 1]! - sx, sy = offsets[y]!, ly = offsets[y + 1]! - sy;
  if (lx > ly) {
    let t = sx; sx = sy; sy = t;
    t = lx; lx = ly; ly = t;
  }
  if (lx < 4 || lx === ly) return 0;
  let prefix = true, suffix = true;
  for (let k = 0; k < lx && (prefix || suffix); k++) {
    const c = chars[sx + k]!;
    if (chars[sy + k] !== c) prefix = false;
    if (chars[sy + ly - lx + k] !== c) suffix = false;
  }
  return prefix || suffix ? lx / ly : 0;
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


/** Levenshtein distance of two strings (see levenshteinAt). */
export function levenshtein(a: string, b: string, maxDist = Infinity): number {
  return levenshteinAt(textPool([a, b]), 0, 1, maxDist);
}

