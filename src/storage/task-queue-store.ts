import type { LabelRow, Scope, TaskRunRecord, TaskStatus } from './records.js';

/** What a worker reports when it finishes one attempt of a run. */
export interface TaskOutcome {
  status: Extract<TaskStatus, 'SUCCEEDED' | 'FAILED' | 'TIMEOUT' | 'STOPPED'>;
  errorString?: string;
  /** Applied to the run's transform in the same transaction as the terminal status. */
  transformPatch?: TransformPatch;
  /**
   * Labels to store with SUCCEEDED, in the same transaction: `replace-all` drops every stored label
   * first; `append` replaces only the labeling sets that appear in `rows`. LabelCount and READY are
   * recomputed from what is stored afterwards.
   */
  labelChange?: LabelChange;
  /** Extra wire-shaped members to merge into the run's properties (e.g. counts). */
  properties?: Record<string, unknown>;
}

export interface LabelChange {
  mode: 'append' | 'replace-all';
  rows: LabelRow[];
}

export interface TransformPatch {
  status?: 'NOT_READY' | 'READY';
  labelCount?: number;
  evaluationMetrics?: Record<string, unknown>;
}

export type LeaseState = 'held' | 'cancel-requested' | 'lost';

/**
 * The durable task-run queue. Runs move STARTING → RUNNING (claimed under a lease) → a terminal
 * status; cancellation goes through STOPPING. Every transition is one atomic statement, so many
 * workers (in one process or many) can share the queue.
 */
export interface TaskQueueStore {
  /**
   * Stores a new STARTING run unless the transform already has `maxActivePerTransform` runs in
   * flight (StoreConflict('concurrency-limit') with detail {count, limit}).
   */
  enqueue(run: TaskRunRecord, limits: { maxActivePerTransform: number }): Promise<void>;
  get(scope: Scope, transformId: string, id: string): Promise<TaskRunRecord | undefined>;
  list(scope: Scope, transformId: string): Promise<TaskRunRecord[]>;

  /** Claims the oldest STARTING run: RUNNING, leased to `owner` until now + leaseMs. */
  claimNext(owner: string, now: number, leaseMs: number): Promise<TaskRunRecord | undefined>;
  /** Fixes the run's absolute deadline the first time it is claimed; later attempts keep it. */
  setDeadline(id: string, deadlineAt: number): Promise<void>;
  /** Extends the lease; tells the worker when the run was cancelled or taken away. */
  renewLease(id: string, owner: string, now: number, leaseMs: number): Promise<LeaseState>;
  /** Records the handler's progress message while the lease is held. */
  reportProgress(id: string, owner: string, message: string, now: number): Promise<void>;
  /** Ends the attempt; ignored (returns false) when the lease was lost meanwhile. */
  finish(id: string, owner: string, outcome: TaskOutcome, now: number): Promise<boolean>;

  /**
   * Puts a failed attempt back in the queue (the transform's MaxRetries allows another attempt);
   * ignored (returns false) when the lease was lost meanwhile or a cancel arrived.
   */
  retry(id: string, owner: string, now: number): Promise<boolean>;

  /**
   * STARTING → STOPPED (nobody is running it) or RUNNING → STOPPING (the worker stops it).
   * Terminal runs are left alone. Returns the run as it is afterwards.
   */
  requestCancel(scope: Scope, transformId: string, id: string, now: number): Promise<TaskRunRecord | undefined>;

  /**
   * Runs whose lease expired (their worker died), or all leased runs of `deadOwners`: put back to
   * STARTING when `canResume(run)` says so, otherwise FAILED with `failMessage(run)`. STOPPING runs
   * become STOPPED. Returns the number of runs touched.
   */
  recoverOrphans(opts: {
    now: number;
    deadOwners?: string[];
    canResume: (run: TaskRunRecord) => boolean;
    failMessage: (run: TaskRunRecord) => string;
  }): Promise<number>;

  /** Runs RUNNING past their deadline whose worker is gone are marked TIMEOUT. */
  expireDeadlines(now: number): Promise<number>;
}
