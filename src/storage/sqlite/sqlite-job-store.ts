import type Database from 'better-sqlite3';
import type { JobRecord, JobRunRecord, JobRunState, JobStore } from '../job-store.js';
import type { DiskReserve } from '../disk-reserve.js';
import type { Scope } from '../records.js';
import { toJob, toJobRun, writingUniqueName, type JobRow, type JobRunRow } from '../rows.js';
import { deleteAllTags, putTags } from './tag-rows.js';

/** Jobs and job runs in the metadata store's SQLite file (tables from migration 3). */
export class SqliteJobStore implements JobStore {
  constructor(
    private readonly db: Database.Database,
    /** Lets deletes commit on a full disk (see DiskReserve). */
    private readonly reserve: DiskReserve,
  ) {}

  #tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  async insertJob(job: JobRecord, tags: Record<string, string>, resourceArn: string): Promise<void> {
    this.#tx(() => {
      writingUniqueName(`job ${job.name} exists`, () =>
        this.db
          .prepare(
            `INSERT INTO jobs (account_id, region, name, created_on, last_modified_on, doc)
             VALUES (?, ?, ?, ?, ?, ?)`,
          )
          .run(job.accountId, job.region, job.name, job.createdOn, job.lastModifiedOn, JSON.stringify(job.doc)),
      );
      putTags(this.db, job, resourceArn, tags);
    });
  }

  async getJob(scope: Scope, name: string): Promise<JobRecord | undefined> {
    const row = this.db
      .prepare('SELECT * FROM jobs WHERE account_id = ? AND region = ? AND name = ?')
      .get(scope.accountId, scope.region, name) as JobRow | undefined;
    return row && toJob(row);
  }

  async listJobs(scope: Scope): Promise<JobRecord[]> {
    const rows = this.db
      .prepare('SELECT * FROM jobs WHERE account_id = ? AND region = ? ORDER BY name')
      .all(scope.accountId, scope.region) as JobRow[];
    return rows.map(toJob);
  }

  async updateJob(job: JobRecord): Promise<boolean> {
    const r = this.db
      .prepare('UPDATE jobs SET last_modified_on = ?, doc = ? WHERE account_id = ? AND region = ? AND name = ?')
      .run(job.lastModifiedOn, JSON.stringify(job.doc), job.accountId, job.region, job.name);
    return r.changes > 0;
  }

  async deleteJob(scope: Scope, name: string, resourceArn: string): Promise<boolean> {
    return this.reserve.freeing(async () => this.#tx(() => {
      const r = this.db
        .prepare('DELETE FROM jobs WHERE account_id = ? AND region = ? AND name = ?')
        .run(scope.accountId, scope.region, name);
      this.db
        .prepare('DELETE FROM job_runs WHERE account_id = ? AND region = ? AND job_name = ?')
        .run(scope.accountId, scope.region, name);
      deleteAllTags(this.db, scope, resourceArn);
      return r.changes > 0;
    }));
  }

  async insertJobRun(run: JobRunRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO job_runs (account_id, region, job_name, id, started_on, last_modified_on, arguments,
           transform_id, task_run_id, state, error_message, completed_on, doc)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        run.accountId,
        run.region,
        run.jobName,
        run.id,
        run.startedOn,
        run.lastModifiedOn,
        JSON.stringify(run.arguments),
        run.transformId ?? null,
        run.taskRunId ?? null,
        run.state ?? null,
        run.errorMessage ?? null,
        run.completedOn ?? null,
        JSON.stringify(run.doc),
      );
  }

  async getJobRun(scope: Scope, jobName: string, id: string): Promise<JobRunRecord | undefined> {
    const row = this.db
      .prepare('SELECT * FROM job_runs WHERE account_id = ? AND region = ? AND job_name = ? AND id = ?')
      .get(scope.accountId, scope.region, jobName, id) as JobRunRow | undefined;
    return row && toJobRun(row);
  }

  async listJobRuns(scope: Scope, jobName: string): Promise<JobRunRecord[]> {
    const rows = this.db
      .prepare(
        'SELECT * FROM job_runs WHERE account_id = ? AND region = ? AND job_name = ? ORDER BY started_on DESC, id DESC',
      )
      .all(scope.accountId, scope.region, jobName) as JobRunRow[];
    return rows.map(toJobRun);
  }

  async settleJobRun(
    scope: Scope,
    jobName: string,
    id: string,
    state: JobRunState,
    errorMessage: string,
    now: number,
  ): Promise<void> {
    this.db
      .prepare(
        `UPDATE job_runs SET state = ?, error_message = ?, completed_on = ?, last_modified_on = ?
         WHERE account_id = ? AND region = ? AND job_name = ? AND id = ? AND state IS NULL`,
      )
      .run(state, errorMessage, now, now, scope.accountId, scope.region, jobName, id);
  }
}
