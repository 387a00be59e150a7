/**
 * The options of the commands that start a doppel node, `doppel serve` and `doppel worker`: how
 * parseArgs reads each one and its lines in the help, written once. The store options mean the
 * same to both (nodes on one store share their work); a port and a host do not (the API's address,
 * a worker's health endpoints), so each command defines its own.
 */
import type { ParseArgsConfig } from 'node:util';
import { DEFAULTS } from '../config.js';

type NodeOptions = Record<string, NonNullable<ParseArgsConfig['options']>[string] & { help: string }>;

/** Where a node keeps its state. */
export const STORE_OPTIONS = {
  'data-dir': {
    type: 'string',
    help: `--data-dir D    where metadata and objects are kept [DOPPEL_DATA_DIR]  default ${DEFAULTS.dataDir}`,
  },
  'database-url': {
    type: 'string',
    help: `--database-url URL  metadata in PostgreSQL (postgres://user:pass@host:5432/db) instead of
                SQLite in the data dir              [DOPPEL_DATABASE_URL]`,
  },
  'redis-url': {
    type: 'string',
    help: `--redis-url URL the queue (BullMQ in Redis, redis://host:6379) through which nodes sharing
                that database hand task runs to workers; required with --database-url
                                                    [DOPPEL_REDIS_URL, keys under DOPPEL_REDIS_PREFIX]`,
  },
} as const satisfies NodeOptions;

export const SERVE_OPTIONS = {
  port: { type: 'string', help: `--port P        TCP port, 0 picks a free one        [DOPPEL_PORT]      default ${DEFAULTS.port}` },
  host: { type: 'string', help: `--host H        address to listen on                [DOPPEL_HOST]      default ${DEFAULTS.host}` },
  'no-auth': {
    type: 'boolean',
    help: `--no-auth       accept unsigned requests (never the default)  [DOPPEL_NO_AUTH=1]
                refused on a host other than loopback unless also given`,
  },
  'allow-unauthenticated-network': { type: 'boolean', help: '--allow-unauthenticated-network                     [DOPPEL_ALLOW_UNAUTHENTICATED_NETWORK=1]' },
  'no-worker': {
    type: 'boolean',
    help: `--no-worker     answer requests only; doppel worker processes on the same
                store execute the task runs         [DOPPEL_NO_WORKER=1]`,
  },
} as const satisfies NodeOptions;

export const WORKER_OPTIONS = {
  port: { type: 'string', help: '--port P        answer /health, /ready, /metrics there (none without it)' },
  host: { type: 'string', help: `--host H        address of that port                [DOPPEL_HOST]      default ${DEFAULTS.host}` },
} as const satisfies NodeOptions;

/** The options' lines in the help, in their order. */
export const optionsHelp = (options: NodeOptions) =>
  Object.values(options)
    .map((o) => `${o.help.replace(/^/gm, '  ')}\n`)
    .join('');

/** The store options' values as configFrom takes them. */
export const storeFlags = (values: { 'data-dir'?: string; 'database-url'?: string; 'redis-url'?: string }) => ({
  dataDir: values['data-dir'],
  databaseUrl: values['database-url'],
  redisUrl: values['redis-url'],
});
