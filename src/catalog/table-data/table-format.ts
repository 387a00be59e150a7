import { hiveTypeOf } from './hive-types.js';
import { TableDataError } from './table-data-error.js';

/**
 * How to read a catalog table's data, derived from its Glue `Table` document (spec §4.2): the
 * format, where the data is, the columns in catalog order and, for CSV, the SerDe's dialect.
 */
export interface TableFormat {
  /** `database.table` (or just the table name), for messages. */
  table: string;
  kind: 'csv' | 'json' | 'parquet';
  /** StorageDescriptor.Location as declared: an object or a prefix of part files. */
  location: string;
  columns: CatalogColumn[];
  /** Hive partition keys; their values come from `key=value` folders in each part's path. */
  partitionKeys: CatalogColumn[];
  csv?: CsvDialect;
}

export interface CatalogColumn {
  name: string;
  /** Hive type, lower-cased (`string` when the catalog gives none). */
  type: string;
}

export interface CsvDialect {
  delimiter: string;
  /** The quote character; meaningful only when `quoted`. */
  quote: string;
  /** OpenCSVSerde's escapeChar, LazySimpleSerDe's escape.delim ('' for none). */
  escape: string;
  /** Lines skipped at the top of every part file (skip.header.line.count). */
  headerLines: number;
  encoding: 'UTF-8' | 'ISO-8859-1';
  /** false for LazySimpleSerDe, which takes quote characters as data. */
  quoted: boolean;
  /** OpenCSVSerde: lines are split into fields by OpenCSV's rules (opencsv.ts). */
  openCsv: boolean;
  /** Field text read as NULL besides an empty unquoted field: LazySimpleSerDe's serialization.null.format. */
  nullFormat?: string;
}

/** The members of a Glue Table (or TableInput) this module reads. */
export interface GlueTableDocument {
  Name?: string;
  DatabaseName?: string;
  Parameters?: Record<string, string>;
  StorageDescriptor?: {
    Columns?: GlueColumn[];
    Location?: string;
    InputFormat?: string;
    SerdeInfo?: { SerializationLibrary?: string; Parameters?: Record<string, string> };
    Parameters?: Record<string, string>;
  };
  PartitionKeys?: GlueColumn[];
}

export interface GlueColumn {
  Name: string;
  Type?: string;
}

type Kind = TableFormat['kind'];
type SerDe = 'lazy-simple' | 'open-csv' | 'json' | 'parquet' | 'other' | 'none';

const SERDES: Array<[RegExp, SerDe]> = [
  [/\.LazySimpleSerDe$/i, 'lazy-simple'],
  [/\.OpenCSVSerde$/i, 'open-csv'],
  [/JsonSerDe$/i, 'json'], // org.openx.data.jsonserde.JsonSerDe, org.apache.hive.hcatalog.data.JsonSerDe
  [/\.ParquetHiveSerDe$/i, 'parquet'],
];

export function tableFormatOf(doc: GlueTableDocument): TableFormat {
  const table = doc.DatabaseName && doc.Name ? `${doc.DatabaseName}.${doc.Name}` : (doc.Name ?? '(unnamed table)');
  const fail = (what: string): never => {
    throw new TableDataError(`Table ${table}: ${what}`, { table });
  };
  const sd = doc.StorageDescriptor ?? {};
  const serdeParams = sd.SerdeInfo?.Parameters ?? {};
  // Crawlers write format parameters to both Table.Parameters and StorageDescriptor.Parameters;
  // hand-written tables usually only to the first. SerDe parameters come last.
  const param = (name: string): string | undefined =>
    doc.Parameters?.[name] ?? sd.Parameters?.[name] ?? serdeParams[name];

  const location = sd.Location?.trim();
  if (!location) fail('StorageDescriptor.Location is missing, so there is no data to read.');

  const library = sd.SerdeInfo?.SerializationLibrary?.trim();
  const serde: SerDe = !library ? 'none' : (SERDES.find(([re]) => re.test(library))?.[1] ?? 'other');
  const kind = kindOf(param('classification'), serde, sd.InputFormat, fail);
  if (serde === 'other' || (kind === 'csv' && (serde === 'json' || serde === 'parquet'))) {
    fail(
      `SerDe ${library} cannot read ${kind} data here ` +
        '(supported: LazySimpleSerDe, OpenCSVSerde, a JsonSerDe, ParquetHiveSerDe).',
    );
  }

  const columns = columnsOf(sd.Columns ?? [], 'StorageDescriptor.Columns', fail);
  if (columns.length === 0) fail('StorageDescriptor.Columns is empty: the catalog must declare the columns to read.');
  const partitionKeys = columnsOf(doc.PartitionKeys ?? [], 'PartitionKeys', fail);
  const seen = new Set<string>();
  for (const c of [...columns, ...partitionKeys]) {
    const folded = c.name.toLowerCase();
    if (seen.has(folded)) fail(`column ${c.name} is declared twice (Hive column names are case-insensitive).`);
    seen.add(folded);
  }

  const format: TableFormat = { table, kind, location: location!, columns, partitionKeys };
  if (kind === 'csv') format.csv = csvDialectOf(serde, serdeParams, param, fail);
  return format;
}

function kindOf(
  classification: string | undefined,
  serde: SerDe,
  inputFormat: string | undefined,
  fail: (what: string) => never,
): Kind {
  if (classification !== undefined) {
    const c = classification.trim().toLowerCase();
    if (c === 'csv' || c === 'json' || c === 'parquet') return c;
    fail(`classification "${classification}" is not supported (csv, json or parquet).`);
  }
  if (serde === 'lazy-simple' || serde === 'open-csv') return 'csv';
  if (serde === 'json') return 'json';
  if (serde === 'parquet' || /parquet/i.test(inputFormat ?? '')) return 'parquet';
  // TextInputFormat with no SerDe is Hive's default text table.
  if (/TextInputFormat$/.test(inputFormat ?? '')) return 'csv';
  return fail(
    'nothing says how its data is stored: set Parameters.classification (csv, json or parquet) ' +
      'or StorageDescriptor.SerdeInfo.SerializationLibrary.',
  );
}

function columnsOf(list: GlueColumn[], member: string, fail: (what: string) => never): TableFormat['columns'] {
  return list.map((c) => {
    if (!c.Name?.trim()) fail(`a column in ${member} has no name.`);
    const type = hiveTypeOf(c.Type);
    if (!type) fail(`column ${c.Name} has type "${c.Type}", which FindMatches cannot use (primitive types only).`);
    return { name: c.Name, type: type!.name };
  });
}

function csvDialectOf(
  serde: SerDe,
  serdeParams: Record<string, string>,
  param: (name: string) => string | undefined,
  fail: (what: string) => never,
): CsvDialect {
  const char = (value: string | undefined, what: string, hiveByte = false): string | undefined => {
    if (value === undefined) return undefined;
    const c = unescapeChar(value, hiveByte);
    if (c === undefined) fail(`${what} "${value}" is not a single character.`);
    return c;
  };
  const lazy = serde === 'lazy-simple';
  const delimiter =
    char(serdeParams['field.delim'], 'field.delim', lazy) ??
    char(serdeParams['separatorChar'], 'separatorChar') ??
    char(param('delimiter'), 'delimiter') ??
    ',';
  const headerText = param('skip.header.line.count');
  const headerLines = headerText === undefined ? 0 : Number(headerText.trim());
  if (!Number.isInteger(headerLines) || headerLines < 0) {
    fail(`skip.header.line.count "${headerText}" is not a whole number.`);
  }

  const encodingText = param('serialization.encoding');
  const encoding = encodingText === undefined ? 'UTF-8' : encodingOf(encodingText);
  if (!encoding) fail(`serialization.encoding "${encodingText}" is not supported (UTF-8 or ISO-8859-1).`);

  if (lazy) {
    // LazySimpleSerDe splits on the delimiter and nothing else: quotes are data, and a field equal to
    // serialization.null.format (default \N) is NULL.
    return {
      delimiter,
      quote: '',
      escape: char(serdeParams['escape.delim'], 'escape.delim', true) ?? '',
      headerLines,
      encoding: encoding!,
      quoted: false,
      openCsv: false,
      nullFormat: param('serialization.null.format') ?? '\\N',
    };
  }
  // OpenCSVSerde, and tables that name no SerDe: Glue's own CSV reader understands quotes too.
  const quote = char(serdeParams['quoteChar'], 'quoteChar') ?? '"';
  return {
    delimiter,
    quote,
    escape: char(serdeParams['escapeChar'], 'escapeChar') ?? '\\',
    headerLines,
    encoding: encoding!,
    quoted: true,
    openCsv: serde === 'open-csv',
    nullFormat: serde === 'none' ? param('serialization.null.format') : undefined,
  };
}

/**
 * A SerDe parameter that names one character, as Hive reads it: `\t`, `\u0001`, octal `\001`, or
 * the character itself. Hive's LazySimpleSerDe takes a number as a byte value (`field.delim` "9"
 * is a tab), so `hiveByte` does the same.
 */
export function unescapeChar(value: string, hiveByte = false): string | undefined {
  if (hiveByte && /^-?\d{1,3}$/.test(value)) {
    const byte = Number(value);
    if (byte >= -128 && byte <= 127) return String.fromCharCode(byte & 0xff);
  }
  const named: Record<string, string> = { '\\t': '\t', '\\\\': '\\', '\\"': '"', "\\'": "'", '\\b': '\b', '\\f': '\f' };
  if (named[value]) return named[value];
  const unicode = /^\\u([0-9a-fA-F]{4})$/.exec(value);
  if (unicode) return String.fromCharCode(parseInt(unicode[1]!, 16));
  const octal = /^\\([0-7]{1,3})$/.exec(value);
  if (octal) return String.fromCharCode(parseInt(octal[1]!, 8));
  return [...value].length === 1 ? value : undefined;
}

function encodingOf(text: string): CsvDialect['encoding'] | undefined {
  const folded = text.trim().toLowerCase().replace(/[-_\s]/g, '');
  if (folded === 'utf8') return 'UTF-8';
  if (['iso88591', 'latin1', 'l1', '88591', 'isolatin1'].includes(folded)) return 'ISO-8859-1';
  return undefined;
}
