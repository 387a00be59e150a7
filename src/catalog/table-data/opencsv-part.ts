import { isUtf8 } from 'node:buffer';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { copyCsvPart, rejectError } from './csv-rejects.js';
import { bytesPattern, csvReadCall, fileMatches } from './csv-dialect.js';
import { fieldCountError, lineTooLong, MAX_LINE_BYTES, moreLines, notUtf8, showChar, singleFieldError } from './csv-messages.js';
import type { DuckDbSession } from './duckdb-session.js';
import { OpenCsvParser, openCsvChars, type OpenCsvChars, type OpenCsvField, type OpenQuote } from './opencsv.js';
import { slot } from './sql.js';
import type { TablePart } from './table-part.js';
import type { CsvDialect, TableFormat } from './table-format.js';
import { TableDataError } from './table-data-error.js';

/** Bad records counted per file after the first, which the error names. */
const BAD_RECORDS_LIMIT = 100;
const WRITE_BYTES = 1 << 20;
/** A record longer than this is a quote left open, not data (DuckDB's own limit on a line is 2 MB). */
const MAX_RECORD_CHARS = 1 << 21;

/**
 * Copies one part of an OpenCSVSerde table into the staged table (`insert` runs an INSERT of the
 * given SELECT) with OpenCSV's reading of every line (see opencsv.ts).
 *
 * Where the file holds no escape character, every line DuckDB accepts with doubled quotes reads the
 * same under OpenCSV's rules, so DuckDB reads the file directly, at its full speed. A file with
 * escapes, or one DuckDB rejects a line of (a quote inside an unquoted field, say), is rewritten
 * line by line into plain RFC 4180 CSV by OpenCSV's rules, streaming, and DuckDB reads the rewrite:
 * every problem is then found by the rewrite, with OpenCSV's view of the line.
 */
export async function copyOpenCsvPart(
  session: DuckDbSession,
  part: TablePart,
  format: TableFormat,
  insert: (select: string) => Promise<void>,
): Promise<void> {
  const csv = format.csv!;
  const chars = openCsvChars(csv);
  const byteEncoding = csv.encoding === 'ISO-8859-1' ? 'latin1' : 'utf8';
  if (!(await fileMatches(part.path, directReadDiffers(chars, byteEncoding)))) {
    // The rows of a rejected direct read are taken back: the rewrite below reads the file again.
    await session.run('BEGIN TRANSACTION');
    let reject;
    try {
      reject = await copyCsvPart(session, part, format, csv.quote, insert);
    } catch (e) {
      await session.run('ROLLBACK').catch(() => {});
      throw e;
    }
    if (!reject) return session.run('COMMIT');
    await session.run('ROLLBACK');
    // DuckDB names the line of an encoding fault or of a line too long exactly, and OpenCSV's
    // rules change neither (the rewritten file would fail on the same line, in DuckDB's words).
    if (reject.type === 'INVALID ENCODING' || reject.type === 'LINE SIZE OVER MAXIMUM') throw rejectError(part, format, csv.quote, reject);
  }
  const dir = await mkdtemp(join(tmpdir(), 'doppel-opencsv-'));
  try {
    const rewritten = join(dir, 'part.csv');
    await rewriteAsRfc4180(part, format, chars, rewritten, session.signal);
    const dialect: CsvDialect = { ...csv, escape: csv.quote, headerLines: 0, encoding: 'UTF-8' };
    const read = csvReadCall(rewritten, format.columns.length, dialect, csv.quote);
    await insert(`SELECT ${format.columns.map((_, i) => slot(i)).join(', ')} FROM ${read}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * What DuckDB's direct read would take differently from OpenCSV: the escape character, and white
 * space after a quote before a delimiter or line end (DuckDB drops it and ends the field there;
 * OpenCSV keeps the quote and the white space in the field).
 */
function directReadDiffers(chars: OpenCsvChars, encoding: BufferEncoding): RegExp {
  const quote = bytesPattern(chars.quote, encoding);
  const afterQuote = `${quote}[ \\t]+(?:${bytesPattern(chars.delimiter, encoding)}|[\\r\\n])`;
  return new RegExp(chars.escape === '' ? afterQuote : `${afterQuote}|${bytesPattern(chars.escape, encoding)}`);
}

interface BadRecord {
  /** The error for the first bad record, given what to say about the others. */
  error: (more: string) => TableDataError;
  /** Further bad records after the first. */
  others: number;
}

/**
 * Writes the part's records, as OpenCSV reads them, to `out` as UTF-8 CSV with the table's delimiter
 * and quote (doubled inside quotes, no escape character), header and blank lines left out. A field
 * is quoted when it must be, or when it was quoted and is empty (an empty string, not a missing
 * value). Fails with the first record whose field count is not the catalog's, or a quote left open.
 */
async function rewriteAsRfc4180(
  part: TablePart,
  format: TableFormat,
  chars: OpenCsvChars,
  out: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const csv = format.csv!;
  const columns = format.columns.length;
  const parser = new OpenCsvParser(chars);
  const output = createWriteStream(out);
  const utf8 = csv.encoding === 'UTF-8' ? new TextDecoder('utf-8', { fatal: true }) : undefined;
  const mustQuote = new RegExp(`[${escapeClass(chars.delimiter + chars.quote)}\\r\\n]`);
  const doubled = chars.quote + chars.quote;
  let pieces: string[] = [];
  let pieceChars = 0;
  let carry = '';
  let lineNumber = 0;
  let recordStart = 0;
  let recordText: string[] = [];
  let recordChars = 0;
  let bad: BadRecord | undefined;

  const writeRecord = (fields: OpenCsvField[]) => {
    for (let f = 0; f < fields.length; f++) {
      const { text, quoted } = fields[f]!;
      if (f > 0) pieces.push(chars.delimiter);
      if (text === '' ? quoted : mustQuote.test(text)) {
        pieces.push(chars.quote, text.replaceAll(chars.quote, doubled), chars.quote);
      } else pieces.push(text);
      pieceChars += text.length + 1;
    }
    pieces.push('\n');
  };
  const flush = async (force = false) => {
    if (pieceChars < WRITE_BYTES && !force) return;
    if (pieces.length > 0 && !output.write(pieces.join(''))) await once(output, 'drain');
    pieces = [];
    pieceChars = 0;
  };
  const noteBad = (firstLine: number, lastLine: number, text: string, fields: OpenCsvField[]) => {
    if (bad) bad.others++;
    else bad = { error: (more) => wrongFieldCount(part, format, chars, firstLine, lastLine, text, fields, more), others: 0 };
  };
  const takeLine = (raw: string) => {
    lineNumber++;
    if (lineNumber <= csv.headerLines) return;
    const line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (parser.openQuote === undefined) {
      if (line === '') return;
      // Most lines have neither quotes nor escapes: they are copied as they are.
      if (!line.includes(chars.quote) && (chars.escape === '' || !line.includes(chars.escape))) {
        if (tooLong(line)) throw lineTooLong(part.uri, lineNumber, chars.quote);
        if (fieldCount(line, chars.delimiter) !== columns) {
          noteBad(lineNumber, lineNumber, line, line.split(chars.delimiter).map((text) => ({ text, quoted: false })));
        } else if (!bad) {
          pieces.push(line, '\n');
          pieceChars += line.length + 1;
        }
        return;
      }
      recordStart = lineNumber;
      recordText = [];
      recordChars = 0;
    }
    recordText.push(line);
    recordChars += line.length + 1;
    const fields = parser.parseLine(line, lineNumber);
    if (!fields) {
      const open = parser.openQuote!;
      if (recordChars > MAX_RECORD_CHARS) throw unclosedQuote(part, format, chars, open, recordText[open.line - recordStart]!, lineNumber);
      return;
    }
    if (fields.length !== columns) noteBad(recordStart, lineNumber, recordText.join('\n'), fields);
    else if (recordChars > MAX_LINE_BYTES / 3 && tooLong(recordText.join('\n'))) throw lineTooLong(part.uri, recordStart, chars.quote);
    else if (!bad) writeRecord(fields);
  };

  try {
    for await (const chunk of createReadStream(part.path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      signal?.throwIfAborted();
      let text: string;
      try {
        text = carry + (utf8 ? utf8.decode(chunk, { stream: true }) : chunk.toString('latin1'));
      } catch {
        throw notUtf8(part.uri, lineNumber + firstInvalidUtf8Line(chunk));
      }
      const lines = text.split('\n');
      carry = lines.pop()!;
      for (const line of lines) takeLine(line);
      if (bad && bad.others >= BAD_RECORDS_LIMIT) break;
      await flush();
    }
    if (utf8) {
      try {
        carry += utf8.decode();
      } catch {
        throw notUtf8(part.uri, lineNumber + 1);
      }
    }
    if (carry !== '') takeLine(carry);
    if (bad) throw bad.error(moreLines(bad.others, bad.others >= BAD_RECORDS_LIMIT));
    const open = parser.openQuote;
    if (open) throw unclosedQuote(part, format, chars, open, recordText[open.line - recordStart]!);
    await flush(true);
  } finally {
    output.end();
    await finished(output).catch(() => {});
  }
}

function wrongFieldCount(
  part: TablePart,
  format: TableFormat,
  chars: OpenCsvChars,
  firstLine: number,
  lastLine: number,
  text: string,
  fields: OpenCsvField[],
  more: string,
): TableDataError {
  const csv = format.csv!;
  const columns = format.columns.length;
  if (fields.length === 1 && columns > 1 && !fields[0]!.quoted && firstLine === lastLine) {
    return singleFieldError(part.uri, firstLine, text, csv, columns, more);
  }
  const spans =
    lastLine > firstLine
      ? ` It is one record over lines ${firstLine}–${lastLine}: a quoted field left open at the end of line ${firstLine} ` +
        'continues on the next line.'
      : '';
  return fieldCountError(part.uri, firstLine, format, fields.length, text, more, `${spans}${escapeHint(chars, text)}`);
}

/** Whether a record is longer than DuckDB reads as one line (checked before the rewrite, which DuckDB reads). */
function tooLong(text: string): boolean {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: shorter texts need no count.
  return text.length > MAX_LINE_BYTES / 3 && Buffer.byteLength(text, 'utf8') > MAX_LINE_BYTES;
}

/** A quote left open to the end of the file, or (`runsTo`) for more than MAX_RECORD_CHARS. */
function unclosedQuote(
  part: TablePart,
  format: TableFormat,
  chars: OpenCsvChars,
  open: OpenQuote,
  lineText: string,
  runsTo?: number,
): TableDataError {
  const column = format.columns[open.field]?.name;
  const excerpt = JSON.stringify(lineText.length > 200 ? `${lineText.slice(0, 200)}…` : lineText);
  const until = runsTo === undefined ? 'by the end of the file' : `within 2 MB (it runs on to line ${runsTo} and further)`;
  return new TableDataError(
    `${part.uri} line ${open.line}, column ${column ?? `(field ${open.field + 1})`}: the quote at character ${open.column} ` +
      `opens a field that is not closed ${until} (quote ${showChar(chars.quote)}, escape ` +
      `${showChar(chars.escape)}): ${excerpt}.${escapeHint(chars, lineText)}`,
    { uri: part.uri, line: open.line, column },
  );
}

/** When the text has the escape before a quote, the escape may be data: say which parameter changes that. */
function escapeHint(chars: OpenCsvChars, text: string): string {
  if (chars.escape === '' || !text.includes(chars.escape + chars.quote)) return '';
  return (
    ` OpenCSVSerde reads ${chars.escape}${chars.quote} inside a field as a quote character (escapeChar ` +
    `${showChar(chars.escape)}); if ${showChar(chars.escape)} is data in this file and quotes are doubled instead, ` +
    'declare SerdeInfo.Parameters.escapeChar as a character the file never contains (e.g. "\\u0000").'
  );
}


function fieldCount(line: string, delimiter: string): number {
  let count = 1;
  for (let at = line.indexOf(delimiter); at >= 0; at = line.indexOf(delimiter, at + 1)) count++;
  return count;
}

/** 0-based offset, in lines, of the first line of `chunk` that is not valid UTF-8 on its own. */
function firstInvalidUtf8Line(chunk: Buffer): number {
  let start = 0;
  for (let line = 0; ; line++) {
    const end = chunk.indexOf(0x0a, start);
    if (!isUtf8(chunk.subarray(start, end < 0 ? chunk.length : end))) return line + 1;
    if (end < 0) return 1;
    start = end + 1;
  }
}

function escapeClass(chars: string): string {
  return chars.replace(/[\\\]^-]/g, '\\$&');
}
