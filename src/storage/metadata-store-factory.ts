import { join } from 'node:path';
import type { MetadataStore } from './metadata-store.js';
import type { RunQueue } from './redis/run-queue.js';
import { PgMetadataStore } from './postgres/pg-metadata-store.js';
import { SqliteMetadataStore, type SqliteStoreOptions } from './sqlite/sqlite-metadata-store.js';

/** Where the metadata lives: a PostgreSQL server shared by several nodes, or (without one) SQLite in the data dir. */
export interface MetadataStoreChoice {
  dataDir: string;
  /** DOPPEL_DATABASE_URL / --database-url: postgres://... */
  databaseUrl?: string;
  /** Connections this process keeps open at most to PostgreSQL. */
  poolSize: number;
}

/**
 * Opens the metadata store the configuration names. `sqlite` tunes the embedded store for the
 * process opening it (the server or a task process); `onConnectionError` hears of PostgreSQL
 * connections that broke while idle (the pool replaces them). A PostgreSQL store announces the runs
 * it enqueues to `runQueue` (the configuration requires one with a database URL).
 */
export async function openMetadataStore(
  choice: MetadataStoreChoice,
  sqlite: SqliteStoreOptions,
  onConnectionError: (e: Error) => void,
  runQueue?: RunQueue,
): Promise<MetadataStore> {
  if (choice.databaseUrl !== undefined) {
    return PgMetadataStore.open({ url: choice.databaseUrl, poolSize: choice.poolSize, onIdleError: onConnectionError }, runQueue);
  }
  return new SqliteMetadataStore(join(choice.dataDir, 'metadata.sqlite'), sqlite);
}
