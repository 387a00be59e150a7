/** Where a byte stream stopped being valid UTF-8: the offending byte, its 1-based line and column (in bytes). */
export interface Utf8Fault {
  byte: number;
  offset: number;
  line: number;
  column: number;
}

/**
 * Checks that bytes are valid UTF-8 as they stream in, chunk by chunk (a sequence may straddle
 * chunks), keeping count of lines so that a bad byte can be located. Overlong forms, surrogates
 * and code points past U+10FFFF count as invalid, as in the WHATWG decoder; the fault is reported
 * at the first byte of the sequence it breaks.
 */
export class Utf8Checker {
  #offset = 0;
  #line = 1;
  #lineStart = 0;
  /** The sequence in progress: bytes still needed, smallest code point allowed, value so far. */
  #need = 0;
  #min = 0;
  #cp = 0;
  #lead: Utf8Fault = { byte: 0, offset: 0, line: 1, column: 1 };

  /** Checks the next bytes; returns the fault if the input is no longer valid UTF-8. */
  push(bytes: Uint8Array): Utf8Fault | undefined {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      const at = this.#offset + i;
      if (this.#need > 0) {
        if ((b & 0xc0) !== 0x80) return this.#lead;
        this.#cp = (this.#cp << 6) | (b & 0x3f);
        if (--this.#need === 0 && (this.#cp < this.#min || this.#cp > 0x10ffff || (this.#cp >= 0xd800 && this.#cp <= 0xdfff))) {
          return this.#lead;
        }
        continue;
      }
      if (b < 0x80) {
        if (b === 0x0a) {
          this.#line++;
          this.#lineStart = at + 1;
        }
        continue;
      }
      this.#lead = { byte: b, offset: at, line: this.#line, column: at - this.#lineStart + 1 };
      if (b >= 0xc2 && b <= 0xdf) [this.#need, this.#min, this.#cp] = [1, 0x80, b & 0x1f];
      else if (b >= 0xe0 && b <= 0xef) [this.#need, this.#min, this.#cp] = [2, 0x800, b & 0x0f];
      else if (b >= 0xf0 && b <= 0xf4) [this.#need, this.#min, this.#cp] = [3, 0x10000, b & 0x07];
      else return this.#lead;
    }
    this.#offset += bytes.length;
    return undefined;
  }

  /** At the end of the input: a sequence cut off by the end is invalid. */
  end(): Utf8Fault | undefined {
    return this.#need > 0 ? this.#lead : undefined;
  }
}
