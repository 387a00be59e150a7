/**
 * The model's `pattern` trait holds Java regular expressions that must match the whole value
 * (Java's `Matcher.matches()`). This module translates them to anchored JS RegExps with the `u`
 * flag, so that matching works on code points (like Java) and `\p{L}`-style classes parse.
 */

/**
 * Java writes "all supplementary code points" as the UTF-16 surrogate-pair range below (the
 * SINGLE_LINE / MULTI_LINE patterns use it). With the `u` flag JS would read each pair as one code
 * point anyway, but the explicit code-point range says what is meant.
 */
const JAVA_SUPPLEMENTARY_RANGE = '\\uD800\\uDC00-\\uDBFF\\uDFFF';
const JS_SUPPLEMENTARY_RANGE = '\\u{10000}-\\u{10FFFF}';

/** Characters that keep their backslash under the `u` flag (anywhere in a pattern). */
const SYNTAX_CHARACTERS = new Set('^$\\.*+?()[]{}|/');

/**
 * Java tolerates a backslash before any non-letter (`\_`, `\#`, `\ `); the `u` flag rejects such
 * "identity escapes" except for syntax characters (and `-` inside a class). Letters and digits
 * keep their escape meaning (`\d`, `\p{L}`, `\uFFFD`, …), which Java and JS share for the
 * constructs the Glue model uses.
 */
function dropNeedlessEscapes(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === '\\' && i + 1 < source.length) {
      const next = source[i + 1]!;
      i++;
      const keep = /[A-Za-z0-9]/.test(next) || SYNTAX_CHARACTERS.has(next) || (inClass && next === '-');
      out += keep ? `\\${next}` : next;
      continue;
    }
    if (ch === '[') inClass = true;
    else if (ch === ']') inClass = false;
    out += ch;
  }
  return out;
}

/** Translates a model (Java) pattern into JS source, anchored at both ends. */
export function javaPatternToJs(javaPattern: string): string {
  const body = dropNeedlessEscapes(javaPattern.split(JAVA_SUPPLEMENTARY_RANGE).join(JS_SUPPLEMENTARY_RANGE));
  return `^(?:${body})$`;
}

const compiled = new Map<string, RegExp | null>();

/**
 * The RegExp for a model pattern, compiled once. Returns null (and the caller skips the check)
 * for a pattern JS cannot express; a unit test asserts every pattern in GLUE_SHAPES compiles, so
 * that only happens after regenerating from a model with new constructs.
 */
export function modelPattern(javaPattern: string): RegExp | null {
  let re = compiled.get(javaPattern);
  if (re === undefined) {
    try {
      re = new RegExp(javaPatternToJs(javaPattern), 'u');
    } catch {
      re = null;
    }
    compiled.set(javaPattern, re);
  }
  return re;
}
