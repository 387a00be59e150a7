import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LABEL_BATCH_ROWS } from '../label-store.js';
import {
  LabelsReplaced,
  StoreConflict,
  type MetadataStore,
  type PartitionInsertResult,
} from '../metadata-store.js';
import {
  partitionOfTable,
  type DatabaseRecord,
  type LabelRow,
  type PartitionRecord,
  type Scope,
  type TableKey,
  type TableRecord,
  type TransformEdit,
  type TransformRecord,
} from '../records.js';
import { DiskReserve } from '../disk-reserve.js';
import { migrate } from './migrations.js';
import { insertRows } from './row-inserts.js';
import {
  databaseRow,
  partitionRow,
  tableRow,
  tableVersionRowOf,
  toDatabase,
  toPartition,
  toTable,
  toTableVersion,
  toTransform,
  transformRow,
  valuesKey,
  writingUniqueName,
  type DatabaseRow,
  type PartitionRow,
  type TableRow,
  type TableVersionRow,
  type TransformRow,
} from '../rows.js';
import { SqliteCrawlerStore } from './sqlite-crawler-store.js';
import { SqliteJobStore } from './sqlite-job-store.js';
import { FileLock } from './file-lock.js';
import { SqliteLabelStore } from './sqlite-label-store.js';
import { SqliteTaskQueueStore } from './sqlite-task-queue-store.js';
import { deleteAllTags, putTags } from './tag-rows.js';

/** The key columns of a table's partitions and versions, in the order the statements below bind them. */
const tableKeyParams = (t: TableKey) => [t.accountId, t.region, t.catalogId, t.databaseName, t.name];
const OF_TABLE = 'account_id = ? AND region = ? AND catalog_id = ? AND database_name = ? AND table_name = ?';

export interface SqliteStoreOptions {
  /**
   * How long a write waits for another process's write lock before it fails. Every transaction is
   * short (label imports write in batches), so the wait is normally milliseconds; the API process
   * keeps the default, task processes may wait longer since nobody waits on them.
   */
  busyTimeoutMs?: number;
  /**
   * Whether this connection moves the write-ahead log into the database file itself, after a commit
   * that grows the log past SQLite's threshold (default true). That takes as long as the log is big,
   * whoever filled it: the server process passes false and leaves it to its task processes (their
   * commits and `checkpoint()`), so that a million rows imported there never stall a request.
   */
  autoCheckpoint?: boolean;
  /** The data dir's disk reserve, which lets deletes commit on a full disk (see DiskReserve). */
  reserve?: DiskReserve;
}

/**
 * The embedded metadata store: one SQLite file in WAL mode, shared by the server process and its
 * task processes (readers never block writers; writers take turns). better-sqlite3 is synchronous,
 * so each method runs its statements inside one `IMMEDIATE` transaction and cannot interleave with
 * another request in this process; other processes are kept out by SQLite's own locking.
 */
export class SqliteMetadataStore implements MetadataStore {
  readonly tasks: SqliteTaskQueueStore;
  readonly jobs: SqliteJobStore;
  readonly crawlers: SqliteCrawlerStore;
  readonly labels: SqliteLabelStore;
  readonly #db: Database.Database;
  readonly #reserve: DiskReserve;
  readonly #jobStartLock: FileLock | undefined;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    if (options.autoCheckpoint === false) this.#db.pragma('wal_autocheckpoint = 0');
    this.#db.pragma('foreign_keys = ON');
    migrate(this.#db);
    this.#reserve = options.reserve ?? DiskReserve.none();
    this.tasks = new SqliteTaskQueueStore(this.#db);
    this.#jobStartLock = path === ':memory:' ? undefined : new FileLock(join(dirname(path), 'job-starts.lock'));
    this.jobs = new SqliteJobStore(this.#db, this.#reserve, this.#jobStartLock);
    this.crawlers = new SqliteCrawlerStore(this.#db, this.#reserve);
    this.labels = new SqliteLabelStore(this.#db, this.#reserve);
  }

  #tx<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  /** A deleting transaction, which may use the disk reserve to commit on a full disk. */
  #deleting<T>(fn: () => T): Promise<T> {
    return this.#reserve.freeing(async () => this.#tx(fn));
  }

  async insertTransform(
    t: TransformRecord,
    tags: Record<string, string>,
    limits: { maxTransforms: number },
    resourceArn: string,
  ): Promise<void> {
    this.#tx(() => {
      const { n } = this.#db
        .prepare('SELECT count(*) AS n FROM transforms WHERE account_id = ? AND region = ?')
        .get(t.accountId, t.region) as { n: number };
      if (n >= limits.maxTransforms) {
        throw new StoreConflict('limit-exceeded', 'transform limit reached', {
          count: n + 1,
          limit: limits.maxTransforms,
        });
      }
      writingUniqueName(`name ${t.name} is taken`, () => insertRows(this.#db, 'transforms', [transformRow(t)]));
      putTags(this.#db, t, resourceArn, tags);
    });
  }

  async getTransform(scope: Scope, id: string): Promise<TransformRecord | undefined> {
    const row = this.#db
      .prepare('SELECT * FROM transforms WHERE account_id = ? AND region = ? AND id = ?')
      .get(scope.accountId, scope.region, id) as TransformRow | undefined;
    return row && toTransform(row);
  }

  async findTransformByName(scope: Scope, name: string): Promise<TransformRecord | undefined> {
    const row = this.#db
      .prepare('SELECT * FROM transforms WHERE account_id = ? AND region = ? AND name = ?')
      .get(scope.accountId, scope.region, name) as TransformRow | undefined;
    return row && toTransform(row);
  }

  async listTransforms(scope: Scope): Promise<TransformRecord[]> {
    const rows = this.#db
      .prepare('SELECT * FROM transforms WHERE account_id = ? AND region = ?')
      .all(scope.accountId, scope.region) as TransformRow[];
    return rows.map(toTransform);
  }

  async updateTransform(scope: Scope, id: string, edit: (current: TransformRecord) => TransformEdit): Promise<TransformRecord | undefined> {
    return this.#tx(() => {
      const row = this.#db
        .prepare('SELECT * FROM transforms WHERE account_id = ? AND region = ? AND id = ?')
        .get(scope.accountId, scope.region, id) as TransformRow | undefined;
      if (!row) return undefined;
      const current = toTransform(row);
      const updated = { ...current, ...edit(current) };
      const { name, last_modified_on, doc } = transformRow(updated);
      writingUniqueName(`name ${updated.name} is taken`, () =>
        this.#db
          .prepare('UPDATE transforms SET name = ?, last_modified_on = ?, doc = ? WHERE account_id = ? AND region = ? AND id = ?')
          .run(name, last_modified_on, doc, scope.accountId, scope.region, id),
      );
      return updated;
    });
  }

  async deleteTransform(scope: Scope, id: string, resourceArn: string): Promise<boolean> {
    return this.#deleting(() => {
      const res = this.#db
        .prepare('DELETE FROM transforms WHERE account_id = ? AND region = ? AND id = ?')
        .run(scope.accountId, scope.region, id);
      if (res.changes === 0) return false;
      deleteAllTags(this.#db, scope, resourceArn);
      this.#db
        .prepare('DELETE FROM task_runs WHERE account_id = ? AND region = ? AND transform_id = ?')
        .run(scope.accountId, scope.region, id);
      // Its labels (possibly millions of rows) are left to LabelStore.collectGarbage, which deletes
      // them in short transactions: one transaction deleting them all would hold the write lock long.
      return true;
    });
  }

  async *labelPages(scope: Scope, transformId: string): AsyncIterable<LabelRow[]> {
    const { generation, rows } = this.#db.transaction(() => {
      const current = this.#db
        .prepare('SELECT label_generation FROM transforms WHERE account_id = ? AND region = ? AND id = ?')
        .get(scope.accountId, scope.region, transformId) as { label_generation: number } | undefined;
      const g = current?.label_generation ?? 0;
      const { n } = this.#db.prepare('SELECT count(*) AS n FROM labels WHERE generation = ?').get(g) as { n: number };
      return { generation: g, rows: n };
    })();
    // Pages by position, each its own short read: nothing holds a read open while the caller works.
    const page = this.#db.prepare(
      `SELECT labeling_set_id, label, seq, record_values FROM labels WHERE generation = ? AND seq > ?
       ORDER BY seq LIMIT ${LABEL_BATCH_ROWS}`,
    );
    let read = 0;
    for (let after = -Infinity; ; ) {
      const found = page.all(generation, after) as Array<{ labeling_set_id: string; label: string; seq: number; record_values: string }>;
      if (found.length === 0) break;
      read += found.length;
      after = found[found.length - 1]!.seq;
      yield found.map((r) => ({
        labelingSetId: r.labeling_set_id,
        label: r.label,
        values: JSON.parse(r.record_values) as Record<string, string>,
      }));
    }
    // A committed generation never gains rows; it loses them only to garbage collection.
    if (read !== rows) throw new LabelsReplaced();
  }

  async getTags(scope: Scope, resourceArn: string): Promise<Record<string, string>> {
    return this.#readTags(scope, resourceArn);
  }

  #readTags(scope: Scope, resourceArn: string): Record<string, string> {
    const rows = this.#db
      .prepare(
        `SELECT tag_key, tag_value FROM tags WHERE account_id = ? AND region = ? AND resource_arn = ?
         ORDER BY tag_key`,
      )
      .all(scope.accountId, scope.region, resourceArn) as Array<{ tag_key: string; tag_value: string }>;
    return Object.fromEntries(rows.map((r) => [r.tag_key, r.tag_value]));
  }

  async updateTags(
    scope: Scope,
    resourceArn: string,
    add: Record<string, string>,
    remove: string[],
    limits: { maxTags: number },
  ): Promise<void> {
    // Only removing tags (UntagResource) is a delete, which works on a full disk.
    const write = Object.keys(add).length === 0 ? (fn: () => void) => this.#deleting(fn) : async (fn: () => void) => this.#tx(fn);
    await write(() => {
      putTags(this.#db, scope, resourceArn, add);
      const del = this.#db.prepare(
        'DELETE FROM tags WHERE account_id = ? AND region = ? AND resource_arn = ? AND tag_key = ?',
      );
      for (const k of remove) del.run(scope.accountId, scope.region, resourceArn, k);
      const count = Object.keys(this.#readTags(scope, resourceArn)).length;
      if (count > limits.maxTags) {
        // Throwing inside the transaction rolls the whole change back.
        throw new StoreConflict('tag-limit', 'too many tags', { count, limit: limits.maxTags });
      }
    });
  }

  async insertDatabase(
    d: DatabaseRecord,
    tags: Record<string, string>,
    arn: string,
  ): Promise<void> {
    this.#tx(() => {
      writingUniqueName('Database already exists.', () => insertRows(this.#db, 'catalog_databases', [databaseRow(d)]));
      putTags(this.#db, d, arn, tags);
    });
  }

  async getDatabase(scope: Scope, catalogId: string, name: string) {
    const row = this.#db
      .prepare(
        `SELECT * FROM catalog_databases WHERE account_id = ? AND region = ? AND catalog_id = ?
         AND name = ?`,
      )
      .get(scope.accountId, scope.region, catalogId, name) as DatabaseRow | undefined;
    return row && toDatabase(row);
  }

  async listDatabases(scope: Scope, catalogId: string) {
    const rows = this.#db
      .prepare(
        `SELECT * FROM catalog_databases WHERE account_id = ? AND region = ? AND catalog_id = ?
         ORDER BY name`,
      )
      .all(scope.accountId, scope.region, catalogId) as DatabaseRow[];
    return rows.map(toDatabase);
  }

  async updateDatabase(d: DatabaseRecord): Promise<boolean> {
    const res = this.#db
      .prepare(
        `UPDATE catalog_databases SET doc = @doc
         WHERE account_id = @account_id AND region = @region AND catalog_id = @catalog_id AND name = @name`,
      )
      .run(databaseRow(d));
    return res.changes > 0;
  }

  async deleteDatabase(scope: Scope, catalogId: string, name: string): Promise<boolean> {
    return this.#deleting(() => {
      const res = this.#db
        .prepare(
          `DELETE FROM catalog_databases WHERE account_id = ? AND region = ? AND catalog_id = ?
           AND name = ?`,
        )
        .run(scope.accountId, scope.region, catalogId, name);
      if (res.changes === 0) return false;
      for (const table of ['catalog_tables', 'catalog_partitions', 'catalog_table_versions']) {
        this.#db
          .prepare(
            `DELETE FROM ${table} WHERE account_id = ? AND region = ? AND catalog_id = ?
             AND database_name = ?`,
          )
          .run(scope.accountId, scope.region, catalogId, name);
      }
      return true;
    });
  }

  async insertTable(t: TableRecord): Promise<void> {
    writingUniqueName('Table already exists.', () => insertRows(this.#db, 'catalog_tables', [tableRow(t)]));
  }

  async getTable(scope: Scope, catalogId: string, databaseName: string, name: string) {
    const row = this.#db
      .prepare(
        `SELECT * FROM catalog_tables WHERE account_id = ? AND region = ? AND catalog_id = ?
         AND database_name = ? AND name = ?`,
      )
      .get(scope.accountId, scope.region, catalogId, databaseName, name) as TableRow | undefined;
    return row && toTable(row);
  }

  async listTables(scope: Scope, catalogId: string, databaseName: string) {
    const rows = this.#db
      .prepare(
        `SELECT * FROM catalog_tables WHERE account_id = ? AND region = ? AND catalog_id = ?
         AND database_name = ? ORDER BY name`,
      )
      .all(scope.accountId, scope.region, catalogId, databaseName) as TableRow[];
    return rows.map(toTable);
  }

  async listAllTables(scope: Scope, catalogId: string) {
    const rows = this.#db
      .prepare(
        `SELECT * FROM catalog_tables WHERE account_id = ? AND region = ? AND catalog_id = ?
         ORDER BY database_name, name`,
      )
      .all(scope.accountId, scope.region, catalogId) as TableRow[];
    return rows.map(toTable);
  }

  async updateTable(t: TableRecord, options: { archive: boolean } = { archive: false }): Promise<boolean> {
    return this.#tx(() => {
      const current = this.#db
        .prepare(
          `SELECT * FROM catalog_tables WHERE account_id = ? AND region = ? AND catalog_id = ?
           AND database_name = ? AND name = ?`,
        )
        .get(...tableKeyParams(t)) as TableRow | undefined;
      if (!current || current.version_id !== t.versionId - 1) return false;
      if (options.archive) insertRows(this.#db, 'catalog_table_versions', [tableVersionRowOf(current)], 'REPLACE');
      this.#db
        .prepare(
          `UPDATE catalog_tables SET updated_on = @updated_on, version_id = @version_id, doc = @doc
           WHERE account_id = @account_id AND region = @region AND catalog_id = @catalog_id
           AND database_name = @database_name AND name = @name`,
        )
        .run(tableRow(t));
      return true;
    });
  }

  async deleteTable(scope: Scope, catalogId: string, databaseName: string, name: string) {
    return this.#deleting(() => {
      const key = tableKeyParams({ ...scope, catalogId, databaseName, name });
      const res = this.#db
        .prepare(
          `DELETE FROM catalog_tables WHERE account_id = ? AND region = ? AND catalog_id = ?
           AND database_name = ? AND name = ?`,
        )
        .run(...key);
      if (res.changes === 0) return false;
      this.#db.prepare(`DELETE FROM catalog_partitions WHERE ${OF_TABLE}`).run(...key);
      this.#db.prepare(`DELETE FROM catalog_table_versions WHERE ${OF_TABLE}`).run(...key);
      return true;
    });
  }

  async listTableVersions(table: TableKey): Promise<TableRecord[]> {
    const rows = this.#db
      .prepare(`SELECT * FROM catalog_table_versions WHERE ${OF_TABLE} ORDER BY version_id`)
      .all(...tableKeyParams(table)) as TableVersionRow[];
    return rows.map(toTableVersion);
  }

  async deleteTableVersions(table: TableKey, versionIds: number[]): Promise<number[]> {
    return this.#deleting(() => {
      const del = this.#db.prepare(`DELETE FROM catalog_table_versions WHERE ${OF_TABLE} AND version_id = ?`);
      return versionIds.filter((v) => del.run(...tableKeyParams(table), v).changes === 0);
    });
  }

  async insertPartitions(table: TableKey, partitions: PartitionRecord[]): Promise<PartitionInsertResult> {
    return this.#tx(() => {
      if (!this.#tableExists(table)) return { tableFound: false, existing: [] };
      const rows = partitions.map((p) => partitionRow(partitionOfTable(table, p.values, p.createdOn, p.doc)));
      const inserted = insertRows(this.#db, 'catalog_partitions', rows, 'IGNORE');
      return { tableFound: true, existing: partitions.filter((_, i) => inserted[i] === 0).map((p) => p.values) };
    });
  }

  #tableExists(table: TableKey): boolean {
    return (
      this.#db
        .prepare(
          `SELECT 1 FROM catalog_tables WHERE account_id = ? AND region = ? AND catalog_id = ?
           AND database_name = ? AND name = ?`,
        )
        .get(...tableKeyParams(table)) !== undefined
    );
  }

  async getPartition(table: TableKey, values: string[]): Promise<PartitionRecord | undefined> {
    const row = this.#db
      .prepare(`SELECT * FROM catalog_partitions WHERE ${OF_TABLE} AND partition_values = ?`)
      .get(...tableKeyParams(table), valuesKey(values)) as PartitionRow | undefined;
    return row && toPartition(row);
  }

  async listPartitions(table: TableKey): Promise<PartitionRecord[]> {
    const rows = this.#db
      .prepare(`SELECT * FROM catalog_partitions WHERE ${OF_TABLE} ORDER BY partition_values`)
      .all(...tableKeyParams(table)) as PartitionRow[];
    return rows.map(toPartition);
  }

  async listPartitionValues(table: TableKey): Promise<string[][]> {
    const rows = this.#db
      .prepare(`SELECT partition_values FROM catalog_partitions WHERE ${OF_TABLE} ORDER BY partition_values`)
      .pluck()
      .all(...tableKeyParams(table)) as string[];
    return rows.map((r) => JSON.parse(r) as string[]);
  }

  async getPartitions(table: TableKey, values: string[][]): Promise<PartitionRecord[]> {
    const keys = values.map(valuesKey);
    // One statement for the lot: the keys travel as one JSON array, whatever their number.
    const rows = this.#db
      .prepare(
        `SELECT * FROM catalog_partitions WHERE ${OF_TABLE}
         AND partition_values IN (SELECT value FROM json_each(?))`,
      )
      .all(...tableKeyParams(table), JSON.stringify(keys)) as PartitionRow[];
    const byKey = new Map(rows.map((r) => [r.partition_values, r]));
    return keys.flatMap((k) => {
      const row = byKey.get(k);
      return row ? [toPartition(row)] : [];
    });
  }

  async updatePartition(
    table: TableKey,
    values: string[],
    record: PartitionRecord,
  ): Promise<'updated' | 'not-found' | 'values-taken'> {
    return this.#tx(() => {
      const from = valuesKey(values);
      const row = partitionRow(record);
      if (row.partition_values !== from) {
        const taken = this.#db
          .prepare(`SELECT 1 FROM catalog_partitions WHERE ${OF_TABLE} AND partition_values = ?`)
          .get(...tableKeyParams(table), row.partition_values);
        if (taken) return 'values-taken';
      }
      const res = this.#db
        .prepare(
          `UPDATE catalog_partitions SET partition_values = ?, doc = ?
           WHERE ${OF_TABLE} AND partition_values = ?`,
        )
        .run(row.partition_values, row.doc, ...tableKeyParams(table), from);
      return res.changes > 0 ? 'updated' : 'not-found';
    });
  }

  async deletePartitions(table: TableKey, values: string[][]): Promise<string[][]> {
    return this.#deleting(() => {
      const del = this.#db.prepare(`DELETE FROM catalog_partitions WHERE ${OF_TABLE} AND partition_values = ?`);
      return values.filter((v) => del.run(...tableKeyParams(table), valuesKey(v)).changes === 0);
    });
  }

  /** Moves what the write-ahead log holds into the database file as far as no reader needs it (never waits for a lock). */
  checkpoint(): void {
    this.#db.pragma('wal_checkpoint(PASSIVE)');
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
    this.#jobStartLock?.close();
  }
}
