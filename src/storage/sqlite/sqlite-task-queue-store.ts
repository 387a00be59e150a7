import type Database from 'better-sqlite3';
import { StoreConflict } from '../metadata-store.js';
import type { Scope, TaskRunRecord, TaskStatus, TaskType } from '../records.js';
import type { LabelChange, LeaseState, TaskOutcome, TaskQueueStore } from '../task-queue-store.js';
import { opt, scopeOf } from './rows.js';

interface TaskRunRow {
  account_id: string;
  region: string;
  transform_id: string;
  id: string;
  task_type: string;
  status: string;
  properties: string;
  args: string;
  error_string: string | null;
  started_on: number;
  last_modified_on: number;
  completed_on: number | null;
  execution_ms: number;
  attempt: number;
  interruptions: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  running_since: number | null;
  deadline_at: number | null;
  progress: string | null;
}

const toRun = (r: TaskRunRow): TaskRunRecord => ({
  ...scopeOf(r),
  transformId: r.transform_id,
  id: r.id,
  taskType: r.task_type as TaskType,
  status: r.status as TaskStatus,
  properties: JSON.parse(r.properties) as Record<string, unknown>,
  args: JSON.parse(r.args) as Record<string, unknown>,
  errorString: opt(r.error_string),
  startedOn: r.started_on,
  lastModifiedOn: r.last_modified_on,
  completedOn: opt(r.completed_on),
  executionMs: r.execution_ms,
  attempt: r.attempt,
  interruptions: r.interruptions,
  leaseOwner: opt(r.lease_owner),
  leaseExpiresAt: opt(r.lease_expires_at),
  runningSince: opt(r.running_since),
  deadlineAt: opt(r.deadline_at),
  progress: opt(r.progress),
});

const ACTIVE = `('STARTING', 'RUNNING', 'STOPPING')`;

/**
 * The task-run queue in the same SQLite file as the metadata, so that a run's terminal status and
 * its effect on the transform (label count, READY, metrics) commit together.
 */
export class SqliteTaskQueueStore implements TaskQueueStore {
  readonly #db: Database.Database;
  #seq = 0;

  constructor(db: Database.Database) {
    this.#db = db;
    const { m } = db.prepare('SELECT coalesce(max(seq), 0) AS m FROM task_runs').get() as { m: number };
    this.#seq = m;
  }

  #tx<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  #load(id: string): TaskRunRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM task_runs WHERE id = ?').get(id) as TaskRunRow | undefined;
    return row && toRun(row);
  }

  async enqueue(run: TaskRunRecord, limits: { maxActivePerTransform: number }): Promise<void> {
    this.#tx(() => {
      const { n } = this.#db
        .prepare(
          `SELECT count(*) AS n FROM task_runs WHERE account_id = ? AND region = ? AND transform_id = ?
           AND status IN ${ACTIVE}`,
        )
        .get(run.accountId, run.region, run.transformId) as { n: number };
      if (n >= limits.maxActivePerTransform) {
        throw new StoreConflict('concurrency-limit', 'too many active runs', {
          count: n,
          limit: limits.maxActivePerTransform,
        });
      }
      this.#db
        .prepare(
          `INSERT INTO task_runs (account_id, region, transform_id, id, task_type, status, properties,
             args, started_on, last_modified_on, execution_ms, attempt, interruptions, seq)
           VALUES (?, ?, ?, ?, ?, 'STARTING', ?, ?, ?, ?, 0, 1, 0, ?)`,
        )
        .run(
          run.accountId,
          run.region,
          run.transformId,
          run.id,
          run.taskType,
          JSON.stringify(run.properties),
          JSON.stringify(run.args),
          run.startedOn,
          run.lastModifiedOn,
          ++this.#seq,
        );
    });
  }

  async get(scope: Scope, transformId: string, id: string) {
    const row = this.#db
      .prepare('SELECT * FROM task_runs WHERE account_id = ? AND region = ? AND transform_id = ? AND id = ?')
      .get(scope.accountId, scope.region, transformId, id) as TaskRunRow | undefined;
    return row && toRun(row);
  }

  async list(scope: Scope, transformId: string) {
    const rows = this.#db
      .prepare('SELECT * FROM task_runs WHERE account_id = ? AND region = ? AND transform_id = ?')
      .all(scope.accountId, scope.region, transformId) as TaskRunRow[];
    return rows.map(toRun);
  }

  async claimNext(owner: string, now: number, leaseMs: number) {
    return this.#tx(() => {
      const row = this.#db
        .prepare(`SELECT id FROM task_runs WHERE status = 'STARTING' ORDER BY seq LIMIT 1`)
        .get() as { id: string } | undefined;
      if (!row) return undefined;
      this.#db
        .prepare(
          `UPDATE task_runs SET status = 'RUNNING', lease_owner = ?, lease_expires_at = ?,
             running_since = ?, last_modified_on = ? WHERE id = ?`,
        )
        .run(owner, now + leaseMs, now, now, row.id);
      return this.#load(row.id);
    });
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
      if (!run || run.leaseOwner !== owner) return 'lost';
      if (run.status === 'STOPPING') return 'cancel-requested';
      if (run.status !== 'RUNNING') return 'lost';
      this.#db
        .prepare('UPDATE task_runs SET lease_expires_at = ? WHERE id = ?')
        .run(now + leaseMs, id);
      return 'held';
    });
  }

  async reportProgress(id: string, owner: string, message: string, now: number) {
    this.#db
      .prepare(
        `UPDATE task_runs SET progress = ?, last_modified_on = ? WHERE id = ? AND lease_owner = ?
         AND status IN ('RUNNING', 'STOPPING')`,
      )
      .run(message, now, id, owner);
  }

  async finish(id: string, owner: string, outcome: TaskOutcome, now: number): Promise<boolean> {
    return this.#tx(() => {
      const run = this.#load(id);
      if (!run || run.leaseOwner !== owner) return false;
      if (run.status !== 'RUNNING' && run.status !== 'STOPPING') return false;
      // A cancel that raced with completion wins only if the handler did not finish cleanly.
      const status = run.status === 'STOPPING' && outcome.status !== 'SUCCEEDED' ? 'STOPPED' : outcome.status;
      const spent = run.runningSince !== undefined ? now - run.runningSince : 0;
      const properties = { ...run.properties, ...(outcome.properties ?? {}) };
      const error = status === 'FAILED' || status === 'TIMEOUT' ? (outcome.errorString ?? null) : null;
      this.#end(id, status, error, Math.max(0, spent), now, properties);
      if (status === 'SUCCEEDED' && outcome.labelChange) {
        this.#storeLabels(run, outcome.labelChange, now);
      }
      if (status === 'SUCCEEDED' && outcome.transformPatch) {
        this.#patchTransform(run, outcome.transformPatch, now);
      }
      return true;
    });
  }

  async retry(id: string, owner: string, now: number): Promise<boolean> {
    const res = this.#db
      .prepare(
        `UPDATE task_runs SET status = 'STARTING', attempt = attempt + 1, lease_owner = NULL,
           lease_expires_at = NULL, execution_ms = execution_ms + (? - coalesce(running_since, ?)),
           running_since = NULL, last_modified_on = ?
         WHERE id = ? AND lease_owner = ? AND status = 'RUNNING'`,
      )
      .run(now, now, now, id, owner);
    return res.changes > 0;
  }

  /** Runs inside finish()'s transaction: labels, LabelCount and READY change together or not at all. */
  #storeLabels(run: TaskRunRecord, change: LabelChange, now: number) {
    const scope = [run.accountId, run.region, run.transformId] as const;
    if (change.mode === 'replace-all') {
      this.#db.prepare('DELETE FROM labels WHERE account_id = ? AND region = ? AND transform_id = ?').run(...scope);
    } else {
      const drop = this.#db.prepare(
        'DELETE FROM labels WHERE account_id = ? AND region = ? AND transform_id = ? AND labeling_set_id = ?',
      );
      for (const id of new Set(change.rows.map((r) => r.labelingSetId))) drop.run(...scope, id);
    }
    const { m } = this.#db
      .prepare('SELECT coalesce(max(seq), 0) AS m FROM labels WHERE account_id = ? AND region = ? AND transform_id = ?')
      .get(...scope) as { m: number };
    const insert = this.#db.prepare(
      `INSERT INTO labels (account_id, region, transform_id, labeling_set_id, label, seq, record_values)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    change.rows.forEach((r, i) =>
      insert.run(...scope, r.labelingSetId, r.label, m + i + 1, JSON.stringify(r.values)),
    );
    const { total, teachable } = this.#db
      .prepare(
        `SELECT coalesce(sum(n), 0) AS total, coalesce(max(n >= 2), 0) AS teachable FROM (
           SELECT count(*) AS n FROM labels
           WHERE account_id = ? AND region = ? AND transform_id = ? GROUP BY labeling_set_id)`,
      )
      .get(...scope) as { total: number; teachable: number };
    // A labeling set with two or more rows says something about matching: that makes a transform READY.
    this.#db
      .prepare(
        `UPDATE transforms SET label_count = ?, status = ?, last_modified_on = ?
         WHERE account_id = ? AND region = ? AND id = ?`,
      )
      .run(total, teachable ? 'READY' : 'NOT_READY', now, ...scope);
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
    deadOwners?: string[];
    canResume: (run: TaskRunRecord) => boolean;
    failMessage: (run: TaskRunRecord) => string;
  }): Promise<number> {
    return this.#tx(() => {
      const dead = opts.deadOwners ?? [];
      const rows = this.#db
        .prepare(
          `SELECT * FROM task_runs WHERE status IN ('RUNNING', 'STOPPING') AND (lease_expires_at < ?
           ${dead.length ? `OR lease_owner IN (${dead.map(() => '?').join(',')})` : ''})`,
        )
        .all(opts.now, ...dead) as TaskRunRow[];
      for (const run of rows.map(toRun)) {
        const spent = run.runningSince !== undefined ? Math.max(0, opts.now - run.runningSince) : 0;
        if (run.status === 'STOPPING') {
          this.#end(run.id, 'STOPPED', null, spent, opts.now);
        } else if (opts.canResume(run)) {
          this.#db
            .prepare(
              `UPDATE task_runs SET status = 'STARTING', lease_owner = NULL, lease_expires_at = NULL,
                 running_since = NULL, attempt = attempt + 1, interruptions = interruptions + 1,
                 execution_ms = execution_ms + ?, last_modified_on = ? WHERE id = ?`,
            )
            .run(spent, opts.now, run.id);
        } else {
          this.#end(run.id, 'FAILED', opts.failMessage(run), spent, opts.now);
        }
      }
      return rows.length;
    });
  }

  /** Puts a run in a terminal status and releases its lease; `properties`, when given, replace the stored ones. */
  #end(id: string, status: TaskStatus, error: string | null, spentMs: number, now: number, properties?: Record<string, unknown>) {
    this.#db
      .prepare(
        `UPDATE task_runs SET status = ?, error_string = ?, completed_on = ?, last_modified_on = ?,
           execution_ms = execution_ms + ?, lease_owner = NULL, lease_expires_at = NULL,
           running_since = NULL, properties = coalesce(?, properties) WHERE id = ?`,
      )
      .run(status, error, now, now, spentMs, properties === undefined ? null : JSON.stringify(properties), id);
  }

  async expireDeadlines(now: number): Promise<number> {
    return this.#tx(() => {
      const rows = this.#db
        .prepare(
          `SELECT * FROM task_runs WHERE status IN ('RUNNING', 'STARTING') AND deadline_at IS NOT NULL
           AND deadline_at < ? AND (lease_expires_at IS NULL OR lease_expires_at < ?)`,
        )
        .all(now, now) as TaskRunRow[];
      for (const run of rows.map(toRun)) {
        const spent = run.runningSince !== undefined ? Math.max(0, now - run.runningSince) : 0;
        this.#end(run.id, 'TIMEOUT', 'Task run exceeded the timeout of its transform.', spent, now);
      }
      return rows.length;
    });
  }
}
