import { createHash } from 'node:crypto';
import { alreadyExists, entityNotFound, invalidInput, ServiceError } from '../core/errors.js';
import { paginate } from '../core/pagination.js';
import type { RequestContext } from '../core/request-context.js';
import { arr, compact, fromWireTime, obj, str, toWireTime, type Json } from '../core/wire.js';
import { StoreConflict, type MetadataStore } from '../storage/metadata-store.js';
import { partitionOfTable, type DatabaseRecord, type PartitionRecord, type TableKey, type TableRecord } from '../storage/records.js';
import { databaseArn, tableArn } from './arns.js';
import { compilePartitionExpression, type PartitionKey } from './partition-expression.js';

/**
 * The Glue Data Catalog subset FindMatches needs: databases and tables that say where input data
 * lives and what its columns are. Names are folded to lower case, as Glue does for Hive.
 */
export class CatalogService {
  constructor(private readonly store: MetadataStore) {}

  #catalogId(ctx: RequestContext, input: Json): string {
    return str(input, 'CatalogId') ?? ctx.accountId;
  }

  async createDatabase(ctx: RequestContext, input: Json): Promise<Json> {
    const dbInput = obj(input, 'DatabaseInput')!;
    const name = str(dbInput, 'Name')!.toLowerCase();
    const catalogId = this.#catalogId(ctx, input);
    const tags = (obj(input, 'Tags') ?? {}) as Record<string, string>;
    assertNoReservedTags(tags);
    try {
      await this.store.insertDatabase(
        { ...scopeOf(ctx), catalogId, name, createdOn: Date.now(), doc: { ...dbInput, Name: name } },
        tags,
        databaseArn(ctx, name),
      );
    } catch (e) {
      if (e instanceof StoreConflict) throw alreadyExists('Database already exists.');
      throw e;
    }
    return {};
  }

  async #database(ctx: RequestContext, catalogId: string, name: string): Promise<DatabaseRecord> {
    const db = await this.store.getDatabase(ctx, catalogId, name.toLowerCase());
    if (!db) throw entityNotFound(`Database ${name.toLowerCase()} not found.`);
    return db;
  }

  async getDatabase(ctx: RequestContext, input: Json): Promise<Json> {
    const db = await this.#database(ctx, this.#catalogId(ctx, input), str(input, 'Name')!);
    return { Database: databaseToWire(db) };
  }

  async getDatabases(ctx: RequestContext, input: Json): Promise<Json> {
    const catalogId = this.#catalogId(ctx, input);
    const all = await this.store.listDatabases(ctx, catalogId);
    const { page, nextToken } = paginate(all, (d) => [d.name, d.name], false, {
      nextToken: str(input, 'NextToken'),
      maxResults: input['MaxResults'] as number | undefined,
      defaultPageSize: 100,
      fingerprint: ['GetDatabases', catalogId],
    });
    return compact({ DatabaseList: page.map(databaseToWire), NextToken: nextToken });
  }

  /**
   * DatabaseInput replaces the definition (members it leaves out are removed, as in Glue); the
   * database keeps its name, creation time, tables and tags. Its Name must be the database's own:
   * a database is not renamed.
   */
  async updateDatabase(ctx: RequestContext, input: Json): Promise<Json> {
    const current = await this.#database(ctx, this.#catalogId(ctx, input), str(input, 'Name')!);
    const dbInput = obj(input, 'DatabaseInput')!;
    const newName = str(dbInput, 'Name')!.toLowerCase();
    if (newName !== current.name) {
      throw invalidInput(`DatabaseInput.Name ${newName} differs from Name ${current.name}: a database cannot be renamed.`);
    }
    const updated = await this.store.updateDatabase({ ...current, doc: { ...dbInput, Name: current.name } });
    if (!updated) throw entityNotFound(`Database ${current.name} not found.`);
    return {};
  }

  async deleteDatabase(ctx: RequestContext, input: Json): Promise<Json> {
    const name = str(input, 'Name')!.toLowerCase();
    const deleted = await this.store.deleteDatabase(ctx, this.#catalogId(ctx, input), name);
    if (!deleted) throw entityNotFound(`Database ${name} not found.`);
    return {};
  }

  async createTable(ctx: RequestContext, input: Json): Promise<Json> {
    const catalogId = this.#catalogId(ctx, input);
    const databaseName = str(input, 'DatabaseName')!.toLowerCase();
    const tableInput = obj(input, 'TableInput') ?? {};
    const rawName = str(tableInput, 'Name') ?? str(input, 'Name');
    if (!rawName) throw invalidInput('A table name must be given in TableInput.Name (or Name).');
    // An Iceberg table keeps its schema and files in Iceberg metadata, which doppel does not read;
    // storing the table without it would make a transform read it as a plain folder.
    if (input['OpenTableFormatInput'] !== undefined) {
      throw invalidInput(
        'OpenTableFormatInput is not supported: doppel reads CSV, JSON lines and Parquet tables ' +
          '(declared by StorageDescriptor), not Iceberg tables.',
      );
    }
    const name = rawName.toLowerCase();
    await this.#database(ctx, catalogId, databaseName);
    const now = Date.now();
    try {
      await this.store.insertTable({
        ...scopeOf(ctx),
        catalogId,
        databaseName,
        name,
        createdOn: now,
        updatedOn: now,
        versionId: 0,
        createdBy: ctx.principalArn,
        doc: storedTableInput(tableInput, name),
      });
    } catch (e) {
      if (e instanceof StoreConflict) throw alreadyExists('Table already exists.');
      throw e;
    }
    return {};
  }

  /** The table a transform reads, or an error naming what is missing. */
  async findTable(
    ctx: RequestContext,
    catalogId: string,
    databaseName: string,
    name: string,
  ): Promise<{ table: TableRecord } | { error: string }> {
    const db = await this.store.getDatabase(ctx, catalogId, databaseName.toLowerCase());
    if (!db) return { error: `Database ${databaseName.toLowerCase()} not found.` };
    const table = await this.store.getTable(ctx, catalogId, db.name, name.toLowerCase());
    if (!table) return { error: `Table ${name.toLowerCase()} not found.` };
    return { table };
  }

  async #table(ctx: RequestContext, input: Json): Promise<TableRecord> {
    const catalogId = this.#catalogId(ctx, input);
    const found = await this.findTable(ctx, catalogId, str(input, 'DatabaseName')!, str(input, 'Name')!);
    if ('error' in found) throw entityNotFound(found.error);
    return found.table;
  }

  async getTable(ctx: RequestContext, input: Json): Promise<Json> {
    return { Table: tableToWire(await this.#table(ctx, input)) };
  }

  async getTables(ctx: RequestContext, input: Json): Promise<Json> {
    const catalogId = this.#catalogId(ctx, input);
    const db = await this.#database(ctx, catalogId, str(input, 'DatabaseName')!);
    let tables = await this.store.listTables(ctx, catalogId, db.name);
    const expression = str(input, 'Expression');
    if (expression !== undefined && expression !== '') {
      const re = namePattern(expression);
      tables = tables.filter((t) => re.test(t.name));
    }
    const { page, nextToken } = paginate(tables, (t) => [t.name, t.name], false, {
      nextToken: str(input, 'NextToken'),
      maxResults: input['MaxResults'] as number | undefined,
      defaultPageSize: 100,
      fingerprint: ['GetTables', catalogId, db.name, expression ?? ''],
    });
    return compact({ TableList: page.map(tableToWire), NextToken: nextToken });
  }

  async updateTable(ctx: RequestContext, input: Json): Promise<Json> {
    const tableInput = obj(input, 'TableInput');
    if (!tableInput) throw invalidInput('TableInput must be given.');
    const current = await this.#table(ctx, { ...input, Name: str(tableInput, 'Name') });
    const expected = str(input, 'VersionId');
    if (expected !== undefined && expected !== String(current.versionId)) {
      throw new ServiceError(
        'ConcurrentModificationException',
        `Table ${current.name} was updated by someone else: version ${current.versionId}, not ${expected}.`,
      );
    }
    const updated: TableRecord = {
      ...current,
      updatedOn: Date.now(),
      versionId: current.versionId + 1,
      doc: storedTableInput(tableInput, current.name),
    };
    // The replaced definition stays readable as a table version unless SkipArchive says not to.
    const archive = input['SkipArchive'] !== true;
    if (!(await this.store.updateTable(updated, { archive }))) {
      const now = await this.store.getTable(ctx, current.catalogId, current.databaseName, current.name);
      if (!now) throw entityNotFound(`Table ${current.name} not found.`);
      throw new ServiceError(
        'ConcurrentModificationException',
        `Table ${current.name} was updated by someone else while this update ran (now version ${now.versionId}).`,
      );
    }
    return {};
  }

  /** The table's versions: the archived definitions and the current one, oldest first. */
  async #tableVersions(table: TableRecord): Promise<TableRecord[]> {
    return [...(await this.store.listTableVersions(keyOf(table))), table];
  }

  async getTableVersions(ctx: RequestContext, input: Json): Promise<Json> {
    const table = await this.#tableOf(ctx, input);
    const { page, nextToken } = paginate(await this.#tableVersions(table), (v) => [v.versionId, ''], false, {
      nextToken: str(input, 'NextToken'),
      maxResults: input['MaxResults'] as number | undefined,
      defaultPageSize: 100,
      fingerprint: ['GetTableVersions', table.catalogId, table.databaseName, table.name],
    });
    return compact({ TableVersions: page.map(tableVersionToWire), NextToken: nextToken });
  }

  /** GetTableVersion: the version asked for, or the current one when VersionId is left out. */
  async getTableVersion(ctx: RequestContext, input: Json): Promise<Json> {
    const table = await this.#tableOf(ctx, input);
    const raw = str(input, 'VersionId');
    if (raw === undefined) return { TableVersion: tableVersionToWire(table) };
    const wanted = versionNumber(raw, 'VersionId');
    const version = (await this.#tableVersions(table)).find((v) => v.versionId === wanted);
    if (!version) throw entityNotFound('Version not found.');
    return { TableVersion: tableVersionToWire(version) };
  }

  async deleteTableVersion(ctx: RequestContext, input: Json): Promise<Json> {
    const table = await this.#tableOf(ctx, input);
    const errors = await this.#deleteVersions(table, [str(input, 'VersionId')!]);
    if (errors.length > 0) {
      const detail = errors[0]!['ErrorDetail'] as Json;
      throw new ServiceError(detail['ErrorCode'] as string, detail['ErrorMessage'] as string);
    }
    return {};
  }

  /** BatchDeleteTableVersion: deletes the archived versions listed; each one that is not is in Errors. */
  async batchDeleteTableVersion(ctx: RequestContext, input: Json): Promise<Json> {
    const table = await this.#tableOf(ctx, input);
    const errors = await this.#deleteVersions(table, arr(input, 'VersionIds') as string[]);
    return compact({ Errors: errors.length > 0 ? errors : undefined });
  }

  /**
   * Deletes archived versions of the table in one transaction. The current version is the table
   * itself (DeleteTable removes it), so it cannot be deleted as a version.
   */
  async #deleteVersions(table: TableRecord, rawIds: string[]): Promise<Json[]> {
    const errors: Json[] = [];
    const ids: number[] = [];
    const versionError = (id: string, code: string, message: string): Json => ({
      TableName: table.name,
      VersionId: id,
      ErrorDetail: { ErrorCode: code, ErrorMessage: message },
    });
    for (const raw of rawIds) {
      const id = Number(raw);
      if (!/^\d+$/.test(raw)) {
        errors.push(versionError(raw, 'InvalidInputException', `VersionId ${raw} is not a version number.`));
      } else if (id === table.versionId) {
        errors.push(
          versionError(raw, 'InvalidInputException', `Version ${raw} is the current version of table ${table.name}: it cannot be deleted.`),
        );
      } else {
        ids.push(id);
      }
    }
    const missing = await this.store.deleteTableVersions(keyOf(table), ids);
    for (const id of missing) errors.push(versionError(String(id), 'EntityNotFoundException', 'Version not found.'));
    return errors;
  }

  /** BatchDeleteTable: deletes each table listed (with its partitions and versions); the others are in Errors. */
  async batchDeleteTable(ctx: RequestContext, input: Json): Promise<Json> {
    const catalogId = this.#catalogId(ctx, input);
    const db = await this.#database(ctx, catalogId, str(input, 'DatabaseName')!);
    const errors: Json[] = [];
    for (const raw of arr(input, 'TablesToDelete') as string[]) {
      const name = raw.toLowerCase();
      if (!(await this.store.deleteTable(ctx, catalogId, db.name, name))) {
        errors.push({ TableName: raw, ErrorDetail: { ErrorCode: 'EntityNotFoundException', ErrorMessage: `Table ${name} not found.` } });
      }
    }
    return compact({ Errors: errors.length > 0 ? errors : undefined });
  }

  /**
   * SearchTables over every database of the catalog: SearchText matches (case-insensitively, as
   * a substring, or exactly when quoted) a table's name, database, description, owner or a
   * parameter key or value; each Filter must hold too (see propertyHolds).
   */
  async searchTables(ctx: RequestContext, input: Json): Promise<Json> {
    const catalogId = this.#catalogId(ctx, input);
    let tables = await this.store.listAllTables(ctx, catalogId);
    const text = str(input, 'SearchText');
    if (text !== undefined && text.trim() !== '') tables = tables.filter((t) => textMatches(t, text));
    const filters = (arr(input, 'Filters') as Json[] | undefined) ?? [];
    tables = tables.filter((t) => filters.every((f) => propertyHolds(t, f)));
    const sort = ((arr(input, 'SortCriteria') as Json[] | undefined) ?? [])[0];
    const sortField = sort ? str(sort, 'FieldName') : undefined;
    const descending = sort !== undefined && str(sort, 'Sort') === 'DESC';
    const { page, nextToken } = paginate(
      tables,
      (t) => [sortField ? sortValue(t, sortField) : '', `${t.databaseName}.${t.name}`],
      descending,
      {
        nextToken: str(input, 'NextToken'),
        maxResults: input['MaxResults'] as number | undefined,
        defaultPageSize: 100,
        fingerprint: ['SearchTables', catalogId, text ?? '', filters, sort ?? null],
      },
    );
    return compact({ TableList: page.map(tableToWire), NextToken: nextToken });
  }

  async deleteTable(ctx: RequestContext, input: Json): Promise<Json> {
    const t = await this.#table(ctx, input);
    await this.store.deleteTable(ctx, t.catalogId, t.databaseName, t.name);
    return {};
  }

  /** The table named by a request's DatabaseName and TableName (partition and version requests). */
  async #tableOf(ctx: RequestContext, input: Json): Promise<TableRecord> {
    return this.#table(ctx, { ...input, Name: str(input, 'TableName') });
  }

  /** CreatePartition: one partition, AlreadyExistsException when its values are taken. */
  async createPartition(ctx: RequestContext, input: Json): Promise<Json> {
    const table = await this.#tableOf(ctx, input);
    const partition = newPartition(table, obj(input, 'PartitionInput')!, Date.now(), 'PartitionInput.Values');
    const result = await this.store.insertPartitions(keyOf(table), [partition]);
    if (!result.tableFound) throw entityNotFound(`Table ${table.name} not found.`);
    if (result.existing.length > 0) throw alreadyExists('Partition already exists.');
    return {};
  }

  /**
   * BatchCreatePartition: the valid entries are created in one transaction; each entry that is not
   * (values taken, wrong number of values) is reported in Errors, as Glue does.
   */
  async batchCreatePartition(ctx: RequestContext, input: Json): Promise<Json> {
    const table = await this.#tableOf(ctx, input);
    const now = Date.now();
    const errors: Json[] = [];
    const valid: PartitionRecord[] = [];
    for (const [i, entry] of (arr(input, 'PartitionInputList') as Json[]).entries()) {
      try {
        valid.push(newPartition(table, entry, now, `PartitionInputList[${i}].Values`));
      } catch (e) {
        if (!(e instanceof ServiceError)) throw e;
        errors.push(partitionError(valuesOf(entry), e.type, e.message));
      }
    }
    const result = await this.store.insertPartitions(keyOf(table), valid);
    if (!result.tableFound) throw entityNotFound(`Table ${table.name} not found.`);
    for (const values of result.existing) {
      errors.push(partitionError(values, 'AlreadyExistsException', 'Partition already exists.'));
    }
    return compact({ Errors: errors.length > 0 ? errors : undefined });
  }

  async getPartition(ctx: RequestContext, input: Json): Promise<Json> {
    const table = await this.#tableOf(ctx, input);
    const values = arr(input, 'PartitionValues') as string[];
    const partition = await this.store.getPartition(keyOf(table), values);
    if (!partition) throw partitionNotFound(values);
    return { Partition: partitionToWire(partition, false) };
  }

  /**
   * The table's partitions, ordered by their values, optionally only those a partition predicate
   * selects (for the crawler and table reads).
   */
  async listPartitions(table: TableRecord, predicate?: string): Promise<PartitionRecord[]> {
    if (predicate === undefined || predicate.trim() === '') return this.store.listPartitions(keyOf(table));
    return this.store.getPartitions(keyOf(table), await this.#partitionValues(table, predicate));
  }

  /** The values of the table's partitions a predicate selects (all when it is blank), in order. */
  async #partitionValues(table: TableRecord, predicate: string): Promise<string[][]> {
    const values = await this.store.listPartitionValues(keyOf(table));
    if (predicate.trim() === '') return values;
    const selected = compilePartitionExpression(predicate, partitionKeysOf(table), `${table.databaseName}.${table.name}`);
    return values.filter((v) => selected(v));
  }

  /**
   * GetPartitions: the table's partitions in the order of their values, optionally restricted to
   * one of TotalSegments disjoint segments (each partition belongs to the segment its values hash
   * to, so that parallel readers together see every partition once).
   */
  async getPartitions(ctx: RequestContext, input: Json): Promise<Json> {
    const table = await this.#tableOf(ctx, input);
    // A blank Expression (which Hive's Glue client sends to list everything) filters nothing.
    const expression = str(input, 'Expression') ?? '';
    const segment = obj(input, 'Segment');
    if (segment && (segment['SegmentNumber'] as number) >= (segment['TotalSegments'] as number)) {
      throw invalidInput(
        `Segment.SegmentNumber ${String(segment['SegmentNumber'])} must be less than Segment.TotalSegments ${String(segment['TotalSegments'])}.`,
      );
    }
    // Filtered and paged by their values; only the page's definitions are read.
    let values = await this.#partitionValues(table, expression);
    if (segment) values = values.filter((v) => segmentOf(v, segment['TotalSegments'] as number) === segment['SegmentNumber']);
    const { page: pageValues, nextToken } = paginate(values, (v) => [JSON.stringify(v), ''], false, {
      nextToken: str(input, 'NextToken'),
      maxResults: input['MaxResults'] as number | undefined,
      defaultPageSize: 1000,
      fingerprint: ['GetPartitions', table.catalogId, table.databaseName, table.name, expression, segment ?? null],
    });
    const page = await this.store.getPartitions(keyOf(table), pageValues);
    const excludeColumns = input['ExcludeColumnSchema'] === true;
    return compact({ Partitions: page.map((p) => partitionToWire(p, excludeColumns)), NextToken: nextToken });
  }

  /** BatchGetPartition: the partitions that exist, in the order asked for; missing ones are left out. */
  async batchGetPartition(ctx: RequestContext, input: Json): Promise<Json> {
    const table = await this.#tableOf(ctx, input);
    const found = await this.store.getPartitions(keyOf(table), (arr(input, 'PartitionsToGet') as Json[]).map(valuesOf));
    return { Partitions: found.map((p) => partitionToWire(p, false)), UnprocessedKeys: [] };
  }

  /**
   * UpdatePartition: PartitionInput replaces the partition's definition (its creation time is
   * kept); when its Values differ from PartitionValueList, the partition moves to them.
   */
  async updatePartition(ctx: RequestContext, input: Json): Promise<Json> {
    const table = await this.#tableOf(ctx, input);
    const values = arr(input, 'PartitionValueList') as string[];
    const current = await this.store.getPartition(keyOf(table), values);
    if (!current) throw partitionNotFound(values);
    const partitionInput = obj(input, 'PartitionInput')!;
    const replacement = newPartition(
      table,
      { ...partitionInput, Values: arr(partitionInput, 'Values') ?? values },
      current.createdOn,
      'PartitionInput.Values',
    );
    const outcome = await this.store.updatePartition(keyOf(table), values, replacement);
    if (outcome === 'not-found') throw partitionNotFound(values);
    if (outcome === 'values-taken') throw alreadyExists('Partition already exists.');
    return {};
  }

  /** BatchUpdatePartition: each entry as UpdatePartition; the entries that fail are in Errors. */
  async batchUpdatePartition(ctx: RequestContext, input: Json): Promise<Json> {
    const errors: Json[] = [];
    for (const entry of arr(input, 'Entries') as Json[]) {
      try {
        await this.updatePartition(ctx, { ...input, ...entry });
      } catch (e) {
        if (!(e instanceof ServiceError) || (e.type === 'EntityNotFoundException' && /^(Table|Database) /.test(e.message))) throw e;
        errors.push({ PartitionValueList: entry['PartitionValueList'], ErrorDetail: { ErrorCode: e.type, ErrorMessage: e.message } });
      }
    }
    return compact({ Errors: errors.length > 0 ? errors : undefined });
  }

  async deletePartition(ctx: RequestContext, input: Json): Promise<Json> {
    const table = await this.#tableOf(ctx, input);
    const values = arr(input, 'PartitionValues') as string[];
    const missing = await this.store.deletePartitions(keyOf(table), [values]);
    if (missing.length > 0) throw partitionNotFound(values);
    return {};
  }

  /** BatchDeletePartition: deletes those that exist in one transaction; the others are reported in Errors. */
  async batchDeletePartition(ctx: RequestContext, input: Json): Promise<Json> {
    const table = await this.#tableOf(ctx, input);
    const values = (arr(input, 'PartitionsToDelete') as Json[]).map(valuesOf);
    const missing = await this.store.deletePartitions(keyOf(table), values);
    const errors = missing.map((v) => partitionError(v, 'EntityNotFoundException', 'Partition not found.'));
    return compact({ Errors: errors.length > 0 ? errors : undefined });
  }
}

/** The key a table's partitions and versions are stored under. */
export const keyOf = (t: TableRecord): TableKey => ({
  accountId: t.accountId,
  region: t.region,
  catalogId: t.catalogId,
  databaseName: t.databaseName,
  name: t.name,
});

const valuesOf = (entry: Json): string[] => (arr(entry, 'Values') as string[] | undefined) ?? [];

/** The table's partition keys, in order. */
export function partitionKeysOf(table: TableRecord): PartitionKey[] {
  const columns = (arr(table.doc, 'PartitionKeys') as Json[] | undefined) ?? [];
  return columns.map((c) => ({ name: str(c, 'Name')!, type: str(c, 'Type') ?? 'string' }));
}

/**
 * A partition has one value per partition key of its table; only a new partition's values are
 * checked (a lookup by values of another length finds nothing, which EntityNotFoundException says).
 */
function assertValueCount(table: TableRecord, values: string[], field: string): void {
  const keys = partitionKeysOf(table).length;
  if (values.length !== keys) {
    throw invalidInput(
      `${field} has ${values.length} value(s) but table ${table.name} has ${keys} partition key(s): ` +
        'a partition has one value per partition key.',
    );
  }
}

function newPartition(table: TableRecord, partitionInput: Json, createdOn: number, field: string): PartitionRecord {
  const values = valuesOf(partitionInput);
  assertValueCount(table, values, field);
  const { Values: _values, ...doc } = partitionInput;
  for (const k of ['LastAccessTime', 'LastAnalyzedTime']) {
    if (doc[k] !== undefined) doc[k] = fromWireTime(doc[k]) / 1000;
  }
  return partitionOfTable(table, values, createdOn, doc);
}

const partitionNotFound = (values: string[]) =>
  entityNotFound(`Cannot find partition with values [${values.join(', ')}].`);

const partitionError = (values: string[], code: string, message: string): Json => ({
  PartitionValues: values,
  ErrorDetail: { ErrorCode: code, ErrorMessage: message },
});

/** Which of `total` segments a partition belongs to: a stable hash of its values. */
function segmentOf(values: string[], total: number): number {
  const digest = createHash('sha256').update(JSON.stringify(values)).digest();
  return digest.readUInt32BE(0) % total;
}

function partitionToWire(p: PartitionRecord, excludeColumns: boolean): Json {
  const doc = { ...p.doc };
  const sd = obj(doc, 'StorageDescriptor');
  if (excludeColumns && sd) {
    const { Columns: _columns, ...rest } = sd;
    doc['StorageDescriptor'] = rest;
  }
  return compact({
    ...doc,
    Values: p.values,
    DatabaseName: p.databaseName,
    TableName: p.tableName,
    CreationTime: toWireTime(p.createdOn),
    CatalogId: p.catalogId,
  });
}

const scopeOf = (ctx: RequestContext) => ({ accountId: ctx.accountId, region: ctx.region });

/**
 * TableInput as stored: the name folded to lower case and timestamps (which clients may send as
 * numbers or ISO strings) kept as epoch seconds, the only form every SDK parses back.
 */
function storedTableInput(tableInput: Json, name: string): Json {
  const doc: Json = { ...tableInput, Name: name };
  for (const k of ['LastAccessTime', 'LastAnalyzedTime']) {
    if (doc[k] !== undefined) doc[k] = fromWireTime(doc[k]) / 1000;
  }
  return doc;
}

/** Glue's Expression is a regular expression; `*` alone (a common shell habit) means "anything". */
function namePattern(expression: string): RegExp {
  const source = expression.replace(/(^|[^.\\])\*/g, '$1.*');
  try {
    return new RegExp(`^(?:${source})$`, 'i');
  } catch {
    throw invalidInput(`Expression is not a valid regular expression: ${expression}`);
  }
}

/** Tag keys and values beginning with "aws" are reserved by AWS. */
export function assertNoReservedTags(tags: Record<string, string>): void {
  for (const key of Object.keys(tags)) {
    if (key.toLowerCase().startsWith('aws')) {
      throw invalidInput(`Tag key ${key} is reserved: tag keys may not begin with 'aws'.`);
    }
  }
}

function versionNumber(raw: string, field: string): number {
  if (!/^\d+$/.test(raw)) throw invalidInput(`${field} ${raw} is not a version number (a table's versions are 0, 1, 2, …).`);
  return Number(raw);
}

function tableVersionToWire(t: TableRecord): Json {
  return { Table: tableToWire(t), VersionId: String(t.versionId) };
}

/** The members SearchText looks in: names, description, owner and parameters. */
function searchableTexts(t: TableRecord): string[] {
  const params = (obj(t.doc, 'Parameters') ?? {}) as Record<string, string>;
  return [
    t.name,
    t.databaseName,
    str(t.doc, 'Description') ?? '',
    str(t.doc, 'Owner') ?? '',
    ...Object.keys(params),
    ...Object.values(params),
  ];
}

function textMatches(t: TableRecord, searchText: string): boolean {
  const quoted = /^"(.*)"$/s.exec(searchText.trim());
  const texts = searchableTexts(t).map((x) => x.toLowerCase());
  if (quoted) return texts.includes(quoted[1]!.toLowerCase());
  const needle = searchText.trim().toLowerCase();
  return texts.some((x) => x.includes(needle));
}

const TIME_FIELDS: Record<string, (t: TableRecord) => number | undefined> = {
  CreateTime: (t) => t.createdOn,
  UpdateTime: (t) => t.updatedOn,
  LastAccessTime: (t) => (typeof t.doc['LastAccessTime'] === 'number' ? (t.doc['LastAccessTime'] as number) * 1000 : undefined),
  LastAnalyzedTime: (t) => (typeof t.doc['LastAnalyzedTime'] === 'number' ? (t.doc['LastAnalyzedTime'] as number) * 1000 : undefined),
};

/** A string member of the table a filter or sort can name: its own members, or else a parameter. */
function fieldText(t: TableRecord, key: string): string | undefined {
  switch (key) {
    case 'Name':
      return t.name;
    case 'DatabaseName':
      return t.databaseName;
    case 'Description':
    case 'Owner':
    case 'TableType':
      return str(t.doc, key);
    default:
      return ((obj(t.doc, 'Parameters') ?? {}) as Record<string, string>)[key];
  }
}

/**
 * A SearchTables filter. Time fields (CreateTime, UpdateTime, LastAccessTime, LastAnalyzedTime)
 * compare by Comparator with a value in epoch seconds or ISO 8601. Other keys (Name,
 * DatabaseName, Description, Owner, TableType, else a table parameter) match as Glue documents:
 * the field is split into tokens at punctuation and one token must equal Value (case-insensitively),
 * so Value `link` finds `customer-link` but not `xxlinkyy`.
 */
function propertyHolds(t: TableRecord, filter: Json): boolean {
  const key = str(filter, 'Key') ?? '';
  const value = str(filter, 'Value') ?? '';
  const time = TIME_FIELDS[key];
  if (time) {
    const at = time(t);
    const wanted = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value);
    if (Number.isNaN(wanted)) throw invalidInput(`Filters: Value ${value} of ${key} is not a time (epoch seconds or ISO 8601).`);
    if (at === undefined) return false;
    switch (str(filter, 'Comparator') ?? 'EQUALS') {
      case 'GREATER_THAN':
        return at > wanted;
      case 'LESS_THAN':
        return at < wanted;
      case 'GREATER_THAN_EQUALS':
        return at >= wanted;
      case 'LESS_THAN_EQUALS':
        return at <= wanted;
      default:
        return Math.floor(at / 1000) === Math.floor(wanted / 1000);
    }
  }
  const field = fieldText(t, key);
  if (field === undefined) return false;
  const tokens = field.toLowerCase().split(/[^\p{L}\p{N}]+/u);
  return field.toLowerCase() === value.toLowerCase() || tokens.includes(value.toLowerCase());
}

function sortValue(t: TableRecord, field: string): string | number {
  const time = TIME_FIELDS[field];
  if (time) return time(t) ?? 0;
  return fieldText(t, field) ?? '';
}

function databaseToWire(d: DatabaseRecord): Json {
  return compact({
    ...d.doc,
    Name: d.name,
    CreateTime: toWireTime(d.createdOn),
    CatalogId: d.catalogId,
    CreateTableDefaultPermissions: d.doc['CreateTableDefaultPermissions'] ?? [
      { Principal: { DataLakePrincipalIdentifier: 'IAM_ALLOWED_PRINCIPALS' }, Permissions: ['ALL'] },
    ],
  });
}

function tableToWire(t: TableRecord): Json {
  return compact({
    ...t.doc,
    Name: t.name,
    DatabaseName: t.databaseName,
    CreateTime: toWireTime(t.createdOn),
    UpdateTime: toWireTime(t.updatedOn),
    CreatedBy: t.createdBy,
    IsRegisteredWithLakeFormation: false,
    CatalogId: t.catalogId,
    VersionId: String(t.versionId),
  });
}
