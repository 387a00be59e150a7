import { parse } from 'csv-parse/sync';
import { csvReadCall } from './csv-dialect.js';
import { fieldCountError, lineTooLong, moreLines, notUtf8, showChar, singleFieldError } from './csv-messages.js';
import { toNumber, type DuckDbSession } from './duckdb-session.js';
import { slot } from './sql.js';
import type { TablePart } from './table-part.js';
import type { TableFormat } from './table-format.js';
import { TableDataError } from './table-data-error.js';

/** Rejected lines recorded per file: the first names the problem, the count says how widespread. */
const REJECTS_LIMIT = 100;

let scanCounter = 0;

/**
 * Copies one CSV part into the staged table (`copy` runs an INSERT of the given SELECT) and returns
 * the first line DuckDB could not take apart, if any: invalid encoding, a wrong number of fields
 * (ragged rows, or a wrong delimiter), a broken quote. The copy is the check: DuckDB parses the file
 * once, records the lines it rejects, and the rows it took count only when it rejected none (the
 * caller fails, or rolls the copy back).
 *
 * DuckDB's reject tables report these as data (line, error type, the line's text), so the messages
 * are ours (rejectError).
 */
export async function copyCsvPart(
  session: DuckDbSession,
  part: TablePart,
  format: TableFormat,
  escape: string,
  copy: (select: string) => Promise<void>,
): Promise<Reject | undefined> {
  const n = ++scanCounter;
  const rejects = `doppel_rejects_${n}`;
  const scans = `doppel_scans_${n}`;
  const read = csvReadCall(part.path, format.columns.length, format.csv!, escape, [
    'store_rejects = true',
    `rejects_table = '${rejects}'`,
    `rejects_scan = '${scans}'`,
    `rejects_limit = ${REJECTS_LIMIT}`,
  ]);
  try {
    await copy(`SELECT ${format.columns.map((_, i) => slot(i)).join(', ')} FROM ${read}`);
    const [first] = await session.rows(
      // A line missing several fields is rejected once per missing field: count lines, not rejects.
      `SELECT line, column_name, error_type, csv_line, error_message, (SELECT count(DISTINCT line) FROM ${rejects}), ` +
        `(SELECT count(*) FROM ${rejects}) ` +
        `FROM ${rejects} ORDER BY line, column_idx LIMIT 1`,
    );
    if (!first) return undefined;
    const [line, column, type, text, duckMessage, lines, rejected] = first;
    return {
      line: toNumber(line),
      column: column === null ? undefined : catalogName(format, String(column)),
      type: String(type),
      text: String(text ?? '').replace(/^[\r\n]+|[\r\n]+$/g, ''),
      duckMessage: String(duckMessage ?? ''),
      others: toNumber(lines) - 1,
      // DuckDB stops recording at the limit, so there may be more than it counted.
      capped: toNumber(rejected) >= REJECTS_LIMIT,
    };
  } finally {
    await session.run(`DROP TABLE IF EXISTS ${rejects}; DROP TABLE IF EXISTS ${scans}`).catch(() => {});
  }
}

export interface Reject {
  line: number;
  column?: string;
  type: string;
  text: string;
  duckMessage: string;
  others: number;
  capped: boolean;
}

export function rejectError(part: TablePart, format: TableFormat, escape: string, r: Reject): TableDataError {
  const csv = format.csv!;
  const where = { uri: part.uri, line: r.line, column: r.column };
  const more = moreLines(r.others, r.capped);
  const excerpt = JSON.stringify(r.text.length > 200 ? `${r.text.slice(0, 200)}…` : r.text);
  const columns = format.columns.length;

  switch (r.type) {
    case 'INVALID ENCODING':
      return notUtf8(part.uri, r.line, r.column);
    case 'TOO MANY COLUMNS':
    case 'MISSING COLUMNS': {
      if (columns > 1 && !r.text.includes(csv.delimiter)) {
        return singleFieldError(part.uri, r.line, r.text, csv, columns, more);
      }
      // DuckDB stops reading a line at its first field too many, so its count is the declared one
      // plus one however many the line holds: those fields are counted from the line itself.
      const found = r.type === 'TOO MANY COLUMNS' ? fieldsIn(r.text, csv, escape) : Number(/Found:\s*(\d+)/.exec(r.duckMessage)?.[1] ?? NaN);
      const count = Number.isInteger(found) && (r.type === 'TOO MANY COLUMNS' ? found > columns : found < columns)
        ? found
        : r.type === 'TOO MANY COLUMNS' ? 'more' : 'fewer';
      let hint = '';
      if (!csv.quoted && r.text.includes('"')) {
        hint = ' The line has quote characters, which LazySimpleSerDe reads as data: for quoted CSV use OpenCSVSerde.';
      } else if (!csv.quoted && csv.escape && r.text.includes(csv.escape + csv.delimiter)) {
        hint = ` doppel does not apply LazySimpleSerDe's escape.delim ${showChar(csv.escape)}.`;
      }
      return fieldCountError(part.uri, r.line, format, count, r.text, more, hint);
    }
    case 'UNQUOTED VALUE':
      return new TableDataError(
        `${part.uri} line ${r.line}${r.column ? `, column ${r.column}` : ''}: a quoted field is not closed, or text ` +
          `follows its closing quote (quote ${showChar(csv.quote)}, escape ${showChar(escape)}): ${excerpt}${more}.` +
          quoteHint(csv, escape),
        where,
      );
    case 'LINE SIZE OVER MAXIMUM':
      return lineTooLong(part.uri, r.line, csv.quote, more);
    default:
      return new TableDataError(`${part.uri} line ${r.line}: ${r.duckMessage}: ${excerpt}${more}`, where);
  }
}

/** The fields of one line of the table's CSV dialect (NaN when it does not read as one record). */
function fieldsIn(line: string, csv: TableFormat['csv'] & {}, escape: string): number {
  try {
    const records = parse(line, {
      delimiter: csv.delimiter,
      quote: csv.quoted ? csv.quote : false,
      escape: csv.quoted && escape !== '' ? escape : null,
      relax_quotes: true,
      relax_column_count: true,
    }) as string[][];
    return records.length === 1 ? records[0]!.length : NaN;
  } catch {
    return NaN;
  }
}

/** Which table parameter would let a line with a broken quote be read. */
function quoteHint(csv: TableFormat['csv'] & {}, escape: string): string {
  if (escape !== csv.quote) {
    return (
      ` The file contains ${escape}${csv.quote}, so ${showChar(escape)} is read as the escape character throughout; if ` +
      `the file doubles its quotes instead and ${showChar(escape)} is data, declare SerdeInfo.Parameters.escapeChar as a ` +
      'character the file never contains, or use OpenCSVSerde, which reads both.'
    );
  }
  return (
    ` Quotes inside a quoted field are read doubled (${csv.quote}${csv.quote}); if the file escapes them with another ` +
    'character, declare it as SerdeInfo.Parameters.escapeChar.'
  );
}

function catalogName(format: TableFormat, internal: string): string | undefined {
  const m = /^c(\d+)$/.exec(internal);
  return m ? format.columns[Number(m[1])]?.name : undefined;
}
