import type {
  DatabaseRecord,
  LabelRow,
  PartitionRecord,
  Scope,
  TableKey,
  TableRecord,
  TransformEdit,
  TransformRecord,
} from './records.js';
import type { CrawlerStore } from './crawler-store.js';
import type { JobStore } from './job-store.js';
import type { LabelStore } from './label-store.js';
import type { TaskQueueStore } from './task-queue-store.js';

/**
 * Everything doppel persists about transforms, tags and the catalog. Each method is one atomic
 * write: implementations run multi-row changes in a single transaction, so a crash never leaves
 * half of an operation behind.
 *
 * Conflicts are reported as StoreConflict so that the API layer can pick the Glue error.
 */
export interface MetadataStore {
  readonly tasks: TaskQueueStore;
  /** Glue jobs and job runs. */
  readonly jobs: JobStore;
  /** Glue crawlers (their crawls are task runs). */
  readonly crawlers: CrawlerStore;
  /** How label imports store their rows (labelPages below reads them). */
  readonly labels: LabelStore;

  /** Inserts the transform and its tags (kept under `resourceArn`); fails on a duplicate name or past `maxTransforms`. */
  insertTransform(
    record: TransformRecord,
    tags: Record<string, string>,
    limits: { maxTransforms: number },
    resourceArn: string,
  ): Promise<void>;
  getTransform(scope: Scope, id: string): Promise<TransformRecord | undefined>;
  findTransformByName(scope: Scope, name: string): Promise<TransformRecord | undefined>;
  listTransforms(scope: Scope): Promise<TransformRecord[]>;
  /**
   * Changes the members a user sets (name, last-modified time, doc) in one transaction: `edit` gets
   * the stored record as of that transaction and returns its new name and doc, so a task run that
   * commits meanwhile (LabelCount, Status, EvaluationMetrics) is never overwritten with an older
   * read. `edit` may throw, which changes nothing. Returns undefined when the transform does not
   * exist; fails on a duplicate name.
   */
  updateTransform(
    scope: Scope,
    id: string,
    edit: (current: TransformRecord) => TransformEdit,
  ): Promise<TransformRecord | undefined>;
  /**
   * Deletes the transform, its tags and its task runs in one transaction; runs still in flight are
   * abandoned by their workers as soon as they notice. Its labels become garbage for
   * LabelStore.collectGarbage. Returns false when it did not exist.
   */
  deleteTransform(scope: Scope, id: string, resourceArn: string): Promise<boolean>;

  /**
   * The transform's stored labels (its current generation as of the first page), in the order they
   * were imported, in pages of at most LABEL_BATCH_ROWS rows, so that no reader holds them all at
   * once. Fails with LabelsReplaced when another import replaced that generation and its rows were
   * deleted before they were read.
   */
  labelPages(scope: Scope, transformId: string): AsyncIterable<LabelRow[]>;

  getTags(scope: Scope, resourceArn: string): Promise<Record<string, string>>;
  /** Adds/overwrites then removes keys atomically; fails with StoreConflict('tag-limit') past `maxTags`. */
  updateTags(
    scope: Scope,
    resourceArn: string,
    add: Record<string, string>,
    remove: string[],
    limits: { maxTags: number },
  ): Promise<void>;

  insertDatabase(record: DatabaseRecord, tags: Record<string, string>, arn: string): Promise<void>;
  getDatabase(scope: Scope, catalogId: string, name: string): Promise<DatabaseRecord | undefined>;
  listDatabases(scope: Scope, catalogId: string): Promise<DatabaseRecord[]>;
  /** Replaces the stored definition (matched by name); false when it does not exist. */
  updateDatabase(record: DatabaseRecord): Promise<boolean>;
  /** Deletes the database and every table in it. */
  deleteDatabase(scope: Scope, catalogId: string, name: string): Promise<boolean>;

  insertTable(record: TableRecord): Promise<void>;
  getTable(
    scope: Scope,
    catalogId: string,
    databaseName: string,
    name: string,
  ): Promise<TableRecord | undefined>;
  listTables(scope: Scope, catalogId: string, databaseName: string): Promise<TableRecord[]>;
  /** Every table of the catalog, in every database (ordered by database, then name). */
  listAllTables(scope: Scope, catalogId: string): Promise<TableRecord[]>;
  /**
   * Replaces the stored table if its stored version is still `record.versionId - 1` (false
   * otherwise, or when it does not exist); with `archive`, the replaced definition is kept as a
   * table version in the same transaction.
   */
  updateTable(record: TableRecord, options?: { archive: boolean }): Promise<boolean>;
  /** Deletes the table with its partitions and archived versions. */
  deleteTable(scope: Scope, catalogId: string, databaseName: string, name: string): Promise<boolean>;

  /** The table's archived versions (the definitions UpdateTable replaced), oldest first. */
  listTableVersions(table: TableKey): Promise<TableRecord[]>;
  /** Deletes those archived versions of the table; returns the ids that were not there. */
  deleteTableVersions(table: TableKey, versionIds: number[]): Promise<number[]>;

  /**
   * Inserts the partitions into the table in one transaction, skipping those whose values are
   * already taken (returned in `existing`). Nothing is written when the table does not exist.
   */
  insertPartitions(table: TableKey, partitions: PartitionRecord[]): Promise<PartitionInsertResult>;
  getPartition(table: TableKey, values: string[]): Promise<PartitionRecord | undefined>;
  /** The table's partitions, ordered by their values. */
  listPartitions(table: TableKey): Promise<PartitionRecord[]>;
  /** The values of the table's partitions, in the same order, without reading their definitions. */
  listPartitionValues(table: TableKey): Promise<string[][]>;
  /** Those of the partitions with these values that exist, in the order asked. */
  getPartitions(table: TableKey, values: string[][]): Promise<PartitionRecord[]>;
  /**
   * Replaces the partition stored under `values` by `record` (whose values may differ: a partition
   * can be moved to new values if they are free).
   */
  updatePartition(table: TableKey, values: string[], record: PartitionRecord): Promise<'updated' | 'not-found' | 'values-taken'>;
  /** Deletes those partitions in one transaction; returns the values that were not there. */
  deletePartitions(table: TableKey, values: string[][]): Promise<string[][]>;

  close(): Promise<void>;
}

export interface PartitionInsertResult {
  tableFound: boolean;
  /** Values of the partitions not inserted because the table already had them. */
  existing: string[][];
}

/** The labels being read were replaced by another import, and their rows deleted, before the reader had them all. */
export class LabelsReplaced extends Error {
  constructor() {
    super('The labels were replaced by another import while they were being read.');
    this.name = 'LabelsReplaced';
  }
}

export type ConflictKind = 'name-taken' | 'limit-exceeded' | 'tag-limit' | 'concurrency-limit';

export class StoreConflict extends Error {
  constructor(
    readonly kind: ConflictKind,
    message: string,
    readonly detail: Record<string, number> = {},
  ) {
    super(message);
    this.name = 'StoreConflict';
  }
}
