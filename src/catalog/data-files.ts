import type { EngineTable } from '../engine/api.js';
import { dataObjectsAt } from '../storage/data-objects.js';
import type { ObjectStore } from '../storage/object-store.js';
import { formatS3Uri, type S3Location } from '../storage/s3-uri.js';
import { splitCsvLine } from './table-data/csv-header.js';
import { DuckDbSession } from './table-data/duckdb-session.js';
import { sqlString } from './table-data/sql.js';
import { TableDataError } from './table-data/table-data-error.js';
import type { CatalogColumn, CsvDialect, TableFormat } from './table-data/table-format.js';
import { readEncodedCatalogTable } from './table-source.js';

/**
 * Tables that are data files under an S3 path rather than catalog tables: the new records and the
 * previous output of an incremental find-matches run. The format comes from the files' extension
 * (`.csv`, `.json`, `.parquet`, as doppel's match output names its parts); CSV files start with a
 * header line and are quoted as that output writes them (`"` doubled inside quotes); JSON files
 * hold one object per line. The columns are given (the transform's), found by name in JSON and
 * Parquet, by position in CSV; every check of a catalog table's data applies.
 */

/** The columns find-matches adds to the records it writes. */
export const MATCH_ID = 'match_id';
export const MATCH_CONFIDENCE = 'match_confidence_score';
export const MATCH_EXPLANATION = 'match_explanation';

/** Doppel's CSV output: a header line, `,` between fields, `"` quotes doubled inside quotes. */
const OUTPUT_CSV: CsvDialect = { delimiter: ',', quote: '"', escape: '"', headerLines: 1, encoding: 'UTF-8', quoted: true, openCsv: false };

/** The data files at `at` and their format; an error when there are none or they mix formats. */
async function listDataFiles(objects: ObjectStore, at: S3Location) {
  const uri = formatS3Uri(at);
  const parts = await dataObjectsAt(objects, at);
  if (parts.length === 0) throw new TableDataError(`nothing at ${uri} (an object, or data files under that prefix).`);
  const kinds = new Set(parts.map((p) => /\.(csv|json|parquet)$/i.exec(p.key)?.[1]?.toLowerCase()));
  const [kind] = kinds;
  if (kinds.size > 1 || kind === undefined) {
    throw new TableDataError(`the data files at ${uri} must all be .csv, .json or .parquet files, found ${parts.map((p) => p.key).join(', ')}.`);
  }
  return { uri, parts, kind: kind as TableFormat['kind'] };
}

async function readFiles(
  objects: ObjectStore,
  listed: Awaited<ReturnType<typeof listDataFiles>>,
  at: S3Location,
  columns: CatalogColumn[],
  primaryKey: string,
  signal?: AbortSignal,
): Promise<EngineTable> {
  const format: TableFormat = { table: listed.uri, kind: listed.kind, location: listed.uri, columns, partitionKeys: [] };
  if (listed.kind === 'csv') format.csv = OUTPUT_CSV;
  const parts = listed.parts.map((p) => ({ ...p, bucket: at.bucket }));
  return readEncodedCatalogTable(objects, { format, parts }, { primaryKey, ...(signal ? { signal } : {}) });
}

/** The records under `at`, with the given columns. */
export async function readDataFilesAt(
  objects: ObjectStore,
  at: S3Location,
  columns: CatalogColumn[],
  primaryKey: string,
  signal?: AbortSignal,
): Promise<EngineTable> {
  return readFiles(objects, await listDataFiles(objects, at), at, columns, primaryKey, signal);
}

export interface MatchOutputTable {
  /** The records, with the given columns (without match_id and match_confidence_score). */
  table: EngineTable;
  matchId: Float64Array;
  /** When the output has match_confidence_score. */
  confidence?: Float64Array;
}

/**
 * A previous find-matches output under `at`: the given columns plus `match_id` and, when the
 * files have it, `match_confidence_score`. Every record must have a match_id that is a
 * non-negative integer below 2^53 and, where there is a confidence column, a confidence in [0, 1].
 */
export async function readMatchOutputAt(
  objects: ObjectStore,
  at: S3Location,
  columns: CatalogColumn[],
  primaryKey: string,
  signal?: AbortSignal,
): Promise<MatchOutputTable> {
  const listed = await listDataFiles(objects, at);
  const added = await matchColumns(objects, at, listed, columns.length);
  const withConfidence = added.some((c) => c.name === MATCH_CONFIDENCE);
  const all = [...columns, ...added];
  const read = await readFiles(objects, listed, at, all, primaryKey, signal);
  const n = read.rowCount;
  const key = (r: number) => read.columns[read.primaryKey]!.values[read.columns[read.primaryKey]!.codes[r]!];
  const numbers = (c: number, name: string, valid: (x: number) => boolean, what: string) => {
    const col = read.columns[c]!;
    const parsed = col.values.map((v) => (v.trim() === '' ? Number.NaN : Number(v)));
    const out = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const code = col.codes[r]!;
      const x = code < 0 ? Number.NaN : parsed[code]!;
      if (!valid(x)) {
        throw new TableDataError(`${listed.uri}: record ${key(r)} has ${name} ${code < 0 ? 'missing' : JSON.stringify(col.values[code])}, not ${what}.`);
      }
      out[r] = x;
    }
    return out;
  };
  const matchId = numbers(columns.length + added.findIndex((c) => c.name === MATCH_ID), MATCH_ID, (x) => Number.isSafeInteger(x) && x >= 0, 'a non-negative integer');
  const confidence = withConfidence ? numbers(columns.length + added.findIndex((c) => c.name === MATCH_CONFIDENCE), MATCH_CONFIDENCE, (x) => x >= 0 && x <= 1, 'a number in [0, 1]') : undefined;
  const table: EngineTable = { columns: read.columns.slice(0, columns.length), primaryKey: read.primaryKey, rowCount: n };
  return { table, matchId, ...(confidence ? { confidence } : {}) };
}

/**
 * The columns find-matches added that the files hold, after the records' own: match_id always;
 * match_confidence_score when the files have it; in CSV, read by position, every added column the
 * header names (match_explanation too), in its order.
 */
async function matchColumns(objects: ObjectStore, at: S3Location, listed: Awaited<ReturnType<typeof listDataFiles>>, own: number): Promise<CatalogColumn[]> {
  const types: Record<string, string> = { [MATCH_ID]: 'bigint', [MATCH_CONFIDENCE]: 'double', [MATCH_EXPLANATION]: 'string' };
  const first = listed.parts[0]!;
  if (listed.kind === 'csv') {
    const trailing = (await firstLine(objects, at.bucket, first.key)).slice(own).map((f) => f.toLowerCase());
    if (!trailing.includes(MATCH_ID) || trailing.some((f) => types[f] === undefined)) {
      throw new TableDataError(`${formatS3Uri(at)}: the header of ${first.key} does not end in the columns find-matches writes (${MATCH_ID}, then ${MATCH_CONFIDENCE} and ${MATCH_EXPLANATION} when asked for), it ends in ${trailing.join(', ') || 'nothing'}.`);
    }
    return trailing.map((name) => ({ name, type: types[name]! }));
  }
  const confidence = await hasColumn(objects, at, first.key, listed.kind, MATCH_CONFIDENCE);
  return [{ name: MATCH_ID, type: 'bigint' }, ...(confidence ? [{ name: MATCH_CONFIDENCE, type: 'double' }] : [])];
}

/** Whether a JSON lines or Parquet file holds a column: a key of some record, a field of its schema. */
async function hasColumn(objects: ObjectStore, at: S3Location, key: string, kind: TableFormat['kind'], name: string): Promise<boolean> {
  const copy = await objects.localCopy(at.bucket, key);
  const session = await DuckDbSession.open();
  try {
    const sql =
      kind === 'parquet'
        ? `SELECT count(*) FROM parquet_schema(${sqlString(copy.path)}) WHERE lower(name) = ${sqlString(name)}`
        : `SELECT count(*) FROM read_ndjson_objects(${sqlString(copy.path)}) WHERE list_contains(json_keys(json), ${sqlString(name)})`;
    const [[count]] = (await session.rows(sql)) as [[unknown]];
    return Number(count) > 0;
  } finally {
    await session.close();
    await copy.release();
  }
}

/** The fields of a CSV object's first line, read from its first bytes only. */
async function firstLine(objects: ObjectStore, bucket: string, key: string): Promise<string[]> {
  const { body } = await objects.getObject(bucket, key);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of body) {
      const b = Buffer.from(chunk as Uint8Array);
      chunks.push(b);
      if (b.includes(10)) break;
    }
  } finally {
    body.destroy();
  }
  const head = Buffer.concat(chunks);
  const end = head.indexOf(10);
  return splitCsvLine(head.subarray(0, end < 0 ? head.length : end).toString('utf8').replace(/\r$/, ''), OUTPUT_CSV);
}
