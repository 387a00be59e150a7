/** Building and reading the engine's dictionary-encoded tables (api.ts `EngineTable`). */
import type { EngineColumn, EngineTable } from './api.js';

/** The value of row `r` in column `c`, or null when missing. */
export function valueAt(table: EngineTable, c: number, r: number): string | null {
  const col = table.columns[c]!;
  const code = col.codes[r]!;
  return code < 0 ? null : col.values[code]!;
}

/** Every row's value of column `c` (null when missing): for tests, drivers and small tables. */
export function columnValues(table: EngineTable, c: number): Array<string | null> {
  return Array.from({ length: table.rowCount }, (_, r) => valueAt(table, c, r));
}

/**
 * Numbers distinct strings 0, 1, 2, … in order of first sight. V8 refuses a Map of more than 2^24
 * entries, so the index rolls over to a new Map long before that; a string is looked up in each.
 */
export class StringInterner {
  readonly #maps: Array<Map<string, number>> = [new Map()];
  #size = 0;

  static readonly MAP_LIMIT = 1 << 23;

  get size(): number {
    return this.#size;
  }

  /** The string's number, or undefined when it has none yet. */
  get(s: string): number | undefined {
    for (const m of this.#maps) {
      const id = m.get(s);
      if (id !== undefined) return id;
    }
    return undefined;
  }

  /** The string's number, given the next one when it is new. */
  intern(s: string): number {
    const known = this.get(s);
    if (known !== undefined) return known;
    let last = this.#maps[this.#maps.length - 1]!;
    if (last.size >= StringInterner.MAP_LIMIT) this.#maps.push((last = new Map()));
    last.set(s, this.#size);
    return this.#size++;
  }
}

/** Dictionary-encodes one column as rows arrive. */
class ColumnEncoder {
  readonly #index = new StringInterner();
  readonly values: string[] = [];
  codes = new Int32Array(1024);

  add(r: number, v: string | null | undefined): void {
    if (r >= this.codes.length) {
      const grown = new Int32Array(Math.max(r + 1, this.codes.length * 2));
      grown.set(this.codes);
      this.codes = grown;
    }
    if (v === null || v === undefined) {
      this.codes[r] = -1;
      return;
    }
    const code = this.#index.intern(v);
    if (code === this.values.length) this.values.push(v);
    this.codes[r] = code;
  }
}

/** Builds an EngineTable row by row (values as text, null when missing). */
export class TableEncoder {
  readonly #columns: ColumnEncoder[];
  #rows = 0;

  constructor(private readonly names: ReadonlyArray<{ name: string; type?: string }>) {
    this.#columns = names.map(() => new ColumnEncoder());
  }

  addRow(row: ReadonlyArray<string | null | undefined>): void {
    const r = this.#rows++;
    for (let c = 0; c < this.#columns.length; c++) this.#columns[c]!.add(r, row[c]);
  }

  finish(primaryKey: number): EngineTable {
    const n = this.#rows;
    return {
      columns: this.names.map((c, i) => {
        const enc = this.#columns[i]!;
        const column: EngineColumn = { name: c.name, type: c.type ?? 'string', codes: enc.codes.slice(0, n), values: enc.values };
        return column;
      }),
      primaryKey,
      rowCount: n,
    };
  }
}

/** A table from column-major values (`values[c][r]`); types default to string. For tests and drivers. */
export function encodeTable(
  columns: ReadonlyArray<{ name: string; type?: string }>,
  values: ReadonlyArray<ReadonlyArray<string | null | undefined>>,
  primaryKey: number,
): EngineTable {
  const enc = new TableEncoder(columns);
  const n = values[0]?.length ?? 0;
  const row = new Array<string | null | undefined>(columns.length);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < columns.length; c++) row[c] = values[c]![r];
    enc.addRow(row);
  }
  return enc.finish(primaryKey);
}

/** The given rows of a table, in the given order, as a table of their own (with only their values). */
export function takeRows(table: EngineTable, rows: ArrayLike<number>): EngineTable {
  const enc = new TableEncoder(table.columns);
  const row = new Array<string | null>(table.columns.length);
  for (let i = 0; i < rows.length; i++) {
    for (let c = 0; c < table.columns.length; c++) row[c] = valueAt(table, c, rows[i]!);
    enc.addRow(row);
  }
  return enc.finish(table.primaryKey);
}

/**
 * The rows of `first`, then those of `second` (same columns, in the same order; the primary key
 * and the column names and types are `first`'s). Each column's distinct values are `first`'s
 * followed by those only `second` holds, so `first`'s codes stay as they are.
 */
export function concatTables(first: EngineTable, second: EngineTable): EngineTable {
  if (first.columns.length !== second.columns.length) {
    throw new RangeError(`tables of ${first.columns.length} and ${second.columns.length} columns cannot be joined`);
  }
  const n = first.rowCount + second.rowCount;
  const columns = first.columns.map((col, c) => {
    const other = second.columns[c]!;
    // Only `second`'s values are indexed (it is the small one when new records join a big table):
    // `first`'s values are looked up in that index, one scan, rather than all put in a Map.
    const index = new StringInterner();
    const idOf = new Int32Array(other.values.length);
    for (let j = 0; j < other.values.length; j++) idOf[j] = index.intern(other.values[j]!);
    const codeOf = new Int32Array(index.size).fill(-1);
    for (let code = 0; code < col.values.length; code++) {
      const k = index.get(col.values[code]!);
      if (k !== undefined && codeOf[k]! < 0) codeOf[k] = code;
    }
    const values = col.values.slice();
    const recode = new Int32Array(other.values.length);
    for (let j = 0; j < other.values.length; j++) {
      const k = idOf[j]!;
      if (codeOf[k]! < 0) {
        codeOf[k] = values.length;
        values.push(other.values[j]!);
      }
      recode[j] = codeOf[k]!;
    }
    const codes = new Int32Array(n);
    codes.set(col.codes.subarray(0, first.rowCount));
    for (let r = 0; r < second.rowCount; r++) {
      const code = other.codes[r]!;
      codes[first.rowCount + r] = code < 0 ? -1 : recode[code]!;
    }
    const column: EngineColumn = { name: col.name, type: col.type, codes, values };
    return column;
  });
  return { columns, primaryKey: first.primaryKey, rowCount: n };
}
