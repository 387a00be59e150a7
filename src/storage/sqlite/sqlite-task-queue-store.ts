import type Database from 'better-sqlite3';
import { StoreConflict } from '../metadata-store.js';
import type { Scope, TaskRunRecord, TaskStatus } from '../records.js';
import { applyCatalogChange } from './catalog-change-rows.js';
import type { LabelChange, LeaseState, Release, TaskOutcome, TaskQueueStore } from '../task-queue-store.js';
import { opt, taskRunRow, toTaskRun, type TaskRunRow } from '../rows.js';
import {
  DEADLINE_PASSED,
  errorOf,
  finishedStatus,
  LABELS_CHANGED_MEANWHILE,
  leaseStateOf,
  ranUntilLastSeen,
  settledFor,
  settleOrphans,
  spentSince,
} from '../task-queue-rules.js';

const ACTIVE = `('STARTING', 'RUNNING', 'STOPPING')`;

/** What a run going back to STARTING drops: its lease and the progress of the attempt that ended. */
const BACK_TO_QUEUE = `status = 'STARTING', lease_owner = NULL, lease_expires_at = NULL, lease_renewed_at = NULL,
  running_since = NULL, progress = NULL, progress_percent = NULL, progress_updated_on = NULL`;

/**
 * The task-run queue in the same SQLite file as the metadata, so that a run's terminal status and
 * its effect on the transform (label count, READY, metrics) commit together.
 */
export class SqliteTaskQueueStore implements TaskQueueStore {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  #tx<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  /**
   * A write that most of the time finds nothing to do (the supervisor's periodic looks at the
   * queue): `find` runs first as a plain read, which never waits for another process's write, and
   * only when it finds something does the transaction take the write lock and `find` again.
   */
  #writeIfFound<R, T>(find: () => R[], write: (found: R[]) => T, nothing: T): T {
    if (find().length === 0) return nothing;
    return this.#tx(() => {
      const found = find();
      return found.length === 0 ? nothing : write(found);
    });
  }

  #load(id: string): TaskRunRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM task_runs WHERE id = ?').get(id) as TaskRunRow | undefined;
    return row && toTaskRun(row);
  }

  async enqueue(run: TaskRunRecord, limits: { maxActivePerTransform: number }): Promise<void> {
    this.#tx(() => {
      const { n } = this.#db
        .prepare(
          // A find-matches run's parts (args.partOf) are its own work, not runs of their own.
          `SELECT count(*) AS n FROM task_runs WHERE account_id = ? AND region = ? AND transform_id = ?
           AND status IN ${ACTIVE} AND json_extract(args, '$.partOf') IS NULL`,
        )
        .get(run.accountId, run.region, run.transformId) as { n: number };
      if (n >= limits.maxActivePerTransform) {
        throw new StoreConflict('concurrency-limit', 'too many active runs', {
          count: n,
          limit: limits.maxActivePerTransform,
        });
      }
      // The queue position comes from the table, not from a counter in this process: other
      // processes may enqueue into the same store.
      this.#db
        .prepare(
          `INSERT INTO task_runs (account_id, region, transform_id, id, task_type, status, properties,
             args, started_on, last_modified_on, execution_ms, attempt, interruptions, seq)
           VALUES (@account_id, @region, @transform_id, @id, @task_type, 'STARTING', @properties,
             @args, @started_on, @last_modified_on, 0, 1, 0, (SELECT coalesce(max(seq), 0) + 1 FROM task_runs))`,
        )
        .run(taskRunRow(run));
    });
  }

  async get(scope: Scope, transformId: string, id: string) {
    const row = this.#db
      .prepare('SELECT * FROM task_runs WHERE account_id = ? AND region = ? AND transform_id = ? AND id = ?')
      .get(scope.accountId, scope.region, transformId, id) as TaskRunRow | undefined;
    return row && toTaskRun(row);
  }

  async list(scope: Scope, transformId: string) {
    const rows = this.#db
      .prepare('SELECT * FROM task_runs WHERE account_id = ? AND region = ? AND transform_id = ?')
      .all(scope.accountId, scope.region, transformId) as TaskRunRow[];
    return rows.map(toTaskRun);
  }

  async clock(): Promise<number> {
    return Date.now();
  }

  async claimNext(owner: string, now: number, leaseMs: number, only?: { id: string }) {
    const next = () =>
      this.#db
        .prepare(
          `SELECT id FROM task_runs s WHERE status = 'STARTING' AND (? IS NULL OR id = ?) AND NOT (task_type = 'IMPORT_LABELS' AND EXISTS (
             SELECT 1 FROM task_runs r WHERE r.account_id = s.account_id AND r.region = s.region
             AND r.transform_id = s.transform_id AND r.task_type = 'IMPORT_LABELS'
             AND r.status IN ('RUNNING', 'STOPPING')))
           ORDER BY seq LIMIT 1`,
        )
        .all(only?.id ?? null, only?.id ?? null) as Array<{ id: string }>;
    return this.#writeIfFound(
      next,
      ([row]) => {
        this.#db
          .prepare(
            `UPDATE task_runs SET status = 'RUNNING', lease_owner = ?, lease_expires_at = ?, lease_renewed_at = ?,
               running_since = ?, last_modified_on = ? WHERE id = ?`,
          )
          .run(owner, now + leaseMs, now, now, now, row!.id);
        return this.#load(row!.id);
      },
      undefined,
    );
  }

  /** Sets the run's deadline once (the first attempt fixes it; resumed attempts keep it). */
  async setDeadline(id: string, deadlineAt: number): Promise<void> {
    this.#db
      .prepare('UPDATE task_runs SET deadline_at = coalesce(deadline_at, ?) WHERE id = ?')
      .run(deadlineAt, id);
  }

  async renewLease(id: string, owner: string, now: number, leaseMs: number): Promise<LeaseState> {
    return this.#tx(() => {
      const run = this.#load(id);
      const state = leaseStateOf(run, owner);
      if (state !== 'held') return state;
      this.#db
        .prepare('UPDATE task_runs SET lease_expires_at = ?, lease_renewed_at = ? WHERE id = ?')
        .run(now + leaseMs, now, id);
      return 'held';
    });
  }

  async leaseStates(owner: string, ids: readonly string[]): Promise<Map<string, LeaseState>> {
    const states = new Map<string, LeaseState>(ids.map((id) => [id, 'lost']));
    if (ids.length === 0) return states;
    const rows = this.#db
      .prepare(`SELECT id, status, lease_owner FROM task_runs WHERE id IN (${ids.map(() => '?').join(',')})`)
      .all(...ids) as Array<{ id: string; status: string; lease_owner: string | null }>;
    for (const r of rows) states.set(r.id, leaseStateOf({ status: r.status as TaskStatus, leaseOwner: opt(r.lease_owner) }, owner));
    return states;
  }

  async reportProgress(id: string, owner: string, progress: { stage: string; percent: number }, now: number) {
    this.#db
      .prepare(
        `UPDATE task_runs SET progress = ?, progress_percent = ?, progress_updated_on = ?, last_modified_on = ?
         WHERE id = ? AND lease_owner = ? AND status IN ('RUNNING', 'STOPPING')`,
      )
      .run(progress.stage, progress.percent, now, now, id, owner);
  }

  async finish(id: string, owner: string, outcome: TaskOutcome, now: number): Promise<boolean> {
    return this.#tx(() => {
      const run = this.#load(id);
      if (!run || run.leaseOwner !== owner) return false;
      if (run.status !== 'RUNNING' && run.status !== 'STOPPING') return false;
      const status = finishedStatus(run, outcome);
      const spent = spentSince(run, now);
      if (status === 'SUCCEEDED' && outcome.labelChange && !this.#switchLabels(run, outcome.labelChange, now)) {
        this.#end(id, 'FAILED', LABELS_CHANGED_MEANWHILE, spent, now);
        return true;
      }
      const properties = { ...run.properties, ...(outcome.properties ?? {}) };
      this.#end(id, status, errorOf(status, outcome.errorString), spent, now, properties);
      if (status === 'SUCCEEDED' && outcome.transformPatch) {
        this.#patchTransform(run, outcome.transformPatch, now);
      }
      if (status === 'SUCCEEDED' && outcome.catalogChange) applyCatalogChange(this.#db, outcome.catalogChange);
      return true;
    });
  }

  async retry(id: string, owner: string, now: number): Promise<boolean> {
    const res = this.#db
      .prepare(
        `UPDATE task_runs SET ${BACK_TO_QUEUE}, attempt = attempt + 1,
           execution_ms = execution_ms + (? - coalesce(running_since, ?)), last_modified_on = ?
         WHERE id = ? AND lease_owner = ? AND status = 'RUNNING'`,
      )
      .run(now, now, now, id, owner);
    return res.changes > 0;
  }

  async release(id: string, owner: string, now: number, how: Release): Promise<boolean> {
    return this.#tx(() => {
      const run = this.#load(id);
      if (!run || run.leaseOwner !== owner) return false;
      if (run.status !== 'RUNNING' && run.status !== 'STOPPING') return false;
      const spent = spentSince(run, now);
      if (run.status === 'STOPPING') this.#end(id, 'STOPPED', null, spent, now);
      else if (how.resume) this.#requeue(id, spent, now, how.interrupted);
      else this.#end(id, 'FAILED', how.errorString, spent, now);
      return true;
    });
  }

  /** Back to STARTING for a new attempt; an interruption (a crash) is counted, a hand-back is not. */
  #requeue(id: string, spentMs: number, now: number, interrupted: boolean) {
    this.#db
      .prepare(
        `UPDATE task_runs SET ${BACK_TO_QUEUE}, attempt = attempt + ?, interruptions = interruptions + ?,
           execution_ms = execution_ms + ?, last_modified_on = ? WHERE id = ?`,
      )
      .run(interrupted ? 1 : 0, interrupted ? 1 : 0, spentMs, now, id);
  }

  /**
   * Runs inside finish()'s transaction: the import's generation becomes the transform's labels with
   * its LabelCount and READY, together or not at all. False (nothing changed) when an appending
   * import's base is no longer current, which would drop the labels committed since.
   */
  #switchLabels(run: TaskRunRecord, change: LabelChange, now: number): boolean {
    const scope = [run.accountId, run.region, run.transformId] as const;
    const current = this.#db
      .prepare('SELECT label_generation FROM transforms WHERE account_id = ? AND region = ? AND id = ?')
      .get(...scope) as { label_generation: number } | undefined;
    if (!current) return true;
    if (change.basedOn !== undefined && change.basedOn !== current.label_generation) return false;
    // A labeling set with two or more rows says something about matching: that makes a transform READY.
    this.#db
      .prepare(
        `UPDATE transforms SET label_generation = ?, label_count = ?, status = ?, last_modified_on = ?
         WHERE account_id = ? AND region = ? AND id = ?`,
      )
      .run(change.generation, change.labelCount, change.ready ? 'READY' : 'NOT_READY', now, ...scope);
    return true;
  }

  #patchTransform(run: TaskRunRecord, patch: NonNullable<TaskOutcome['transformPatch']>, now: number) {
    const row = this.#db
      .prepare('SELECT status, label_count, doc FROM transforms WHERE account_id = ? AND region = ? AND id = ?')
      .get(run.accountId, run.region, run.transformId) as
      | { status: string; label_count: number; doc: string }
      | undefined;
    if (!row) return;
    const doc = JSON.parse(row.doc) as Record<string, unknown>;
    if (patch.evaluationMetrics) doc['EvaluationMetrics'] = patch.evaluationMetrics;
    this.#db
      .prepare(
        `UPDATE transforms SET status = ?, label_count = ?, doc = ?, last_modified_on = ?
         WHERE account_id = ? AND region = ? AND id = ?`,
      )
      .run(
        patch.status ?? row.status,
        patch.labelCount ?? row.label_count,
        JSON.stringify(doc),
        now,
        run.accountId,
        run.region,
        run.transformId,
      );
  }

  async requestCancel(scope: Scope, transformId: string, id: string, now: number) {
    return this.#tx(() => {
      const run = this.#load(id);
      if (!run || run.accountId !== scope.accountId || run.region !== scope.region) return undefined;
      if (run.transformId !== transformId) return undefined;
      if (run.status === 'STARTING') {
        // Nobody runs it yet: it stops at once.
        this.#db
          .prepare(
            `UPDATE task_runs SET status = 'STOPPED', completed_on = ?, last_modified_on = ? WHERE id = ?`,
          )
          .run(now, now, id);
      } else if (run.status === 'RUNNING') {
        this.#db
          .prepare(`UPDATE task_runs SET status = 'STOPPING', last_modified_on = ? WHERE id = ?`)
          .run(now, id);
      }
      return this.#load(id);
    });
  }

  async recoverOrphans(opts: {
    now: number;
    deadOwners?: readonly string[];
    self?: { owner: string; executing: readonly string[] };
    settle: (run: TaskRunRecord) => Promise<Release>;
  }): Promise<TaskRunRecord[]> {
    const dead = opts.deadOwners ?? [];
    const executing = opts.self?.executing ?? [];
    const orphans = () =>
      (
        this.#db
          .prepare(
            `SELECT * FROM task_runs WHERE status IN ('RUNNING', 'STOPPING')
             AND (lease_owner IS NOT ? OR id NOT IN (${executing.map(() => '?').join(',')}))
             AND (lease_expires_at < ? OR lease_owner IN (${dead.map(() => '?').join(',')}))`,
          )
          .all(opts.self?.owner ?? null, ...executing, opts.now, ...dead) as TaskRunRow[]
      ).map(toTaskRun);
    const found = orphans();
    if (found.length === 0) return [];
    const settled = await settleOrphans(found, opts.settle);
    return this.#tx(() => {
      const touched: TaskRunRecord[] = [];
      for (const run of orphans()) {
        const spent = ranUntilLastSeen(run, opts.now);
        if (run.status === 'STOPPING') {
          this.#end(run.id, 'STOPPED', null, spent, opts.now);
        } else {
          const how = settledFor(settled, run);
          if (!how) continue;
          if (how.resume) this.#requeue(run.id, spent, opts.now, how.interrupted);
          else this.#end(run.id, 'FAILED', how.errorString, spent, opts.now);
        }
        touched.push(run);
      }
      return touched;
    });
  }

  async newestWaiting(): Promise<number> {
    const row = this.#db.prepare(`SELECT max(seq) AS seq FROM task_runs WHERE status = 'STARTING'`).get() as { seq: number | null };
    return row.seq ?? 0;
  }

  async waiting(limit: number): Promise<TaskRunRecord[]> {
    const rows = this.#db.prepare(`SELECT * FROM task_runs WHERE status = 'STARTING' ORDER BY seq LIMIT ?`).all(limit) as TaskRunRow[];
    return rows.map(toTaskRun);
  }

  async leaseOwners(): Promise<string[]> {
    const rows = this.#db
      .prepare(`SELECT DISTINCT lease_owner AS owner FROM task_runs WHERE status IN ('RUNNING', 'STOPPING') AND lease_owner IS NOT NULL`)
      .all() as Array<{ owner: string }>;
    return rows.map((r) => r.owner);
  }

  /** Puts a run in a terminal status and releases its lease; `properties`, when given, replace the stored ones. */
  #end(id: string, status: TaskStatus, error: string | null, spentMs: number, now: number, properties?: Record<string, unknown>) {
    this.#db
      .prepare(
        `UPDATE task_runs SET status = ?, error_string = ?, completed_on = ?, last_modified_on = ?,
           execution_ms = execution_ms + ?, lease_owner = NULL, lease_expires_at = NULL, lease_renewed_at = NULL,
           running_since = NULL, properties = coalesce(?, properties) WHERE id = ?`,
      )
      .run(status, error, now, now, spentMs, properties === undefined ? null : JSON.stringify(properties), id);
  }

  async activeCounts(): Promise<Array<{ status: TaskStatus; taskType: string; count: number }>> {
    return this.#db
      .prepare(
        `SELECT status, task_type AS taskType, COUNT(*) AS count FROM task_runs
         WHERE status IN ('STARTING', 'RUNNING', 'STOPPING') GROUP BY status, task_type`,
      )
      .all() as Array<{ status: TaskStatus; taskType: string; count: number }>;
  }

  async expireDeadlines(now: number): Promise<TaskRunRecord[]> {
    const expired = () =>
      this.#db
        .prepare(
          `SELECT * FROM task_runs WHERE status IN ('RUNNING', 'STARTING') AND deadline_at IS NOT NULL
           AND deadline_at < ? AND (lease_expires_at IS NULL OR lease_expires_at < ?)`,
        )
        .all(now, now) as TaskRunRow[];
    return this.#writeIfFound(expired, (rows) => {
      const runs = rows.map(toTaskRun);
      for (const run of runs) this.#end(run.id, 'TIMEOUT', DEADLINE_PASSED, ranUntilLastSeen(run, now), now);
      return runs;
    }, []);
  }
}
