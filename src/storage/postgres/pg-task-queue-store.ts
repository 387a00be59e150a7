import { StoreConflict } from '../metadata-store.js';
import type { Scope, TaskRunRecord, TaskStatus } from '../records.js';
import { isUniqueViolation, opt, taskRunRow, toTaskRun, type TaskRunRow } from '../rows.js';
import type { LabelChange, LeaseState, Release, TaskOutcome, TaskQueueStore } from '../task-queue-store.js';
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
import { applyCatalogChange } from './pg-catalog-change-rows.js';
import { lockKey, type PgClient, type PgDatabase } from './pg-database.js';
import type { RunQueue } from '../redis/run-queue.js';

const ACTIVE = `('STARTING', 'RUNNING', 'STOPPING')`;

/** What a run going back to STARTING drops: its lease and the progress of the attempt that ended. */
const BACK_TO_QUEUE = `status = 'STARTING', lease_owner = NULL, lease_expires_at = NULL, lease_renewed_at = NULL,
  running_since = NULL, progress = NULL, progress_percent = NULL, progress_updated_on = NULL`;

/**
 * How often a claim is tried again when the run it picked was an import of a transform whose other
 * import another node claimed in the same instant (the unique index task_runs_one_import refused it).
 */
const CLAIM_ATTEMPTS = 3;

/**
 * The task-run queue in the PostgreSQL metadata database, shared by every node using it. Workers
 * learn which runs wait from the RunQueue (BullMQ) each new run is announced to; a claim is one
 * statement that takes a waiting run with FOR UPDATE SKIP LOCKED, so nodes claiming at once never
 * take the same run; every other transition locks the run's row before deciding.
 */
export class PgTaskQueueStore implements TaskQueueStore {
  readonly #db: PgDatabase;
  readonly #runQueue: RunQueue | undefined;

  constructor(db: PgDatabase, runQueue: RunQueue | undefined) {
    this.#db = db;
    this.#runQueue = runQueue;
  }

  async #lockRun(c: PgClient, id: string): Promise<TaskRunRecord | undefined> {
    const row = (await c.query<TaskRunRow>('SELECT * FROM task_runs WHERE id = $1 FOR UPDATE', [id])).rows[0];
    return row && toTaskRun(row);
  }

  async enqueue(run: TaskRunRecord, limits: { maxActivePerTransform: number }): Promise<void> {
    await this.#db.tx(async (c) => {
      // Counting then inserting: enqueues for the same transform take turns.
      await lockKey(c, `task_runs/${run.accountId}/${run.region}/${run.transformId}`);
      const { n } = (
        await c.query<{ n: number }>(
          // A find-matches run's parts (args.partOf) are its own work, not runs of their own.
          `SELECT count(*) AS n FROM task_runs WHERE account_id = $1 AND region = $2 AND transform_id = $3 AND status IN ${ACTIVE}
           AND (args::jsonb -> 'partOf') IS NULL`,
          [run.accountId, run.region, run.transformId],
        )
      ).rows[0]!;
      if (n >= limits.maxActivePerTransform) {
        throw new StoreConflict('concurrency-limit', 'too many active runs', { count: n, limit: limits.maxActivePerTransform });
      }
      const row = taskRunRow(run);
      await c.query(
        `INSERT INTO task_runs (account_id, region, transform_id, id, task_type, status, properties, args,
           started_on, last_modified_on, execution_ms, attempt, interruptions)
         VALUES ($1, $2, $3, $4, $5, 'STARTING', $6, $7, $8, $9, 0, 1, 0)`,
        [row.account_id, row.region, row.transform_id, row.id, row.task_type, row.properties, row.args, row.started_on, row.last_modified_on],
      );
    });
    // The run is stored, and the request that started it does not wait for Redis: were Redis
    // unreachable now, the workers' look at the waiting runs announces it once it is back.
    void this.#runQueue?.announce([{ ...run, status: 'STARTING', attempt: 1, interruptions: 0 }]).catch(() => undefined);
  }

  async get(scope: Scope, transformId: string, id: string) {
    const { rows } = await this.#db.query<TaskRunRow>(
      'SELECT * FROM task_runs WHERE account_id = $1 AND region = $2 AND transform_id = $3 AND id = $4',
      [scope.accountId, scope.region, transformId, id],
    );
    return rows[0] && toTaskRun(rows[0]);
  }

  async list(scope: Scope, transformId: string) {
    const { rows } = await this.#db.query<TaskRunRow>(
      'SELECT * FROM task_runs WHERE account_id = $1 AND region = $2 AND transform_id = $3 ORDER BY seq',
      [scope.accountId, scope.region, transformId],
    );
    return rows.map(toTaskRun);
  }

  async clock(): Promise<number> {
    const { rows } = await this.#db.query<{ now: number }>('SELECT (extract(epoch FROM now()) * 1000)::bigint AS now');
    return rows[0]!.now;
  }

  async claimNext(owner: string, now: number, leaseMs: number, only?: { id: string }) {
    // An import also waits for the transform's older waiting imports, which a claim running at the
    // same moment on another node may hold locked (SKIP LOCKED passes over them): imports of one
    // transform start one at a time, in the order they were started.
    for (let attempt = 1; ; attempt++) {
      try {
        const { rows } = await this.#db.query<TaskRunRow>(
          `UPDATE task_runs SET status = 'RUNNING', lease_owner = $1, lease_expires_at = $2, lease_renewed_at = $3,
             running_since = $3, last_modified_on = $3
           WHERE id = (
             SELECT id FROM task_runs s WHERE status = 'STARTING' AND ($4::text IS NULL OR id = $4) AND NOT (task_type = 'IMPORT_LABELS' AND EXISTS (
               SELECT 1 FROM task_runs r WHERE r.account_id = s.account_id AND r.region = s.region
               AND r.transform_id = s.transform_id AND r.task_type = 'IMPORT_LABELS'
               AND (r.status IN ('RUNNING', 'STOPPING') OR (r.status = 'STARTING' AND r.seq < s.seq))))
             ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
           AND status = 'STARTING'
           RETURNING *`,
          [owner, now + leaseMs, now, only?.id ?? null],
        );
        return rows[0] && toTaskRun(rows[0]);
      } catch (e) {
        if (!isUniqueViolation(e) || attempt >= CLAIM_ATTEMPTS) throw e;
      }
    }
  }

  async setDeadline(id: string, deadlineAt: number): Promise<void> {
    await this.#db.query('UPDATE task_runs SET deadline_at = coalesce(deadline_at, $1) WHERE id = $2', [deadlineAt, id]);
  }

  async renewLease(id: string, owner: string, now: number, leaseMs: number): Promise<LeaseState> {
    return this.#db.tx(async (c) => {
      const state = leaseStateOf(await this.#lockRun(c, id), owner);
      if (state !== 'held') return state;
      await c.query('UPDATE task_runs SET lease_expires_at = $1, lease_renewed_at = $2 WHERE id = $3', [now + leaseMs, now, id]);
      return 'held';
    });
  }

  async leaseStates(owner: string, ids: readonly string[]): Promise<Map<string, LeaseState>> {
    const states = new Map<string, LeaseState>(ids.map((id) => [id, 'lost']));
    if (ids.length === 0) return states;
    const { rows } = await this.#db.query<{ id: string; status: string; lease_owner: string | null }>(
      'SELECT id, status, lease_owner FROM task_runs WHERE id = ANY($1::text[])',
      [ids],
    );
    for (const r of rows) states.set(r.id, leaseStateOf({ status: r.status as TaskStatus, leaseOwner: opt(r.lease_owner) }, owner));
    return states;
  }

  async reportProgress(id: string, owner: string, progress: { stage: string; percent: number }, now: number) {
    await this.#db.query(
      `UPDATE task_runs SET progress = $1, progress_percent = $2, progress_updated_on = $3, last_modified_on = $3
       WHERE id = $4 AND lease_owner = $5 AND status IN ('RUNNING', 'STOPPING')`,
      [progress.stage, progress.percent, now, id, owner],
    );
  }

  async finish(id: string, owner: string, outcome: TaskOutcome, now: number): Promise<boolean> {
    return this.#db.tx(async (c) => {
      const run = await this.#lockRun(c, id);
      if (!run || run.leaseOwner !== owner) return false;
      if (run.status !== 'RUNNING' && run.status !== 'STOPPING') return false;
      const status = finishedStatus(run, outcome);
      const spent = spentSince(run, now);
      if (status === 'SUCCEEDED' && outcome.labelChange && !(await switchLabels(c, run, outcome.labelChange, now))) {
        await end(c, id, 'FAILED', LABELS_CHANGED_MEANWHILE, spent, now);
        return true;
      }
      const properties = { ...run.properties, ...(outcome.properties ?? {}) };
      await end(c, id, status, errorOf(status, outcome.errorString), spent, now, properties);
      if (status === 'SUCCEEDED' && outcome.transformPatch) await patchTransform(c, run, outcome.transformPatch, now);
      if (status === 'SUCCEEDED' && outcome.catalogChange) await applyCatalogChange(c, outcome.catalogChange);
      return true;
    });
  }

  async retry(id: string, owner: string, now: number): Promise<boolean> {
    const res = await this.#db.query(
      `UPDATE task_runs SET ${BACK_TO_QUEUE}, attempt = attempt + 1,
         execution_ms = execution_ms + ($1 - coalesce(running_since, $1)), last_modified_on = $1
       WHERE id = $2 AND lease_owner = $3 AND status = 'RUNNING'`,
      [now, id, owner],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async release(id: string, owner: string, now: number, how: Release): Promise<boolean> {
    return this.#db.tx(async (c) => {
      const run = await this.#lockRun(c, id);
      if (!run || run.leaseOwner !== owner) return false;
      if (run.status !== 'RUNNING' && run.status !== 'STOPPING') return false;
      const spent = spentSince(run, now);
      if (run.status === 'STOPPING') await end(c, id, 'STOPPED', null, spent, now);
      else if (how.resume) await requeue(c, id, spent, now, how.interrupted);
      else await end(c, id, 'FAILED', how.errorString, spent, now);
      return true;
    });
  }

  async requestCancel(scope: Scope, transformId: string, id: string, now: number) {
    return this.#db.tx(async (c) => {
      const run = await this.#lockRun(c, id);
      if (!run || run.accountId !== scope.accountId || run.region !== scope.region) return undefined;
      if (run.transformId !== transformId) return undefined;
      if (run.status === 'STARTING') {
        // Nobody runs it yet: it stops at once.
        await c.query(`UPDATE task_runs SET status = 'STOPPED', completed_on = $1, last_modified_on = $1 WHERE id = $2`, [now, id]);
      } else if (run.status === 'RUNNING') {
        await c.query(`UPDATE task_runs SET status = 'STOPPING', last_modified_on = $1 WHERE id = $2`, [now, id]);
      }
      const row = (await c.query<TaskRunRow>('SELECT * FROM task_runs WHERE id = $1', [id])).rows[0];
      return row && toTaskRun(row);
    });
  }

  async recoverOrphans(opts: {
    now: number;
    deadOwners?: readonly string[];
    self?: { owner: string; executing: readonly string[] };
    settle: (run: TaskRunRecord) => Promise<Release>;
  }): Promise<TaskRunRecord[]> {
    const orphans = `SELECT * FROM task_runs WHERE status IN ('RUNNING', 'STOPPING')
      AND (lease_owner IS DISTINCT FROM $2 OR id <> ALL($4::text[]))
      AND (lease_expires_at < $1 OR lease_owner = ANY($3::text[]))`;
    const params = [opts.now, opts.self?.owner ?? null, opts.deadOwners ?? [], opts.self?.executing ?? []];
    const found = (await this.#db.query<TaskRunRow>(orphans, params)).rows.map(toTaskRun);
    if (found.length === 0) return [];
    const settled = await settleOrphans(found, opts.settle);
    return this.#db.tx(async (c) => {
      // Rows another node is recovering (or whose owner is committing right now) are skipped: the
      // next look finds whatever is still an orphan then.
      const touched: TaskRunRecord[] = [];
      const { rows } = await c.query<TaskRunRow>(`${orphans} FOR UPDATE SKIP LOCKED`, params);
      for (const run of rows.map(toTaskRun)) {
        const spent = ranUntilLastSeen(run, opts.now);
        if (run.status === 'STOPPING') {
          await end(c, run.id, 'STOPPED', null, spent, opts.now);
        } else {
          const how = settledFor(settled, run);
          if (!how) continue;
          if (how.resume) await requeue(c, run.id, spent, opts.now, how.interrupted);
          else await end(c, run.id, 'FAILED', how.errorString, spent, opts.now);
        }
        touched.push(run);
      }
      return touched;
    });
  }

  async newestWaiting(): Promise<number> {
    const { rows } = await this.#db.query<{ seq: string | null }>(`SELECT max(seq) AS seq FROM task_runs WHERE status = 'STARTING'`);
    return Number(rows[0]?.seq ?? 0);
  }

  async waiting(limit: number): Promise<TaskRunRecord[]> {
    const { rows } = await this.#db.query<TaskRunRow>(`SELECT * FROM task_runs WHERE status = 'STARTING' ORDER BY seq LIMIT $1`, [limit]);
    return rows.map(toTaskRun);
  }

  async leaseOwners(): Promise<string[]> {
    const { rows } = await this.#db.query<{ owner: string }>(
      `SELECT DISTINCT lease_owner AS owner FROM task_runs WHERE status IN ('RUNNING', 'STOPPING') AND lease_owner IS NOT NULL`,
    );
    return rows.map((r) => r.owner);
  }

  async expireDeadlines(now: number): Promise<TaskRunRecord[]> {
    return this.#db.tx(async (c) => {
      const { rows } = await c.query<TaskRunRow>(
        `SELECT * FROM task_runs WHERE status IN ('RUNNING', 'STARTING') AND deadline_at IS NOT NULL
         AND deadline_at < $1 AND (lease_expires_at IS NULL OR lease_expires_at < $1) FOR UPDATE SKIP LOCKED`,
        [now],
      );
      const expired = rows.map(toTaskRun);
      for (const run of expired) await end(c, run.id, 'TIMEOUT', DEADLINE_PASSED, ranUntilLastSeen(run, now), now);
      return expired;
    });
  }

  async activeCounts(): Promise<Array<{ status: TaskStatus; taskType: string; count: number }>> {
    const { rows } = await this.#db.query<{ status: TaskStatus; tasktype: string; count: number }>(
      `SELECT status, task_type AS tasktype, count(*) AS count FROM task_runs
       WHERE status IN ${ACTIVE} GROUP BY status, task_type`,
    );
    return rows.map((r) => ({ status: r.status, taskType: r.tasktype, count: r.count }));
  }
}

/** Back to STARTING for a new attempt; an interruption (a crash) is counted, a hand-back is not. */
async function requeue(c: PgClient, id: string, spentMs: number, now: number, interrupted: boolean) {
  await c.query(
    `UPDATE task_runs SET ${BACK_TO_QUEUE}, attempt = attempt + $1, interruptions = interruptions + $1,
       execution_ms = execution_ms + $2, last_modified_on = $3 WHERE id = $4`,
    [interrupted ? 1 : 0, spentMs, now, id],
  );
}

/** Puts a run in a terminal status and releases its lease; `properties`, when given, replace the stored ones. */
async function end(
  c: PgClient,
  id: string,
  status: TaskStatus,
  error: string | null,
  spentMs: number,
  now: number,
  properties?: Record<string, unknown>,
) {
  await c.query(
    `UPDATE task_runs SET status = $1, error_string = $2, completed_on = $3, last_modified_on = $3,
       execution_ms = execution_ms + $4, lease_owner = NULL, lease_expires_at = NULL, lease_renewed_at = NULL,
       running_since = NULL, properties = coalesce($5, properties) WHERE id = $6`,
    [status, error, now, spentMs, properties === undefined ? null : JSON.stringify(properties), id],
  );
}

/**
 * Inside finish()'s transaction: the import's generation becomes the transform's labels with its
 * LabelCount and READY, together or not at all. False (nothing changed) when an appending import's
 * base is no longer current, which would drop the labels committed since.
 */
async function switchLabels(c: PgClient, run: TaskRunRecord, change: LabelChange, now: number): Promise<boolean> {
  const scope = [run.accountId, run.region, run.transformId];
  const current = (
    await c.query<{ label_generation: number }>(
      'SELECT label_generation FROM transforms WHERE account_id = $1 AND region = $2 AND id = $3 FOR UPDATE',
      scope,
    )
  ).rows[0];
  if (!current) return true;
  if (change.basedOn !== undefined && change.basedOn !== current.label_generation) return false;
  // A labeling set with two or more rows says something about matching: that makes a transform READY.
  await c.query(
    `UPDATE transforms SET label_generation = $4, label_count = $5, status = $6, last_modified_on = $7
     WHERE account_id = $1 AND region = $2 AND id = $3`,
    [...scope, change.generation, change.labelCount, change.ready ? 'READY' : 'NOT_READY', now],
  );
  return true;
}

async function patchTransform(c: PgClient, run: TaskRunRecord, patch: NonNullable<TaskOutcome['transformPatch']>, now: number) {
  const scope = [run.accountId, run.region, run.transformId];
  const row = (
    await c.query<{ status: string; label_count: number; doc: string }>(
      'SELECT status, label_count, doc FROM transforms WHERE account_id = $1 AND region = $2 AND id = $3 FOR UPDATE',
      scope,
    )
  ).rows[0];
  if (!row) return;
  const doc = JSON.parse(row.doc) as Record<string, unknown>;
  if (patch.evaluationMetrics) doc['EvaluationMetrics'] = patch.evaluationMetrics;
  await c.query(
    `UPDATE transforms SET status = $4, label_count = $5, doc = $6, last_modified_on = $7
     WHERE account_id = $1 AND region = $2 AND id = $3`,
    [...scope, patch.status ?? row.status, patch.labelCount ?? row.label_count, JSON.stringify(doc), now],
  );
}
