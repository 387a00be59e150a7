import type { Scope } from './records.js';

/** A Glue job definition. `doc` holds the wire members other than Name / CreatedOn / LastModifiedOn. */
export interface JobRecord extends Scope {
  name: string;
  createdOn: number;
  lastModifiedOn: number;
  doc: Record<string, unknown>;
}

export type JobRunState =
  | 'STARTING'
  | 'RUNNING'
  | 'STOPPING'
  | 'STOPPED'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'TIMEOUT'
  | 'ERROR'
  | 'WAITING'
  | 'EXPIRED';

/**
 * One run of a job. A run that executes is backed by a FIND_MATCHES task run (`transformId` +
 * `taskRunId`): its state is read from that task run, so it needs no bookkeeping of its own and
 * survives restarts. A run that never reached the queue (bad arguments, a command doppel does not
 * run) carries its terminal `state` and `errorMessage` itself; so does a run whose task run
 * vanished (its transform was deleted), once that is noticed.
 */
export interface JobRunRecord extends Scope {
  id: string;
  jobName: string;
  startedOn: number;
  lastModifiedOn: number;
  /** The effective arguments (DefaultArguments, then Arguments, then NonOverridableArguments). */
  arguments: Record<string, string>;
  transformId?: string;
  taskRunId?: string;
  /** Set only when the run's state is not read from a task run. */
  state?: JobRunState;
  errorMessage?: string;
  completedOn?: number;
  /** Other wire members of the run (Timeout, MaxCapacity, WorkerType, NumberOfWorkers, GlueVersion, ...). */
  doc: Record<string, unknown>;
}

/** Jobs and job runs (each method one atomic write). */
export interface JobStore {
  /** Inserts the job and its tags (kept under `resourceArn`); StoreConflict('name-taken') on a duplicate name. */
  insertJob(job: JobRecord, tags: Record<string, string>, resourceArn: string): Promise<void>;
  getJob(scope: Scope, name: string): Promise<JobRecord | undefined>;
  listJobs(scope: Scope): Promise<JobRecord[]>;
  /** Replaces the stored definition (matched by name); false when it does not exist. */
  updateJob(job: JobRecord): Promise<boolean>;
  /** Deletes the job, its tags and its job runs; false when it did not exist. */
  deleteJob(scope: Scope, name: string, resourceArn: string): Promise<boolean>;

  /**
   * Runs `start` while no other start of the same job runs, in this process or any other sharing the
   * store: StartJobRun counts the job's active runs and then adds one, several statements apart, and
   * two starts interleaved there would both pass ExecutionProperty.MaxConcurrentRuns.
   */
  startingRun<T>(scope: Scope, jobName: string, start: () => Promise<T>): Promise<T>;
  insertJobRun(run: JobRunRecord): Promise<void>;
  getJobRun(scope: Scope, jobName: string, id: string): Promise<JobRunRecord | undefined>;
  /** Newest first. */
  listJobRuns(scope: Scope, jobName: string): Promise<JobRunRecord[]>;
  /** Records a terminal state on a run whose state is no longer read from a task run. */
  settleJobRun(scope: Scope, jobName: string, id: string, state: JobRunState, errorMessage: string, now: number): Promise<void>;
}
