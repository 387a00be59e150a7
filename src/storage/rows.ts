/**
 * The metadata stores' rows, how they become records and how records become rows. Both dialects
 * (sqlite/, postgres/) keep the same columns, with the same names and the same JSON text in their
 * `doc` columns, so that one set of converters serves both; only the SQL differs. A record's row
 * is an object keyed by column: a store's INSERT names the columns of the whole row from its keys,
 * and an UPDATE binds the columns it changes from it.
 */
import type { CrawlerRecord } from './crawler-store.js';
import type { JobRecord, JobRunRecord, JobRunState } from './job-store.js';
import { StoreConflict } from './metadata-store.js';
import type {
  DatabaseRecord,
  PartitionRecord,
  Scope,
  TaskRunRecord,
  TaskStatus,
  TaskType,
  TransformRecord,
  TransformStatus,
  TableRecord,
} from './records.js';

/** SQL NULL as an absent member: records leave unset optional members out rather than null. */
export const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** The scope columns every resource row has. */
export const scopeOf = (r: { account_id: string; region: string }): Scope => ({
  accountId: r.account_id,
  region: r.region,
});

/** A row's `doc` column: the record's wire-shaped members that have no column of their own. */
export const docOf = (doc: string) => JSON.parse(doc) as Record<string, unknown>;

/** A unique key was violated: SQLite's constraint error, or PostgreSQL's SQLSTATE 23505. */
export const isUniqueViolation = (e: unknown) => {
  const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' && (code.startsWith('SQLITE_CONSTRAINT') || code === '23505');
};

/**
 * Runs a write to a table whose unique key includes the resource's name, so that a violation of
 * it reaches the service as StoreConflict('name-taken', message) rather than a database error.
 */
export function writingUniqueName<T>(message: string, write: () => T): T {
  try {
    const result = write();
    if (result instanceof Promise) return result.catch((e: unknown) => Promise.reject(asNameTaken(e, message))) as T;
    return result;
  } catch (e) {
    throw asNameTaken(e, message);
  }
}

const asNameTaken = (e: unknown, message: string) => (isUniqueViolation(e) ? new StoreConflict('name-taken', message) : e);

/** A partition's values as one key column: a JSON array, so that no value can be confused with a separator. */
export const valuesKey = (values: string[]) => JSON.stringify(values);

/** SQL NULL for an absent optional member (the inverse of opt). */
const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

export interface TransformRow {
  account_id: string;
  region: string;
  id: string;
  name: string;
  status: string;
  created_on: number;
  last_modified_on: number;
  label_count: number;
  doc: string;
}

export interface DatabaseRow {
  account_id: string;
  region: string;
  catalog_id: string;
  name: string;
  created_on: number;
  doc: string;
}

export interface TableRow extends DatabaseRow {
  database_name: string;
  updated_on: number;
  version_id: number;
  created_by: string;
}

export interface TableVersionRow extends Omit<TableRow, 'name'> {
  table_name: string;
}

export interface PartitionRow {
  account_id: string;
  region: string;
  catalog_id: string;
  database_name: string;
  table_name: string;
  partition_values: string;
  created_on: number;
  doc: string;
}

export const toTransform = (r: TransformRow): TransformRecord => ({
  ...scopeOf(r),
  id: r.id,
  name: r.name,
  status: r.status as TransformStatus,
  createdOn: r.created_on,
  lastModifiedOn: r.last_modified_on,
  labelCount: r.label_count,
  doc: docOf(r.doc),
});

export const toDatabase = (r: DatabaseRow): DatabaseRecord => ({
  ...scopeOf(r),
  catalogId: r.catalog_id,
  name: r.name,
  createdOn: r.created_on,
  doc: docOf(r.doc),
});

export const toTable = (r: TableRow): TableRecord => ({
  ...scopeOf(r),
  catalogId: r.catalog_id,
  databaseName: r.database_name,
  name: r.name,
  createdOn: r.created_on,
  updatedOn: r.updated_on,
  versionId: r.version_id,
  createdBy: r.created_by,
  doc: docOf(r.doc),
});

export const toTableVersion = (r: TableVersionRow): TableRecord => toTable({ ...r, name: r.table_name });

export const toPartition = (r: PartitionRow): PartitionRecord => ({
  ...scopeOf(r),
  catalogId: r.catalog_id,
  databaseName: r.database_name,
  tableName: r.table_name,
  values: JSON.parse(r.partition_values) as string[],
  createdOn: r.created_on,
  doc: docOf(r.doc),
});

export const transformRow = (t: TransformRecord): TransformRow => ({
  account_id: t.accountId,
  region: t.region,
  id: t.id,
  name: t.name,
  status: t.status,
  created_on: t.createdOn,
  last_modified_on: t.lastModifiedOn,
  label_count: t.labelCount,
  doc: JSON.stringify(t.doc),
});

export const databaseRow = (d: DatabaseRecord): DatabaseRow => ({
  account_id: d.accountId,
  region: d.region,
  catalog_id: d.catalogId,
  name: d.name,
  created_on: d.createdOn,
  doc: JSON.stringify(d.doc),
});

export const tableRow = (t: TableRecord): TableRow => ({
  account_id: t.accountId,
  region: t.region,
  catalog_id: t.catalogId,
  database_name: t.databaseName,
  name: t.name,
  created_on: t.createdOn,
  updated_on: t.updatedOn,
  version_id: t.versionId,
  created_by: t.createdBy,
  doc: JSON.stringify(t.doc),
});

/** A table's row as the archived version it becomes: the same columns, its name as table_name. */
export const tableVersionRowOf = ({ name, ...row }: TableRow): TableVersionRow => ({ ...row, table_name: name });

export const partitionRow = (p: PartitionRecord): PartitionRow => ({
  account_id: p.accountId,
  region: p.region,
  catalog_id: p.catalogId,
  database_name: p.databaseName,
  table_name: p.tableName,
  partition_values: valuesKey(p.values),
  created_on: p.createdOn,
  doc: JSON.stringify(p.doc),
});

export interface TaskRunRow {
  account_id: string;
  region: string;
  transform_id: string;
  id: string;
  task_type: string;
  status: string;
  properties: string;
  args: string;
  error_string: string | null;
  started_on: number;
  last_modified_on: number;
  completed_on: number | null;
  execution_ms: number;
  attempt: number;
  interruptions: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  lease_renewed_at: number | null;
  running_since: number | null;
  deadline_at: number | null;
  progress: string | null;
  progress_percent: number | null;
  progress_updated_on: number | null;
}

export const toTaskRun = (r: TaskRunRow): TaskRunRecord => ({
  ...scopeOf(r),
  transformId: r.transform_id,
  id: r.id,
  taskType: r.task_type as TaskType,
  status: r.status as TaskStatus,
  properties: JSON.parse(r.properties) as Record<string, unknown>,
  args: JSON.parse(r.args) as Record<string, unknown>,
  errorString: opt(r.error_string),
  startedOn: r.started_on,
  lastModifiedOn: r.last_modified_on,
  completedOn: opt(r.completed_on),
  executionMs: r.execution_ms,
  attempt: r.attempt,
  interruptions: r.interruptions,
  leaseOwner: opt(r.lease_owner),
  leaseExpiresAt: opt(r.lease_expires_at),
  leaseRenewedAt: opt(r.lease_renewed_at),
  runningSince: opt(r.running_since),
  deadlineAt: opt(r.deadline_at),
  progress:
    r.progress !== null && r.progress_percent !== null && r.progress_updated_on !== null
      ? { stage: r.progress, percent: r.progress_percent, updatedOn: r.progress_updated_on }
      : undefined,
});

export const taskRunRow = (r: TaskRunRecord): TaskRunRow => ({
  account_id: r.accountId,
  region: r.region,
  transform_id: r.transformId,
  id: r.id,
  task_type: r.taskType,
  status: r.status,
  properties: JSON.stringify(r.properties),
  args: JSON.stringify(r.args),
  error_string: orNull(r.errorString),
  started_on: r.startedOn,
  last_modified_on: r.lastModifiedOn,
  completed_on: orNull(r.completedOn),
  execution_ms: r.executionMs,
  attempt: r.attempt,
  interruptions: r.interruptions,
  lease_owner: orNull(r.leaseOwner),
  lease_expires_at: orNull(r.leaseExpiresAt),
  lease_renewed_at: orNull(r.leaseRenewedAt),
  running_since: orNull(r.runningSince),
  deadline_at: orNull(r.deadlineAt),
  progress: orNull(r.progress?.stage),
  progress_percent: orNull(r.progress?.percent),
  progress_updated_on: orNull(r.progress?.updatedOn),
});

export interface JobRow {
  account_id: string;
  region: string;
  name: string;
  created_on: number;
  last_modified_on: number;
  doc: string;
}

export interface JobRunRow {
  account_id: string;
  region: string;
  job_name: string;
  id: string;
  started_on: number;
  last_modified_on: number;
  arguments: string;
  transform_id: string | null;
  task_run_id: string | null;
  state: string | null;
  error_message: string | null;
  completed_on: number | null;
  doc: string;
}

export const toJob = (r: JobRow): JobRecord => ({
  ...scopeOf(r),
  name: r.name,
  createdOn: r.created_on,
  lastModifiedOn: r.last_modified_on,
  doc: docOf(r.doc),
});

export const toJobRun = (r: JobRunRow): JobRunRecord => ({
  ...scopeOf(r),
  jobName: r.job_name,
  id: r.id,
  startedOn: r.started_on,
  lastModifiedOn: r.last_modified_on,
  arguments: JSON.parse(r.arguments) as Record<string, string>,
  transformId: opt(r.transform_id),
  taskRunId: opt(r.task_run_id),
  state: opt(r.state) as JobRunState | undefined,
  errorMessage: opt(r.error_message),
  completedOn: opt(r.completed_on),
  doc: docOf(r.doc),
});

export const jobRow = (j: JobRecord): JobRow => ({
  account_id: j.accountId,
  region: j.region,
  name: j.name,
  created_on: j.createdOn,
  last_modified_on: j.lastModifiedOn,
  doc: JSON.stringify(j.doc),
});

export const jobRunRow = (r: JobRunRecord): JobRunRow => ({
  account_id: r.accountId,
  region: r.region,
  job_name: r.jobName,
  id: r.id,
  started_on: r.startedOn,
  last_modified_on: r.lastModifiedOn,
  arguments: JSON.stringify(r.arguments),
  transform_id: orNull(r.transformId),
  task_run_id: orNull(r.taskRunId),
  state: orNull(r.state),
  error_message: orNull(r.errorMessage),
  completed_on: orNull(r.completedOn),
  doc: JSON.stringify(r.doc),
});

export interface CrawlerRow {
  account_id: string;
  region: string;
  name: string;
  created_on: number;
  last_updated: number;
  version: number;
  doc: string;
}

export const toCrawler = (r: CrawlerRow): CrawlerRecord => ({
  ...scopeOf(r),
  name: r.name,
  createdOn: r.created_on,
  lastUpdated: r.last_updated,
  version: r.version,
  doc: docOf(r.doc),
});

export const crawlerRow = (c: CrawlerRecord): CrawlerRow => ({
  account_id: c.accountId,
  region: c.region,
  name: c.name,
  created_on: c.createdOn,
  last_updated: c.lastUpdated,
  version: c.version,
  doc: JSON.stringify(c.doc),
});
