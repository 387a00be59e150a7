import type Database from 'better-sqlite3';
import { OneAtATime } from '../../core/one-at-a-time.js';
import type { FileLock } from './file-lock.js';
import type { JobRecord, JobRunRecord, JobRunState, JobStore } from '../job-store.js';
import type { DiskReserve } from '../disk-reserve.js';
import type { Scope } from '../records.js';
import { jobRow, jobRunRow, toJob, toJobRun, writingUniqueName, type JobRow, type JobRunRow } from '../rows.js';
import { insertRows } from './row-inserts.js';
import { deleteAllTags, putTags } from './tag-rows.js';

/** Jobs and job runs in the metadata store's SQLite file (tables from migration 3). */
export class SqliteJobStore implements JobStore {
  constructor(
    private readonly db: Database.Database,
    /** Lets deletes commit on a full disk (see DiskReserve). */
    private readonly reserve: DiskReserve,
    /** Held by job starts: every process sharing the data dir takes it (undefined for an in-memory store, which no other process sees). */
    private readonly startLock: FileLock | undefined,
  ) {}

  readonly #starts = new OneAtATime();

  /** One start of any job at a time across the processes sharing the file: a start takes a few milliseconds. */
  startingRun<T>(_scope: Scope, _jobName: string, start: () => Promise<T>): Promise<T> {
    return this.startLock ? this.startLock.hold(start) : this.#starts.run('', start);
  }

  #tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  async insertJob(job: JobRecord, tags: Record<string, string>, resourceArn: string): Promise<void> {
    this.#tx(() => {
      writingUniqueName(`job ${job.name} exists`, () => insertRows(this.db, 'jobs', [jobRow(job)]));
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
      .prepare(
        `UPDATE jobs SET last_modified_on = @last_modified_on, doc = @doc
         WHERE account_id = @account_id AND region = @region AND name = @name`,
      )
      .run(jobRow(job));
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
    insertRows(this.db, 'job_runs', [jobRunRow(run)]);
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
