/**
 * Persisted records. The metadata store keeps a few indexed columns per record and the rest of the
 * wire-shaped members as a JSON document, so new Glue members need no schema migration.
 * Times are epoch milliseconds.
 */

import type { Scope } from '../core/scope.js';

export type { Scope };

export type TransformStatus = 'NOT_READY' | 'READY' | 'DELETING';

export interface TransformRecord extends Scope {
  id: string;
  name: string;
  status: TransformStatus;
  createdOn: number;
  lastModifiedOn: number;
  labelCount: number;
  /**
   * Wire-shaped members other than the ones above (Description, InputRecordTables, Parameters,
   * Schema, Role, GlueVersion, MaxCapacity, WorkerType, NumberOfWorkers, Timeout, MaxRetries,
   * TransformEncryption, EvaluationMetrics).
   */
  doc: Record<string, unknown>;
}

/** What UpdateMLTransform changes of a transform: the members a user sets. */
export type TransformEdit = Pick<TransformRecord, 'name' | 'lastModifiedOn' | 'doc'>;

export interface DatabaseRecord extends Scope {
  catalogId: string;
  /** Lower-cased, as Glue stores it. */
  name: string;
  createdOn: number;
  /** The DatabaseInput members as given (Name lower-cased). */
  doc: Record<string, unknown>;
}

export interface TableRecord extends Scope {
  catalogId: string;
  databaseName: string;
  name: string;
  createdOn: number;
  updatedOn: number;
  versionId: number;
  createdBy: string;
  /** The TableInput members as given (Name lower-cased). */
  doc: Record<string, unknown>;
}

/** Which table a partition or an archived table version belongs to. */
export interface TableKey extends Scope {
  catalogId: string;
  databaseName: string;
  /** The table's name. */
  name: string;
}

export interface PartitionRecord extends Scope {
  catalogId: string;
  databaseName: string;
  tableName: string;
  /** One value per partition key of the table, in the keys' order: the partition's identity. */
  values: string[];
  createdOn: number;
  /** The PartitionInput members other than Values (timestamps as epoch seconds). */
  doc: Record<string, unknown>;
}

export type TaskType =
  | 'EVALUATION'
  | 'LABELING_SET_GENERATION'
  | 'IMPORT_LABELS'
  | 'EXPORT_LABELS'
  | 'FIND_MATCHES'
  /** doppel's own: the run behind an ExplainMatches request. */
  | 'EXPLAIN_MATCHES'
  /** One crawl of a crawler (queued under crawlerQueueKey, not under a transform). */
  | 'CRAWL';

/** The task types that run for an ML transform (every type but CRAWL). */
export type TransformTaskType = Exclude<TaskType, 'CRAWL'>;

export type TaskStatus =
  | 'STARTING'
  | 'RUNNING'
  | 'STOPPING'
  | 'STOPPED'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'TIMEOUT';

export const TERMINAL_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set([
  'STOPPED',
  'SUCCEEDED',
  'FAILED',
  'TIMEOUT',
]);

export interface TaskRunRecord extends Scope {
  id: string;
  /** The transform the run is for; for a CRAWL run, its crawler's crawlerQueueKey. */
  transformId: string;
  taskType: TaskType;
  status: TaskStatus;
  /** TaskRunProperties members other than TaskType, e.g. ImportLabelsTaskRunProperties. */
  properties: Record<string, unknown>;
  /** Handler-specific arguments that are not part of the wire shape. */
  args: Record<string, unknown>;
  errorString?: string;
  startedOn: number;
  lastModifiedOn: number;
  completedOn?: number;
  /** Milliseconds spent RUNNING, accumulated over attempts. */
  executionMs: number;
  /** Which attempt this is (1 for the first); bumped when an interrupted run is resumed. */
  attempt: number;
  /** How many times this run was interrupted by a crash or restart and put back in the queue. */
  interruptions: number;
  leaseOwner?: string;
  leaseExpiresAt?: number;
  /** When the lease was last taken or renewed: the last sign of life of the run's owner. */
  leaseRenewedAt?: number;
  /** When RUNNING began for the current attempt. */
  runningSince?: number;
  /** Absolute deadline derived from the transform's Timeout, fixed when the run is first claimed. */
  deadlineAt?: number;
  /** What the handler last reported about the current attempt (cleared when the run goes back to the queue). */
  progress?: TaskProgress;
}

/** A partition of `table` with these values and definition. */
export function partitionOfTable(table: TableKey, values: string[], createdOn: number, doc: Record<string, unknown>): PartitionRecord {
  const { accountId, region, catalogId, databaseName, name: tableName } = table;
  return { accountId, region, catalogId, databaseName, tableName, values, createdOn, doc };
}

/**
 * A run as it enters the queue: STARTING, first attempt, nothing executed yet. `now` is read from
 * the queue's clock (TaskQueueStore.clock()), as its leases are: the run's Timeout counts from its
 * StartedOn, and the clock of the node starting it may be off.
 */
export function startingTaskRun(
  scope: Scope,
  run: Pick<TaskRunRecord, 'id' | 'transformId' | 'taskType' | 'properties' | 'args'>,
  now: number,
): TaskRunRecord {
  return {
    accountId: scope.accountId,
    region: scope.region,
    ...run,
    status: 'STARTING',
    startedOn: now,
    lastModifiedOn: now,
    executionMs: 0,
    attempt: 1,
    interruptions: 0,
  };
}

/** How far a running attempt has come: its stage and the share of the whole run done. */
export interface TaskProgress {
  stage: string;
  /** 0 to 100. */
  percent: number;
  updatedOn: number;
}

/** One labeled row: a record of the transform's table placed in a labeling set with a label. */
export interface LabelRow {
  labelingSetId: string;
  label: string;
  /** The record's column values as given in the label file (columns it lacked are absent). */
  values: Record<string, string>;
}
