import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { LabelRow } from '../../storage/records.js';
import { firstInvalidUtf8Offset, lineAndColumn } from './utf8.js';

/** A label file problem, worded for the person who wrote the file (it becomes the ErrorString). */
export class LabelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelFileError';
  }
}

export const LABEL_COLUMNS = ['labeling_set_id', 'label'] as const;

export interface LabelSchema {
  columns: string[];
  primaryKey: string;
}

const BOM = [0xef, 0xbb, 0xbf];

/**
 * Parses one label file (spec §5.3): UTF-8 CSV whose header starts `labeling_set_id,label`, followed
 * by columns of the transform's schema that include the primary key; no empty ids or labels; a
 * record appears at most once per labeling set. Every problem names the file, row, line and column.
 */
export function parseLabelFile(bytes: Buffer, source: string, schema: LabelSchema): LabelRow[] {
  if (bytes.length === 0) throw new LabelFileError(`Invalid label file of size 0: ${source}`);
  const bad = firstInvalidUtf8Offset(bytes);
  if (bad >= 0) {
    const { line, column } = lineAndColumn(bytes, bad);
    throw new LabelFileError(
      `${source} is not valid UTF-8: byte 0x${bytes[bad]!.toString(16).toUpperCase().padStart(2, '0')} ` +
        `at line ${line}, column ${column}. Label files must be UTF-8; this looks like Windows-1252 ` +
        '(cp1252) or Latin-1, as spreadsheet programs on Windows often save CSV. Save it as UTF-8 and import it again.',
    );
  }
  const hasBom = BOM.every((b, i) => bytes[i] === b);
  const text = bytes.subarray(hasBom ? 3 : 0).toString('utf8');

  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { info: true, skip_empty_lines: true, relax_column_count: false }) as unknown as typeof records;
  } catch (e) {
    const err = e as Error & { lines?: number; code?: string };
    throw new LabelFileError(`${source} is not a valid CSV file at line ${err.lines ?? '?'}: ${err.message}`);
  }
  if (records.length === 0) throw new LabelFileError(`${source} is empty: it has no header row`);
  const header = records[0]!.record;
  const columns = checkHeader(header, source, schema);
  if (records.length === 1) throw new LabelFileError(`${source} has a header but no labeled rows`);

  const rows: LabelRow[] = [];
  const seenInSet = new Map<string, number>();
  let previousEnd = records[0]!.info.lines;
  for (let r = 1; r < records.length; r++) {
    const { record, info } = records[r]!;
    const where = `${source} row ${r} (line ${previousEnd + 1})`;
    previousEnd = info.lines;
    const [setId, label] = record as [string, string];
    if (setId.trim() === '') throw new LabelFileError(`${where}: labeling_set_id is empty`);
    if (label.trim() === '') throw new LabelFileError(`${where}: label is empty`);
    const values: Record<string, string> = {};
    columns.forEach((name, i) => {
      values[name] = record[i + 2]!;
    });
    const pk = values[schema.primaryKey]!;
    if (pk.trim() === '') throw new LabelFileError(`${where}: the primary key column ${schema.primaryKey} is empty`);
    const seenKey = JSON.stringify([setId, pk]);
    const earlier = seenInSet.get(seenKey);
    if (earlier !== undefined) {
      throw new LabelFileError(
        `${where}: record ${schema.primaryKey}=${pk} appears twice in labeling set ${setId} (rows ${earlier} and ${r})`,
      );
    }
    seenInSet.set(seenKey, r);
    rows.push({ labelingSetId: setId, label, values });
  }
  return rows;
}

/** The record columns of a label file header, or an error saying exactly what is wrong with it. */
function checkHeader(header: string[], source: string, schema: LabelSchema): string[] {
  if (header[0] !== LABEL_COLUMNS[0] || header[1] !== LABEL_COLUMNS[1]) {
    throw new LabelFileError(
      `${source}: the header must start with labeling_set_id,label (case-sensitive); it starts with ` +
        `${header.slice(0, 2).join(',')}`,
    );
  }
  const columns = header.slice(2);
  const known = new Set(schema.columns);
  const seen = new Set<string>();
  columns.forEach((name, i) => {
    if (!known.has(name)) {
      throw new LabelFileError(
        `${source}: header column ${i + 3} (${name}) is not a column of the transform's schema ` +
          `(${schema.columns.join(', ')})`,
      );
    }
    if (seen.has(name)) throw new LabelFileError(`${source}: header column ${name} appears twice`);
    seen.add(name);
  });
  if (!seen.has(schema.primaryKey)) {
    throw new LabelFileError(`${source}: the header lacks the primary key column ${schema.primaryKey}`);
  }
  return columns;
}

/**
 * Labels as a label file: `labeling_set_id,label,<schema columns in order>`, so that an exported
 * file imports back to the same labels and exports again to the same bytes.
 */
export function formatLabelFile(rows: LabelRow[], schemaColumns: string[]): string {
  const header = [...LABEL_COLUMNS, ...schemaColumns];
  const body = rows.map((r) => [r.labelingSetId, r.label, ...schemaColumns.map((c) => r.values[c] ?? '')]);
  return stringify([header, ...body], { record_delimiter: '\n' });
}
