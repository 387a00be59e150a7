import type { JobRecord, JobRunRecord, JobRunState, JobStore } from '../job-store.js';
import type { Scope } from '../records.js';
import { toJob, toJobRun, writingUniqueName, type JobRow, type JobRunRow } from '../rows.js';
import type { PgDatabase } from './pg-database.js';
import { deleteAllTags, putTags } from './pg-tag-rows.js';

/** Jobs and job runs in the PostgreSQL metadata database. */
export class PgJobStore implements JobStore {
  constructor(private readonly db: PgDatabase) {}

  async insertJob(job: JobRecord, tags: Record<string, string>, resourceArn: string): Promise<void> {
    await this.db.tx(async (c) => {
      await writingUniqueName(`job ${job.name} exists`, () =>
        c.query(
          `INSERT INTO jobs (account_id, region, name, created_on, last_modified_on, doc) VALUES ($1, $2, $3, $4, $5, $6)`,
          [job.accountId, job.region, job.name, job.createdOn, job.lastModifiedOn, JSON.stringify(job.doc)],
        ),
      );
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
    const r = await this.db.query(
      'UPDATE jobs SET last_modified_on = $1, doc = $2 WHERE account_id = $3 AND region = $4 AND name = $5',
      [job.lastModifiedOn, JSON.stringify(job.doc), job.accountId, job.region, job.name],
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
    await this.db.query(
      `INSERT INTO job_runs (account_id, region, job_name, id, started_on, last_modified_on, arguments,
         transform_id, task_run_id, state, error_message, completed_on, doc)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
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
      ],
    );
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
