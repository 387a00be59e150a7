import type { RunQueue } from '../redis/run-queue.js';
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
import {
  databaseRow,
  isUniqueViolation,
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
import { lockKey, PgDatabase, type PgClient, type PgOptions } from './pg-database.js';
import { migratePostgres } from './pg-migrations.js';
import { PgCrawlerStore } from './pg-crawler-store.js';
import { PgJobStore } from './pg-job-store.js';
import { PgLabelStore } from './pg-label-store.js';
import { insertRow } from './pg-row-inserts.js';
import { PgTaskQueueStore } from './pg-task-queue-store.js';
import { deleteAllTags, putTags } from './pg-tag-rows.js';

interface LabelRowColumns {
  labeling_set_id: string;
  label: string;
  seq: number;
  record_values: string;
}

/** The key columns of a table's partitions and versions, in the order the statements below bind them ($1..$5). */
const tableKeyParams = (t: TableKey) => [t.accountId, t.region, t.catalogId, t.databaseName, t.name];
const OF_TABLE = 'account_id = $1 AND region = $2 AND catalog_id = $3 AND database_name = $4 AND table_name = $5';
const TABLE_NAMED = 'account_id = $1 AND region = $2 AND catalog_id = $3 AND database_name = $4 AND name = $5';

/**
 * The metadata store in PostgreSQL (DOPPEL_DATABASE_URL), which several doppel nodes can share.
 * Each method is one transaction on a pooled connection. Where a write depends on what it read
 * (a limit, a version, a lease), it locks what it read first: the row (SELECT ... FOR UPDATE), or,
 * for a count of rows, a transaction-scoped advisory lock on the key being counted.
 */
export class PgMetadataStore implements MetadataStore {
  readonly tasks: PgTaskQueueStore;
  readonly jobs: PgJobStore;
  readonly crawlers: PgCrawlerStore;
  readonly labels: PgLabelStore;
  readonly #db: PgDatabase;

  private constructor(db: PgDatabase, runQueue: RunQueue | undefined) {
    this.#db = db;
    this.tasks = new PgTaskQueueStore(db, runQueue);
    this.jobs = new PgJobStore(db);
    this.crawlers = new PgCrawlerStore(db);
    this.labels = new PgLabelStore(db);
  }

  /**
   * Connects, applies pending migrations, and returns the store; fails with a message naming
   * DOPPEL_DATABASE_URL. Every run it enqueues is announced to `runQueue`, where workers take it from.
   */
  static async open(options: PgOptions, runQueue?: RunQueue): Promise<PgMetadataStore> {
    const db = await PgDatabase.open(options);
    try {
      await migratePostgres(db);
    } catch (e) {
      await db.close();
      throw new Error(`migrating the PostgreSQL database of DOPPEL_DATABASE_URL failed: ${(e as Error).message}`);
    }
    return new PgMetadataStore(db, runQueue);
  }

  async insertTransform(
    t: TransformRecord,
    tags: Record<string, string>,
    limits: { maxTransforms: number },
    resourceArn: string,
  ): Promise<void> {
    await this.#db.tx(async (c) => {
      await lockKey(c, `transforms/${t.accountId}/${t.region}`);
      const { n } = (
        await c.query<{ n: number }>('SELECT count(*) AS n FROM transforms WHERE account_id = $1 AND region = $2', [
          t.accountId,
          t.region,
        ])
      ).rows[0]!;
      if (n >= limits.maxTransforms) {
        throw new StoreConflict('limit-exceeded', 'transform limit reached', { count: n + 1, limit: limits.maxTransforms });
      }
      await writingUniqueName(`name ${t.name} is taken`, () => insertRow(c, 'transforms', transformRow(t)));
      await putTags(c, t, resourceArn, tags);
    });
  }

  async getTransform(scope: Scope, id: string): Promise<TransformRecord | undefined> {
    const { rows } = await this.#db.query<TransformRow>(
      'SELECT * FROM transforms WHERE account_id = $1 AND region = $2 AND id = $3',
      [scope.accountId, scope.region, id],
    );
    return rows[0] && toTransform(rows[0]);
  }

  async findTransformByName(scope: Scope, name: string): Promise<TransformRecord | undefined> {
    const { rows } = await this.#db.query<TransformRow>(
      'SELECT * FROM transforms WHERE account_id = $1 AND region = $2 AND name = $3',
      [scope.accountId, scope.region, name],
    );
    return rows[0] && toTransform(rows[0]);
  }

  async listTransforms(scope: Scope): Promise<TransformRecord[]> {
    const { rows } = await this.#db.query<TransformRow>(
      'SELECT * FROM transforms WHERE account_id = $1 AND region = $2 ORDER BY created_on, id',
      [scope.accountId, scope.region],
    );
    return rows.map(toTransform);
  }

  async updateTransform(scope: Scope, id: string, edit: (current: TransformRecord) => TransformEdit): Promise<TransformRecord | undefined> {
    return this.#db.tx(async (c) => {
      const { rows } = await c.query<TransformRow>(
        'SELECT * FROM transforms WHERE account_id = $1 AND region = $2 AND id = $3 FOR UPDATE',
        [scope.accountId, scope.region, id],
      );
      if (!rows[0]) return undefined;
      const current = toTransform(rows[0]);
      const updated = { ...current, ...edit(current) };
      const row = transformRow(updated);
      await writingUniqueName(`name ${updated.name} is taken`, () =>
        c.query('UPDATE transforms SET name = $1, last_modified_on = $2, doc = $3 WHERE account_id = $4 AND region = $5 AND id = $6', [
          row.name,
          row.last_modified_on,
          row.doc,
          scope.accountId,
          scope.region,
          id,
        ]),
      );
      return updated;
    });
  }

  async deleteTransform(scope: Scope, id: string, resourceArn: string): Promise<boolean> {
    return this.#db.tx(async (c) => {
      const res = await c.query('DELETE FROM transforms WHERE account_id = $1 AND region = $2 AND id = $3', [
        scope.accountId,
        scope.region,
        id,
      ]);
      if (res.rowCount === 0) return false;
      await deleteAllTags(c, scope, resourceArn);
      await c.query('DELETE FROM task_runs WHERE account_id = $1 AND region = $2 AND transform_id = $3', [
        scope.accountId,
        scope.region,
        id,
      ]);
      // Its labels are left to LabelStore.collectGarbage, which deletes them in short transactions.
      return true;
    });
  }

  async *labelPages(scope: Scope, transformId: string): AsyncIterable<LabelRow[]> {
    // One statement, one snapshot: the generation and its row count as of the same moment.
    const { rows: found } = await this.#db.query<{ generation: number; n: number }>(
      `WITH g AS (SELECT coalesce((SELECT label_generation FROM transforms WHERE account_id = $1 AND region = $2 AND id = $3), 0) AS generation)
       SELECT g.generation, (SELECT count(*) FROM labels WHERE generation = g.generation) AS n FROM g`,
      [scope.accountId, scope.region, transformId],
    );
    const { generation, n: rows } = found[0]!;
    // Pages by position, each its own short read: nothing holds a transaction open while the caller works.
    let read = 0;
    for (let after: number | null = null; ; ) {
      const page: { rows: LabelRowColumns[] } = await this.#db.query<LabelRowColumns>(
        `SELECT labeling_set_id, label, seq, record_values FROM labels WHERE generation = $1 AND ($2::bigint IS NULL OR seq > $2)
         ORDER BY seq LIMIT ${LABEL_BATCH_ROWS}`,
        [generation, after],
      );
      if (page.rows.length === 0) break;
      read += page.rows.length;
      after = page.rows[page.rows.length - 1]!.seq;
      yield page.rows.map((r) => ({
        labelingSetId: r.labeling_set_id,
        label: r.label,
        values: JSON.parse(r.record_values) as Record<string, string>,
      }));
    }
    // A committed generation never gains rows; it loses them only to garbage collection.
    if (read !== rows) throw new LabelsReplaced();
  }

  async getTags(scope: Scope, resourceArn: string): Promise<Record<string, string>> {
    return readTags(this.#db.pool, scope, resourceArn);
  }

  async updateTags(
    scope: Scope,
    resourceArn: string,
    add: Record<string, string>,
    remove: string[],
    limits: { maxTags: number },
  ): Promise<void> {
    await this.#db.tx(async (c) => {
      await lockKey(c, `tags/${scope.accountId}/${scope.region}/${resourceArn}`);
      await putTags(c, scope, resourceArn, add);
      if (remove.length > 0) {
        await c.query(
          'DELETE FROM tags WHERE account_id = $1 AND region = $2 AND resource_arn = $3 AND tag_key = ANY($4::text[])',
          [scope.accountId, scope.region, resourceArn, remove],
        );
      }
      const count = Object.keys(await readTags(c, scope, resourceArn)).length;
      // Throwing inside the transaction rolls the whole change back.
      if (count > limits.maxTags) throw new StoreConflict('tag-limit', 'too many tags', { count, limit: limits.maxTags });
    });
  }

  async insertDatabase(d: DatabaseRecord, tags: Record<string, string>, arn: string): Promise<void> {
    await this.#db.tx(async (c) => {
      await writingUniqueName('Database already exists.', () => insertRow(c, 'catalog_databases', databaseRow(d)));
      await putTags(c, d, arn, tags);
    });
  }

  async getDatabase(scope: Scope, catalogId: string, name: string) {
    const { rows } = await this.#db.query<DatabaseRow>(
      'SELECT * FROM catalog_databases WHERE account_id = $1 AND region = $2 AND catalog_id = $3 AND name = $4',
      [scope.accountId, scope.region, catalogId, name],
    );
    return rows[0] && toDatabase(rows[0]);
  }

  async listDatabases(scope: Scope, catalogId: string) {
    const { rows } = await this.#db.query<DatabaseRow>(
      'SELECT * FROM catalog_databases WHERE account_id = $1 AND region = $2 AND catalog_id = $3 ORDER BY name',
      [scope.accountId, scope.region, catalogId],
    );
    return rows.map(toDatabase);
  }

  async updateDatabase(d: DatabaseRecord): Promise<boolean> {
    const row = databaseRow(d);
    const res = await this.#db.query(
      'UPDATE catalog_databases SET doc = $1 WHERE account_id = $2 AND region = $3 AND catalog_id = $4 AND name = $5',
      [row.doc, row.account_id, row.region, row.catalog_id, row.name],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async deleteDatabase(scope: Scope, catalogId: string, name: string): Promise<boolean> {
    return this.#db.tx(async (c) => {
      const key = [scope.accountId, scope.region, catalogId, name];
      const res = await c.query(
        'DELETE FROM catalog_databases WHERE account_id = $1 AND region = $2 AND catalog_id = $3 AND name = $4',
        key,
      );
      if (res.rowCount === 0) return false;
      for (const table of ['catalog_tables', 'catalog_partitions', 'catalog_table_versions']) {
        await c.query(
          `DELETE FROM ${table} WHERE account_id = $1 AND region = $2 AND catalog_id = $3 AND database_name = $4`,
          key,
        );
      }
      return true;
    });
  }

  async insertTable(t: TableRecord): Promise<void> {
    await writingUniqueName('Table already exists.', () => insertRow(this.#db.pool, 'catalog_tables', tableRow(t)));
  }

  async getTable(scope: Scope, catalogId: string, databaseName: string, name: string) {
    const { rows } = await this.#db.query<TableRow>(
      `SELECT * FROM catalog_tables WHERE ${TABLE_NAMED}`,
      tableKeyParams({ ...scope, catalogId, databaseName, name }),
    );
    return rows[0] && toTable(rows[0]);
  }

  async listTables(scope: Scope, catalogId: string, databaseName: string) {
    const { rows } = await this.#db.query<TableRow>(
      `SELECT * FROM catalog_tables WHERE account_id = $1 AND region = $2 AND catalog_id = $3 AND database_name = $4
       ORDER BY name`,
      [scope.accountId, scope.region, catalogId, databaseName],
    );
    return rows.map(toTable);
  }

  async listAllTables(scope: Scope, catalogId: string) {
    const { rows } = await this.#db.query<TableRow>(
      `SELECT * FROM catalog_tables WHERE account_id = $1 AND region = $2 AND catalog_id = $3 ORDER BY database_name, name`,
      [scope.accountId, scope.region, catalogId],
    );
    return rows.map(toTable);
  }

  async updateTable(t: TableRecord, options: { archive: boolean } = { archive: false }): Promise<boolean> {
    return this.#db.tx(async (c) => {
      const key = tableKeyParams(t);
      const current = (await c.query<TableRow>(`SELECT * FROM catalog_tables WHERE ${TABLE_NAMED} FOR UPDATE`, key)).rows[0];
      if (!current || current.version_id !== t.versionId - 1) return false;
      if (options.archive) {
        await insertRow(
          c,
          'catalog_table_versions',
          tableVersionRowOf(current),
          `ON CONFLICT (account_id, region, catalog_id, database_name, table_name, version_id)
           DO UPDATE SET created_on = excluded.created_on, updated_on = excluded.updated_on,
             created_by = excluded.created_by, doc = excluded.doc`,
        );
      }
      const row = tableRow(t);
      await c.query(`UPDATE catalog_tables SET updated_on = $6, version_id = $7, doc = $8 WHERE ${TABLE_NAMED}`, [
        ...key,
        row.updated_on,
        row.version_id,
        row.doc,
      ]);
      return true;
    });
  }

  async deleteTable(scope: Scope, catalogId: string, databaseName: string, name: string) {
    return this.#db.tx(async (c) => {
      const key = tableKeyParams({ ...scope, catalogId, databaseName, name });
      const res = await c.query(`DELETE FROM catalog_tables WHERE ${TABLE_NAMED}`, key);
      if (res.rowCount === 0) return false;
      await c.query(`DELETE FROM catalog_partitions WHERE ${OF_TABLE}`, key);
      await c.query(`DELETE FROM catalog_table_versions WHERE ${OF_TABLE}`, key);
      return true;
    });
  }

  async listTableVersions(table: TableKey): Promise<TableRecord[]> {
    const { rows } = await this.#db.query<TableVersionRow>(
      `SELECT * FROM catalog_table_versions WHERE ${OF_TABLE} ORDER BY version_id`,
      tableKeyParams(table),
    );
    return rows.map(toTableVersion);
  }

  async deleteTableVersions(table: TableKey, versionIds: number[]): Promise<number[]> {
    const { rows } = await this.#db.query<{ version_id: number }>(
      `DELETE FROM catalog_table_versions WHERE ${OF_TABLE} AND version_id = ANY($6::bigint[]) RETURNING version_id`,
      [...tableKeyParams(table), versionIds],
    );
    const deleted = new Set(rows.map((r) => r.version_id));
    return versionIds.filter((v) => !deleted.has(v));
  }

  async insertPartitions(table: TableKey, partitions: PartitionRecord[]): Promise<PartitionInsertResult> {
    return this.#db.tx(async (c) => {
      // The table stays while its partitions go in: a concurrent DeleteTable waits for this commit.
      const found = await c.query(`SELECT 1 FROM catalog_tables WHERE ${TABLE_NAMED} FOR SHARE`, tableKeyParams(table));
      if (found.rowCount === 0) return { tableFound: false, existing: [] };
      const existing: string[][] = [];
      for (const p of partitions) {
        const row = partitionRow(partitionOfTable(table, p.values, p.createdOn, p.doc));
        const res = await insertRow(c, 'catalog_partitions', row, 'ON CONFLICT DO NOTHING');
        if (res.rowCount === 0) existing.push(p.values);
      }
      return { tableFound: true, existing };
    });
  }

  async getPartition(table: TableKey, values: string[]): Promise<PartitionRecord | undefined> {
    const { rows } = await this.#db.query<PartitionRow>(
      `SELECT * FROM catalog_partitions WHERE ${OF_TABLE} AND partition_values = $6`,
      [...tableKeyParams(table), valuesKey(values)],
    );
    return rows[0] && toPartition(rows[0]);
  }

  async listPartitions(table: TableKey): Promise<PartitionRecord[]> {
    const { rows } = await this.#db.query<PartitionRow>(
      `SELECT * FROM catalog_partitions WHERE ${OF_TABLE} ORDER BY partition_values`,
      tableKeyParams(table),
    );
    return rows.map(toPartition);
  }

  async listPartitionValues(table: TableKey): Promise<string[][]> {
    const { rows } = await this.#db.query<{ partition_values: string }>(
      `SELECT partition_values FROM catalog_partitions WHERE ${OF_TABLE} ORDER BY partition_values`,
      tableKeyParams(table),
    );
    return rows.map((r) => JSON.parse(r.partition_values) as string[]);
  }

  async getPartitions(table: TableKey, values: string[][]): Promise<PartitionRecord[]> {
    const keys = values.map(valuesKey);
    const { rows } = await this.#db.query<PartitionRow>(
      `SELECT * FROM catalog_partitions WHERE ${OF_TABLE} AND partition_values = ANY($6::text[])`,
      [...tableKeyParams(table), keys],
    );
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
    const row = partitionRow(record);
    try {
      const res = await this.#db.query(
        `UPDATE catalog_partitions SET partition_values = $6, doc = $7 WHERE ${OF_TABLE} AND partition_values = $8`,
        [...tableKeyParams(table), row.partition_values, row.doc, valuesKey(values)],
      );
      return (res.rowCount ?? 0) > 0 ? 'updated' : 'not-found';
    } catch (e) {
      // Moving a partition onto values another partition has breaks the primary key.
      if (isUniqueViolation(e)) return 'values-taken';
      throw e;
    }
  }

  async deletePartitions(table: TableKey, values: string[][]): Promise<string[][]> {
    const { rows } = await this.#db.query<{ partition_values: string }>(
      `DELETE FROM catalog_partitions WHERE ${OF_TABLE} AND partition_values = ANY($6::text[]) RETURNING partition_values`,
      [...tableKeyParams(table), values.map(valuesKey)],
    );
    const deleted = new Set(rows.map((r) => r.partition_values));
    return values.filter((v) => !deleted.has(valuesKey(v)));
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}

async function readTags(on: Pick<PgClient, 'query'>, scope: Scope, resourceArn: string): Promise<Record<string, string>> {
  const { rows } = await on.query<{ tag_key: string; tag_value: string }>(
    'SELECT tag_key, tag_value FROM tags WHERE account_id = $1 AND region = $2 AND resource_arn = $3 ORDER BY tag_key',
    [scope.accountId, scope.region, resourceArn],
  );
  return Object.fromEntries(rows.map((r) => [r.tag_key, r.tag_value]));
}
