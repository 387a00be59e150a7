import type { CatalogChange } from './catalog-change.js';
import type { Scope, TaskRunRecord, TaskStatus } from './records.js';

/** What a worker reports when it finishes one attempt of a run. */
export interface TaskOutcome {
  status: Extract<TaskStatus, 'SUCCEEDED' | 'FAILED' | 'TIMEOUT' | 'STOPPED'>;
  errorString?: string;
  /** Applied to the run's transform in the same transaction as the terminal status. */
  transformPatch?: TransformPatch;
  /** Label generation to make the transform's labels with SUCCEEDED, in the same transaction. */
  labelChange?: LabelChange;
  /** A crawl's changes to the Data Catalog, written with SUCCEEDED in the same transaction. */
  catalogChange?: CatalogChange;
  /** Extra wire-shaped members to merge into the run's properties (e.g. counts). */
  properties?: Record<string, unknown>;
}

/**
 * A label import's result: the generation it filled (see LabelStore) becomes the transform's labels,
 * with the LabelCount and READY it computed while filling it.
 */
export interface LabelChange {
  generation: number;
  /**
   * The generation an appending import carried its unreplaced labeling sets over from; the switch
   * happens only while that is still the transform's current one (a ReplaceAllLabels import has none).
   */
  basedOn?: number;
  labelCount: number;
  /** Some labeling set has two or more rows: the transform is READY. */
  ready: boolean;
}

export interface TransformPatch {
  status?: 'NOT_READY' | 'READY';
  labelCount?: number;
  evaluationMetrics?: Record<string, unknown>;
}

/**
 * How a claimed run stands for its owner: still `held`; `cancel-requested` (STOPPING); `ended`
 * (the attempt is over: its outcome was committed, or it went back to the queue); or `lost` (the run
 * is gone, or another owner holds it).
 */
export type LeaseState = 'held' | 'cancel-requested' | 'ended' | 'lost';

/**
 * How an attempt ends when it has no outcome of its own. `resume` puts the run back in the queue,
 * counting an interruption when `interrupted` (its task process died) and not when the server
 * handed it back on shutdown; otherwise the run ends FAILED with `errorString`. A run whose cancel
 * was requested meanwhile ends STOPPED either way.
 */
export type Release = { resume: true; interrupted: boolean } | { resume: false; errorString: string };

/**
 * The durable task-run queue. Runs move STARTING → RUNNING (claimed under a lease) → a terminal
 * status; cancellation goes through STOPPING. Every transition is one atomic statement, so many
 * workers (in one process or many) can share the queue.
 *
 * Leases are times on the queue's clock (see clock()): the `now` given to claimNext, renewLease,
 * finish, retry, release, recoverOrphans and expireDeadlines is read from it, so that nodes whose
 * own clocks disagree still agree on which leases have expired and on how long an attempt ran.
 */
export interface TaskQueueStore {
  /**
   * The time (ms since the epoch) on the queue's clock: the database server's for PostgreSQL, which
   * nodes on several machines share; this machine's for the embedded store, whose nodes all run on it.
   */
  clock(): Promise<number>;

  /**
   * Stores a new STARTING run unless the transform already has `maxActivePerTransform` runs in
   * flight (StoreConflict('concurrency-limit') with detail {count, limit}).
   */
  enqueue(run: TaskRunRecord, limits: { maxActivePerTransform: number }): Promise<void>;
  get(scope: Scope, transformId: string, id: string): Promise<TaskRunRecord | undefined>;
  list(scope: Scope, transformId: string): Promise<TaskRunRecord[]>;

  /**
   * Claims the oldest STARTING run that may start: RUNNING, leased to `owner` until now + leaseMs.
   * Label imports of one transform run one at a time, in the order they were started (each builds
   * on the labels the previous one left). With `only`, claims that run if it is STARTING (a run
   * that waits for its parts executes the parts nobody took yet itself).
   */
  claimNext(owner: string, now: number, leaseMs: number, only?: { id: string }): Promise<TaskRunRecord | undefined>;
  /** Fixes the run's absolute deadline the first time it is claimed; later attempts keep it. */
  setDeadline(id: string, deadlineAt: number): Promise<void>;
  /** Extends the lease while it is held; otherwise says how the run stands. */
  renewLease(id: string, owner: string, now: number, leaseMs: number): Promise<LeaseState>;
  /** Reads (writes nothing) how the runs leased to `owner` stand: cancels and deletions show here first. */
  leaseStates(owner: string, ids: readonly string[]): Promise<Map<string, LeaseState>>;
  /** Records the handler's progress while the lease is held. */
  reportProgress(id: string, owner: string, progress: { stage: string; percent: number }, now: number): Promise<void>;
  /** Ends the attempt; ignored (returns false) when the lease was lost meanwhile. */
  finish(id: string, owner: string, outcome: TaskOutcome, now: number): Promise<boolean>;

  /**
   * Puts a failed attempt back in the queue (the transform's MaxRetries allows another attempt);
   * ignored (returns false) when the lease was lost meanwhile or a cancel arrived.
   */
  retry(id: string, owner: string, now: number): Promise<boolean>;

  /** Ends the attempt without an outcome (see Release); ignored (false) when the lease was lost meanwhile. */
  release(id: string, owner: string, now: number, how: Release): Promise<boolean>;

  /**
   * STARTING → STOPPED (nobody is running it) or RUNNING → STOPPING (the worker stops it).
   * Terminal runs are left alone. Returns the run as it is afterwards.
   */
  requestCancel(scope: Scope, transformId: string, id: string, now: number): Promise<TaskRunRecord | undefined>;

  /**
   * Runs whose owner is gone: those leased to one of `deadOwners` (known to be dead, see
   * storage/node-locks.ts) and those whose lease expired, except the ones the caller (`self.owner`)
   * is still executing (`self.executing`), whose renewals may have failed while the store was
   * unreachable; the caller's other runs are orphans like anyone's (an attempt whose ending could
   * not be written). Each RUNNING one ends as `settle(run)` says (see Release: back to STARTING, or
   * FAILED), decided before the writes, which apply to the runs still orphaned in the same attempt
   * (the others are left to the next look); STOPPING runs become STOPPED. The time they ran counts up
   * to their owner's last lease renewal. Returns the runs touched, as their orphaned attempts had them.
   */
  recoverOrphans(opts: {
    now: number;
    deadOwners?: readonly string[];
    self?: { owner: string; executing: readonly string[] };
    settle: (run: TaskRunRecord) => Promise<Release>;
  }): Promise<TaskRunRecord[]>;

  /**
   * The queue position of the newest waiting (STARTING) run, 0 when none waits: one cheap read, so
   * that supervisors may look often for runs other processes enqueued.
   */
  newestWaiting(): Promise<number>;

  /** The oldest `limit` waiting (STARTING) runs, oldest first. */
  waiting(limit: number): Promise<TaskRunRecord[]>;

  /** The owners holding leases on runs (RUNNING or STOPPING), each once. */
  leaseOwners(): Promise<string[]>;

  /** Runs RUNNING past their deadline whose worker is gone are marked TIMEOUT; returns them, as they were before. */
  expireDeadlines(now: number): Promise<TaskRunRecord[]>;
  /** Runs waiting, running or being stopped, counted by status and task type (all accounts). */
  activeCounts(): Promise<Array<{ status: TaskStatus; taskType: string; count: number }>>;
}
