/** Text normalization and tokenization used by profiling, features and blocking. */

const COMBINING = /[\u0300-\u036f]/g;
const NON_ALNUM = /[^a-z0-9]+/g;

/** Lower-case, strip diacritics, turn every non-alphanumeric run into one space, trim. */
export function normalizeText(v: string): string {
  // Plain ASCII has no diacritics to strip: skip the (costly) Unicode decomposition.
  for (let i = 0; i < v.length; i++) {
    if (v.charCodeAt(i) >= 128) return v.normalize('NFKD').replace(COMBINING, '').toLowerCase().replace(NON_ALNUM, ' ').trim();
  }
  return v.toLowerCase().replace(NON_ALNUM, ' ').trim();
}

const CODE_CHUNK = /^[a-z0-9]+(?:[-./_][a-z0-9]+)*$/;
const CODE_JOINS = /[-./_]/g;
const CHUNK_ENDS = /^[^a-z0-9]+|[^a-z0-9]+$/g;
const ORDINAL = /^\d+(?:st|nd|rd|th)$/;
const DIGIT = /\d/;

/**
 * The codes in a raw value: product, model and part numbers. A code is a whitespace-separated
 * chunk of letters and digits, possibly joined by - . / _, with the joins dropped, so the
 * spellings one source writes with separators and another without ("CDP-CX355", "CDPCX355") give
 * the same code. It mixes letters and digits in at least 4 characters (not an ordinal such as
 * "42nd"), or is all digits in at least 6: prices, sizes and years are not codes. Distinct, in
 * order of appearance.
 */
export function codeTokens(raw: string): string[] {
  const out: string[] = [];
  if (!DIGIT.test(raw)) return out;
  for (const piece of raw.toLowerCase().split(/\s+/)) {
    const chunk = piece.replace(CHUNK_ENDS, '');
    if (chunk.length < 4 || !CODE_CHUNK.test(chunk)) continue;
    const code = chunk.replace(CODE_JOINS, '');
    let digits = 0;
    for (let i = 0; i < code.length; i++) {
      const c = code.charCodeAt(i);
      if (c >= 48 && c <= 57) digits++;
    }
    const isCode = digits === code.length ? code.length >= 6 : digits > 0 && code.length >= 4 && !ORDINAL.test(code);
    if (isCode && !out.includes(code)) out.push(code);
  }
  return out;
}

/** Word tokens of a normalized string. */
export function wordTokens(norm: string): string[] {
  return norm.length === 0 ? [] : norm.split(' ');
}

/**
 * Character 3-grams of a normalized string (padded with '#' at each end) as numbers: each of the
 * three characters in 7 bits (normalized text is [a-z0-9 ]), written into `out`; returns how many.
 * Same grams as qgrams(norm, 3), without a string per gram.
 */
export function trigramCodes(norm: string, out: Int32Array): number {
  if (norm.length === 0) return 0;
  const PAD = 35; // '#'
  const len = norm.length + 2;
  const at = (i: number) => (i === 0 || i === len - 1 ? PAD : norm.charCodeAt(i - 1) & 127);
  if (len <= 3) {
    let code = 0;
    for (let i = 0; i < len; i++) code = (code << 7) | at(i);
    out[0] = code;
    return 1;
  }
  let n = 0;
  for (let i = 0; i + 3 <= len; i++) out[n++] = (at(i) << 14) | (at(i + 1) << 7) | at(i + 2);
  return n;
}

/** Character q-grams of a normalized string, padded with one boundary marker at each end. */
export function qgrams(norm: string, q = 3): string[] {
  if (norm.length === 0) return [];
  const s = `#${norm}#`;
  if (s.length <= q) return [s];
  const out: string[] = [];
  for (let i = 0; i + q <= s.length; i++) out.push(s.slice(i, i + q));
  return out;
}

/** Parse a number (allows thousands separators, a leading currency sign); NaN when not numeric. */
export function parseNumber(v: string): number {
  const t = v.trim().replace(/^[$€£]/, '').replace(/,/g, '');
  if (t.length === 0 || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return NaN;
  return Number(t);
}

/** Parse a date as days since 1970-01-01: YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, DD/MM/YYYY-ish; NaN otherwise. */
export function parseDate(v: string): number {
  const t = v.trim();
  let m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?$/.exec(t);
  let y: number, mo: number, d: number;
  if (m) {
    y = +m[1]!; mo = +m[2]!; d = +m[3]!;
  } else if ((m = /^(\d{4})(\d{2})(\d{2})$/.exec(t))) {
    y = +m[1]!; mo = +m[2]!; d = +m[3]!;
  } else if ((m = /^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$/.exec(t))) {
    y = +m[3]!; mo = +m[1]!; d = +m[2]!;
    if (mo > 12) { const x = mo; mo = d; d = x; }
  } else return NaN;
  if (y < 1000 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31) return NaN;
  return Date.UTC(y, mo - 1, d) / 86400000;
}
