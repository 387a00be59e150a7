/**
 * The incremental state: what an incremental run needs of the rows a previous run matched, kept
 * between runs so that the next run's work grows with its new rows, not with the table.
 *
 * It holds the rows' primary keys, the prepared table of those rows (profile.ts: per column the distinct values' texts,
 * token / 3-gram / code bags with their document frequencies, numbers, the rows' value ids), the
 * dictionaries that number new values, words, 3-grams and codes (open-addressing hash tables over
 * the text pools, typed arrays), and the trained model with the key of the labels it was trained
 * on; the caller adds the match ids and confidences it wrote the rows with (`written`). `extendState` adds the new rows of a table: each new distinct value is normalized, tokenized
 * and appended (its bags weighted by the document frequencies counted so far, new rows included),
 * rows holding a known value only count in its frequencies. Existing values keep their weights and
 * every column keeps its profile (kind, number scale, whether values can be missing, whether codes
 * are compared), so the feature plan and a stored model stay valid: the state is "the table as
 * first prepared, extended", and an incremental run without a state builds exactly that (prepares
 * the existing rows, then extends them), so both give the same result.
 *
 * Extending costs the new rows (hash look-ups, appends into arrays with spare capacity, counts);
 * the rows' value ids are copied once into a larger array (memory speed). `encodeState` writes the
 * state as one byte string: a header (v8 serialization of the plain parts, each typed array
 * replaced by its place) and the typed arrays' bytes, 8-byte aligned; `decodeState` checks the
 * magic, version, lengths and a checksum (of the header and a sample of the data) and copies the
 * arrays into shared memory. `stateProblem` says why a state does not fit a table (row count,
 * columns, a hash of the existing rows' keys in order), so the run falls back to preparing.
 */
import { deserialize, serialize } from 'node:v8';
import type { EngineTable } from './api.js';
import { codeTokens, normalizeText, parseDate, parseNumber, trigramCodes, wordTokens } from './normalize.js';
import { weighValues, type Bags, type ColumnProfile, type PreparedColumn, type PreparedTable, type TextPool } from './profile.js';
import { hashString } from './rng.js';
import { sharedInt32, sharedUint16, sharedUint32 } from './shared.js';
import type { Trained } from './training.js';

export const STATE_VERSION = 3;
const MAGIC = 0x53505044; // "DPPS"

type Numeric = Int32Array | Uint32Array | Uint16Array | Uint8Array | Float32Array | Float64Array;
type Ctor<T extends Numeric> = { new (buffer: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number };
const CTORS = { Int32Array, Uint32Array, Uint16Array, Uint8Array, Float32Array, Float64Array } as const;
type CtorName = keyof typeof CTORS;

function sharedOf<T extends Numeric>(ctor: Ctor<T>, capacity: number): T {
  return new ctor(new SharedArrayBuffer(Math.max(1, capacity) * ctor.BYTES_PER_ELEMENT));
}

/** A shared typed array with spare capacity: appends copy only when it runs out (growing by an eighth). */
class Grow<T extends Numeric> {
  constructor(
    public data: T,
    public length: number,
  ) {}

  /**
   * Appends to `a`: into the rest of its buffer when it starts one of its own (decodeState leaves
   * spare room there), else into a copy once it is full.
   */
  static of<T extends Numeric>(a: T): Grow<T> {
    const ctor = a.constructor as unknown as { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };
    const room = a.byteOffset === 0 && a.buffer instanceof SharedArrayBuffer ? Math.floor(a.buffer.byteLength / ctor.BYTES_PER_ELEMENT) : a.length;
    return new Grow(room > a.length ? new ctor(a.buffer, 0, room) : a, a.length);
  }

  ensure(min: number): void {
    if (min <= this.data.length) return;
    const ctor = this.data.constructor as unknown as Ctor<T>;
    const next = sharedOf(ctor, Math.max(min, this.length + (this.length >> 3) + 1024));
    (next as Numeric).set(this.data.subarray(0, this.length) as never);
    this.data = next;
  }

  push(v: number): void {
    if (this.length === this.data.length) this.ensure(this.length + 1);
    this.data[this.length++] = v;
  }

  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

/** Distinct strings numbered from 0: a text pool plus an open-addressing table of ids + 1 (0 = empty). */
class TextDict {
  constructor(
    readonly chars: Grow<Uint16Array>,
    readonly offsets: Grow<Uint32Array>,
    public slots: Int32Array,
  ) {}

  get count(): number {
    return this.offsets.length - 1;
  }

  /** A dictionary over a pool (string i = chars[offsets[i] .. offsets[i+1])). */
  static fromPool(pool: TextPool): TextDict {
    const d = new TextDict(Grow.of(pool.chars), Grow.of(pool.offsets), new Int32Array(0));
    d.#rehash(Math.max(16, d.count * 2));
    return d;
  }

  #hashAt(id: number): number {
    const c = this.chars.data, o = this.offsets.data;
    let h = 0x811c9dc5;
    for (let i = o[id]!, end = o[id + 1]!; i < end; i++) h = Math.imul(h ^ c[i]!, 0x01000193);
    return h >>> 0;
  }

  #equals(id: number, s: string): boolean {
    const c = this.chars.data, o = this.offsets.data;
    const from = o[id]!;
    if (o[id + 1]! - from !== s.length) return false;
    for (let i = 0; i < s.length; i++) if (c[from + i] !== s.charCodeAt(i)) return false;
    return true;
  }

  #rehash(capacity: number): void {
    let size = 16;
    while (size < capacity) size *= 2;
    const slots = new Int32Array(size);
    const mask = size - 1;
    for (let id = 0; id < this.count; id++) {
      let i = this.#hashAt(id) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = id + 1;
    }
    this.slots = slots;
  }

  /** The string's id, or -1. */
  get(s: string): number {
    const mask = this.slots.length - 1;
    for (let i = hashString(s) & mask; ; i = (i + 1) & mask) {
      const slot = this.slots[i]!;
      if (slot === 0) return -1;
      if (this.#equals(slot - 1, s)) return slot - 1;
    }
  }

  /** The string's id, appended when new. */
  intern(s: string): number {
    const known = this.get(s);
    if (known >= 0) return known;
    const id = this.count;
    for (let k = 0; k < s.length; k++) this.chars.push(s.charCodeAt(k));
    this.offsets.push(this.chars.length);
    if ((id + 1) * 2 > this.slots.length) this.#rehash((id + 1) * 2);
    else {
      const mask = this.slots.length - 1;
      let i = hashString(s) & mask;
      while (this.slots[i] !== 0) i = (i + 1) & mask;
      this.slots[i] = id + 1;
    }
    return id;
  }

  pool(): TextPool {
    return { chars: this.chars.view(), offsets: this.offsets.view() };
  }
}

/** Bags (profile.ts) that new values are appended to; their weights are set by `weigh`. */
class BagGrow {
  /** Term frequencies of the entries appended since `from` (weights pending): one per bag entry, so typed. */
  #tf = new Grow(new Uint32Array(1024), 0);
  #pendingFrom = -1;

  constructor(
    readonly offsets: Grow<Uint32Array>,
    readonly ids: Grow<Int32Array>,
    readonly weights: Grow<Float32Array>,
    readonly df: Grow<Int32Array>,
    public docs: number,
  ) {}

  /** Bags to extend; their document frequencies are copied (they change as rows are added). */
  static of(b: Bags): BagGrow {
    return new BagGrow(Grow.of(b.offsets), Grow.of(b.ids), Grow.of(b.weights), Grow.of(b.df.slice()), b.docs);
  }

  get values(): number {
    return this.offsets.length - 1;
  }

  /** Appends a value holding ids[0 .. count) (sorted here, in place); `vocabulary` = ids known so far. */
  append(ids: Int32Array, count: number, vocabulary: number): void {
    const list = ids.subarray(0, count);
    list.sort();
    if (this.#pendingFrom < 0) this.#pendingFrom = this.values;
    for (let i = 0; i < count; ) {
      const id = list[i]!;
      let tf = 0;
      while (i < count && list[i] === id) { tf++; i++; }
      this.ids.push(id);
      this.weights.push(0);
      this.#tf.push(tf);
    }
    this.offsets.push(this.ids.length);
    if (this.df.length < vocabulary) {
      this.df.ensure(vocabulary);
      while (this.df.length < vocabulary) this.df.push(0);
    }
  }

  /** One more row holds value v. */
  countRow(v: number): void {
    const o = this.offsets.data, ids = this.ids.data, df = this.df.data;
    const from = o[v]!, to = o[v + 1]!;
    for (let i = from; i < to; i++) df[ids[i]!]!++;
    if (to > from) this.docs++;
  }

  /** Weights of the values appended (profile.ts weighValues, as when a column is prepared). */
  weigh(): void {
    if (this.#pendingFrom < 0) return;
    const offsets = this.offsets.data;
    const bags = { offsets, ids: this.ids.data, df: this.df.data, docs: this.docs };
    weighValues(bags, this.#tf.data, offsets[this.#pendingFrom]!, this.weights.data, this.#pendingFrom, this.values);
    this.#tf.length = 0;
    this.#pendingFrom = -1;
  }

  bags(): Bags {
    const df = this.df.view();
    return { offsets: this.offsets.view(), ids: this.ids.view(), weights: this.weights.view(), df, vocabulary: df.length, docs: this.docs };
  }
}

/** One prepared column and what numbers its new values. */
class ColumnState {
  gramIdOf?: Int32Array;

  constructor(
    readonly profile: ColumnProfile,
    readonly anyMissing: boolean,
    readonly numScale: number | undefined,
    readonly values: TextDict,
    readonly rowsOf: Grow<Int32Array>,
    readonly tokens: BagGrow,
    readonly words: TextDict,
    readonly grams: BagGrow | undefined,
    readonly gramCodes: Grow<Int32Array> | undefined,
    readonly codes: BagGrow | undefined,
    readonly codeDict: TextDict | undefined,
    readonly num: Grow<Float64Array> | undefined,
  ) {
    if (gramCodes) {
      this.gramIdOf = new Int32Array(1 << 21).fill(-1);
      for (let id = 0; id < gramCodes.length; id++) this.gramIdOf[gramCodes.data[id]!] = id;
    }
  }

  static of(col: PreparedColumn): ColumnState {
    if (!col.wordText || (col.grams && !col.gramCodes)) throw new Error('the prepared column keeps no word texts or 3-gram codes');
    return new ColumnState(
      col.profile,
      col.anyMissing,
      col.numScale,
      TextDict.fromPool(col.text),
      // Counts change as rows are added: copies, so the prepared column stays as it is.
      Grow.of(col.rowsOf.slice()),
      BagGrow.of(col.tokens),
      TextDict.fromPool(col.wordText),
      col.grams ? BagGrow.of(col.grams) : undefined,
      col.gramCodes ? Grow.of(col.gramCodes) : undefined,
      col.codes ? BagGrow.of(col.codes) : undefined,
      col.codeText ? TextDict.fromPool(col.codeText) : undefined,
      col.num ? Grow.of(col.num) : undefined,
    );
  }

  get squeeze(): boolean {
    return this.profile.kind === 'identifier' || this.profile.kind === 'date';
  }

  /** Appends a distinct value (its compared text and a raw value that gave it); returns its id. */
  add(text: string, raw: string, scratch: { ids: Int32Array }): number {
    const v = this.values.intern(text);
    this.rowsOf.push(0);
    if (scratch.ids.length < text.length + 2) scratch.ids = new Int32Array((text.length + 2) * 2);
    const ids = scratch.ids;
    const list = wordTokens(text);
    for (let i = 0; i < list.length; i++) ids[i] = this.words.intern(list[i]!);
    this.tokens.append(ids, list.length, this.words.count);
    if (this.grams) {
      const count = trigramCodes(text, ids);
      for (let i = 0; i < count; i++) {
        const c = ids[i]!;
        let id = this.gramIdOf![c]!;
        if (id < 0) {
          id = this.gramIdOf![c] = this.gramCodes!.length;
          this.gramCodes!.push(c);
        }
        ids[i] = id;
      }
      this.grams.append(ids, count, this.gramCodes!.length);
    }
    if (this.codes) {
      const list = codeTokens(raw);
      if (ids.length < list.length) scratch.ids = new Int32Array(list.length * 2);
      for (let i = 0; i < list.length; i++) scratch.ids[i] = this.codeDict!.intern(list[i]!);
      this.codes.append(scratch.ids, list.length, this.codeDict!.count);
    }
    this.num?.push(this.profile.kind === 'date' ? parseDate(raw) : parseNumber(raw));
    return v;
  }

  countRow(v: number): void {
    this.rowsOf.data[v]!++;
    this.tokens.countRow(v);
    this.grams?.countRow(v);
    this.codes?.countRow(v);
  }

  finish(): PreparedColumn {
    this.tokens.weigh();
    this.grams?.weigh();
    this.codes?.weigh();
    const col: PreparedColumn = {
      profile: this.profile,
      valueCount: this.values.count,
      rowsOf: this.rowsOf.view(),
      text: this.values.pool(),
      tokens: this.tokens.bags(),
      anyMissing: this.anyMissing,
      wordText: this.words.pool(),
    };
    if (this.grams) {
      col.grams = this.grams.bags();
      col.gramCodes = this.gramCodes!.view();
    }
    if (this.codes) {
      col.codes = this.codes.bags();
      col.codeText = this.codeDict!.pool();
    }
    if (this.num) col.num = this.num.view();
    if (this.numScale !== undefined) col.numScale = this.numScale;
    return col;
  }
}

/** The trained model without the table it was trained on. */
export type StoredModel = Omit<Trained, 'pt' | 'features'>;

export interface IncrementalState {
  readonly version: number;
  /** The rows it covers: the first `rowCount` rows of the next run's table. */
  rowCount: number;
  columnNames: string[];
  primaryKey: number;
  /** Hash of the rows' primary keys in order (keyHash). */
  keyHash: [number, number];
  /**
   * The rows' primary keys in order (a missing key is empty), as one pool of UTF-16 code units: no
   * million short strings to serialize, and no single string, which could not exceed 2²⁹ characters.
   */
  keys: TextPool;
  /** The prepared table's row-major value ids (rowCount × columns). */
  codes: Int32Array;
  columns: ColumnState[];
  /** The model and the hash of the key (labels and seed, matcher.ts) it was trained for. */
  model?: { key: [number, number]; trained: StoredModel };
  /**
   * The match ids and confidences the rows were written with, and the caller's description of
   * where (JSON, opaque to the engine): kept so that a later run can take them from here instead of
   * reading the records back, once it has checked the written records are unchanged.
   */
  written?: WrittenMatches;
  /** The full state this one was read from or extends, when it was read from bytes (encodeStateDelta). */
  base?: StateBase;
  /** Set once extended: a state object extends only once (its dictionaries have moved on). */
  spent: boolean;
}

export interface WrittenMatches {
  matchId: Float64Array;
  confidence?: Float64Array;
  output: string;
}

/** `keys` (a new pool when undefined) with the primary keys of rows from .. to appended (a missing key is empty). */
function withKeys(keys: TextPool | undefined, table: EngineTable, from: number, to: number): TextPool {
  if (keys && from === to) return keys;
  const chars = keys ? Grow.of(keys.chars) : new Grow(sharedUint16(0), 0);
  const offsets = keys ? Grow.of(keys.offsets) : new Grow(sharedUint32(to - from + 1), 1);
  const pk = table.columns[table.primaryKey]!;
  const keyOf = (r: number) => {
    const code = pk.codes[r]!;
    return code < 0 ? '' : pk.values[code]!;
  };
  let added = 0;
  for (let r = from; r < to; r++) added += keyOf(r).length;
  chars.ensure(chars.length + added);
  offsets.ensure(offsets.length + (to - from));
  for (let r = from; r < to; r++) {
    const key = keyOf(r);
    for (let k = 0; k < key.length; k++) chars.push(key.charCodeAt(k));
    offsets.push(chars.length);
  }
  return { chars: chars.view(), offsets: offsets.view() };
}

/** Code units turned into a string per call at most (the arguments of one call are bounded). */
const CHARS_PER_CALL = 8192;

/** The state's primary keys, one per row, code unit for code unit. */
export function stateKeys(state: IncrementalState): string[] {
  const { chars, offsets } = state.keys;
  const keys = new Array<string>(state.rowCount);
  for (let r = 0; r < state.rowCount; r++) {
    let key = '';
    for (let at = offsets[r]!, to = offsets[r + 1]!; at < to; at += CHARS_PER_CALL) {
      key += String.fromCharCode(...chars.subarray(at, Math.min(to, at + CHARS_PER_CALL)));
    }
    keys[r] = key;
  }
  return keys;
}

/** Two 32-bit FNV-1a hashes (different seeds) of strings in order, continued from `from`. */
export function hashStrings(next: (i: number) => string, count: number, from: [number, number] = [0x811c9dc5, 0x2f0a1b37]): [number, number] {
  let h1 = from[0], h2 = from[1];
  for (let r = 0; r < count; r++) {
    const s = next(r);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h2 >>> 15);
    }
    h1 = Math.imul(h1 ^ 0x1f, 0x01000193);
    h2 = Math.imul(h2 ^ 0x1f, 0x01000193) ^ (h2 >>> 15);
  }
  return [h1 >>> 0, h2 >>> 0];
}

/** The hash of rows from .. to of the table's primary keys. */
export function keyHash(table: EngineTable, from: number, to: number, start?: [number, number]): [number, number] {
  const pk = table.columns[table.primaryKey]!;
  return hashStrings((i) => {
    const code = pk.codes[from + i]!;
    return code < 0 ? '\u0000' : pk.values[code]!;
  }, to - from, start);
}

/** The state of a prepared table whose rows are the table's first pt.rowCount rows. */
export function captureState(table: EngineTable, pt: PreparedTable, model?: IncrementalState['model']): IncrementalState {
  return {
    version: STATE_VERSION,
    rowCount: pt.rowCount,
    columnNames: table.columns.map((c) => c.name),
    primaryKey: table.primaryKey,
    keyHash: keyHash(table, 0, pt.rowCount),
    keys: withKeys(undefined, table, 0, pt.rowCount),
    codes: pt.codes,
    columns: pt.columns.map((c) => ColumnState.of(c)),
    ...(model ? { model } : {}),
    spent: false,
  };
}

/** Why the state cannot stand for the first `rows` rows of `table`, or undefined when it can. */
export function stateProblem(state: IncrementalState, table: EngineTable, rows: number): string | undefined {
  if (state.version !== STATE_VERSION) return `it is of version ${state.version}, not ${STATE_VERSION}`;
  if (state.spent) return 'it was already extended by another run';
  if (state.rowCount !== rows) return `it covers ${state.rowCount} rows, the existing matches have ${rows}`;
  const names = table.columns.map((c) => c.name);
  if (names.length !== state.columnNames.length || names.some((n, i) => n !== state.columnNames[i]) || state.primaryKey !== table.primaryKey) {
    return `its columns (${state.columnNames.join(', ')}) are not the table's (${names.join(', ')})`;
  }
  const h = keyHash(table, 0, rows);
  if (h[0] !== state.keyHash[0] || h[1] !== state.keyHash[1]) return 'the existing records are not the ones it was made from (their keys or order differ)';
  return undefined;
}

/**
 * Adds rows state.rowCount .. table.rowCount of the table: returns the extended state (the given
 * one is spent) and its prepared table.
 */
export function extendState(state: IncrementalState, table: EngineTable): { state: IncrementalState; pt: PreparedTable } {
  if (state.spent) throw new Error('the incremental state was already extended');
  state.spent = true;
  const e = state.rowCount, n = table.rowCount, width = state.columns.length;
  const codes = sharedInt32(n * width);
  codes.set(state.codes.subarray(0, e * width));
  const scratch = { ids: new Int32Array(64) };
  state.columns.forEach((cs, slot) => {
    const source = table.columns[cs.profile.index]!;
    // Per raw value of the new rows: its value id (-1 missing), -2 not seen yet.
    const ofRaw = new Int32Array(source.values.length).fill(-2);
    for (let r = e; r < n; r++) {
      const raw = source.codes[r]!;
      let v = -1;
      if (raw >= 0) {
        v = ofRaw[raw]!;
        if (v === -2) {
          const value = source.values[raw]!;
          let text = value.trim().length === 0 ? '' : normalizeText(value);
          if (cs.squeeze) text = text.replace(/ /g, '');
          v = text.length === 0 ? -1 : cs.values.get(text);
          if (v < 0 && text.length > 0) v = cs.add(text, value, scratch);
          ofRaw[raw] = v;
        }
      }
      codes[r * width + slot] = v;
      if (v >= 0) cs.countRow(v);
    }
  });
  const columns = state.columns.map((cs) => cs.finish());
  const extended: IncrementalState = {
    version: STATE_VERSION,
    rowCount: n,
    columnNames: state.columnNames,
    primaryKey: state.primaryKey,
    keyHash: keyHash(table, e, n, state.keyHash),
    keys: withKeys(e === 0 ? undefined : state.keys, table, e, n),
    codes,
    columns: state.columns,
    ...(state.model ? { model: state.model } : {}),
    ...(state.base ? { base: state.base } : {}),
    spent: false,
  };
  return { state: extended, pt: { rowCount: n, columns, codes } };
}

/** The prepared table a state holds. */
export function preparedOf(state: IncrementalState): PreparedTable {
  return { rowCount: state.rowCount, columns: state.columns.map((cs) => cs.finish()), codes: state.codes };
}

// ---- bytes ----

interface ArrayRef { $a: number; t: CtorName; n: number }

function plainColumn(cs: ColumnState) {
  const dict = (d: TextDict | undefined) => (d ? { chars: d.chars.view(), offsets: d.offsets.view(), slots: d.slots } : undefined);
  const bag = (b: BagGrow | undefined) => (b ? { ...b.bags() } : undefined);
  return {
    profile: cs.profile,
    anyMissing: cs.anyMissing,
    numScale: cs.numScale,
    values: dict(cs.values),
    rowsOf: cs.rowsOf.view(),
    tokens: bag(cs.tokens),
    words: dict(cs.words),
    grams: bag(cs.grams),
    gramCodes: cs.gramCodes?.view(),
    codes: bag(cs.codes),
    codeDict: dict(cs.codeDict),
    num: cs.num?.view(),
  };
}
type PlainColumn = ReturnType<typeof plainColumn>;

function liveColumn(p: PlainColumn): ColumnState {
  const dict = (d: PlainColumn['values']) => (d ? new TextDict(Grow.of(d.chars), Grow.of(d.offsets), d.slots) : undefined);
  const bag = (b: PlainColumn['tokens']) => (b ? new BagGrow(Grow.of(b.offsets), Grow.of(b.ids), Grow.of(b.weights), Grow.of(b.df), b.docs) : undefined);
  return new ColumnState(
    p.profile,
    p.anyMissing,
    p.numScale,
    dict(p.values)!,
    Grow.of(p.rowsOf),
    bag(p.tokens)!,
    dict(p.words)!,
    bag(p.grams),
    p.gramCodes ? Grow.of(p.gramCodes) : undefined,
    bag(p.codes),
    dict(p.codeDict),
    p.num ? Grow.of(p.num) : undefined,
  );
}

/**
 * Replaces every typed array in plain data by a reference into `arrays`; `paths` gets each array's
 * place (its keys joined by dots, list positions as numbers), by which a delta finds it in its base.
 */
function outline(x: unknown, arrays: Numeric[], paths: string[], path = ''): unknown {
  if (ArrayBuffer.isView(x)) {
    const a = x as Numeric;
    arrays.push(a);
    paths.push(path);
    return { $a: arrays.length - 1, t: a.constructor.name as CtorName, n: a.length } satisfies ArrayRef;
  }
  if (Array.isArray(x)) return x.map((v, i) => outline(v, arrays, paths, `${path}.${i}`));
  if (x !== null && typeof x === 'object') {
    if (x instanceof Map || x instanceof Set) throw new Error('the incremental state holds no Map or Set');
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (v !== undefined) out[k] = outline(v, arrays, paths, `${path}.${k}`);
    return out;
  }
  return x;
}

function inline(x: unknown, arrays: Numeric[]): unknown {
  if (Array.isArray(x)) return x.map((v) => inline(v, arrays));
  if (x !== null && typeof x === 'object') {
    const ref = x as Partial<ArrayRef>;
    if (typeof ref.$a === 'number') {
      const a = arrays[ref.$a];
      if (!a || a.constructor.name !== ref.t || a.length !== ref.n) throw new Error('an array of the state does not fit its header');
      return a;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = inline(v, arrays);
    return out;
  }
  return x;
}

/** The array references of an outlined header, in the order outline met them, with their places. */
function refsOf(outlined: unknown): { refs: ArrayRef[]; paths: string[] } {
  const refs: ArrayRef[] = [], paths: string[] = [];
  const collect = (x: unknown, path: string) => {
    if (Array.isArray(x)) x.forEach((v, i) => collect(v, `${path}.${i}`));
    else if (x !== null && typeof x === 'object') {
      const ref = x as Partial<ArrayRef>;
      if (typeof ref.$a === 'number') {
        refs[ref.$a] = ref as ArrayRef;
        paths[ref.$a] = path;
      } else for (const [k, v] of Object.entries(x)) collect(v, `${path}.${k}`);
    }
  };
  collect(outlined, '');
  return { refs, paths };
}

/** A checksum of the header and every 4096th byte of the arrays (a cheap guard against a corrupt or truncated file). */
function checksum(header: Uint8Array, chunks: readonly Uint8Array[]): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < header.length; i++) h = Math.imul(h ^ header[i]!, 0x01000193);
  for (const c of chunks) {
    h = Math.imul(h ^ (c.length & 0xffff), 0x01000193);
    for (let i = 0; i < c.length; i += 4096) h = Math.imul(h ^ c[i]!, 0x01000193);
    if (c.length > 0) h = Math.imul(h ^ c[c.length - 1]!, 0x01000193);
  }
  return h >>> 0;
}

const bytesOf = (a: Numeric) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The state's plain data (typed arrays in place), as stored. */
function plainOf(state: IncrementalState) {
  return {
    version: state.version,
    rowCount: state.rowCount,
    columnNames: state.columnNames,
    primaryKey: state.primaryKey,
    keyHash: state.keyHash,
    keys: state.keys,
    codes: state.codes,
    columns: state.columns.map(plainColumn),
    model: state.model,
    written: state.written,
  };
}
type PlainState = Omit<ReturnType<typeof plainOf>, 'columns' | 'written'> & { columns: PlainColumn[]; written?: WrittenMatches };

/** 16 bytes (magic, version, header length, checksum), the header, then each chunk 8-byte aligned. */
function framed(magic: number, header: Uint8Array, chunks: readonly Uint8Array[]): Uint8Array[] {
  const prefix = new Uint8Array(16);
  const view = new DataView(prefix.buffer);
  view.setUint32(0, magic, true);
  view.setUint32(4, STATE_VERSION, true);
  view.setUint32(8, header.length, true);
  view.setUint32(12, checksum(header, chunks), true);
  const out: Uint8Array[] = [prefix, header];
  let at = 16 + header.length;
  for (const c of chunks) {
    if (at % 8 !== 0) {
      out.push(new Uint8Array(8 - (at % 8)));
      at += 8 - (at % 8);
    }
    out.push(c);
    at += c.length;
  }
  return out;
}

/** The header and the chunks of framed bytes, checked (magic, version, lengths, checksum); `lengths` gives each chunk's byte length from the header. */
function unframe(bytes: Uint8Array, magic: number, lengths: (header: unknown) => number[] | Error): { header: unknown; chunks: Uint8Array[] } | Error {
  if (bytes.length < 16) return new Error('it is truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== magic) return new Error('it is not a doppel incremental state');
  const version = view.getUint32(4, true);
  if (version !== STATE_VERSION) return new Error(`it is of version ${version}, not ${STATE_VERSION}`);
  const headerLength = view.getUint32(8, true);
  if (16 + headerLength > bytes.length) return new Error('it is truncated');
  const headerBytes = bytes.subarray(16, 16 + headerLength);
  const header = deserialize(headerBytes) as unknown;
  const sizes = lengths(header);
  if (sizes instanceof Error) return sizes;
  let at = 16 + headerLength;
  const chunks: Uint8Array[] = [];
  for (const length of sizes) {
    if (at % 8 !== 0) at += 8 - (at % 8);
    if (at + length > bytes.length) return new Error('it is truncated');
    chunks.push(bytes.subarray(at, at + length));
    at += length;
  }
  if (at !== bytes.length) return new Error('its length does not fit its header');
  if (checksum(headerBytes, chunks) !== view.getUint32(12, true)) return new Error('its checksum does not match (damaged)');
  return { header, chunks };
}

const refBytes = (ref: ArrayRef) => ref.n * CTORS[ref.t].BYTES_PER_ELEMENT;

function checkedRefs(outlined: unknown): { refs: ArrayRef[]; paths: string[] } | Error {
  const found = refsOf(outlined);
  for (let i = 0; i < found.refs.length; i++) {
    const ref = found.refs[i];
    if (!ref || !(ref.t in CTORS) || !Number.isInteger(ref.n) || ref.n < 0) return new Error('its header is damaged');
  }
  return found;
}

/** A shared array of `ref`'s type and length with room for a sixteenth more (where the next run's new values go), its bytes from `parts`. */
function sharedArray(ref: ArrayRef, ...parts: Uint8Array[]): Numeric {
  const a = sharedOf(CTORS[ref.t] as unknown as Ctor<Numeric>, ref.n + (ref.n >> 4) + 1024).subarray(0, ref.n) as Numeric;
  const target = new Uint8Array(a.buffer, 0, a.byteLength);
  let at = 0;
  for (const p of parts) {
    target.set(p, at);
    at += p.length;
  }
  return a;
}

/**
 * The state as bytes, in chunks to write one after the other: 16 bytes (magic, version, header
 * length, checksum), the header, then each array 8-byte aligned.
 */
export function encodeState(state: IncrementalState): Uint8Array[] {
  const arrays: Numeric[] = [];
  const header = new Uint8Array(serialize(outline(plainOf(state), arrays, [])));
  return framed(MAGIC, header, arrays.map(bytesOf));
}

/**
 * Arrays that runs only append to (extendState: text pools, the rows' keys, bags' entries, value ids,
 * numbers): a delta stores what was appended since its base. Every other array (row and document
 * counts, hash tables, the model, the written match ids) is stored whole.
 */
const APPEND_ONLY = /^\.(codes|keys\.(chars|offsets)|columns\.\d+\.((values|words|codeDict)\.(chars|offsets)|(tokens|grams|codes)\.(offsets|ids|weights)|gramCodes|num))$/;

/** What a delta is stored against: the full state it extends, `where` the caller's name for it. */
export interface StateBase {
  where: string;
  /** The full state's size in bytes. */
  bytes: number;
  /** Its arrays' lengths, by place. */
  lengths: Record<string, number>;
}

/**
 * The state as a delta of the full state it was read from or extends (its `base`): the header
 * whole, the arrays runs only append to as what was appended since the base, every other array
 * whole. Undefined when the state has no base, or when the delta would exceed half the
 * base (then the full state is the better thing to store: reading a delta reads its base too).
 */
export function encodeStateDelta(state: IncrementalState): Uint8Array[] | undefined {
  const base = state.base;
  if (!base) return undefined;
  const arrays: Numeric[] = [], paths: string[] = [];
  const outlined = outline(plainOf(state), arrays, paths);
  const from = arrays.map((a, i) => {
    const length = base.lengths[paths[i]!];
    return APPEND_ONLY.test(paths[i]!) && length !== undefined && length <= a.length ? length : 0;
  });
  const chunks = arrays.map((a, i) => bytesOf(a.subarray(from[i]!) as Numeric));
  const size = chunks.reduce((s, c) => s + c.length, 0);
  if (size > base.bytes / 2) return undefined;
  const header = new Uint8Array(serialize({ base: { where: base.where, bytes: base.bytes, lengths: base.lengths }, from, outlined }));
  return framed(DELTA_MAGIC, header, chunks);
}

const DELTA_MAGIC = 0x44505044; // "DPPD"

/** Where the full state a delta extends is (the `where` it was encoded with), or undefined for a full state. */
export function deltaBase(bytes: Uint8Array): string | undefined {
  if (bytes.length < 16 || new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) !== DELTA_MAGIC) return undefined;
  try {
    const header = deserialize(bytes.subarray(16, 16 + new DataView(bytes.buffer, bytes.byteOffset + 8, 4).getUint32(0, true))) as { base?: { where?: unknown } };
    return typeof header.base?.where === 'string' ? header.base.where : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The state in `bytes` (encodeState or encodeStateDelta), or an Error saying why it cannot be
 * read. `where` names a full state (a delta stored later names it as its base); a delta needs its
 * base's bytes (`base`). The state read keeps its base (a full state is its own), so the delta
 * stored after the next run extends the same full state.
 */
export function decodeState(bytes: Uint8Array, opts: { where?: string; base?: Uint8Array } = {}): IncrementalState | Error {
  try {
    if (bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === DELTA_MAGIC) {
      if (!opts.base) return new Error('it is a delta and its base was not given');
      const full = readFull(opts.base);
      if (full instanceof Error) return new Error(`its base ${full.message}`);
      type DeltaHeader = { base: StateBase; from: number[]; outlined: unknown };
      let refs: ArrayRef[] = [], paths: string[] = [];
      const delta = unframe(bytes, DELTA_MAGIC, (h) => {
        const found = checkedRefs((h as DeltaHeader).outlined);
        if (found instanceof Error) return found;
        ({ refs, paths } = found);
        const from = (h as DeltaHeader).from;
        if (!Array.isArray(from) || from.length !== refs.length) return new Error('its header is damaged');
        return refs.map((r, i) => refBytes(r) - from[i]! * CTORS[r.t].BYTES_PER_ELEMENT);
      });
      if (delta instanceof Error) return delta;
      const header = delta.header as DeltaHeader;
      if (header.base.bytes !== full.bytes) return new Error('its base is not the state it was written against');
      const baseChunk = new Map(full.paths.map((p, i) => [p, i]));
      const arrays: Numeric[] = [];
      for (let i = 0; i < refs.length; i++) {
        const from = header.from[i]!;
        if (from === 0) {
          arrays.push(sharedArray(refs[i]!, delta.chunks[i]!));
          continue;
        }
        const j = baseChunk.get(paths[i]!);
        const baseRef = j === undefined ? undefined : full.refs[j]!;
        if (!baseRef || baseRef.t !== refs[i]!.t || baseRef.n !== header.base.lengths[paths[i]!] || from > baseRef.n) {
          return new Error('it does not fit its base');
        }
        arrays.push(sharedArray(refs[i]!, full.chunks[j!]!.subarray(0, from * CTORS[baseRef.t].BYTES_PER_ELEMENT), delta.chunks[i]!));
      }
      return stateOf(inline(header.outlined, arrays) as PlainState, header.base);
    }
    const full = readFull(bytes);
    if (full instanceof Error) return full;
    const arrays = full.refs.map((ref, i) => sharedArray(ref, full.chunks[i]!));
    const lengths: Record<string, number> = {};
    full.refs.forEach((ref, i) => (lengths[full.paths[i]!] = ref.n));
    return stateOf(inline(full.outlined, arrays) as PlainState, opts.where === undefined ? undefined : { where: opts.where, bytes: full.bytes, lengths });
  } catch (e) {
    return new Error(`it cannot be read (${(e as Error).message})`);
  }
}

/** A full state's header and array bytes, checked. */
function readFull(bytes: Uint8Array): { outlined: unknown; refs: ArrayRef[]; paths: string[]; chunks: Uint8Array[]; bytes: number } | Error {
  let refs: ArrayRef[] = [], paths: string[] = [];
  const read = unframe(bytes, MAGIC, (h) => {
    const found = checkedRefs(h);
    if (found instanceof Error) return found;
    ({ refs, paths } = found);
    return refs.map(refBytes);
  });
  if (read instanceof Error) return read;
  return { outlined: read.header, refs, paths, chunks: read.chunks, bytes: bytes.length };
}

/** The live state of decoded plain data, checked for what the scorers rely on. */
function stateOf(plain: PlainState, base: StateBase | undefined): IncrementalState | Error {
  const width = plain.columns.length;
  if (plain.codes.length !== plain.rowCount * width) return new Error('its value ids do not fit its row count');
  const keys = plain.keys as Partial<TextPool> | undefined;
  if (!(keys?.chars instanceof Uint16Array) || !(keys.offsets instanceof Uint32Array) || keys.offsets.length !== plain.rowCount + 1 || keys.offsets[0] !== 0) {
    return new Error('its primary keys do not fit its row count');
  }
  for (let r = 0; r < plain.rowCount; r++) {
    if (keys.offsets[r + 1]! < keys.offsets[r]!) return new Error('its primary keys are damaged');
  }
  if (keys.offsets[plain.rowCount]! > keys.chars.length) return new Error('its primary keys are damaged');
  const w = plain.written;
  if (w && (w.matchId.length !== plain.rowCount || (w.confidence && w.confidence.length !== plain.rowCount) || typeof w.output !== 'string')) {
    return new Error('its match ids do not fit its row count');
  }
  const columns = plain.columns.map(liveColumn);
  // Every row's value id must name a value of its column (the scorers index by them).
  const counts = Int32Array.from(columns, (c) => c.values.count);
  for (let i = 0, slot = 0; i < plain.codes.length; i++) {
    const v = plain.codes[i]!;
    if (v < -1 || v >= counts[slot]!) return new Error('its value ids are damaged');
    if (++slot === width) slot = 0;
  }
  return {
    version: plain.version,
    rowCount: plain.rowCount,
    columnNames: plain.columnNames,
    primaryKey: plain.primaryKey,
    keyHash: plain.keyHash,
    keys: plain.keys,
    codes: plain.codes,
    columns,
    ...(plain.model ? { model: plain.model } : {}),
    ...(w ? { written: w } : {}),
    ...(base ? { base } : {}),
    spent: false,
  };
}
