/**
 * Starts a real doppel server process for tests (the compiled CLI, as a user would run it).
 * Each server gets its own temporary data dir unless one is given, so tests never share state.
 * When DOPPEL_TEST_DATABASE_URL names a PostgreSQL server (.ci/run starts one), each data dir also
 * gets its own database there, created on the first start and dropped by cleanup(): the servers
 * then keep their metadata in PostgreSQL, and a server restarted on the same data dir finds it.
 * Nodes on PostgreSQL hand runs to workers through Redis: DOPPEL_TEST_REDIS_URL (.ci/run starts one),
 * with keys of their own for each database (see runQueueEnv).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { MetadataStore } from '../../src/storage/metadata-store.js';
import { PgMetadataStore } from '../../src/storage/postgres/pg-metadata-store.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite/sqlite-metadata-store.js';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI_PATH = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface TestServer {
  endpoint: string;
  port: number;
  dataDir: string;
  /** The PostgreSQL database holding its metadata (DOPPEL_TEST_DATABASE_URL set), else undefined. */
  databaseUrl?: string;
  process: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for exit. */
  stop: () => Promise<number | null>;
  /** SIGKILL and wait for exit (simulates a crash). */
  kill: () => Promise<void>;
  /** Removes the data dir and its PostgreSQL database, if it has one (after stop/kill). */
  cleanup: () => Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  port?: number;
  args?: string[];
  /** Extra environment; a DOPPEL_DATABASE_URL here (an empty one: SQLite) replaces the test database. */
  env?: Record<string, string>;
  /** Enables the test-only task kind (scripted task runs); see src/tasks/scripted-task.ts. */
  scriptedTasks?: boolean;
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'doppel-test-'));
  const databaseUrl = options.env?.['DOPPEL_DATABASE_URL'] === undefined ? await testDatabaseOf(dataDir) : undefined;
  const started = await startNode(
    ['serve', '--port', String(options.port ?? 0), '--data-dir', dataDir, ...(options.args ?? [])],
    withDatabase(options, databaseUrl),
    { name: 'server', pattern: /listening on (http:\/\/\S+)/, waitingFor: 'listening' },
  );
  const endpoint = started.match[1]!;
  return {
    ...started.node,
    endpoint,
    port: Number(new URL(endpoint).port),
    dataDir,
    ...(databaseUrl !== undefined ? { databaseUrl } : {}),
    cleanup: async () => {
      // A task process of a killed server may still be ending and writing its last file here.
      rmSync(dataDir, { recursive: true, force: true, maxRetries: 10 });
      if (databaseUrl !== undefined) await dropTestDatabase(databaseUrl);
    },
  };
}

/** The options with the node's metadata in `databaseUrl` (the data dir's test database), when there is one. */
function withDatabase(options: StartOptions, databaseUrl: string | undefined): StartOptions {
  return databaseUrl === undefined ? options : { ...options, env: { DOPPEL_DATABASE_URL: databaseUrl, ...options.env } };
}

/** A `doppel worker` process: task runs and no API. It leads its own process group. */
export interface TestWorker {
  /** Its node id, the owner named by the leases of the runs it claims. */
  nodeId: string;
  process: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for exit. */
  stop: () => Promise<number | null>;
  /** SIGKILL the worker process alone and wait for its exit (its task processes are left to notice). */
  kill: () => Promise<void>;
  /** SIGKILL its whole process group at once (the worker and its task processes) and wait for the worker's exit. */
  killGroup: () => Promise<void>;
}

/** Starts `doppel worker` on a data dir (a server's), with the options of startServer. */
export async function startWorker(options: StartOptions & { dataDir: string }): Promise<TestWorker> {
  const databaseUrl = options.env?.['DOPPEL_DATABASE_URL'] === undefined ? await testDatabaseOf(options.dataDir) : undefined;
  const started = await startNode(
    ['worker', '--data-dir', options.dataDir, ...(options.args ?? [])],
    withDatabase(options, databaseUrl),
    { name: 'worker', pattern: /doppel worker (\S+) executing task runs/, waitingFor: 'executing task runs' },
    { detached: true },
  );
  const { node } = started;
  return {
    ...node,
    nodeId: started.match[1]!,
    killGroup: async () => {
      if (node.process.exitCode === null && node.process.signalCode === null) process.kill(-node.process.pid!, 'SIGKILL');
      await node.kill();
    },
  };
}

/** Spawns the CLI with `cliArgs` and waits until its output matches `ready.pattern`. */
async function startNode(
  cliArgs: string[],
  options: StartOptions,
  ready: { name: string; pattern: RegExp; waitingFor: string },
  spawnOptions: { detached?: boolean } = {},
): Promise<{ match: RegExpExecArray; node: Pick<TestServer, 'process' | 'output' | 'stop' | 'kill'> }> {
  const child = spawn(process.execPath, [CLI_PATH, ...cliArgs], {
    env: {
      ...process.env,
      ...(options.scriptedTasks ? { DOPPEL_SCRIPTED_TASKS: '1' } : {}),
      ...runQueueEnv(options.env),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...spawnOptions,
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${ready.name} did not start in 20s:\n${out}`)), 20_000);
    const check = () => {
      const m = ready.pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${ready.name} exited with ${code} before ${ready.waitingFor}:\n${out}`));
    });
  });
  return {
    match,
    node: {
      process: child,
      output: () => out,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        return exited;
      },
      kill: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      },
    },
  };
}

/** The Redis server of the run queue of test nodes on PostgreSQL. */
export const TEST_REDIS_URL = process.env['DOPPEL_TEST_REDIS_URL'] || undefined;

/**
 * The run queue of a node whose metadata is in PostgreSQL (`env` names the database) and whose test
 * did not choose a queue: the test Redis, under a prefix of the database's own, so that the nodes of
 * one deployment share their queue and no other test's nodes take their runs.
 */
function runQueueEnv(env: Record<string, string> | undefined): Record<string, string> {
  const databaseUrl = env?.['DOPPEL_DATABASE_URL'];
  if (!databaseUrl || env?.['DOPPEL_REDIS_URL'] !== undefined) return {};
  return {
    // Without a test Redis, a node fails at start: tests of start errors still get theirs, which come first.
    DOPPEL_REDIS_URL: TEST_REDIS_URL ?? 'redis://127.0.0.1:1',
    DOPPEL_REDIS_PREFIX: testQueuePrefix(databaseUrl),
  };
}

export const testQueuePrefix = (databaseUrl: string) => `doppel-test-${createHash('sha256').update(databaseUrl).digest('hex').slice(0, 16)}`;

/** The PostgreSQL server the tests' servers keep their metadata in (unset: SQLite in their data dirs). */
export const TEST_DATABASE_URL = process.env['DOPPEL_TEST_DATABASE_URL'] || undefined;

/** The URL of a database of the test PostgreSQL server: `name` on the server DOPPEL_TEST_DATABASE_URL names. */
export function testDatabaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs `fn` with a connection to the test PostgreSQL server's own database (the one the URL names). */
export async function withTestPostgres<T>(fn: (client: pg.Client) => Promise<T>, url = TEST_DATABASE_URL!): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The data dir's own database on the test PostgreSQL server, created if it is new; undefined without one. */
async function testDatabaseOf(dataDir: string): Promise<string | undefined> {
  if (TEST_DATABASE_URL === undefined) return undefined;
  const name = `doppel_test_${createHash('sha256').update(dataDir).digest('hex').slice(0, 20)}`;
  await withTestPostgres(async (c) => {
    try {
      await c.query(`CREATE DATABASE ${name}`);
    } catch (e) {
      // A restarted server's data dir already has its database.
      if ((e as { code?: string }).code !== '42P04') throw e;
    }
  });
  return testDatabaseUrl(name);
}

/** Drops the database and the keys of its run queue. */
async function dropTestDatabase(databaseUrl: string): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  await withTestPostgres((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  if (TEST_REDIS_URL === undefined) return;
  const redis = new Redis(TEST_REDIS_URL);
  try {
    for await (const keys of redis.scanStream({ match: `${testQueuePrefix(databaseUrl)}:*`, count: 500 })) {
      if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
    }
  } finally {
    redis.disconnect();
  }
}

/**
 * A suite's `after` for a server started in `before`: stops it and removes its data dir. Tolerates
 * a `before` that failed before the server was started.
 */
export async function stopAndRemove(server: TestServer | undefined): Promise<void> {
  await server?.stop();
  await server?.cleanup();
}

/** The default credentials every fresh server accepts (documented in the README). */
export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
export const TEST_REGION = 'us-east-1';
export const DEFAULT_ACCOUNT_ID = '123456789012';

/**
 * The environment of a server that accepts the default credentials (account DEFAULT_ACCOUNT_ID)
 * and those of a second account: for tests of what one account may do to another's resources.
 */
export function twoAccountEnv(other: { accessKeyId: string; secretAccessKey: string }, otherAccount: string): Record<string, string> {
  return {
    DOPPEL_CREDENTIALS: [
      `${TEST_CREDENTIALS.accessKeyId}:${TEST_CREDENTIALS.secretAccessKey}:${DEFAULT_ACCOUNT_ID}`,
      `${other.accessKeyId}:${other.secretAccessKey}:${otherAccount}`,
    ].join(','),
  };
}

/** The pids of a process's children (Linux /proc: the children of each of its threads). */
export function childPids(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
      .split(/\s+/)
      .filter((p) => p !== '')
      .map(Number),
  );
}

/**
 * Waits until the server's log matches `pattern` and fails with the log if it does not within the
 * timeout: the log reaches the test through a pipe, possibly after the answer that followed it did.
 */
export async function untilLogged(server: Pick<TestServer, 'output'>, pattern: RegExp, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(server.output())) {
    if (Date.now() >= deadline) throw new Error(`the server never logged ${pattern}:\n${server.output()}`);
    await sleep(20);
  }
}

/**
 * The task process executing attempt `attempt` of `taskRunId`, as the log of the server (or worker)
 * names it, checked to be its child: the process a test kills to simulate a crash of a run.
 */
export async function taskProcessOf(server: Pick<TestServer, 'output' | 'process'>, taskRunId: string, attempt = 1, timeoutMs = 10_000): Promise<number> {
  const started = new RegExp(`task run ${taskRunId} \\(\\w+\\) started in task process (\\d+)(?: \\(attempt (\\d+)\\))?`, 'g');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const line = [...server.output().matchAll(started)].find((m) => Number(m[2] ?? 1) === attempt);
    if (line) {
      const pid = Number(line[1]);
      if (!childPids(server.process.pid!).includes(pid)) throw new Error(`task process ${pid} is not a child of the server`);
      return pid;
    }
    await sleep(20);
  }
  throw new Error(`the server log never said which task process runs attempt ${attempt} of ${taskRunId}:\n${server.output()}`);
}

/**
 * A fresh, empty metadata store for tests of the store itself: SQLite in memory, or, when
 * DOPPEL_TEST_DATABASE_URL is set, a new PostgreSQL database that `close()` drops.
 */
export async function freshMetadataStore(): Promise<{ store: MetadataStore; close: () => Promise<void> }> {
  if (TEST_DATABASE_URL === undefined) {
    const store = new SqliteMetadataStore(':memory:');
    return { store, close: () => store.close() };
  }
  const url = await testDatabaseOf(`fresh-store-${process.pid}-${++freshStores}-${Date.now()}`);
  const store = await PgMetadataStore.open({ url: url!, poolSize: 4 });
  return {
    store,
    close: async () => {
      await store.close();
      await dropTestDatabase(url!);
    },
  };
}

let freshStores = 0;

/** The readiness check a node on PostgreSQL adds for its run queue (test nodes are on PostgreSQL when the suite is). */
export const ON_QUEUE: Record<string, string> = TEST_DATABASE_URL === undefined ? {} : { runQueue: 'ok' };
