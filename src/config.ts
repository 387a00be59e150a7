import { BlockList, isIP } from 'node:net';
import { resolve } from 'node:path';
import { LOG_FORMATS, type LogFormat } from './core/log.js';

/** Everything a doppel server can be told, from flags and DOPPEL_* environment variables. */
export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  noAuth: boolean;
  /** Whether `doppel serve` executes task runs too (false with --no-worker: `doppel worker` processes do). */
  runsTasks: boolean;
  maxBodyBytes: number;
  /** Bytes of request bodies held in memory at once, across all requests. */
  maxBufferedBodyBytes: number;
  /** DOPPEL_BODY_IDLE_TIMEOUT_SECONDS in milliseconds: how long a request body may stall. */
  bodyIdleTimeoutMs: number;
  maxTransforms: number;
  maxConcurrentRunsPerTransform: number;
  /** DOPPEL_PARTITION_ROWS: a find-matches run is scored in one part per this many rows. */
  partitionRows: number;
  workerConcurrency: number;
  leaseMs: number;
  pollMs: number;
  timeoutUnitMs: number;
  scriptedTasks: boolean;
  maxLabelFileBytes: number;
  /** DOPPEL_MULTIPART_EXPIRY_HOURS in milliseconds (0: never): multipart uploads older than this are aborted. */
  multipartExpiryMs: number;
  /** DOPPEL_DISK_RESERVE_MB in bytes: space held back so that deletes work on a full disk. */
  diskReserveBytes: number;
  /** Seed of the matcher's random choices (labeling sets, cross-validation folds, model training). */
  seed: number;
  /** DOPPEL_LOG_FORMAT: text lines for people, or JSON lines for log collectors (core/log.ts). */
  logFormat: LogFormat;
  /** DOPPEL_DATABASE_URL / --database-url: metadata in this PostgreSQL database instead of SQLite in the data dir. */
  databaseUrl?: string;
  /** DOPPEL_DATABASE_POOL_SIZE: PostgreSQL connections the server process keeps at most. */
  databasePoolSize: number;
  /**
   * DOPPEL_REDIS_URL / --redis-url and DOPPEL_REDIS_PREFIX: the BullMQ queue through which nodes
   * sharing a PostgreSQL database hand task runs to workers; required with databaseUrl.
   */
  runQueue?: { url: string; prefix: string };
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 4587,
  dataDir: './.doppel',
} as const;

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(
      `${name} must be an integer >= ${min}${max < Number.MAX_SAFE_INTEGER ? ` and <= ${max}` : ''}, got '${raw}'`,
    );
  }
  return n;
}

function hoursFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const hours = Number(raw);
  if (!Number.isFinite(hours) || hours < 0) throw new Error(`${name} must be a number of hours >= 0, got '${raw}'`);
  return hours;
}

/** The matcher's seeds are 32-bit. */
export const MAX_SEED = 2 ** 32 - 1;

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v);

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/**
 * True when only this machine can reach `host`: `localhost` or a loopback address. Any other name
 * may resolve to an address other machines reach, so it counts as a network address.
 */
export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const address = host.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

function logFormatFrom(env: NodeJS.ProcessEnv): LogFormat {
  const text = env['DOPPEL_LOG_FORMAT'] ?? 'text';
  const format = LOG_FORMATS.find((f) => f === text);
  if (!format) throw new Error(`DOPPEL_LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}, got '${text}'`);
  return format;
}

export function configFrom(
  flags: {
    host?: string;
    port?: string;
    dataDir?: string;
    databaseUrl?: string;
    noAuth?: boolean;
    allowUnauthenticatedNetwork?: boolean;
    noWorker?: boolean;
    redisUrl?: string;
  },
  env: NodeJS.ProcessEnv,
): ServerConfig {
  const portText = flags.port ?? env['DOPPEL_PORT'];
  const port = portText === undefined ? DEFAULTS.port : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`port must be an integer from 0 to 65535, got '${portText}'`);
  }
  const host = flags.host ?? env['DOPPEL_HOST'] ?? DEFAULTS.host;
  const noAuth = flags.noAuth === true || truthy(env['DOPPEL_NO_AUTH']);
  const allowUnauthenticatedNetwork =
    flags.allowUnauthenticatedNetwork === true || truthy(env['DOPPEL_ALLOW_UNAUTHENTICATED_NETWORK']);
  if (noAuth && !allowUnauthenticatedNetwork && !isLoopbackHost(host)) {
    throw new Error(
      `refusing --no-auth on host '${host}': anyone who can reach that address could read, change and delete ` +
        'every transform, table and object without credentials. Listen on 127.0.0.1 (the default), drop ' +
        '--no-auth, or add --allow-unauthenticated-network (DOPPEL_ALLOW_UNAUTHENTICATED_NETWORK=1) if the ' +
        'network is trusted.',
    );
  }
  const databaseUrl = flags.databaseUrl ?? (env['DOPPEL_DATABASE_URL'] || undefined);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error(`DOPPEL_DATABASE_URL (--database-url) must be a postgres://user@host:port/database URL`);
  }
  const redisUrl = flags.redisUrl ?? (env['DOPPEL_REDIS_URL'] || undefined);
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new Error(`DOPPEL_REDIS_URL (--redis-url) must be a redis://[:password@]host:port[/db] URL`);
  }
  if (databaseUrl !== undefined && redisUrl === undefined) {
    throw new Error(
      'DOPPEL_DATABASE_URL (--database-url) needs DOPPEL_REDIS_URL (--redis-url): nodes sharing a PostgreSQL ' +
        'database hand task runs to their workers through a queue in Redis',
    );
  }
  if (redisUrl !== undefined && databaseUrl === undefined) {
    throw new Error('DOPPEL_REDIS_URL (--redis-url) is for nodes sharing a PostgreSQL database: set DOPPEL_DATABASE_URL too');
  }
  return {
    host,
    port,
    dataDir: resolve(flags.dataDir ?? env['DOPPEL_DATA_DIR'] ?? DEFAULTS.dataDir),
    noAuth,
    runsTasks: !(flags.noWorker === true || truthy(env['DOPPEL_NO_WORKER'])),
    maxBodyBytes: intFrom(env, 'DOPPEL_MAX_BODY_BYTES', 10 * 1024 * 1024, 1024),
    maxBufferedBodyBytes: intFrom(env, 'DOPPEL_MAX_BUFFERED_BODY_BYTES', 64 * 1024 * 1024, 1024),
    bodyIdleTimeoutMs: intFrom(env, 'DOPPEL_BODY_IDLE_TIMEOUT_SECONDS', 20, 1) * 1000,
    maxTransforms: intFrom(env, 'DOPPEL_MAX_TRANSFORMS', 1000, 1),
    maxConcurrentRunsPerTransform: intFrom(env, 'DOPPEL_MAX_CONCURRENT_RUNS', 3, 1),
    workerConcurrency: intFrom(env, 'DOPPEL_WORKERS', 2, 1),
    partitionRows: intFrom(env, 'DOPPEL_PARTITION_ROWS', 10_000_000, 1),
    leaseMs: intFrom(env, 'DOPPEL_LEASE_MS', 15_000, 100),
    pollMs: intFrom(env, 'DOPPEL_POLL_MS', 500, 10),
    timeoutUnitMs: intFrom(env, 'DOPPEL_TIMEOUT_UNIT_MS', 60_000, 1),
    scriptedTasks: truthy(env['DOPPEL_SCRIPTED_TASKS']),
    maxLabelFileBytes: intFrom(env, 'DOPPEL_MAX_LABEL_FILE_MB', 100, 1) * 2 ** 20,
    multipartExpiryMs: hoursFrom(env, 'DOPPEL_MULTIPART_EXPIRY_HOURS', 24) * 3_600_000,
    diskReserveBytes: intFrom(env, 'DOPPEL_DISK_RESERVE_MB', 8, 0, 1024) * 2 ** 20,
    seed: intFrom(env, 'DOPPEL_SEED', 0, 0, MAX_SEED),
    logFormat: logFormatFrom(env),
    ...(databaseUrl !== undefined ? { databaseUrl } : {}),
    databasePoolSize: intFrom(env, 'DOPPEL_DATABASE_POOL_SIZE', 10, 1, 1000),
    ...(redisUrl !== undefined ? { runQueue: { url: redisUrl, prefix: env['DOPPEL_REDIS_PREFIX'] || 'doppel' } } : {}),
  };
}
