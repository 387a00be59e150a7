import { OneAtATime } from '../../core/one-at-a-time.js';
import type { JobRecord, JobRunRecord, JobRunState, JobStore } from '../job-store.js';
import type { Scope } from '../records.js';
import { jobRow, jobRunRow, toJob, toJobRun, writingUniqueName, type JobRow, type JobRunRow } from '../rows.js';
import type { PgDatabase } from './pg-database.js';
import { insertRow } from './pg-row-inserts.js';
import { deleteAllTags, putTags } from './pg-tag-rows.js';

/** Jobs and job runs in the PostgreSQL metadata database. */
export class PgJobStore implements JobStore {
  /** Starts of one job in this process wait here, so that only one of them at a time tries the session lock. */
  readonly #starts = new OneAtATime();

  constructor(private readonly db: PgDatabase) {}

  startingRun<T>(scope: Scope, jobName: string, start: () => Promise<T>): Promise<T> {
    const key = `job-starts/${scope.accountId}/${scope.region}/${jobName}`;
    return this.#starts.run(key, () => this.db.sessionLocks.hold(key, start));
  }

  async insertJob(job: JobRecord, tags: Record<string, string>, resourceArn: string): Promise<void> {
    await this.db.tx(async (c) => {
      await writingUniqueName(`job ${job.name} exists`, () => insertRow(c, 'jobs', jobRow(job)));
      await putTags(c, job, resourceArn, tags);
    });
  }

  async getJob(scope: Scope, name: string): Promise<JobRecord | undefined> {
    const { rows } = await this.db.query<JobRow>('SELECT * FROM jobs WHERE account_id = $1 AND region = $2 AND name = $3', [
      scope.accountId,
      scope.region,
      name,
    ]);
    return rows[0] && toJob(rows[0]);
  }

  async listJobs(scope: Scope): Promise<JobRecord[]> {
    const { rows } = await this.db.query<JobRow>('SELECT * FROM jobs WHERE account_id = $1 AND region = $2 ORDER BY name', [
      scope.accountId,
      scope.region,
    ]);
    return rows.map(toJob);
  }

  async updateJob(job: JobRecord): Promise<boolean> {
    const row = jobRow(job);
    const r = await this.db.query(
      'UPDATE jobs SET last_modified_on = $1, doc = $2 WHERE account_id = $3 AND region = $4 AND name = $5',
      [row.last_modified_on, row.doc, row.account_id, row.region, row.name],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async deleteJob(scope: Scope, name: string, resourceArn: string): Promise<boolean> {
    return this.db.tx(async (c) => {
      const key = [scope.accountId, scope.region, name];
      const r = await c.query('DELETE FROM jobs WHERE account_id = $1 AND region = $2 AND name = $3', key);
      await c.query('DELETE FROM job_runs WHERE account_id = $1 AND region = $2 AND job_name = $3', key);
      await deleteAllTags(c, scope, resourceArn);
      return (r.rowCount ?? 0) > 0;
    });
  }

  async insertJobRun(run: JobRunRecord): Promise<void> {
    await insertRow(this.db.pool, 'job_runs', jobRunRow(run));
  }

  async getJobRun(scope: Scope, jobName: string, id: string): Promise<JobRunRecord | undefined> {
    const { rows } = await this.db.query<JobRunRow>(
      'SELECT * FROM job_runs WHERE account_id = $1 AND region = $2 AND job_name = $3 AND id = $4',
      [scope.accountId, scope.region, jobName, id],
    );
    return rows[0] && toJobRun(rows[0]);
  }

  async listJobRuns(scope: Scope, jobName: string): Promise<JobRunRecord[]> {
    const { rows } = await this.db.query<JobRunRow>(
      'SELECT * FROM job_runs WHERE account_id = $1 AND region = $2 AND job_name = $3 ORDER BY started_on DESC, id DESC',
      [scope.accountId, scope.region, jobName],
    );
    return rows.map(toJobRun);
  }

  async settleJobRun(scope: Scope, jobName: string, id: string, state: JobRunState, errorMessage: string, now: number): Promise<void> {
    await this.db.query(
      `UPDATE job_runs SET state = $1, error_message = $2, completed_on = $3, last_modified_on = $3
       WHERE account_id = $4 AND region = $5 AND job_name = $6 AND id = $7 AND state IS NULL`,
      [state, errorMessage, now, scope.accountId, scope.region, jobName, id],
    );
  }
}
