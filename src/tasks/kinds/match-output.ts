import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { DuckDbSession } from '../../catalog/table-data/duckdb-session.js';
import { sqlIdent, sqlString } from '../../catalog/table-data/sql.js';
import type { EngineTable, MatchResult } from '../../engine/api.js';
import { valueAt } from '../../engine/index.js';
import type { OutputFormat } from '../../jobs/find-matches-args.js';
import { writeOutput } from '../../storage/data-objects.js';
import type { ObjectStore } from '../../storage/object-store.js';
import type { S3Location } from '../../storage/s3-uri.js';

export const MATCH_ID = 'match_id';
export const MATCH_CONFIDENCE = 'match_confidence_score';

/** Rows per part file (CSV and JSON); Parquet output is one part. */
const PART_ROWS = 500_000;
/** Rows formatted per chunk handed to the object store. */
const CHUNK_ROWS = 2_000;

export interface MatchOutputOptions {
  format: OutputFormat;
  confidence: boolean;
  removeDuplicates: boolean;
  signal?: AbortSignal;
}

/** Compares primary keys: numerically when both are numbers, otherwise as text. */
export function compareKeys(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  const x = Number(a);
  const y = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(x) && Number.isFinite(y) && x !== y) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The rows to write, in input order: every row, or with `removeDuplicates` one row per match group,
 * the one with the lowest primary key.
 */
export function outputRows(table: EngineTable, result: MatchResult, removeDuplicates: boolean): number[] {
  const all = Array.from({ length: table.rowCount }, (_, r) => r);
  if (!removeDuplicates) return all;
  const keep = new Map<number, number>();
  for (const r of all) {
    const id = result.matchId[r]!;
    const best = keep.get(id);
    if (best === undefined || compareKeys(valueAt(table, table.primaryKey, r), valueAt(table, table.primaryKey, best)) < 0) keep.set(id, r);
  }
  const kept = new Set(keep.values());
  return all.filter((r) => kept.has(r));
}

const NUMERIC = /^(tinyint|smallint|int|integer|bigint|float|double|double precision|decimal.*|numeric.*)$/;
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

function jsonValue(value: string | null, type: string): string {
  if (value === null) return 'null';
  const t = type.toLowerCase();
  if (NUMERIC.test(t)) {
    const v = value.trim().replace(/^\+/, '');
    if (JSON_NUMBER.test(v)) return v;
  }
  if (t === 'boolean') {
    const v = value.trim().toLowerCase();
    if (v === 'true' || v === 'false') return v;
  }
  return JSON.stringify(value);
}

const matchIdText = (result: MatchResult, r: number) => String(Math.trunc(result.matchId[r]!));

function* csvChunks(table: EngineTable, result: MatchResult, rows: number[], confidence: boolean, header: boolean) {
  if (header) {
    const names = [...table.columns.map((c) => c.name), MATCH_ID, ...(confidence ? [MATCH_CONFIDENCE] : [])];
    yield Buffer.from(stringify([names]), 'utf8');
  }
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
    const records = rows.slice(i, i + CHUNK_ROWS).map((r) => {
      const out = table.columns.map((_, c) => valueAt(table, c, r) ?? '');
      out.push(matchIdText(result, r));
      if (confidence) out.push(String(result.confidence[r]));
      return out;
    });
    yield Buffer.from(stringify(records), 'utf8');
  }
}

function* jsonChunks(table: EngineTable, result: MatchResult, rows: number[], confidence: boolean, allText: boolean) {
  const keys = table.columns.map((c) => JSON.stringify(c.name));
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
    let text = '';
    for (const r of rows.slice(i, i + CHUNK_ROWS)) {
      const members = table.columns.map((c, ci) =>
        `${keys[ci]}:${allText ? JSON.stringify(valueAt(table, ci, r)) : jsonValue(valueAt(table, ci, r), c.type)}`,
      );
      members.push(`"${MATCH_ID}":${matchIdText(result, r)}`);
      if (confidence) members.push(`"${MATCH_CONFIDENCE}":${result.confidence[r]}`);
      text += `{${members.join(',')}}\n`;
    }
    yield Buffer.from(text, 'utf8');
  }
}

async function* asAsync(chunks: Iterable<Buffer>, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  for (const c of chunks) {
    signal?.throwIfAborted();
    yield c;
  }
}

/** The DuckDB type a catalog column is written as in Parquet. */
function duckType(hive: string): string {
  const t = hive.trim().toLowerCase();
  const ints: Record<string, string> = { tinyint: 'TINYINT', smallint: 'SMALLINT', int: 'INTEGER', integer: 'INTEGER', bigint: 'BIGINT' };
  if (ints[t]) return ints[t]!;
  if (t === 'float') return 'FLOAT';
  if (t === 'double' || t === 'double precision') return 'DOUBLE';
  if (t === 'boolean') return 'BOOLEAN';
  if (t === 'date') return 'DATE';
  if (t === 'timestamp') return 'TIMESTAMP';
  const d = /^(?:decimal|numeric)(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/.exec(t);
  if (d) return `DECIMAL(${d[1] ?? 10},${d[2] ?? 0})`;
  return 'VARCHAR';
}

/**
 * Writes FindMatches output under `at`: the chosen rows with every input column plus `match_id`
 * (and `match_confidence_score`), as part files then `_SUCCESS`. CSV and JSON lines stream from the
 * in-memory table; Parquet goes through DuckDB (`COPY ... TO`) into a temporary file first.
 */
export async function writeMatchOutput(
  objects: ObjectStore,
  at: S3Location,
  table: EngineTable,
  result: MatchResult,
  opts: MatchOutputOptions,
): Promise<{ rows: number; parts: string[] }> {
  const rows = outputRows(table, result, opts.removeDuplicates);
  if (opts.format === 'parquet') {
    return { rows: rows.length, parts: await writeParquet(objects, at, table, result, rows, opts) };
  }
  const parts: Array<{ name: string; body: AsyncIterable<Uint8Array>; contentType: string }> = [];
  const count = Math.max(1, Math.ceil(rows.length / PART_ROWS));
  for (let p = 0; p < count; p++) {
    const slice = rows.slice(p * PART_ROWS, (p + 1) * PART_ROWS);
    const n = String(p).padStart(5, '0');
    parts.push(
      opts.format === 'csv'
        ? { name: `part-${n}.csv`, body: asAsync(csvChunks(table, result, slice, opts.confidence, true), opts.signal), contentType: 'text/csv' }
        : { name: `part-${n}.json`, body: asAsync(jsonChunks(table, result, slice, opts.confidence, false), opts.signal), contentType: 'application/json' },
    );
  }
  return { rows: rows.length, parts: await writeOutput(objects, at, parts) };
}

async function writeParquet(
  objects: ObjectStore,
  at: S3Location,
  table: EngineTable,
  result: MatchResult,
  rows: number[],
  opts: MatchOutputOptions,
): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'doppel-parquet-'));
  try {
    const jsonPath = join(dir, 'rows.json');
    const parquetPath = join(dir, 'part.parquet');
    await writeFile(jsonPath, '');
    for (const chunk of jsonChunks(table, result, rows, opts.confidence, true)) {
      opts.signal?.throwIfAborted();
      await appendFile(jsonPath, chunk);
    }
    const inputColumns = [
      ...table.columns.map((c) => `${sqlString(c.name)}: 'VARCHAR'`),
      `${sqlString(MATCH_ID)}: 'BIGINT'`,
      ...(opts.confidence ? [`${sqlString(MATCH_CONFIDENCE)}: 'DOUBLE'`] : []),
    ];
    const select = [
      ...table.columns.map((c) => `TRY_CAST(${sqlIdent(c.name)} AS ${duckType(c.type)}) AS ${sqlIdent(c.name)}`),
      sqlIdent(MATCH_ID),
      ...(opts.confidence ? [sqlIdent(MATCH_CONFIDENCE)] : []),
    ];
    const session = await DuckDbSession.open();
    try {
      await session.run(
        `COPY (SELECT ${select.join(', ')} FROM read_json(${sqlString(jsonPath)}, format = 'newline_delimited', ` +
          `columns = {${inputColumns.join(', ')}})) TO ${sqlString(parquetPath)} (FORMAT parquet)`,
      );
    } finally {
      await session.close();
    }
    opts.signal?.throwIfAborted();
    return await writeOutput(objects, at, [
      { name: 'part-00000.parquet', body: createReadStream(parquetPath), contentType: 'application/octet-stream' },
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
