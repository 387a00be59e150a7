/** CSV as the server reads and writes it (RFC 4180: quoted fields, doubled quotes, CRLF or LF). */

/**
 * A CSV parser fed text piece by piece (a stream's chunks), a piece ending anywhere, even inside a
 * quoted field or between a CR and its LF: it hands back the rows each piece completes.
 */
export class CsvParser {
  #row: string[] = [];
  #field = '';
  #quoted = false;
  /** A quote was just read inside a quoted field: the next character says whether it was the closing one or the first of a doubled pair. */
  #quoteInQuoted = false;
  /** A row just ended with CR: an LF right after it belongs to that line end. */
  #afterCR = false;

  push(text: string): string[][] {
    const rows: string[][] = [];
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (this.#afterCR) {
        this.#afterCR = false;
        if (c === '\n') continue;
      }
      if (this.#quoteInQuoted) {
        this.#quoteInQuoted = false;
        if (c === '"') {
          this.#field += '"';
          continue;
        }
        this.#quoted = false;
      }
      if (this.#quoted) {
        if (c === '"') this.#quoteInQuoted = true;
        else this.#field += c;
      } else if (c === '"') this.#quoted = true;
      else if (c === ',') {
        this.#row.push(this.#field);
        this.#field = '';
      } else if (c === '\n' || c === '\r') {
        this.#afterCR = c === '\r';
        this.#row.push(this.#field);
        rows.push(this.#row);
        this.#row = [];
        this.#field = '';
      } else this.#field += c;
    }
    return rows;
  }

  /** The last row, when the text does not end with a line end. */
  end(): string[][] {
    const open = this.#field !== '' || this.#row.length > 0;
    const rows = open ? [[...this.#row, this.#field]] : [];
    this.#row = [];
    this.#field = '';
    this.#quoted = this.#quoteInQuoted = this.#afterCR = false;
    return rows;
  }
}

export function parseCsv(text: string): string[][] {
  const parser = new CsvParser();
  return [...parser.push(text), ...parser.end()];
}

const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

export function stringifyCsv(rows: string[][]): string {
  return rows.map((r) => r.map(quote).join(',')).join('\n') + '\n';
}
