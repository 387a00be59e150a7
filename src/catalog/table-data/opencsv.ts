/**
 * How Hive's OpenCSVSerde (and so Glue and Athena) splits a line into fields: the rules of
 * OpenCSV 2.3's CSVParser, the version Hive bundles, with the defaults the SerDe constructs it with
 * (not strict about quotes, leading white space before a quote ignored):
 *
 * - Inside a field, `escape` followed by the quote or by another escape yields that character; an
 *   escape followed by anything else is dropped (`C:\dir` reads `C:dir`).
 * - Two quotes inside a field yield one quote, so RFC 4180's doubled quotes read as well.
 * - A quote that neither opens nor closes a field (not at the start of the line, not next to a
 *   separator) is kept as data and still toggles quoting: `a,bc"d"ef,g` has the field `bc"d"ef`.
 * - White space before an opening quote is dropped.
 *
 * Hive hands the SerDe one line at a time, so a quoted field cannot hold a line break there; here a
 * quote still open at the end of a line continues the field on the next line (joined by `\n`), as
 * OpenCSV's own reader does, so a file DuckDB reads with embedded line breaks reads the same here.
 */
export interface OpenCsvChars {
  delimiter: string;
  quote: string;
  /** '' when there is none (an escapeChar equal to quoteChar means doubled quotes only). */
  escape: string;
}

export interface OpenCsvField {
  text: string;
  /** The field had quotes: an empty quoted field is an empty string, an empty unquoted one a missing value. */
  quoted: boolean;
}

/** A quoted field still open at the end of the line last parsed. */
export interface OpenQuote {
  /** The field's 0-based position in its record. */
  field: number;
  /** 1-based line and character column (within that line) of the quote that opened it. */
  line: number;
  column: number;
}

/**
 * Splits lines into records. `parseLine` returns a record's fields once its last line is parsed,
 * undefined while a quoted field continues onto the next line (`openQuote` then says where it
 * started).
 */
export class OpenCsvParser {
  private fields: OpenCsvField[] = [];
  private pending: string | undefined;
  private pendingQuoted = false;
  private inField = false;
  openQuote: OpenQuote | undefined;

  constructor(private readonly chars: OpenCsvChars) {}

  /** The complete fields of a record whose last field is still open. */
  fieldsSoFar(): OpenCsvField[] {
    return this.fields;
  }

  parseLine(line: string, lineNumber: number): OpenCsvField[] | undefined {
    const { delimiter, quote, escape } = this.chars;
    // Most lines have neither quotes nor escapes: their fields are what splitting them gives.
    if (this.pending === undefined && !line.includes(quote) && (escape === '' || !line.includes(escape))) {
      return line.split(delimiter).map((text) => ({ text, quoted: false }));
    }
    let text = this.pending === undefined ? '' : `${this.pending}\n`;
    let quoted = this.pendingQuoted;
    let inQuotes = this.pending !== undefined;
    if (!inQuotes) {
      this.fields = [];
      this.inField = false;
    }
    this.pending = undefined;
    const n = line.length;
    for (let i = 0; i < n; i++) {
      const c = line[i]!;
      const next = i + 1 < n ? line[i + 1] : undefined;
      if (c === escape) {
        if ((inQuotes || this.inField) && (next === quote || next === escape)) {
          text += next;
          i++;
        }
      } else if (c === quote) {
        if ((inQuotes || this.inField) && next === quote) {
          text += quote;
          i++;
        } else {
          // OpenCSV's test for a quote inside a field rather than at its edge, by position in the line.
          if (i > 2 && line[i - 1] !== delimiter && next !== undefined && next !== delimiter) {
            if (text.length > 0 && text.trim() === '') text = '';
            else text += c;
          }
          inQuotes = !inQuotes;
          quoted = true;
          if (inQuotes) this.openQuote = { field: this.fields.length, line: lineNumber, column: i + 1 };
        }
        this.inField = !this.inField;
      } else if (c === delimiter && !inQuotes) {
        this.fields.push({ text, quoted });
        text = '';
        quoted = false;
        this.inField = false;
      } else {
        text += c;
        this.inField = true;
      }
    }
    if (inQuotes) {
      this.pending = text;
      this.pendingQuoted = quoted;
      return undefined;
    }
    this.openQuote = undefined;
    this.fields.push({ text, quoted });
    return this.fields;
  }
}

/** The characters OpenCSV reads a dialect's fields with: an escape equal to the quote is no escape. */
export function openCsvChars(csv: { delimiter: string; quote: string; escape: string }): OpenCsvChars {
  return { delimiter: csv.delimiter, quote: csv.quote, escape: csv.escape === csv.quote ? '' : csv.escape };
}
