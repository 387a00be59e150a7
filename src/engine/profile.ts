/**
 * Column profiling and preparation: infer each column's kind from its values, then build the
 * form the comparators work on. Everything is per distinct value, not per row: a row holds only
 * the id of its normalized value (`codes`), and each distinct value is normalized, tokenized and
 * parsed once (its characters, sorted token and 3-gram ids with TF-IDF weights in CSR form, its
 * number or date). All arrays are shared, so the engine's worker threads read them in place.
 */
import type { EngineColumn, EngineTable } from './api.js';
import { preparationsFor } from './comparisons/index.js';
import { codeTokens, normalizeText, parseDate, parseNumber, trigramCodes, wordTokens } from './normalize.js';
import { growFloat32, growInt32, growUint16, growUint32, sharedFloat32, sharedFloat64, sharedInt32, sharedUint32 } from './shared.js';
import { StringInterner } from './table.js';

export type ColumnKind =
  | 'identifier'
  | 'numeric'
  | 'date'
  | 'categorical'
  | 'shortText'
  | 'longText'
  | 'mostlyEmpty';

export interface ColumnProfile {
  index: number;
  name: string;
  kind: ColumnKind;
  nullRate: number;
  cardinality: number;
  meanLength: number;
  meanTokens: number;
}

/** The characters of every distinct value: value v is chars[offsets[v] .. offsets[v+1]). */
export interface TextPool {
  chars: Uint16Array;
  offsets: Uint32Array;
}

/**
 * Sparse bags per distinct value in CSR form: value v owns ids[offsets[v] .. offsets[v+1]), ids
 * sorted ascending. Frequencies count rows, not values.
 */
export interface Bags {
  offsets: Uint32Array;
  ids: Int32Array;
  /** Unit-normalized TF-IDF weight of each entry. */
  weights: Float32Array;
  /** Rows holding each id. */
  df: Int32Array;
  vocabulary: number;
  /** Rows with at least one entry. */
  docs: number;
}

export interface PreparedColumn {
  profile: ColumnProfile;
  /** Distinct normalized values. */
  valueCount: number;
  /** Rows per value. */
  rowsOf: Int32Array;
  text: TextPool;
  tokens: Bags;
  grams?: Bags;
  /**
   * The codes (normalize.ts codeTokens) of each value, for text columns where codes are common
   * (CODE_SHARE); `codeText` holds each code's characters by code id.
   */
  codes?: Bags;
  codeText?: TextPool;
  /** Parsed number (numeric) or day number (date) per value, NaN when unparsable. */
  num?: Float64Array;
  /** Spread of `num` over rows (a tenth of the standard deviation, at least 1e-9) for absolute differences. */
  numScale?: number;
  /** Some row misses the value. */
  anyMissing: boolean;
  /** The characters of each word of `tokens`, by word id (incremental state: state.ts appends new values). */
  wordText?: TextPool;
  /** The 3-gram code (normalize.ts trigramCodes) of each id of `grams`. */
  gramCodes?: Int32Array;
}

export interface PreparedTable {
  rowCount: number;
  columns: PreparedColumn[];
  /**
   * Per row and column (row-major: `codes[r * columns.length + c]`): the id of the row's normalized
   * value, -1 when missing (NULL, blank, or nothing left after normalizing). Row-major because a
   * pair comparison reads every column of two rows: one cache line per row instead of one per column.
   */
  codes: Int32Array;
}

function isBlank(v: string | null | undefined): boolean {
  return v === null || v === undefined || v.trim().length === 0;
}

/**
 * Distinct raw values normalized (normalize.ts normalizeText) and numbered: `idOf[raw]` is the
 * number of the raw value's normalized text in `texts`, -1 when the raw value is blank or nothing
 * is left of it. Several raw spellings ("Smith", "SMITH ") share one.
 */
interface NormalizedValues {
  idOf: Int32Array;
  texts: string[];
  /** Per normalized text, the first raw value that gave it. */
  firstRaw: number[];
  /** Some non-blank raw value normalized to nothing. */
  someEmpty: boolean;
}

function normalizeValues(values: ReadonlyArray<string | null>, counts?: ArrayLike<number>): NormalizedValues {
  const index = new StringInterner();
  const idOf = new Int32Array(values.length);
  const texts: string[] = [];
  const firstRaw: number[] = [];
  let someEmpty = false;
  for (let raw = 0; raw < values.length; raw++) {
    const v = values[raw];
    if ((counts && counts[raw] === 0) || isBlank(v)) {
      idOf[raw] = -1;
      continue;
    }
    const s = normalizeText(v!);
    if (s.length === 0) {
      idOf[raw] = -1;
      someEmpty = true;
      continue;
    }
    const id = index.intern(s);
    idOf[raw] = id;
    if (id === texts.length) {
      texts.push(s);
      firstRaw.push(raw);
    }
  }
  return { idOf, texts, firstRaw, someEmpty };
}

/**
 * Infer the kind and statistics of one column from its values (distinct values with `counts` rows
 * each, or one entry per row without counts).
 */
export function profileColumn(
  name: string,
  index: number,
  values: ReadonlyArray<string | null>,
  counts?: ArrayLike<number>,
): ColumnProfile {
  return profileNormalized(name, index, values, counts, normalizeValues(values, counts));
}

function profileNormalized(
  name: string,
  index: number,
  values: ReadonlyArray<string | null>,
  counts: ArrayLike<number> | undefined,
  normalized: NormalizedValues,
): ColumnProfile {
  let rows = 0, nonNull = 0, lenSum = 0, tokSum = 0, dates = 0, nums = 0, ints = 0, digitHeavy = 0;
  for (let i = 0; i < values.length; i++) {
    const w = counts ? counts[i]! : 1;
    rows += w;
    const v = values[i];
    if (w === 0 || isBlank(v)) continue;
    const s = v!.trim();
    nonNull += w;
    const id = normalized.idOf[i]!;
    const norm = id < 0 ? '' : normalized.texts[id]!;
    lenSum += w * norm.length;
    if (norm.length > 0) {
      let words = 1;
      for (let k = 0; k < norm.length; k++) if (norm.charCodeAt(k) === 32) words++;
      tokSum += w * words;
    }
    if (!Number.isNaN(parseDate(s))) dates += w;
    if (!Number.isNaN(parseNumber(s))) {
      nums += w;
      if (/^\d+$/.test(s)) ints += w;
    }
    let digits = 0;
    for (let k = 0; k < s.length; k++) {
      const c = s.charCodeAt(k);
      if (c >= 48 && c <= 57) digits++;
    }
    if (digits * 2 >= s.length && digits >= 4) digitHeavy += w;
  }
  const nullRate = rows === 0 ? 1 : 1 - nonNull / rows;
  const cardinality = normalized.texts.length + (normalized.someEmpty ? 1 : 0);
  const meanLength = nonNull ? lenSum / nonNull : 0;
  const meanTokens = nonNull ? tokSum / nonNull : 0;
  const ratio = nonNull ? cardinality / nonNull : 0;
  let kind: ColumnKind;
  if (nonNull === 0 || nullRate > 0.97) kind = 'mostlyEmpty';
  else if (dates >= 0.9 * nonNull) kind = 'date';
  else if (nums >= 0.9 * nonNull) kind = ints >= 0.9 * nonNull && ratio > 0.3 ? 'identifier' : 'numeric';
  else if (cardinality <= Math.max(12, Math.min(60, 0.01 * nonNull)) && cardinality <= 0.3 * nonNull) kind = 'categorical';
  else if (digitHeavy >= 0.8 * nonNull && ratio > 0.3 && meanTokens <= 4) kind = 'identifier';
  else if (meanLength > 40 || meanTokens > 6) kind = 'longText';
  else kind = 'shortText';
  return { index, name, kind, nullRate, cardinality, meanLength, meanTokens };
}

/**
 * CSR bags from per-value token lists, weights = unit-normalized TF-IDF. `counts` gives the rows
 * holding each value (1 each when absent), so document frequencies count rows.
 */
export function buildBags(lists: ReadonlyArray<readonly string[]>, counts?: ArrayLike<number>): Bags {
  const dict = new StringInterner();
  const builder = new BagBuilder();
  let ids = new Int32Array(16);
  for (let v = 0; v < lists.length; v++) {
    const list = lists[v]!;
    if (ids.length < list.length) ids = new Int32Array(list.length * 2);
    list.forEach((t, i) => (ids[i] = dict.intern(t)));
    builder.add(ids, list.length, counts ? counts[v]! : 1);
  }
  return builder.finish();
}

/** Builds Bags one value at a time from the ids of its tokens (the caller numbers tokens from 0). */
class BagBuilder {
  readonly #offsets = growUint32();
  readonly #ids = growInt32();
  readonly #tf = growFloat32();
  readonly #df = growInt32();
  #docs = 0;
  #values = 0;

  constructor() {
    this.#offsets.push(0);
  }

  /** Adds a value holding ids[0 .. count) (sorted here, in place) and found in `rows` rows. */
  add(ids: Int32Array, count: number, rows: number): void {
    const list = ids.subarray(0, count);
    if (count > 32) list.sort();
    else {
      for (let i = 1; i < count; i++) {
        const x = list[i]!;
        let j = i - 1;
        while (j >= 0 && list[j]! > x) { list[j + 1] = list[j]!; j--; }
        list[j + 1] = x;
      }
    }
    for (let i = 0; i < count; ) {
      const id = list[i]!;
      let tf = 0;
      while (i < count && list[i] === id) { tf++; i++; }
      while (this.#df.length <= id) this.#df.push(0);
      this.#ids.push(id);
      this.#tf.push(tf);
      this.#df.add(id, rows);
    }
    if (count > 0) this.#docs += rows;
    this.#offsets.push(this.#ids.length);
    this.#values++;
  }

  finish(): Bags {
    const offsets = this.#offsets.shared();
    const ids = this.#ids.shared();
    const df = this.#df.shared();
    const tf = this.#tf.shared();
    const weights = sharedFloat32(ids.length);
    const docs = this.#docs;
    weighValues({ offsets, ids, df, docs }, tf, 0, weights, 0, this.#values);
    return { offsets, ids, weights, df, vocabulary: df.length, docs };
  }
}

/**
 * TF-IDF weights of the entries of values from .. to (v's entries are offsets[v] .. offsets[v+1]),
 * each value's weights unit-normalized: `tf[i - tfBase]` is entry i's count in its value. Shared by
 * preparing a column and extending one (state.ts), so both weigh a value alike.
 */
export function weighValues(
  bags: { offsets: ArrayLike<number>; ids: ArrayLike<number>; df: ArrayLike<number>; docs: number },
  tf: ArrayLike<number>,
  tfBase: number,
  weights: Float32Array,
  from: number,
  to: number,
): void {
  const { offsets, ids, df, docs } = bags;
  for (let v = from; v < to; v++) {
    let norm = 0;
    for (let i = offsets[v]!; i < offsets[v + 1]!; i++) {
      const w = (1 + Math.log(tf[i - tfBase]!)) * Math.log(1 + docs / Math.max(1, df[ids[i]!]!));
      weights[i] = w;
      norm += w * w;
    }
    norm = Math.sqrt(norm) || 1;
    for (let i = offsets[v]!; i < offsets[v + 1]!; i++) weights[i] = weights[i]! / norm;
  }
}

/** Numbers the 3-gram codes of normalize.ts trigramCodes (21 bits) densely from 0. */
class TrigramIds {
  readonly #idOf = new Int32Array(1 << 21).fill(-1);
  #next = 0;
  /** The code of each id. */
  readonly codes = growInt32();

  /** Replaces each code in codes[0 .. count) by its id. */
  number(codes: Int32Array, count: number): void {
    for (let i = 0; i < count; i++) {
      const c = codes[i]!;
      let id = this.#idOf[c]!;
      if (id < 0) {
        id = this.#idOf[c] = this.#next++;
        this.codes.push(c);
      }
      codes[i] = id;
    }
  }
}

/**
 * Share of a text column's rows that must hold a code with letters in it for the column to be
 * compared by its codes. Letters, because numbers alone are what page ranges, phone numbers and
 * dates in text look like; in a column where lettered codes are common, long numbers are codes
 * too (catalogue and part numbers).
 */
export const CODE_SHARE = 0.25;

const hasLetter = (code: string) => /[a-z]/.test(code);

/** The codes of a column's distinct values, kept when codes with letters are common (CODE_SHARE). */
class CodeCollector {
  readonly #bags = new BagBuilder();
  readonly #ids = new StringInterner();
  readonly #chars = growUint16();
  readonly #offsets = growUint32();
  #scratch = new Int32Array(8);
  #rows = 0;
  #rowsWithLetteredCodes = 0;

  constructor() {
    this.#offsets.push(0);
  }

  /** Adds the next distinct value (its raw text), found in `rows` rows. */
  add(raw: string, rows: number): void {
    const list = codeTokens(raw);
    if (this.#scratch.length < list.length) this.#scratch = new Int32Array(list.length * 2);
    for (let i = 0; i < list.length; i++) {
      const code = list[i]!;
      const id = this.#ids.intern(code);
      if (id === this.#offsets.length - 1) {
        for (let k = 0; k < code.length; k++) this.#chars.push(code.charCodeAt(k));
        this.#offsets.push(this.#chars.length);
      }
      this.#scratch[i] = id;
    }
    this.#bags.add(this.#scratch, list.length, rows);
    this.#rows += rows;
    if (list.some(hasLetter)) this.#rowsWithLetteredCodes += rows;
  }

  /** The bags and code texts, or undefined when too few rows hold a code with letters. */
  finish(): { codes: Bags; codeText: TextPool } | undefined {
    if (this.#rowsWithLetteredCodes === 0 || this.#rowsWithLetteredCodes < CODE_SHARE * this.#rows) return undefined;
    return { codes: this.#bags.finish(), codeText: { chars: this.#chars.shared(), offsets: this.#offsets.shared() } };
  }
}

/** Distinct values looked at to decide whether a column's codes are worth extracting at all. */
const CODE_PROBE = 2000;

/**
 * Whether the first CODE_PROBE distinct values (weighted by rows) come near CODE_SHARE: extracting
 * the codes of every value costs about a tenth of a column's preparation, so columns far from it
 * (names, addresses, e-mails) skip it.
 */
function codesLikely(values: ReadonlyArray<string | null>, firstRaw: readonly number[], rowsOf: Int32Array): boolean {
  const probe = Math.min(firstRaw.length, CODE_PROBE);
  let rows = 0, withCodes = 0;
  for (let v = 0; v < probe; v++) {
    rows += rowsOf[v]!;
    if (codeTokens(values[firstRaw[v]!]!).some(hasLetter)) withCodes += rowsOf[v]!;
  }
  return withCodes >= (CODE_SHARE / 2) * rows && withCodes > 0;
}

/** One column to prepare (plain data, so a worker thread can do it). */
export interface ColumnJob {
  source: EngineColumn;
  /** The column's index in the EngineTable. */
  index: number;
  rowCount: number;
  /** The table's row-major value ids (shared), and this column's slot among `width` per row. */
  codes: Int32Array;
  slot: number;
  width: number;
}

/**
 * Prepare one column: profile, normalize each distinct value once, build its value-level arrays,
 * and write its rows' value ids into slot `slot` of the row-major `codes` (`width` slots per row).
 */
export function prepareColumn(job: ColumnJob): PreparedColumn {
  const { source, index: c, rowCount: n, codes, slot, width } = job;
  const rawCount = new Int32Array(source.values.length);
  for (let r = 0; r < n; r++) {
    const code = source.codes[r]!;
    if (code >= 0) rawCount[code]!++;
  }
  const normalizedValues = normalizeValues(source.values, rawCount);
  const profile = profileNormalized(source.name, c, source.values, rawCount, normalizedValues);
  const squeeze = profile.kind === 'identifier' || profile.kind === 'date';
  // Characters and word bags every column has (blocking's keys); the rest as its comparisons need.
  const needs = preparationsFor(profile.kind);
  const withGrams = needs.has('grams');
  const withNumber = needs.has('numbers');

  // The values compared: the normalized texts, without spaces for identifiers and dates (which can
  // merge two texts into one value).
  let normalized = normalizedValues.texts;
  let firstRaw = normalizedValues.firstRaw;
  let valueOfRaw = normalizedValues.idOf;
  if (squeeze) {
    const index = new StringInterner();
    const valueOfText = new Int32Array(normalized.length);
    const squeezed: string[] = [], squeezedFirst: number[] = [];
    normalized.forEach((text, t) => {
      const id = index.intern(text.replace(/ /g, ''));
      valueOfText[t] = id;
      if (id === squeezed.length) {
        squeezed.push(text.replace(/ /g, ''));
        squeezedFirst.push(firstRaw[t]!);
      }
    });
    valueOfRaw = valueOfRaw.map((t) => (t < 0 ? -1 : valueOfText[t]!));
    normalized = squeezed;
    firstRaw = squeezedFirst;
  }
  const rowsOf = sharedInt32(normalized.length);
  for (let raw = 0; raw < source.values.length; raw++) {
    const v = valueOfRaw[raw]!;
    if (v >= 0) rowsOf[v]! += rawCount[raw]!;
  }
  const valueCount = normalized.length;

  const chars = growUint16();
  const charOffsets = sharedUint32(valueCount + 1);
  const tokens = new BagBuilder();
  const words = new StringInterner();
  const wordChars = growUint16();
  const wordOffsets = growUint32();
  wordOffsets.push(0);
  const grams = withGrams ? new BagBuilder() : undefined;
  const gramIds = withGrams ? new TrigramIds() : undefined;
  const valueCodes = needs.has('codes') && codesLikely(source.values, firstRaw, rowsOf) ? new CodeCollector() : undefined;
  let ids = new Int32Array(64);
  const num = withNumber ? sharedFloat64(valueCount) : undefined;
  for (let v = 0; v < valueCount; v++) {
    const s = normalized[v]!;
    if (ids.length < s.length + 2) ids = new Int32Array((s.length + 2) * 2);
    for (let k = 0; k < s.length; k++) chars.push(s.charCodeAt(k));
    charOffsets[v + 1] = chars.length;
    const list = wordTokens(s);
    for (let i = 0; i < list.length; i++) {
      const word = list[i]!;
      const id = words.intern(word);
      if (id === wordOffsets.length - 1) {
        for (let k = 0; k < word.length; k++) wordChars.push(word.charCodeAt(k));
        wordOffsets.push(wordChars.length);
      }
      ids[i] = id;
    }
    tokens.add(ids, list.length, rowsOf[v]!);
    if (grams) {
      const count = trigramCodes(s, ids);
      gramIds!.number(ids, count);
      grams.add(ids, count, rowsOf[v]!);
    }
    valueCodes?.add(source.values[firstRaw[v]!]!, rowsOf[v]!);
    if (num) {
      const raw = source.values[firstRaw[v]!]!;
      num[v] = profile.kind === 'date' ? parseDate(raw) : parseNumber(raw);
    }
  }
  let anyMissing = false;
  for (let r = 0; r < n; r++) {
    const raw = source.codes[r]!;
    const v = raw < 0 ? -1 : valueOfRaw[raw]!;
    codes[r * width + slot] = v;
    if (v < 0) anyMissing = true;
  }
  const prepared: PreparedColumn = {
    profile,
    valueCount,
    rowsOf,
    text: { chars: chars.shared(), offsets: charOffsets },
    tokens: tokens.finish(),
    anyMissing,
    wordText: { chars: wordChars.shared(), offsets: wordOffsets.shared() },
  };
  if (grams) {
    prepared.grams = grams.finish();
    prepared.gramCodes = gramIds!.codes.shared();
  }
  const collected = valueCodes?.finish();
  if (collected) {
    prepared.codes = collected.codes;
    prepared.codeText = collected.codeText;
  }
  if (num) {
    prepared.num = num;
    let c0 = 0, s1 = 0, s2 = 0;
    for (let v = 0; v < valueCount; v++) {
      const x = num[v]!;
      if (Number.isNaN(x)) continue;
      const w = rowsOf[v]!;
      c0 += w; s1 += w * x; s2 += w * x * x;
    }
    const sd = c0 > 1 ? Math.sqrt(Math.max(0, s2 / c0 - (s1 / c0) ** 2)) : 1;
    prepared.numScale = Math.max(1e-9, sd / 10);
  }
  return prepared;
}

/** The preparation of every column except the primary key, as independent jobs writing into shared `codes`. */
export function columnJobs(table: EngineTable): { jobs: ColumnJob[]; codes: Int32Array } {
  const used: number[] = [];
  for (let c = 0; c < table.columns.length; c++) if (c !== table.primaryKey) used.push(c);
  const codes = sharedInt32(table.rowCount * used.length);
  const jobs = used.map((c, slot) => ({ source: table.columns[c]!, index: c, rowCount: table.rowCount, codes, slot, width: used.length }));
  return { jobs, codes };
}

/** Profile every column except the primary key and prepare it, on the calling thread. */
export function prepareTable(table: EngineTable): PreparedTable {
  const { jobs, codes } = columnJobs(table);
  return { rowCount: table.rowCount, columns: jobs.map(prepareColumn), codes };
}
