import { open } from 'node:fs/promises';
import type { TablePart } from './table-part.js';
import type { CsvDialect, TableFormat } from './table-format.js';
import { notUtf8, singleFieldError } from './csv-messages.js';
import { OpenCsvParser, openCsvChars } from './opencsv.js';
import { TableDataError } from './table-data-error.js';

/** Header rows longer than this are not worth checking. */
const HEAD_BYTES = 1 << 20;

/**
 * The start of a CSV part, checked here because DuckDB would not notice: a UTF-16 file (its bytes
 * are valid UTF-8, NULs and all), and the header lines the table skips (skip.header.line.count),
 * which DuckDB skips unread:
 * - they must be valid UTF-8 when the table says UTF-8 (DuckDB never decodes skipped lines);
 * - the last one, the column names, is compared with the catalog. Hive maps fields by position and
 *   never reads the header, so different names are only a warning (crawlers rename "Site name" to
 *   site_name, say). The same names in another order are an error: every row would land in the
 *   wrong columns without anything else noticing.
 */
export async function checkCsvHeader(part: TablePart, format: TableFormat): Promise<HeaderMismatch | undefined> {
  const csv = format.csv!;
  const head = await headBytes(part.path);
  // UTF-16 text is valid UTF-8 byte by byte (every other byte NUL), so nothing downstream would notice.
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    throw new TableDataError(
      `${part.uri} is UTF-16 (it starts with a UTF-16 byte order mark); doppel reads UTF-8 or ISO-8859-1.`,
      { uri: part.uri, line: 1 },
    );
  }
  if (csv.headerLines === 0) return undefined;
  const lines = headLines(head, part, csv);
  const line = csv.headerLines;
  const header = lines[line - 1];
  if (header === undefined) return undefined; // a file with no data rows
  const names = splitCsvLine(header, csv);
  const catalog = format.columns.map((c) => c.name);
  if (names.length === 1 && catalog.length > 1) throw singleFieldError(part.uri, line, header, csv, catalog.length);
  const fileKeys = names.map(nameKey);
  const catalogKeys = catalog.map(nameKey);
  if (fileKeys.join('\u0000') === catalogKeys.join('\u0000')) return undefined;

  const sameNames = [...fileKeys].sort().join('\u0000') === [...catalogKeys].sort().join('\u0000');
  if (fileKeys.length === catalogKeys.length && sameNames) {
    const at = fileKeys.findIndex((k, i) => k !== catalogKeys[i]);
    throw new TableDataError(
      `${part.uri} header (line ${line}) has the catalog's columns in another order: field ${at + 1} is "${names[at]}" ` +
        `but catalog column ${at + 1} is ${catalog[at]}. Fields are read by position, so every row would be misassigned; ` +
        `reorder StorageDescriptor.Columns to ${names.join(', ')}.`,
      { uri: part.uri, line, column: catalog[at] },
    );
  }
  return {
    names,
    warning:
      `${part.uri} header (line ${line}) names ${names.length} fields (${preview(names)}) where the catalog declares ` +
      `${catalog.length} columns (${preview(catalog)}); fields are read by position, as Hive does.`,
  };
}

/** A header naming other columns than the catalog: worth a warning, not an error. */
export interface HeaderMismatch {
  names: string[];
  warning: string;
}

/** Lower case, and every run of non-alphanumerics as `_`: how crawlers turn a header into column names. */
function nameKey(name: string): string {
  return name.trim().toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '_').replace(/^_|_$/g, '');
}

function preview(names: string[]): string {
  const shown = names.slice(0, 8).join(', ');
  return names.length > 8 ? `${shown}, …` : shown;
}

async function headBytes(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await file.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/** The first `headerLines` lines of the file, decoded as the table declares (a UTF-8 BOM dropped). */
function headLines(bytes: Buffer, part: TablePart, csv: CsvDialect): string[] {
  const lines: string[] = [];
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (lines.length < csv.headerLines && start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const raw = bytes.subarray(start, end > start && bytes[end - 1] === 0x0d ? end - 1 : end);
    lines.push(decodeLine(raw, csv, part, lines.length + 1));
    start = end + 1;
  }
  return lines;
}

function decodeLine(raw: Buffer, csv: CsvDialect, part: TablePart, line: number): string {
  if (csv.encoding === 'ISO-8859-1') return raw.toString('latin1');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw notUtf8(part.uri, line);
  }
}

/** One line split into fields, honouring quotes the way the SerDe does (none for LazySimpleSerDe). */
export function splitCsvLine(line: string, csv: CsvDialect): string[] {
  if (!csv.quoted) return line.split(csv.delimiter);
  if (csv.openCsv) {
    // A header with a quote left open is split as far as the line goes; its data lines report it.
    const parser = new OpenCsvParser(openCsvChars(csv));
    return (parser.parseLine(line, 1) ?? parser.fieldsSoFar()).map((f) => f.text);
  }
  const fields: string[] = [];
  let field = '';
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (inQuotes) {
      if ((ch === csv.escape || ch === csv.quote) && line[i + 1] === csv.quote) {
        field += csv.quote;
        i++;
      } else if (ch === csv.quote) inQuotes = false;
      else field += ch;
    } else if (ch === csv.quote) inQuotes = true;
    else if (ch === csv.delimiter) {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields;
}
