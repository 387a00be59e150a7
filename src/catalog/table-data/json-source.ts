import { createReadStream } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { toNumber, type DuckDbSession } from './duckdb-session.js';
import { slot, sqlString, sqlStringList } from './sql.js';
import type { TablePart } from './table-part.js';
import type { TableFormat } from './table-format.js';
import { TableDataError } from './table-data-error.js';

/**
 * JSON lines tables: one object per line, read as raw JSON by DuckDB and taken apart by key.
 *
 * Glue's JSON SerDes match keys to columns case-insensitively (crawlers lower-case column names,
 * data keeps `firstName`), which DuckDB's `read_json(columns=…)` does not; so the spellings of each
 * column's key present in the data are found first, and every spelling is tried.
 */
export async function jsonSelects(
  session: DuckDbSession,
  parts: readonly TablePart[],
  format: TableFormat,
  warn: (message: string) => void,
): Promise<string[]> {
  const wanted = format.columns.map((c) => c.name.toLowerCase());
  const spellings = new Map<string, Set<string>>(wanted.map((w) => [w, new Set<string>()]));
  for (const part of parts) {
    const objects = `read_ndjson_objects(${sqlString(part.path)})`;
    let nonObjects: number;
    try {
      const [counts] = await session.rows(`SELECT count(*) FILTER (WHERE json_type(json) <> 'OBJECT') FROM ${objects}`);
      nonObjects = toNumber(counts?.[0]);
      const keys = await session.rows(
        `SELECT DISTINCT k FROM (SELECT unnest(json_keys(json)) AS k FROM ${objects}) ` +
          `WHERE lower(k) IN (SELECT unnest(${sqlStringList(wanted)}))`,
      );
      for (const [k] of keys) spellings.get(String(k).toLowerCase())?.add(String(k));
    } catch (e) {
      throw (await firstBadLine(part)) ?? duckJsonError(part, e);
    }
    if (nonObjects > 0) {
      throw (
        (await firstBadLine(part)) ??
        new TableDataError(`${part.uri} has ${nonObjects} lines that are not JSON objects.`, { uri: part.uri })
      );
    }
  }

  const expressions = format.columns.map((column, i) => {
    // The catalog's own spelling first, when a record has it.
    const exactFirst = (a: string, b: string) => Number(b === column.name) - Number(a === column.name);
    const keys = [...spellings.get(column.name.toLowerCase())!].sort(exactFirst);
    if (keys.length === 0) {
      warn(`Table ${format.table}: no record has a key for column ${column.name}; it is NULL in every row.`);
      return `NULL::VARCHAR AS ${slot(i)}`;
    }
    const reads = keys.map((k) => `json_extract_string(json, ${sqlString(jsonPathOf(k))})`);
    return `${reads.length === 1 ? reads[0] : `coalesce(${reads.join(', ')})`} AS ${slot(i)}`;
  });
  return parts.map((part) => `SELECT ${expressions.join(', ')} FROM read_ndjson_objects(${sqlString(part.path)})`);
}

/** A JSON path naming one top-level key, whatever characters it holds. */
function jsonPathOf(key: string): string {
  return `$."${key.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/**
 * The first line of a JSON lines file that is not valid UTF-8, not JSON, or not an object, found
 * by reading the file here. DuckDB's own message is the fallback: its line numbers are off by one.
 */
async function firstBadLine(part: TablePart): Promise<TableDataError | undefined> {
  let line = 0;
  let carry: Buffer = Buffer.alloc(0);
  const problemIn = (bytes: Buffer): string | undefined => {
    line++;
    if (!isUtf8(bytes)) return 'not valid UTF-8 (JSON data must be UTF-8)';
    const text = bytes.toString('utf8').replace(/^\uFEFF/, '').trim();
    if (text === '') return undefined;
    try {
      const value: unknown = JSON.parse(text);
      return value !== null && typeof value === 'object' && !Array.isArray(value) ? undefined : 'not a JSON object';
    } catch (e) {
      return `not valid JSON (${(e as Error).message})`;
    }
  };
  const fail = (problem: string) => new TableDataError(`${part.uri} line ${line} is ${problem}.`, { uri: part.uri, line });
  for await (const chunk of createReadStream(part.path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    let newline: number;
    while ((newline = data.indexOf(0x0a)) >= 0) {
      const problem = problemIn(data.subarray(0, newline));
      if (problem) return fail(problem);
      data = data.subarray(newline + 1);
    }
    carry = Buffer.from(data);
  }
  if (carry.length > 0) {
    const problem = problemIn(carry);
    if (problem) return fail(problem);
  }
  return undefined;
}

function duckJsonError(part: TablePart, e: unknown): TableDataError {
  const message = (e as Error).message.split('\n')[0]!.replaceAll(part.path, part.uri);
  return new TableDataError(`${part.uri} cannot be read as JSON lines: ${message}`, { uri: part.uri });
}
