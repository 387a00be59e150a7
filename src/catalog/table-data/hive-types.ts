/**
 * The Hive column types FindMatches accepts (spec §4.2: primitives only) and, for each, the SQL test
 * that a field's text is a value of that type.
 *
 * Values always travel as text; the catalog type only decides which texts are acceptable. Hive
 * itself would silently turn an unparseable field into NULL, which would hide a wrong delimiter or
 * a shifted column from the matcher, so doppel rejects it instead.
 */
export interface HiveType {
  /** The catalog's spelling, lower-cased and trimmed, for messages. */
  name: string;
  /** SQL boolean over a non-NULL VARCHAR expression; absent when every text fits (string types). */
  fits?: (text: string) => string;
}

const INTEGER_TYPES: Record<string, string> = {
  tinyint: 'TINYINT',
  smallint: 'SMALLINT',
  int: 'INTEGER',
  integer: 'INTEGER',
  bigint: 'BIGINT',
};

/** DuckDB's cast accepts `1.5` as an integer (it rounds); Hive does not, so the digits are checked first. */
const integerFits = (duckType: string) => (text: string) =>
  `(regexp_full_match(trim(${text}), '[+-]?[0-9]+') AND TRY_CAST(trim(${text}) AS ${duckType}) IS NOT NULL)`;

const castFits = (duckType: string) => (text: string) => `(TRY_CAST(trim(${text}) AS ${duckType}) IS NOT NULL)`;

/** The type, or undefined when doppel cannot use a column of that type (complex types, binary, …). */
export function hiveTypeOf(declared: string | undefined): HiveType | undefined {
  const name = (declared ?? 'string').trim().toLowerCase() || 'string';
  if (/^(string|varchar\(\s*\d+\s*\)|char\(\s*\d+\s*\))$/.test(name)) return { name };
  const integer = INTEGER_TYPES[name];
  if (integer) return { name, fits: integerFits(integer) };
  if (name === 'float') return { name, fits: castFits('FLOAT') };
  if (name === 'double' || name === 'double precision') return { name, fits: castFits('DOUBLE') };
  if (name === 'boolean') return { name, fits: castFits('BOOLEAN') };
  if (name === 'date') return { name, fits: castFits('DATE') };
  if (name === 'timestamp') return { name, fits: castFits('TIMESTAMP') };
  const decimal = /^(?:decimal|numeric)(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/.exec(name);
  if (decimal) {
    // Hive's bare `decimal` is decimal(10,0).
    const precision = Number(decimal[1] ?? 10);
    const scale = Number(decimal[2] ?? 0);
    if (precision < 1 || precision > 38 || scale > precision) return undefined;
    return { name, fits: castFits(`DECIMAL(${precision},${scale})`) };
  }
  return undefined;
}
