import { randomBytes } from 'node:crypto';
import type { CatalogService } from '../catalog/catalog-service.js';
import { assertNoReservedTags } from '../catalog/catalog-service.js';
import {
  alreadyExists,
  invalidInput,
  resourceNumberLimitExceeded,
  transformNotFound,
} from '../core/errors.js';
import { paginate, type SortKey } from '../core/pagination.js';
import type { RequestContext } from '../core/request-context.js';
import { arr, compact, fromWireTime, obj, str, toWireTime, type Json } from '../core/wire.js';
import { StoreConflict, type MetadataStore } from '../storage/metadata-store.js';
import type { Scope, TransformRecord } from '../storage/records.js';
import { taggedWith } from '../tags/tagged-with.js';
import { transformArn } from './arn.js';
import {
  checkEncryption,
  checkGlueVersion,
  checkMaxRetries,
  checkParameters,
  resolveCapacity,
  schemaFromTable,
} from './transform-rules.js';

export interface TransformLimits {
  maxTransforms: number;
}

/** A create repeated with identical parameters this soon is a client retry: same TransformId. */
const IDEMPOTENT_CREATE_WINDOW_MS = 5 * 60_000;

/** Members that define a transform at creation (compared to recognise retried creates). */
const CREATE_MEMBERS = [
  'Name',
  'Description',
  'InputRecordTables',
  'Parameters',
  'Role',
  'GlueVersion',
  'MaxCapacity',
  'WorkerType',
  'NumberOfWorkers',
  'Timeout',
  'MaxRetries',
  'TransformEncryption',
] as const;

export class TransformService {
  constructor(
    private readonly store: MetadataStore,
    private readonly catalog: CatalogService,
    private readonly limits: TransformLimits,
  ) {}

  async create(ctx: RequestContext, input: Json): Promise<Json> {
    const tables = arr(input, 'InputRecordTables') as Json[];
    if (tables.length !== 1) throw invalidInput('Exactly one input record table must be provided.');
    const table = tables[0]!;
    if (!str(table, 'DatabaseName')) throw invalidInput('Should specify database name.');
    if (!str(table, 'TableName')) throw invalidInput('Should specify table name.');
    const parameters = obj(input, 'Parameters')!;
    const fm = checkParameters(parameters);
    if ((str(input, 'Role') ?? '').trim() === '') throw invalidInput('Role cannot be blank.');
    const capacity = resolveCapacity(input);
    checkGlueVersion(input);
    checkMaxRetries(input);
    checkEncryption(input);
    const tags = (obj(input, 'Tags') ?? {}) as Record<string, string>;
    assertNoReservedTags(tags);

    const catalogId = str(table, 'CatalogId') ?? ctx.accountId;
    const found = await this.catalog.findTable(
      ctx,
      catalogId,
      str(table, 'DatabaseName')!,
      str(table, 'TableName')!,
    );
    if ('error' in found) throw invalidInput(`Problem fetching the data catalog schema: ${found.error}`);
    const schema = schemaFromTable(found.table.doc, str(fm, 'PrimaryKeyColumnName')!);

    const name = str(input, 'Name')!;
    const existing = await this.store.findTransformByName(ctx, name);
    if (existing) return { TransformId: this.#retriedCreate(existing, input) };

    const now = Date.now();
    const record: TransformRecord = {
      accountId: ctx.accountId,
      region: ctx.region,
      id: `tfm-${randomBytes(20).toString('hex')}`,
      name,
      status: 'NOT_READY',
      createdOn: now,
      lastModifiedOn: now,
      labelCount: 0,
      doc: compact({
        Description: input['Description'],
        InputRecordTables: tables,
        Parameters: parameters,
        Schema: schema,
        Role: input['Role'],
        GlueVersion: input['GlueVersion'] ?? '0.9',
        ...capacity,
        Timeout: input['Timeout'] ?? 2880,
        MaxRetries: input['MaxRetries'] ?? 0,
        TransformEncryption: input['TransformEncryption'],
        CreateRequest: Object.fromEntries(CREATE_MEMBERS.map((k) => [k, input[k]])),
      }),
    };
    try {
      await this.store.insertTransform(record, tags, this.limits, transformArn(record));
    } catch (e) {
      if (e instanceof StoreConflict && e.kind === 'name-taken') {
        const winner = await this.store.findTransformByName(ctx, name);
        if (winner) return { TransformId: this.#retriedCreate(winner, input) };
        throw alreadyExists(`Transform with name ${name} already exists.`);
      }
      if (e instanceof StoreConflict && e.kind === 'limit-exceeded') {
        throw resourceNumberLimitExceeded(
          `ML Transforms count (${e.detail['count']}) has exceeded the limit of ${e.detail['limit']} transforms.`,
        );
      }
      throw e;
    }
    return { TransformId: record.id };
  }

  /**
   * A create for a name that exists: the same request again shortly after (an SDK retry after a lost
   * response) gets the same id; anything else is a name conflict.
   */
  #retriedCreate(existing: TransformRecord, input: Json): string {
    const previous = existing.doc['CreateRequest'] as Json | undefined;
    const same =
      previous !== undefined &&
      JSON.stringify(CREATE_MEMBERS.map((k) => previous[k])) ===
        JSON.stringify(CREATE_MEMBERS.map((k) => input[k]));
    if (same && Date.now() - existing.createdOn < IDEMPOTENT_CREATE_WINDOW_MS) return existing.id;
    throw alreadyExists(`Transform with name ${existing.name} already exists.`);
  }

  async require(scope: Scope, id: string): Promise<TransformRecord> {
    const t = await this.store.getTransform(scope, id);
    if (!t) throw transformNotFound(scope.accountId, id);
    return t;
  }

  async get(ctx: RequestContext, input: Json): Promise<Json> {
    return toWire(await this.require(ctx, str(input, 'TransformId')!));
  }

  async #filtered(ctx: RequestContext, input: Json) {
    const filter = obj(input, 'Filter') ?? {};
    const sort = obj(input, 'Sort');
    const wantedTags = obj(input, 'Tags') as Record<string, string> | undefined;
    const items = await taggedWith(
      this.store,
      ctx,
      (await this.store.listTransforms(ctx)).filter((t) => matchesFilter(t, filter)),
      transformArn,
      wantedTags,
    );
    const column = sort ? str(sort, 'Column')! : 'CREATED';
    const descending = sort ? str(sort, 'SortDirection') === 'DESCENDING' : false;
    return paginate(items, sortKeyFor(column), descending, {
      nextToken: str(input, 'NextToken'),
      maxResults: input['MaxResults'] as number | undefined,
      defaultPageSize: 100,
      fingerprint: [filter, sort ?? null, wantedTags ?? null],
    });
  }

  async getMany(ctx: RequestContext, input: Json): Promise<Json> {
    const { page, nextToken } = await this.#filtered(ctx, input);
    return compact({ Transforms: page.map(toWire), NextToken: nextToken });
  }

  async listIds(ctx: RequestContext, input: Json): Promise<Json> {
    const { page, nextToken } = await this.#filtered(ctx, input);
    return compact({ TransformIds: page.map((t) => t.id), NextToken: nextToken });
  }

  async update(ctx: RequestContext, input: Json): Promise<Json> {
    const id = str(input, 'TransformId')!;
    const name = str(input, 'Name');
    if (name !== undefined && name.trim() === '') throw invalidInput('Transform name cannot be blank.');
    const parameters = obj(input, 'Parameters');
    const primaryKey = parameters ? str(checkParameters(parameters), 'PrimaryKeyColumnName')! : undefined;
    if (input['Role'] !== undefined && (str(input, 'Role') ?? '').trim() === '') throw invalidInput('Role cannot be blank.');
    checkMaxRetries(input);
    checkGlueVersion(input);
    // The edit runs on the record as stored when the write happens: a task run committing meanwhile
    // (LabelCount, Status, EvaluationMetrics) keeps what it wrote.
    const edit = (current: TransformRecord) => {
      const doc: Json = { ...current.doc };
      if (parameters) {
        const schema = (doc['Schema'] as Array<{ Name: string }> | undefined) ?? [];
        if (!schema.some((c) => c.Name === primaryKey)) throw invalidInput(`Schema should contain given primary key: ${primaryKey}.`);
        doc['Parameters'] = parameters;
      }
      for (const k of ['Role', 'Description', 'GlueVersion', 'Timeout', 'MaxRetries'] as const) {
        if (input[k] !== undefined) doc[k] = input[k];
      }
      Object.assign(doc, { MaxCapacity: undefined, WorkerType: undefined, NumberOfWorkers: undefined });
      Object.assign(doc, resolveCapacity(input, current.doc));
      return { name: name ?? current.name, lastModifiedOn: Date.now(), doc: compact(doc) };
    };
    try {
      const updated = await this.store.updateTransform(ctx, id, edit);
      if (!updated) throw transformNotFound(ctx.accountId, id);
    } catch (e) {
      if (e instanceof StoreConflict && e.kind === 'name-taken') {
        throw invalidInput(`Another transform with name ${name} already exists.`);
      }
      throw e;
    }
    return { TransformId: id };
  }

  async delete(ctx: RequestContext, input: Json): Promise<Json> {
    const id = str(input, 'TransformId')!;
    const deleted = await this.store.deleteTransform(ctx, id, transformArn({ ...ctx, id }));
    if (!deleted) throw transformNotFound(ctx.accountId, id);
    return { TransformId: id };
  }
}

function sortKeyFor(column: string): (t: TransformRecord) => SortKey {
  switch (column) {
    case 'NAME':
      return (t) => [t.name, t.id];
    case 'TRANSFORM_TYPE':
      return (t) => [String((t.doc['Parameters'] as Json | undefined)?.['TransformType'] ?? ''), t.id];
    case 'STATUS':
      return (t) => [t.status, t.id];
    case 'LAST_MODIFIED':
      return (t) => [t.lastModifiedOn, t.id];
    default:
      return (t) => [t.createdOn, t.id];
  }
}

function matchesFilter(t: TransformRecord, f: Json): boolean {
  const time = (k: string) => (f[k] === undefined ? undefined : fromWireTime(f[k]));
  const params = (t.doc['Parameters'] as Json | undefined) ?? {};
  if (f['Name'] !== undefined && t.name !== f['Name']) return false;
  if (f['TransformType'] !== undefined && params['TransformType'] !== f['TransformType']) return false;
  if (f['Status'] !== undefined && t.status !== f['Status']) return false;
  if (f['GlueVersion'] !== undefined && t.doc['GlueVersion'] !== f['GlueVersion']) return false;
  const createdBefore = time('CreatedBefore');
  const createdAfter = time('CreatedAfter');
  const modifiedBefore = time('LastModifiedBefore');
  const modifiedAfter = time('LastModifiedAfter');
  if (createdBefore !== undefined && !(t.createdOn < createdBefore)) return false;
  if (createdAfter !== undefined && !(t.createdOn > createdAfter)) return false;
  if (modifiedBefore !== undefined && !(t.lastModifiedOn < modifiedBefore)) return false;
  if (modifiedAfter !== undefined && !(t.lastModifiedOn > modifiedAfter)) return false;
  const wanted = f['Schema'] as Array<{ Name?: string; DataType?: string }> | undefined;
  if (wanted && wanted.length > 0) {
    const have = (t.doc['Schema'] as Array<{ Name: string; DataType: string }> | undefined) ?? [];
    const ok = wanted.every((w) =>
      have.some(
        (h) =>
          (w.Name === undefined || h.Name === w.Name) &&
          (w.DataType === undefined || h.DataType.toLowerCase() === w.DataType.toLowerCase()),
      ),
    );
    if (!ok) return false;
  }
  return true;
}

/** The MLTransform wire shape. */
export function toWire(t: TransformRecord): Json {
  const d = t.doc;
  return compact({
    TransformId: t.id,
    Name: t.name,
    Description: d['Description'],
    Status: t.status,
    CreatedOn: toWireTime(t.createdOn),
    LastModifiedOn: toWireTime(t.lastModifiedOn),
    InputRecordTables: d['InputRecordTables'],
    Parameters: d['Parameters'],
    EvaluationMetrics: d['EvaluationMetrics'],
    LabelCount: t.labelCount,
    Schema: d['Schema'],
    Role: d['Role'],
    GlueVersion: d['GlueVersion'],
    MaxCapacity: d['MaxCapacity'],
    WorkerType: d['WorkerType'],
    NumberOfWorkers: d['NumberOfWorkers'],
    Timeout: d['Timeout'],
    MaxRetries: d['MaxRetries'],
    TransformEncryption: d['TransformEncryption'],
  });
}
