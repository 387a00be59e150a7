import type Database from 'better-sqlite3';

/**
 * Schema migrations, applied in order inside one transaction each. Never edit a released
 * migration: append a new one.
 */
const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE transforms (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        created_on INTEGER NOT NULL,
        last_modified_on INTEGER NOT NULL,
        label_count INTEGER NOT NULL DEFAULT 0,
        doc TEXT NOT NULL,
        PRIMARY KEY (account_id, region, id)
      );
      CREATE UNIQUE INDEX transforms_name ON transforms (account_id, region, name);

      CREATE TABLE tags (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        resource_arn TEXT NOT NULL,
        tag_key TEXT NOT NULL,
        tag_value TEXT NOT NULL,
        PRIMARY KEY (account_id, region, resource_arn, tag_key)
      );

      CREATE TABLE catalog_databases (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        catalog_id TEXT NOT NULL,
        name TEXT NOT NULL,
        created_on INTEGER NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (account_id, region, catalog_id, name)
      );

      CREATE TABLE catalog_tables (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        catalog_id TEXT NOT NULL,
        database_name TEXT NOT NULL,
        name TEXT NOT NULL,
        created_on INTEGER NOT NULL,
        updated_on INTEGER NOT NULL,
        version_id INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (account_id, region, catalog_id, database_name, name)
      );

      CREATE TABLE task_runs (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        transform_id TEXT NOT NULL,
        id TEXT NOT NULL PRIMARY KEY,
        task_type TEXT NOT NULL,
        status TEXT NOT NULL,
        properties TEXT NOT NULL,
        args TEXT NOT NULL,
        error_string TEXT,
        started_on INTEGER NOT NULL,
        last_modified_on INTEGER NOT NULL,
        completed_on INTEGER,
        execution_ms INTEGER NOT NULL DEFAULT 0,
        attempt INTEGER NOT NULL DEFAULT 1,
        interruptions INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_expires_at INTEGER,
        running_since INTEGER,
        deadline_at INTEGER,
        progress TEXT,
        seq INTEGER NOT NULL
      );
      CREATE INDEX task_runs_transform ON task_runs (account_id, region, transform_id);
      CREATE INDEX task_runs_active ON task_runs (status, seq)
        WHERE status IN ('STARTING', 'RUNNING', 'STOPPING');
    `,
  },
  {
    version: 2,
    name: 'labels',
    sql: `
      CREATE TABLE labels (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        transform_id TEXT NOT NULL,
        labeling_set_id TEXT NOT NULL,
        label TEXT NOT NULL,
        seq INTEGER NOT NULL,
        record_values TEXT NOT NULL
      );
      CREATE INDEX labels_transform ON labels (account_id, region, transform_id, seq);
    `,
  },
  {
    version: 3,
    name: 'jobs',
    sql: `
      CREATE TABLE jobs (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        created_on INTEGER NOT NULL,
        last_modified_on INTEGER NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (account_id, region, name)
      );

      CREATE TABLE job_runs (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        job_name TEXT NOT NULL,
        id TEXT NOT NULL,
        started_on INTEGER NOT NULL,
        last_modified_on INTEGER NOT NULL,
        arguments TEXT NOT NULL,
        transform_id TEXT,
        task_run_id TEXT,
        state TEXT,
        error_message TEXT,
        completed_on INTEGER,
        doc TEXT NOT NULL,
        PRIMARY KEY (account_id, region, job_name, id)
      );
    `,
  },
  {
    version: 4,
    name: 'label generations, lease renewal time, progress percent',
    sql: `
      CREATE TABLE label_generations (
        generation INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        transform_id TEXT NOT NULL,
        task_run_id TEXT
      );
      ALTER TABLE transforms ADD COLUMN label_generation INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE labels ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
      INSERT INTO label_generations (account_id, region, transform_id)
        SELECT DISTINCT account_id, region, transform_id FROM labels;
      UPDATE labels SET generation = (SELECT g.generation FROM label_generations g
        WHERE g.account_id = labels.account_id AND g.region = labels.region AND g.transform_id = labels.transform_id);
      UPDATE transforms SET label_generation = coalesce((SELECT g.generation FROM label_generations g
        WHERE g.account_id = transforms.account_id AND g.region = transforms.region AND g.transform_id = transforms.id), 0);
      DROP INDEX labels_transform;
      CREATE INDEX labels_generation ON labels (generation, seq);

      ALTER TABLE task_runs ADD COLUMN lease_renewed_at INTEGER;
      ALTER TABLE task_runs ADD COLUMN progress_percent INTEGER;
      ALTER TABLE task_runs ADD COLUMN progress_updated_on INTEGER;
    `,
  },
  {
    version: 5,
    name: 'catalog partitions and table versions',
    sql: `
      CREATE TABLE catalog_partitions (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        catalog_id TEXT NOT NULL,
        database_name TEXT NOT NULL,
        table_name TEXT NOT NULL,
        partition_values TEXT NOT NULL,
        created_on INTEGER NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (account_id, region, catalog_id, database_name, table_name, partition_values)
      );

      CREATE TABLE catalog_table_versions (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        catalog_id TEXT NOT NULL,
        database_name TEXT NOT NULL,
        table_name TEXT NOT NULL,
        version_id INTEGER NOT NULL,
        created_on INTEGER NOT NULL,
        updated_on INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (account_id, region, catalog_id, database_name, table_name, version_id)
      );
    `,
  },
  {
    version: 6,
    name: 'crawlers',
    sql: `
      CREATE TABLE crawlers (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        created_on INTEGER NOT NULL,
        last_updated INTEGER NOT NULL,
        version INTEGER NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (account_id, region, name)
      );
    `,
  },
];

export function migrate(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_on INTEGER NOT NULL)`);
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map(
      (r) => r.version,
    ),
  );
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_on) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        Date.now(),
      );
    }).immediate();
  }
}

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
