import type { PgDatabase } from './pg-database.js';

/**
 * The PostgreSQL schema, versioned like the SQLite one (sqlite/migrations.ts) with its own version
 * numbers: the columns are the same, so that one set of row converters (storage/rows.ts) reads
 * both. Text columns use the "C" collation, so that names sort by code point as in SQLite whatever
 * the database's locale. Never edit a released migration: append a new one.
 */
const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE transforms (
        account_id TEXT COLLATE "C" NOT NULL,
        region TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        status TEXT NOT NULL,
        created_on BIGINT NOT NULL,
        last_modified_on BIGINT NOT NULL,
        label_count BIGINT NOT NULL DEFAULT 0,
        label_generation BIGINT NOT NULL DEFAULT 0,
        doc TEXT NOT NULL,
        PRIMARY KEY (account_id, region, id)
      );
      CREATE UNIQUE INDEX transforms_name ON transforms (account_id, region, name);

      CREATE TABLE tags (
        account_id TEXT COLLATE "C" NOT NULL,
        region TEXT COLLATE "C" NOT NULL,
        resource_arn TEXT COLLATE "C" NOT NULL,
        tag_key TEXT COLLATE "C" NOT NULL,
        tag_value TEXT NOT NULL,
        PRIMARY KEY (account_id, region, resource_arn, tag_key)
      );

      CREATE TABLE catalog_databases (
        account_id TEXT COLLATE "C" NOT NULL,
        region TEXT COLLATE "C" NOT NULL,
        catalog_id TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        created_on BIGINT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (account_id, region, catalog_id, name)
      );

      CREATE TABLE catalog_tables (
        account_id TEXT COLLATE "C" NOT NULL,
        region TEXT COLLATE "C" NOT NULL,
        catalog_id TEXT COLLATE "C" NOT NULL,
        database_name TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        created_on BIGINT NOT NULL,
        updated_on BIGINT NOT NULL,
        version_id BIGINT NOT NULL,
        created_by TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (account_id, region, catalog_id, database_name, name)
      );

      CREATE TABLE catalog_partitions (
        account_id TEXT COLLATE "C" NOT NULL,
        region TEXT COLLATE "C" NOT NULL,
        catalog_id TEXT COLLATE "C" NOT NULL,
        database_name TEXT COLLATE "C" NOT NULL,
        table_name TEXT COLLATE "C" NOT NULL,
        partition_values TEXT COLLATE "C" NOT NULL,
        created_on BIGINT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (account_id, region, catalog_id, database_name, table_name, partition_values)
      );

      CREATE TABLE catalog_table_versions (
        account_id TEXT COLLATE "C" NOT NULL,
        region TEXT COLLATE "C" NOT NULL,
        catalog_id TEXT COLLATE "C" NOT NULL,
        database_name TEXT COLLATE "C" NOT NULL,
        table_name TEXT COLLATE "C" NOT NULL,
        version_id BIGINT NOT NULL,
        created_on BIGINT NOT NULL,
        updated_on BIGINT NOT NULL,
        created_by TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (account_id, region, catalog_id, database_name, table_name, version_id)
      );

      CREATE TABLE task_runs (
        account_id TEXT COLLATE "C" NOT NULL,
        region TEXT COLLATE "C" NOT NULL,
        transform_id TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
        task_type TEXT NOT NULL,
        status TEXT NOT NULL,
        properties TEXT NOT NULL,
        args TEXT NOT NULL,
        error_string TEXT,
        started_on BIGINT NOT NULL,
        last_modified_on BIGINT NOT NULL,
        completed_on BIGINT,
        execution_ms BIGINT NOT NULL DEFAULT 0,
        attempt BIGINT NOT NULL DEFAULT 1,
        interruptions BIGINT NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_expires_at BIGINT,
        lease_renewed_at BIGINT,
        running_since BIGINT,
        deadline_at BIGINT,
        progress TEXT,
        progress_percent BIGINT,
        progress_updated_on BIGINT,
        -- The queue position: a sequence, since several nodes enqueue at once.
        seq BIGINT GENERATED ALWAYS AS IDENTITY
      );
      CREATE INDEX task_runs_transform ON task_runs (account_id, region, transform_id);
      CREATE INDEX task_runs_active ON task_runs (status, seq)
        WHERE status IN ('STARTING', 'RUNNING', 'STOPPING');
      -- Label imports of one transform run one at a time: two nodes claiming two of them at once
      -- cannot both commit.
      CREATE UNIQUE INDEX task_runs_one_import ON task_runs (account_id, region, transform_id)
        WHERE task_type = 'IMPORT_LABELS' AND status IN ('RUNNING', 'STOPPING');

      CREATE TABLE label_generations (
        generation BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id TEXT COLLATE "C" NOT NULL,
        region TEXT COLLATE "C" NOT NULL,
        transform_id TEXT COLLATE "C" NOT NULL,
        task_run_id TEXT COLLATE "C"
      );
      CREATE INDEX label_generations_run ON label_generations (task_run_id);

      CREATE TABLE labels (
        account_id TEXT COLLATE "C" NOT NULL,
        region TEXT COLLATE "C" NOT NULL,
        transform_id TEXT COLLATE "C" NOT NULL,
        generation BIGINT NOT NULL,
        labeling_set_id TEXT COLLATE "C" NOT NULL,
        label TEXT NOT NULL,
        seq BIGINT NOT NULL,
        record_values TEXT NOT NULL
      );
      CREATE INDEX labels_generation ON labels (generation, seq);

      CREATE TABLE jobs (
        account_id TEXT COLLATE "C" NOT NULL,
        region TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        created_on BIGINT NOT NULL,
        last_modified_on BIGINT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (account_id, region, name)
      );

      CREATE TABLE job_runs (
        account_id TEXT COLLATE "C" NOT NULL,
        region TEXT COLLATE "C" NOT NULL,
        job_name TEXT COLLATE "C" NOT NULL,
        id TEXT COLLATE "C" NOT NULL,
        started_on BIGINT NOT NULL,
        last_modified_on BIGINT NOT NULL,
        arguments TEXT NOT NULL,
        transform_id TEXT,
        task_run_id TEXT,
        state TEXT,
        error_message TEXT,
        completed_on BIGINT,
        doc TEXT NOT NULL,
        PRIMARY KEY (account_id, region, job_name, id)
      );

      CREATE TABLE crawlers (
        account_id TEXT COLLATE "C" NOT NULL,
        region TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        created_on BIGINT NOT NULL,
        last_updated BIGINT NOT NULL,
        version BIGINT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (account_id, region, name)
      );
    `,
  },
];

/** Any constant both nodes agree on: the key of the session advisory lock migrations hold. */
const MIGRATION_LOCK_KEY = 0x646f7070656c; // "doppel"

/**
 * Applies the migrations not yet applied, each in its own transaction, under a session advisory
 * lock: a node starting at the same time waits for the lock, then finds them applied.
 */
export async function migratePostgres(db: PgDatabase): Promise<void> {
  await db.withClient(async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_on BIGINT NOT NULL)`);
      const applied = new Set(
        (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
      );
      for (const m of MIGRATIONS) {
        if (applied.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name, applied_on) VALUES ($1, $2, $3)', [
            m.version,
            m.name,
            Date.now(),
          ]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK');
          throw e;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  });
}

export const LATEST_PG_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
