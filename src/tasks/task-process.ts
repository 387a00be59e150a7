/**
 * A task process: the entry module the supervisor forks (see task-supervisor.ts). It opens the
 * metadata store and the object store of the same data dir as its node (`doppel serve` or `doppel
 * worker`), joins its node's lock (see storage/node-locks.ts), builds the task handlers, and executes one run at a time as the
 * supervisor hands them over, committing each outcome itself with the supervisor's lease owner
 * token. The server's event loop thus never runs a handler, and large results (a million label
 * rows) go from here straight into the store.
 *
 * It keeps module state between runs (the last table loaded stays cached), and exits as soon as
 * its parent is gone: the IPC channel closes when the node exits or dies. Until it has exited, its
 * node's lock stays held, so no other node takes its run over before it is gone.
 */
import { constants, setPriority } from 'node:os';
import { diskReserveOf } from '../storage/disk-reserve.js';
import { holdNodeLock } from '../storage/node-locks.js';
import { createObjectStore } from '../storage/object-store-factory.js';
import { openMetadataStore } from '../storage/metadata-store-factory.js';
import { RunQueue } from '../storage/redis/run-queue.js';
import { SqliteMetadataStore } from '../storage/sqlite/sqlite-metadata-store.js';
import { runAttempt } from './task-attempt.js';
import { leasedObjectStore } from './leased-object-store.js';
import { taskHandlers } from './task-handlers.js';
import type { FromTaskProcess, TaskProcessConfig, ToTaskProcess } from './task-process-messages.js';
import { runFields } from './run-log-fields.js';
import type { Log, LogFields } from '../core/log.js';

if (!process.send) throw new Error('task-process.js is started by the doppel server (child_process.fork), not directly');
process.on('disconnect', () => process.exit(0));
// A server that died while this process was still loading its modules closed the channel before
// anyone listened: the event is gone, and the process would outlive it holding its node's lock.
if (!process.connected) process.exit(0);
// Ctrl-C in a terminal (and a service manager stopping the server's group) signals every process of
// the group at once. A task process ends when its server stops it, so that the server can hand its
// run back to the queue as a shutdown rather than count it as a crash.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => undefined);

/** How often a task process checkpoints the metadata database's write-ahead log. */
const CHECKPOINT_EVERY_MS = 10_000;

const send = (message: FromTaskProcess) => {
  if (process.connected) process.send!(message);
};
const log: Log = (message, fields) => send({ type: 'log', message, ...(fields ? { fields } : {}) });

// Runs share the machine with the API: CPU goes to answering requests first.
setPriority(constants.priority.PRIORITY_BELOW_NORMAL);

const config = JSON.parse(process.argv[2] ?? '') as TaskProcessConfig;
// Held until this process ends; the exit handler keeps the connection (and so the lock) from being collected.
process.on('exit', holdNodeLock(config.dataDir, config.nodeId, { create: false }));
// Nobody waits on this process's writes synchronously, so they may wait for the lock longer.
const reserve = diskReserveOf(config.dataDir, config.diskReserveBytes);
// It only announces runs (a find-matches run's parts), which never wait for Redis: it connects when first used.
const runQueue = config.runQueue && new RunQueue(config.runQueue);
const store = await openMetadataStore(
  config.database,
  { busyTimeoutMs: 30_000, reserve },
  (e) => log(`a PostgreSQL connection broke while idle (the pool opens a new one): ${e.message}`, { level: 'warn' }),
  runQueue,
);
const objects = await createObjectStore(config.dataDir, process.env, {
  removeLeftovers: false,
  defaultBucketOwner: config.defaultBucketOwner,
  reserve,
});
const handlers = taskHandlers(config, store);

/** Deletes label rows no generation needs (left by replaced, failed or deleted labels), in short batches. */
async function collectLabelGarbage(): Promise<void> {
  try {
    await store.labels.collectGarbage();
  } catch (e) {
    log(`label garbage collection failed: ${(e as Error).message}`, { level: 'warn' });
  }
}

/** The current run's lease: its writes to the object store stop when it ends (leasedObjectStore). */
let lease: { runId: string; until: number } | undefined;
const leaseUntil = () => lease?.until ?? 0;
const leasedObjects = leasedObjectStore(objects, leaseUntil);

process.on('message', (message: ToTaskProcess) => {
  if (message.type === 'lease') {
    if (lease?.runId === message.runId) lease.until = message.until;
    return;
  }
  const { run, owner } = message;
  lease = { runId: run.id, until: message.leaseUntil };
  const committing = () => send({ type: 'committing', runId: run.id });
  runAttempt({ store, objects: leasedObjects, handlers, log, committing, leaseUntil }, run, owner).then(
    async () => {
      send({ type: 'done', runId: run.id });
      await collectLabelGarbage();
    },
    (e: unknown) => {
      // The outcome could not be committed before the lease ended: dying makes the supervisor treat
      // the attempt as interrupted.
      const message = `task run ${run.id} (${run.taskType}): ${(e as Error).stack ?? e}`;
      const fields: LogFields = { level: 'error', ...runFields(run) };
      if (process.connected) process.send!({ type: 'log', message, fields } satisfies FromTaskProcess, () => process.exit(1));
      else process.exit(1);
    },
  );
});

// The server process leaves SQLite's checkpoints to task processes (see
// SqliteStoreOptions.autoCheckpoint): besides their own commits, its writes reach the database file this way.
if (store instanceof SqliteMetadataStore) {
  setInterval(() => {
    try {
      store.checkpoint();
    } catch (e) {
      log(`checkpoint failed: ${(e as Error).message}`, { level: 'warn' });
    }
  }, CHECKPOINT_EVERY_MS).unref();
}

send({ type: 'ready' });
await collectLabelGarbage();
