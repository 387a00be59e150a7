/**
 * What the supervisor (in the server process) and a task process say to each other over the IPC
 * channel. Only small things cross it: a run's record and lease owner going in; "ready", "done"
 * and log lines coming back. A run's results never do: the task process commits them itself.
 */
import type { RunQueueOptions } from '../storage/redis/run-queue.js';
import type { TaskRunRecord } from '../storage/records.js';
import type { TaskHandlerConfig } from './task-handlers.js';
import type { LogFields } from '../core/log.js';
import type { MetadataStoreChoice } from '../storage/metadata-store-factory.js';

/** Supervisor → task process: execute this run's current attempt under the supervisor's lease. */
export interface RunMessage {
  type: 'run';
  run: TaskRunRecord;
  /** The lease owner the run was claimed by; the task process commits with it. */
  owner: string;
  /** When the lease ends unless renewed (ms since the epoch, this machine's clock). */
  leaseUntil: number;
}

/** Supervisor → task process: the run's lease was renewed until `until`. */
export interface LeaseMessage {
  type: 'lease';
  runId: string;
  until: number;
}

export type ToTaskProcess = RunMessage | LeaseMessage;

export type FromTaskProcess =
  /** The stores are open and handlers built: runs may come. */
  | { type: 'ready' }
  /** The attempt's outcome is being committed: from here on the run ending is this attempt's doing. */
  | { type: 'committing'; runId: string }
  /** The attempt is over and its outcome committed (or the run was gone); the process is idle. */
  | { type: 'done'; runId: string }
  /** A line for the server's log. */
  | { type: 'log'; message: string; fields?: LogFields };

/** Everything a task process needs besides the environment it inherits (S3 settings). */
export interface TaskProcessConfig extends TaskHandlerConfig {
  /** The node's data dir: the embedded metadata database, object store and the node locks are in it. */
  dataDir: string;
  /** The node that forked this process, whose lock it holds beside the node (see storage/node-locks.ts). */
  nodeId: string;
  /** The metadata store the node uses (the same database). */
  database: MetadataStoreChoice;
  /** The node's run queue, where the runs this process enqueues (a run's parts) are announced. */
  runQueue?: RunQueueOptions;
  /** The account owning the buckets no owner is recorded for (see createObjectStore). */
  defaultBucketOwner: string;
  /** The size of the data dir's disk reserve (see DiskReserve). */
  diskReserveBytes: number;
}
