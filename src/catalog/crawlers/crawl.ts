import { createHash } from 'node:crypto';
import type { Json } from '../../core/wire.js';
import type { CatalogChange } from '../../storage/catalog-change.js';
import type { CrawlerRecord } from '../../storage/crawler-store.js';
import { dataObjectsAt } from '../../storage/data-objects.js';
import type { MetadataStore } from '../../storage/metadata-store.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { partitionOfTable, type PartitionRecord, type TableKey } from '../../storage/records.js';
import { asPrefix, formatS3Uri, parseS3Uri, type S3Location } from '../../storage/s3-uri.js';
import { duckDbErrorSummary, DuckDbSession } from '../table-data/duckdb-session.js';
import { classifyFile, type FileSchema } from './classify.js';
import { crawlerConfigurationOf } from './crawler-rules.js';
import type { CrawlSummary } from './crawl-summary.js';
import { globPattern } from './glob.js';

/** A crawl that cannot go on, with a message for the crawl's ErrorMessage. */
export class CrawlFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CrawlFailure';
  }
}

export interface CrawlDeps {
  store: MetadataStore;
  /** The object store as the crawler's account sees it. */
  objects: ObjectStore;
  /** What the crawl is doing, and what it logs (schema changes it leaves alone, files it skips). */
  progress(stage: string, fraction?: number): void;
}

export interface CrawlResult {
  change: CatalogChange;
  summary: CrawlSummary;
}

/** Compressed files: doppel's table reader reads uncompressed data only, so a crawl skips them. */
const COMPRESSED = /\.(gz|gzip|bz2|snappy|zst|zstd|lz4|lzo|deflate|zip|xz)$/i;
/** Two schemas belong to one table when this share of their columns (by name) is common to both. */
const SIMILAR_COLUMNS = 0.7;
/** What Glue's crawlers stamp on the tables they write. */
const CRAWLER_SCHEMA_VERSION = '1.0';

/** A data file under an include path, and its schema when it was sampled. */
interface CrawledFile {
  at: S3Location;
  size: number;
  /** The folders between the include path and the file. */
  folders: string[];
  schema?: FileSchema;
  /** Why no classifier recognized it, when the crawl sampled it: it is then none of a table's files. */
  unclassified?: string;
}

/** A table the crawl found: files with compatible schemas under one folder, partitioned by the folders below it. */
interface FoundTable {
  name: string;
  location: string;
  schema: FileSchema;
  partitionKeys: string[];
  /** Each partition's values and folder. */
  partitions: Map<string, { values: string[]; location: string }>;
  files: CrawledFile[];
}

/**
 * One crawl of a crawler: reads its S3 targets, classifies a sample of the files, groups them into
 * tables and partitions as Glue's crawlers do, and works out the catalog changes against the
 * crawler's database under its SchemaChangePolicy. Nothing is written here: the changes are
 * committed with the crawl's SUCCEEDED.
 */
export async function crawl(crawler: CrawlerRecord, startedOn: number, deps: CrawlDeps): Promise<CrawlResult> {
  const doc = crawler.doc;
  const targets = ((doc['Targets'] as Json | undefined)?.['S3Targets'] as Json[] | undefined) ?? [];
  const change: CatalogChange = { createTables: [], updateTables: [], deleteTables: [], createPartitions: [], deletePartitions: [] };
  const summary: CrawlSummary = { tablesCreated: 0, tablesUpdated: 0, tablesDeleted: 0, partitionsCreated: 0, partitionsDeleted: 0 };
  if (targets.length === 0) return { change, summary };
  const databaseName = typeof doc['DatabaseName'] === 'string' ? doc['DatabaseName'].toLowerCase() : undefined;
  if (!databaseName) throw new CrawlFailure(`Crawler ${crawler.name} has no DatabaseName: UpdateCrawler can set the database its tables go into.`);
  if (!(await deps.store.getDatabase(crawler, crawler.accountId, databaseName))) {
    throw new CrawlFailure(`Database ${databaseName} not found: create it (CreateDatabase) before crawling into it.`);
  }
  const configuration = crawlerConfigurationOf(doc['Configuration'] as string | undefined);
  const prefix = typeof doc['TablePrefix'] === 'string' ? doc['TablePrefix'] : '';

  const found: FoundTable[] = [];
  const session = await DuckDbSession.open();
  try {
    for (const [i, target] of targets.entries()) {
      deps.progress(`reading ${target['Path']}`, (i / targets.length) * 0.8);
      const files = await listTarget(target, deps);
      await sample(files, (target['SampleSize'] as number | undefined) ?? Number.POSITIVE_INFINITY, session, deps);
      const include = parseS3Uri(target['Path'] as string);
      const tables = groupTables(include, [], files, configuration.combineCompatibleSchemas, prefix, deps);
      logUnclassifiedInTables(files, tables, deps);
      found.push(...tables);
    }
  } finally {
    await session.close();
  }
  deps.progress('comparing with the catalog', 0.9);
  // Two folders with the same name get distinct tables, as Glue does: by a suffix from their location.
  const byName = new Map<string, FoundTable>();
  for (const table of found) {
    if (byName.has(table.name)) table.name = `${table.name}_${shortHash(table.location)}`;
    byName.set(table.name, table);
  }

  const policy = (doc['SchemaChangePolicy'] as Json | undefined) ?? {};
  const update = policy['UpdateBehavior'] !== 'LOG' && (doc['RecrawlPolicy'] as Json | undefined)?.['RecrawlBehavior'] !== 'CRAWL_NEW_FOLDERS_ONLY';
  const deleteBehavior = (policy['DeleteBehavior'] as string | undefined) ?? 'DEPRECATE_IN_DATABASE';
  const existing = new Map((await deps.store.listTables(crawler, crawler.accountId, databaseName)).map((t) => [t.name, t]));
  const key = (name: string): TableKey => ({ accountId: crawler.accountId, region: crawler.region, catalogId: crawler.accountId, databaseName, name });

  for (const table of byName.values()) {
    const tableDoc = tableDocOf(table, crawler.name);
    const current = existing.get(table.name);
    // The definition new partitions inherit: the stored one when the table is left as it is.
    let partitionTemplate = tableDoc;
    if (!current) {
      change.createTables.push({
        ...key(table.name),
        createdOn: startedOn,
        updatedOn: startedOn,
        versionId: 0,
        createdBy: crawlerPrincipal(crawler),
        doc: tableDoc,
      });
      summary.tablesCreated++;
    } else {
      const differences = schemaDifferences(current.doc, tableDoc);
      if (differences.length > 0 && update) {
        change.updateTables.push({ ...current, updatedOn: startedOn, versionId: current.versionId + 1, doc: { ...tableDoc, ...keptMembers(current.doc) } });
        summary.tablesUpdated++;
      } else {
        if (differences.length > 0) {
          deps.progress(`table ${table.name} has changed (${differences.join('; ')}); not updated (SchemaChangePolicy.UpdateBehavior LOG)`);
        }
        partitionTemplate = current.doc;
      }
    }
    const known = current ? await deps.store.listPartitions(key(table.name)) : [];
    const knownValues = new Set(known.map((p) => JSON.stringify(p.values)));
    for (const [id, partition] of table.partitions) {
      if (knownValues.has(id)) continue;
      change.createPartitions.push(partitionOf(key(table.name), partition, partitionTemplate, startedOn));
      summary.partitionsCreated++;
    }
    for (const p of known) {
      if (table.partitions.has(JSON.stringify(p.values))) continue;
      if (deleteBehavior === 'DELETE_FROM_DATABASE') {
        change.deletePartitions.push({ table: key(table.name), values: p.values });
        summary.partitionsDeleted++;
      } else {
        deps.progress(`partition [${p.values.join(', ')}] of table ${table.name} is gone from S3; kept (SchemaChangePolicy.DeleteBehavior ${deleteBehavior})`);
      }
    }
  }

  // Tables this crawler wrote earlier whose folders are gone.
  const includes = targets.map((t) => asFolder(t['Path'] as string));
  for (const t of existing.values()) {
    const parameters = (t.doc['Parameters'] as Record<string, string> | undefined) ?? {};
    const location = (t.doc['StorageDescriptor'] as Json | undefined)?.['Location'];
    if (byName.has(t.name) || parameters['UPDATED_BY_CRAWLER'] !== crawler.name || typeof location !== 'string') continue;
    if (!includes.some((include) => asFolder(location).startsWith(include))) continue;
    if (deleteBehavior === 'DELETE_FROM_DATABASE') {
      change.deleteTables.push(key(t.name));
      summary.tablesDeleted++;
    } else if (deleteBehavior === 'DEPRECATE_IN_DATABASE' && parameters['DEPRECATED_BY_CRAWLER'] === undefined) {
      const deprecated = { ...t.doc, Parameters: { ...parameters, DEPRECATED_BY_CRAWLER: String(Math.floor(startedOn / 1000)) } };
      change.updateTables.push({ ...t, updatedOn: startedOn, versionId: t.versionId + 1, doc: deprecated });
      summary.tablesUpdated++;
    } else {
      deps.progress(`table ${t.name}: its data at ${location} is gone; kept (SchemaChangePolicy.DeleteBehavior ${deleteBehavior})`);
    }
  }
  return { change, summary };
}

/** The target's data files, less those its Exclusions match (globs relative to its Path). */
async function listTarget(target: Json, deps: CrawlDeps): Promise<CrawledFile[]> {
  const path = target['Path'] as string;
  const include = parseS3Uri(path);
  const exclusions = ((target['Exclusions'] as string[] | undefined) ?? []).map((g) => ({ glob: g, re: globPattern(g) }));
  let objects;
  try {
    objects = await dataObjectsAt(deps.objects, include);
  } catch (e) {
    throw new CrawlFailure(`${path} cannot be read: ${(e as Error).message}`);
  }
  // A Path naming one object crawls that object, as a table of its folder.
  const single = objects.length === 1 && objects[0]!.key === include.key;
  const base = single ? include.key.slice(0, include.key.lastIndexOf('/') + 1) : asPrefix(include.key);
  const files: CrawledFile[] = [];
  for (const o of objects) {
    const relative = o.key.slice(base.length);
    if (exclusions.some((x) => x.re.test(relative))) continue;
    if (COMPRESSED.test(o.key)) {
      deps.progress(`s3://${include.bucket}/${o.key} skipped: compressed files are not crawled (doppel reads uncompressed data)`);
      continue;
    }
    files.push({ at: { bucket: include.bucket, key: o.key }, size: o.size, folders: relative.split('/').slice(0, -1) });
  }
  return files;
}

/** Classifies up to `perFolder` files of each folder (all of them by default), in key order. */
async function sample(files: CrawledFile[], perFolder: number, session: DuckDbSession, deps: CrawlDeps): Promise<void> {
  const taken = new Map<string, number>();
  for (const file of files) {
    const folder = file.folders.join('/');
    const n = taken.get(folder) ?? 0;
    if (n >= perFolder) continue;
    taken.set(folder, n + 1);
    const copy = await deps.objects.localCopy(file.at.bucket, file.at.key);
    try {
      const result = await classifyFile(session, copy.path);
      if ('unknown' in result) file.unclassified = result.unknown;
      else file.schema = result;
    } catch (e) {
      file.unclassified = duckDbErrorSummary((e as Error).message);
    } finally {
      await copy.release();
    }
    if (file.unclassified !== undefined) deps.progress(`${formatS3Uri(file.at)} not classified: ${file.unclassified}`);
  }
}

/**
 * Names the unclassified files a table reads all the same: a table is read by folder (its Location,
 * or its partitions'), so one that shares a folder with classified files is read with them.
 */
function logUnclassifiedInTables(files: CrawledFile[], tables: FoundTable[], deps: CrawlDeps): void {
  for (const file of files) {
    if (file.unclassified === undefined) continue;
    const uri = formatS3Uri(file.at);
    for (const table of tables) {
      const folders = table.partitionKeys.length === 0 ? [table.location] : [...table.partitions.values()].map((p) => p.location);
      const folder = folders.find((f) => uri.startsWith(f));
      if (folder) deps.progress(`${uri} was not classified, but table ${table.name} reads it: it lies in ${folder} with files that were`);
    }
  }
}

/**
 * The tables under `folders` (relative to the include path): one table there when every sampled
 * file below is compatible with the others and all files are equally deep (the folders between are
 * its partitions); otherwise the tables of each subfolder. A folder holding nothing but one
 * subfolder (not a `key=value` one) is no table's root: its subfolder is, and names the table.
 * Files directly in a folder whose subfolders form several tables belong to none: a table there
 * would read its subfolders too.
 */
function groupTables(include: S3Location, folders: string[], files: CrawledFile[], combine: boolean, prefix: string, deps: CrawlDeps): FoundTable[] {
  const sampled = files.filter((f) => f.schema !== undefined);
  if (sampled.length === 0) return [];
  const children = new Map<string, CrawledFile[]>();
  const direct: CrawledFile[] = [];
  for (const f of files) {
    const child = f.folders[folders.length];
    if (child === undefined) direct.push(f);
    else children.set(child, [...(children.get(child) ?? []), f]);
  }
  const [only] = children.keys();
  if (direct.length === 0 && children.size === 1 && !only!.includes('=')) {
    return groupTables(include, [...folders, only!], files, combine, prefix, deps);
  }
  const depths = new Set(files.map((f) => f.folders.length));
  const schema = depths.size === 1 ? mergedSchema(sampled.map((f) => f.schema!), combine) : undefined;
  // Unclassified files count for the folders' layout (a table whose Location held one deeper down
  // would read it) but not as the table's files or partitions.
  if (schema) return [tableAt(include, folders, files.filter((f) => f.unclassified === undefined), schema, prefix)];
  for (const f of direct.filter((f) => f.unclassified === undefined)) deps.progress(`${formatS3Uri(f.at)} belongs to no table: its folder's subfolders hold different tables`);
  return [...children.entries()].flatMap(([child, below]) => groupTables(include, [...folders, child], below, combine, prefix, deps));
}

function tableAt(include: S3Location, folders: string[], files: CrawledFile[], schema: FileSchema, prefix: string): FoundTable {
  const location = `s3://${include.bucket}/${asPrefix(include.key)}${folders.map((f) => `${f}/`).join('')}`;
  const folderName = folders.at(-1) ?? include.key.split('/').filter((s) => s !== '').at(-1) ?? include.bucket;
  const levels = (files[0]?.folders.length ?? folders.length) - folders.length;
  const partitionKeys = Array.from({ length: levels }, (_, level) => {
    const segments = new Set(files.map((f) => f.folders[folders.length + level]!));
    const keys = new Set([...segments].map((s) => /^([^=]+)=/.exec(s)?.[1]));
    const [only] = keys;
    return keys.size === 1 && only !== undefined ? sanitizedName(only) : `partition_${level}`;
  });
  const partitions = new Map<string, { values: string[]; location: string }>();
  for (const f of levels > 0 ? files : []) {
    const segments = f.folders.slice(folders.length);
    const values = segments.map((s, level) => (partitionKeys[level] === `partition_${level}` && !s.includes('=') ? s : decodeValue(s.slice(s.indexOf('=') + 1))));
    const id = JSON.stringify(values);
    if (!partitions.has(id)) partitions.set(id, { values, location: `${location}${segments.map((s) => `${s}/`).join('')}` });
  }
  return { name: `${prefix}${sanitizedName(folderName)}`.toLowerCase(), location, schema, partitionKeys, partitions, files };
}

function decodeValue(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** A folder name as a Glue table or column name: lower case, every character but letters, digits and _ made _. */
export function sanitizedName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

/**
 * One schema for files that make one table, or undefined when they do not: the same format (and CSV
 * dialect), and columns similar enough by name unless `combine` (Grouping.TableGroupingPolicy
 * CombineCompatibleSchemas). Columns are merged in order of appearance; a column typed differently
 * in two files takes the type both fit (double for bigint and double, else string).
 */
function mergedSchema(schemas: FileSchema[], combine: boolean): FileSchema | undefined {
  const [first] = schemas;
  let merged: FileSchema = { ...first!, columns: [...first!.columns] };
  for (const s of schemas.slice(1)) {
    if (s.classification !== merged.classification) return undefined;
    if (s.classification === 'csv' && merged.classification === 'csv') {
      if (s.delimiter !== merged.delimiter || s.header !== merged.header) return undefined;
      // CSV columns are read by position: one file's columns must begin with the other's.
      const [shorter, longer] = s.columns.length <= merged.columns.length ? [s.columns, merged.columns] : [merged.columns, s.columns];
      if (!shorter.every((c, i) => c.name === longer[i]!.name)) return undefined;
      if (!combine && shorter.length / longer.length < SIMILAR_COLUMNS) return undefined;
      merged = { ...merged, quoted: merged.quoted || s.quoted, columns: longer.map((c, i) => ({ name: c.name, type: commonType(c.type, shorter[i]?.type ?? c.type) })) };
    } else {
      const names = new Set(merged.columns.map((c) => c.name));
      const common = s.columns.filter((c) => names.has(c.name)).length;
      const union = names.size + s.columns.length - common;
      if (!combine && common / union < SIMILAR_COLUMNS) return undefined;
      const columns = merged.columns.map((c) => ({ ...c, type: commonType(c.type, s.columns.find((o) => o.name === c.name)?.type ?? c.type) }));
      for (const c of s.columns) if (!names.has(c.name)) columns.push(c);
      merged = { ...merged, columns };
    }
    merged.recordCount += s.recordCount;
  }
  return merged;
}

function commonType(a: string, b: string): string {
  if (a === b) return a;
  const numeric = ['tinyint', 'smallint', 'int', 'bigint'];
  if (numeric.includes(a) && numeric.includes(b)) return 'bigint';
  if ([...numeric, 'float', 'double'].includes(a) && [...numeric, 'float', 'double'].includes(b)) return 'double';
  return 'string';
}

/** The table as Glue's crawler writes it: format parameters, SerDe and statistics from the sample. */
function tableDocOf(table: FoundTable, crawlerName: string): Json {
  const { schema } = table;
  const size = table.files.reduce((n, f) => n + f.size, 0);
  const sampledSize = table.files.filter((f) => f.schema).reduce((n, f) => n + f.size, 0);
  const sampledRecords = table.files.reduce((n, f) => n + (f.schema?.recordCount ?? 0), 0);
  const averageRecordSize = sampledRecords > 0 ? Math.round(sampledSize / sampledRecords) : 0;
  const parameters: Record<string, string> = {
    classification: schema.classification,
    compressionType: 'none',
    typeOfData: 'file',
    // Records in files the crawl did not sample are estimated from their size.
    recordCount: String(averageRecordSize > 0 ? Math.round(size / averageRecordSize) : sampledRecords),
    averageRecordSize: String(averageRecordSize),
    objectCount: String(table.files.length),
    sizeKey: String(size),
    CrawlerSchemaSerializerVersion: CRAWLER_SCHEMA_VERSION,
    CrawlerSchemaDeserializerVersion: CRAWLER_SCHEMA_VERSION,
    UPDATED_BY_CRAWLER: crawlerName,
  };
  let serde: Json;
  let formats: [string, string];
  const text: [string, string] = ['org.apache.hadoop.mapred.TextInputFormat', 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'];
  if (schema.classification === 'csv') {
    parameters['delimiter'] = schema.delimiter;
    parameters['areColumnsQuoted'] = String(schema.quoted);
    parameters['columnsOrdered'] = 'true';
    if (schema.header) parameters['skip.header.line.count'] = '1';
    serde = schema.quoted
      ? { SerializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde', Parameters: { separatorChar: schema.delimiter, quoteChar: '"', escapeChar: '\\' } }
      : { SerializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe', Parameters: { 'field.delim': schema.delimiter } };
    formats = text;
  } else if (schema.classification === 'json') {
    serde = { SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe', Parameters: { paths: schema.columns.map((c) => c.name).join(',') } };
    formats = text;
  } else {
    serde = { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe', Parameters: { 'serialization.format': '1' } };
    formats = ['org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat', 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'];
  }
  return {
    Name: table.name,
    Owner: 'owner',
    Retention: 0,
    TableType: 'EXTERNAL_TABLE',
    PartitionKeys: table.partitionKeys.map((name) => ({ Name: name, Type: 'string' })),
    Parameters: parameters,
    StorageDescriptor: {
      Columns: schema.columns.map((c) => ({ Name: c.name, Type: c.type })),
      Location: table.location,
      InputFormat: formats[0],
      OutputFormat: formats[1],
      Compressed: false,
      NumberOfBuckets: -1,
      SerdeInfo: serde,
      BucketColumns: [],
      SortColumns: [],
      Parameters: parameters,
      StoredAsSubDirectories: false,
    },
  };
}

/** Members of a table the crawler does not write, kept when it updates the table. */
function keptMembers(doc: Json): Json {
  const kept: Json = {};
  for (const m of ['Description', 'Owner', 'TargetTable', 'ViewOriginalText', 'ViewExpandedText']) if (doc[m] !== undefined) kept[m] = doc[m];
  return kept;
}

/** How the crawled definition differs from the stored one, in words; empty when it does not. */
function schemaDifferences(stored: Json, crawled: Json): string[] {
  const sdOf = (d: Json) => (d['StorageDescriptor'] as Json | undefined) ?? {};
  const columns = (list: unknown) => ((list as Array<{ Name: string; Type?: string }> | undefined) ?? []).map((c) => `${c.Name.toLowerCase()} ${c.Type ?? ''}`);
  const differences: string[] = [];
  const before = columns(sdOf(stored)['Columns']);
  const after = columns(sdOf(crawled)['Columns']);
  const added = after.filter((c) => !before.includes(c));
  const removed = before.filter((c) => !after.includes(c));
  if (added.length > 0) differences.push(`new columns: ${added.join(', ')}`);
  if (removed.length > 0) differences.push(`columns gone or retyped: ${removed.join(', ')}`);
  if (JSON.stringify(columns(stored['PartitionKeys'])) !== JSON.stringify(columns(crawled['PartitionKeys']))) differences.push('other partition keys');
  const library = (d: Json) => (sdOf(d)['SerdeInfo'] as Json | undefined)?.['SerializationLibrary'];
  if (library(stored) !== library(crawled)) differences.push(`SerDe ${String(library(crawled))}`);
  // A JSON table's `paths` lists its columns, whose changes are reported above.
  const format = (d: Json) => {
    const { paths: _paths, ...parameters } = ((sdOf(d)['SerdeInfo'] as Json | undefined)?.['Parameters'] as Json | undefined) ?? {};
    return JSON.stringify(parameters);
  };
  if (library(stored) === library(crawled) && format(stored) !== format(crawled)) differences.push('other SerDe parameters');
  if (sdOf(stored)['Location'] !== sdOf(crawled)['Location']) differences.push(`location ${String(sdOf(crawled)['Location'])}`);
  return differences;
}

/** A partition inherits its table's definition (CrawlerOutput.Partitions InheritFromTable) with its own folder. */
function partitionOf(table: TableKey, partition: { values: string[]; location: string }, tableDoc: Json, createdOn: number): PartitionRecord {
  const sd = (tableDoc['StorageDescriptor'] as Json | undefined) ?? {};
  return partitionOfTable(table, partition.values, createdOn, {
    StorageDescriptor: { ...sd, Location: partition.location },
    Parameters: { ...((tableDoc['Parameters'] as Json | undefined) ?? {}) },
  });
}

/** Who a crawled table is created by: the crawler's role, assumed by the crawler, as Glue records it. */
function crawlerPrincipal(crawler: CrawlerRecord): string {
  const role = String(crawler.doc['Role'] ?? '');
  const roleName = role.split('/').at(-1) || role;
  return `arn:aws:sts::${crawler.accountId}:assumed-role/${roleName}/AWS-Crawler`;
}

const asFolder = (uri: string) => (uri.endsWith('/') ? uri : `${uri}/`);

/** A short stable suffix for a location. */
const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 6);

