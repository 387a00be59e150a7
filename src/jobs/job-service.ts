import { randomBytes } from 'node:crypto';
import { alreadyExists, concurrentRunsExceeded, entityNotFound, invalidInput, ServiceError } from '../core/errors.js';
import { paginate } from '../core/pagination.js';
import type { RequestContext } from '../core/request-context.js';
import type { TaskRunEvents } from '../tasks/task-run-service.js';
import { cancelParts } from '../tasks/kinds/find-matches-parts.js';
import { compact, num, obj, str, toWireTime, type Json } from '../core/wire.js';
import type { JobRecord, JobRunRecord, JobRunState } from '../storage/job-store.js';
import { StoreConflict, type MetadataStore } from '../storage/metadata-store.js';
import { startingTaskRun, TERMINAL_TASK_STATUSES, type Scope, type TaskRunRecord, type TransformRecord } from '../storage/records.js';
import { assertNoReservedTags, partitionKeysOf } from '../catalog/catalog-service.js';
import { compilePartitionExpression } from '../catalog/partition-expression.js';
import { taggedWith } from '../tags/tagged-with.js';
import { checkJobDefinition, checkJobRunRequest, defaultMaxCapacity } from './job-rules.js';
import { projectToShape } from './model-projection.js';
import {
  ArgumentError,
  effectiveArguments,
  FIND_MATCHES_COMMAND,
  parseFindMatchesArgs,
  type FindMatchesArgs,
} from './find-matches-args.js';

/** Glue's defaults for a job definition that leaves them out. */
const JOB_DEFAULTS = { MaxRetries: 0, Timeout: 2880 } as const;

const TERMINAL_JOB_STATES: ReadonlySet<JobRunState> = new Set(['STOPPED', 'SUCCEEDED', 'FAILED', 'TIMEOUT', 'ERROR', 'EXPIRED']);

/** Job-run members copied from StartJobRun (or, when absent there, from the job). */
const RUN_MEMBERS = ['Timeout', 'MaxCapacity', 'WorkerType', 'NumberOfWorkers', 'NotificationProperty', 'SecurityConfiguration', 'ExecutionClass'] as const;

export const jobArn = (s: Scope, name: string) => `arn:aws:glue:${s.region}:${s.accountId}:job/${name}`;

/** A job run with its state resolved (from its task run, or from the run itself). */
interface ResolvedRun {
  run: JobRunRecord;
  task?: TaskRunRecord;
  state: JobRunState;
  errorMessage?: string;
  completedOn?: number;
  lastModifiedOn: number;
  /** The time its ended attempts ran. */
  executionMs: number;
  /** When its current attempt began running (the queue's clock), while it runs. */
  runningSince?: number;
  attempt: number;
}

/**
 * The Glue Jobs API. A job whose Command.Name is `findmatches` runs natively: each run is a
 * FIND_MATCHES task run of the transform named by `--transform-id`, executed by the durable task
 * queue, and the job run's state is read from that task run. Jobs with other commands are stored
 * and listed, but their runs fail at once (doppel runs only FindMatches).
 */
export class JobService {

  constructor(
    private readonly store: MetadataStore,
    private readonly events: TaskRunEvents,
    /** Milliseconds per minute of a job's Timeout (DOPPEL_TIMEOUT_UNIT_MS; tests shorten it). */
    private readonly timeoutUnitMs = 60_000,
  ) {}

  async create(ctx: RequestContext, input: Json): Promise<Json> {
    const name = str(input, 'Name')!;
    const now = Date.now();
    const { Name: _n, Tags: tags, ...doc } = projectToShape(input, 'CreateJobRequest') as Json;
    assertNoReservedTags((tags as Record<string, string> | undefined) ?? {});
    const job: JobRecord = {
      accountId: ctx.accountId,
      region: ctx.region,
      name,
      createdOn: now,
      lastModifiedOn: now,
      doc: withDefaults(checkJobDefinition(doc)),
    };
    try {
      await this.store.jobs.insertJob(job, (tags as Record<string, string> | undefined) ?? {}, jobArn(ctx, name));
    } catch (e) {
      if (e instanceof StoreConflict && e.kind === 'name-taken') throw alreadyExists(`${name} already exists.`);
      throw e;
    }
    return { Name: name };
  }

  async #require(ctx: RequestContext, name: string): Promise<JobRecord> {
    const job = await this.store.jobs.getJob(ctx, name);
    if (!job) throw entityNotFound(`Job with name: ${name} not found.`);
    return job;
  }

  async get(ctx: RequestContext, input: Json): Promise<Json> {
    return { Job: jobToWire(await this.#require(ctx, str(input, 'JobName')!)) };
  }

  async getMany(ctx: RequestContext, input: Json): Promise<Json> {
    const jobs = await this.store.jobs.listJobs(ctx);
    const { page, nextToken } = paginate(jobs, (j) => [j.name, j.name], false, {
      nextToken: str(input, 'NextToken'),
      maxResults: num(input, 'MaxResults'),
      defaultPageSize: 100,
      fingerprint: ['jobs'],
    });
    return compact({ Jobs: page.map(jobToWire), NextToken: nextToken });
  }

  /** The names of the account's jobs, by name, or of those with every tag in Tags. */
  async listNames(ctx: RequestContext, input: Json): Promise<Json> {
    const wantedTags = obj(input, 'Tags') as Record<string, string> | undefined;
    const jobs = await taggedWith(this.store, ctx, await this.store.jobs.listJobs(ctx), (j) => jobArn(ctx, j.name), wantedTags);
    const { page, nextToken } = paginate(jobs, (j) => [j.name, j.name], false, {
      nextToken: str(input, 'NextToken'),
      maxResults: num(input, 'MaxResults'),
      defaultPageSize: 100,
      fingerprint: ['ListJobs', wantedTags ?? {}],
    });
    return compact({ JobNames: page.map((j) => j.name), NextToken: nextToken });
  }

  /** The named jobs in the order asked for (each once); names with no job go into JobsNotFound. */
  async batchGet(ctx: RequestContext, input: Json): Promise<Json> {
    const jobs: Json[] = [];
    const notFound: string[] = [];
    for (const name of new Set(input['JobNames'] as string[])) {
      const job = await this.store.jobs.getJob(ctx, name);
      if (job) jobs.push(jobToWire(job));
      else notFound.push(name);
    }
    return { Jobs: jobs, JobsNotFound: notFound };
  }

  /** As in Glue, JobUpdate replaces the definition; Role and Command are kept when it leaves them out. */
  async update(ctx: RequestContext, input: Json): Promise<Json> {
    const name = str(input, 'JobName')!;
    const current = await this.#require(ctx, name);
    const update = projectToShape(obj(input, 'JobUpdate')!, 'JobUpdate') as Json;
    const doc = withDefaults(
      checkJobDefinition({
        Role: current.doc['Role'],
        Command: current.doc['Command'],
        ...update,
      }),
    );
    const ok = await this.store.jobs.updateJob({ ...current, lastModifiedOn: Date.now(), doc });
    if (!ok) throw entityNotFound(`Job with name: ${name} not found.`);
    return { JobName: name };
  }

  /** Deleting a job that does not exist is not an error (as in Glue). Runs in flight are stopped. */
  async delete(ctx: RequestContext, input: Json): Promise<Json> {
    const name = str(input, 'JobName')!;
    const runs = await this.store.jobs.listJobRuns(ctx, name);
    for (const run of runs) {
      if (run.state === undefined && run.transformId && run.taskRunId) {
        await this.#cancelTask(ctx, run.transformId, run.taskRunId);
      }
    }
    await this.store.jobs.deleteJob(ctx, name, jobArn(ctx, name));
    return { JobName: name };
  }

  async startRun(ctx: RequestContext, input: Json): Promise<Json> {
    const name = str(input, 'JobName')!;
    return this.store.jobs.startingRun(ctx, name, () => this.#startRun(ctx, name, input));
  }

  async #startRun(ctx: RequestContext, name: string, input: Json): Promise<Json> {
    const job = await this.#require(ctx, name);
    const maxConcurrent = num(obj(job.doc, 'ExecutionProperty') ?? {}, 'MaxConcurrentRuns') ?? 1;
    const active = (await Promise.all((await this.store.jobs.listJobRuns(ctx, name)).map((r) => this.#resolve(r))))
      .filter((r) => !TERMINAL_JOB_STATES.has(r.state)).length;
    if (active >= maxConcurrent) {
      throw concurrentRunsExceeded(`Concurrent runs exceeded for ${name}: ${active} of at most ${maxConcurrent} (ExecutionProperty.MaxConcurrentRuns) are running.`);
    }

    const now = await this.store.tasks.clock();
    const request = projectToShape(input, 'StartJobRunRequest') as Json;
    checkJobRunRequest(request, job.doc);
    const runArguments = (request['Arguments'] as Record<string, string> | undefined) ?? {};
    const doc: Json = {};
    for (const m of RUN_MEMBERS) {
      const v = request[m] ?? job.doc[m];
      if (v !== undefined) doc[m] = v;
    }
    // A run sized one way replaces the job's other way of sizing; the deprecated AllocatedCapacity
    // of a run is its MaxCapacity, as for a job.
    const allocated = num(request, 'AllocatedCapacity');
    if (allocated !== undefined) Object.assign(doc, { AllocatedCapacity: allocated, MaxCapacity: allocated });
    if (allocated !== undefined || request['MaxCapacity'] !== undefined) {
      delete doc['WorkerType'];
      delete doc['NumberOfWorkers'];
    } else if (request['WorkerType'] !== undefined || request['NumberOfWorkers'] !== undefined) {
      delete doc['MaxCapacity'];
    }
    // StartJobRun's JobRunId names the earlier run this one retries; Glue shows it as PreviousRunId.
    const previousRunId = str(request, 'JobRunId');
    if (previousRunId !== undefined) {
      if (!(await this.store.jobs.getJobRun(ctx, name, previousRunId))) {
        throw entityNotFound(`JobRunId: job ${name} has no run ${previousRunId} to retry.`);
      }
      doc['PreviousRunId'] = previousRunId;
    }
    if (job.doc['GlueVersion'] !== undefined) doc['GlueVersion'] = job.doc['GlueVersion'];
    if (job.doc['JobMode'] !== undefined) doc['JobMode'] = job.doc['JobMode'];
    const run: JobRunRecord = {
      accountId: ctx.accountId,
      region: ctx.region,
      id: `jr_${randomBytes(32).toString('hex')}`,
      jobName: name,
      startedOn: now,
      lastModifiedOn: now,
      arguments: runArguments,
      doc,
    };
    const fail = async (message: string) => {
      await this.store.jobs.insertJobRun({ ...run, state: 'FAILED', errorMessage: message, completedOn: now });
      return { JobRunId: run.id };
    };

    const command = str(obj(job.doc, 'Command') ?? {}, 'Name');
    if (command !== FIND_MATCHES_COMMAND) {
      return fail(
        `doppel runs only FindMatches jobs: job ${name} has Command.Name ${command === undefined ? '(none)' : `'${command}'`}, ` +
          `expected '${FIND_MATCHES_COMMAND}' (with arguments --transform-id and --output-path).`,
      );
    }
    let args: FindMatchesArgs;
    try {
      args = parseFindMatchesArgs(
        effectiveArguments(
          job.doc['DefaultArguments'] as Record<string, string> | undefined,
          runArguments,
          job.doc['NonOverridableArguments'] as Record<string, string> | undefined,
        ),
      );
    } catch (e) {
      if (e instanceof ArgumentError) return fail(e.message);
      throw e;
    }
    const transform = await this.store.getTransform(ctx, args.transformId);
    if (!transform) {
      return fail(
        `Argument --transform-id: no ML transform ${args.transformId} in account ${ctx.accountId} and region ${ctx.region}.`,
      );
    }

    if (transform.status !== 'READY') {
      return fail(notReadyMessage(transform.id, transform.status));
    }
    if (args.pushDownPredicate !== undefined) {
      const problem = await this.#predicateProblem(ctx, transform, args, args.pushDownPredicate);
      if (problem !== undefined) return fail(problem);
    }

    // The task run first: a crash between the two writes leaves a task run without a job run
    // (harmless), never a job run pointing at nothing.
    const task = startingTaskRun(
      ctx,
      {
        transformId: transform.id,
        id: `tsk-${randomBytes(20).toString('hex')}`,
        taskType: 'FIND_MATCHES',
        properties: { FindMatchesTaskRunProperties: { JobId: name, JobName: name, JobRunId: run.id } },
        // A job run is retried within its job's MaxRetries (see tasks/retry-budget.ts), not its transform's.
        args: { ...args, maxRetries: Number(job.doc['MaxRetries'] ?? JOB_DEFAULTS.MaxRetries) },
      },
      now,
    );
    await this.store.tasks.enqueue(task, { maxActivePerTransform: Number.MAX_SAFE_INTEGER });
    // The job run's Timeout (StartJobRun's, else the job's) bounds the task run, not the transform's.
    const minutes = Number(doc['Timeout'] ?? JOB_DEFAULTS.Timeout);
    await this.store.tasks.setDeadline(task.id, now + minutes * this.timeoutUnitMs);
    await this.store.jobs.insertJobRun({ ...run, transformId: transform.id, taskRunId: task.id });
    this.events.enqueued();
    return { JobRunId: run.id };
  }

  async #requireRun(ctx: RequestContext, name: string, id: string): Promise<JobRunRecord> {
    const run = await this.store.jobs.getJobRun(ctx, name, id);
    if (!run) throw entityNotFound(`Job Run with id: ${id} not found for job ${name}.`);
    return run;
  }

  /**
   * What is wrong with a run's push-down predicate as the input table's partition keys read it
   * (syntax, keys, literal types), so that it fails at once rather than in its task; undefined when
   * it applies, or when the table is missing (the task run reports that).
   */
  async #predicateProblem(ctx: RequestContext, transform: TransformRecord, args: FindMatchesArgs, predicate: string): Promise<string | undefined> {
    const input = (transform.doc['InputRecordTables'] as Array<Record<string, string>>)[0]!;
    const table = await this.store.getTable(
      ctx,
      input['CatalogId'] ?? ctx.accountId,
      (args.inputDatabase ?? input['DatabaseName']!).toLowerCase(),
      (args.inputTable ?? input['TableName']!).toLowerCase(),
    );
    if (!table) return undefined;
    try {
      compilePartitionExpression(predicate, partitionKeysOf(table), `${table.databaseName}.${table.name}`);
      return undefined;
    } catch (e) {
      if (e instanceof ServiceError) return `Argument --push-down-predicate: ${e.message}`;
      throw e;
    }
  }

  async getRun(ctx: RequestContext, input: Json): Promise<Json> {
    const name = str(input, 'JobName')!;
    await this.#require(ctx, name);
    const run = await this.#requireRun(ctx, name, str(input, 'RunId')!);
    const resolved = await this.#resolve(run);
    return { JobRun: runToWire(resolved, await this.store.tasks.clock()) };
  }

  async getRuns(ctx: RequestContext, input: Json): Promise<Json> {
    const name = str(input, 'JobName')!;
    await this.#require(ctx, name);
    const runs = await this.store.jobs.listJobRuns(ctx, name);
    const { page, nextToken } = paginate(runs, (r) => [r.startedOn, r.id], true, {
      nextToken: str(input, 'NextToken'),
      maxResults: num(input, 'MaxResults'),
      defaultPageSize: 100,
      fingerprint: ['job-runs', name],
    });
    const resolved = await Promise.all(page.map((r) => this.#resolve(r)));
    const now = await this.store.tasks.clock();
    return compact({ JobRuns: resolved.map((r) => runToWire(r, now)), NextToken: nextToken });
  }

  async batchStop(ctx: RequestContext, input: Json): Promise<Json> {
    const name = str(input, 'JobName')!;
    const ids = input['JobRunIds'] as string[];
    const ok: Json[] = [];
    const errors: Json[] = [];
    const error = (id: string, code: string, message: string) =>
      errors.push({ JobName: name, JobRunId: id, ErrorDetail: { ErrorCode: code, ErrorMessage: message } });
    for (const id of ids) {
      const run = await this.store.jobs.getJobRun(ctx, name, id);
      if (!run) {
        error(id, 'EntityNotFoundException', `Job Run with id: ${id} not found for job ${name}.`);
        continue;
      }
      const r = await this.#resolve(run);
      if (TERMINAL_JOB_STATES.has(r.state) || !run.transformId || !run.taskRunId) {
        error(id, 'InvalidInputException', `Job run ${id} is ${r.state}: only a STARTING or RUNNING run can be stopped.`);
        continue;
      }
      await this.#cancelTask(ctx, run.transformId, run.taskRunId);
      ok.push({ JobName: name, JobRunId: id });
    }
    return { SuccessfulSubmissions: ok, Errors: errors };
  }

  async #cancelTask(ctx: RequestContext, transformId: string, taskRunId: string): Promise<void> {
    const task = await this.store.tasks.requestCancel(ctx, transformId, taskRunId, await this.store.tasks.clock());
    if (task?.status === 'STOPPING') this.events.cancelRequested(task.id);
    for (const part of await cancelParts(this.store, ctx, transformId, taskRunId)) this.events.cancelRequested(part.id);
  }

  /** The run's state: its own when settled, else its task run's; a vanished task run fails it. */
  async #resolve(run: JobRunRecord): Promise<ResolvedRun> {
    if (run.state !== undefined || !run.transformId || !run.taskRunId) {
      return {
        run,
        state: run.state ?? 'FAILED',
        errorMessage: run.errorMessage,
        completedOn: run.completedOn ?? run.startedOn,
        lastModifiedOn: run.lastModifiedOn,
        executionMs: 0,
        attempt: 0,
      };
    }
    const task = await this.store.tasks.get(run, run.transformId, run.taskRunId);
    if (!task) {
      const now = await this.store.tasks.clock();
      const message =
        `The FIND_MATCHES task run ${run.taskRunId} of transform ${run.transformId} no longer exists ` +
        '(the transform was deleted while the run was in flight or since).';
      await this.store.jobs.settleJobRun(run, run.jobName, run.id, 'FAILED', message, now);
      const settled = (await this.store.jobs.getJobRun(run, run.jobName, run.id)) ?? run;
      return {
        run: settled,
        state: settled.state ?? 'FAILED',
        errorMessage: settled.errorMessage ?? message,
        completedOn: settled.completedOn ?? now,
        lastModifiedOn: settled.lastModifiedOn,
        executionMs: 0,
        attempt: 0,
      };
    }
    return {
      run,
      task,
      state: task.status,
      errorMessage: task.errorString,
      completedOn: task.completedOn,
      lastModifiedOn: task.lastModifiedOn,
      executionMs: task.executionMs,
      ...(task.runningSince !== undefined && !TERMINAL_TASK_STATUSES.has(task.status) ? { runningSince: task.runningSince } : {}),
      attempt: Math.max(0, task.attempt - 1),
    };
  }
}

/** Why a run of a transform that has not been taught fails (also used by the FIND_MATCHES task kind). */
export function notReadyMessage(transformId: string, status: string): string {
  return (
    `Transform ${transformId} is not READY (it is ${status}): teach it with labels first ` +
    '(StartImportLabelsTaskRun with a labeling file that has matches and non-matches).'
  );
}

function withDefaults(doc: Json): Json {
  const out: Json = { ...JOB_DEFAULTS, ...doc };
  if (out['WorkerType'] === undefined && out['MaxCapacity'] === undefined && out['AllocatedCapacity'] === undefined) {
    out['MaxCapacity'] = defaultMaxCapacity(str(obj(out, 'Command') ?? {}, 'Name'));
  }
  if (out['ExecutionProperty'] === undefined) out['ExecutionProperty'] = { MaxConcurrentRuns: 1 };
  return out;
}

function jobToWire(job: JobRecord): Json {
  return compact({
    Name: job.name,
    ...job.doc,
    CreatedOn: toWireTime(job.createdOn),
    LastModifiedOn: toWireTime(job.lastModifiedOn),
  });
}

/** The JobRun wire shape; `now` is on the queue's clock, as the run's times are. */
function runToWire(r: ResolvedRun, now: number): Json {
  const terminal = TERMINAL_JOB_STATES.has(r.state);
  return compact({
    Id: r.run.id,
    Attempt: r.attempt,
    JobName: r.run.jobName,
    StartedOn: toWireTime(r.run.startedOn),
    LastModifiedOn: toWireTime(Math.max(r.lastModifiedOn, r.run.lastModifiedOn)),
    CompletedOn: terminal && r.completedOn !== undefined ? toWireTime(r.completedOn) : undefined,
    JobRunState: r.state,
    Arguments: r.run.arguments,
    ErrorMessage: r.errorMessage,
    PredecessorRuns: [],
    ExecutionTime: Math.round((r.executionMs + (r.runningSince !== undefined ? now - r.runningSince : 0)) / 1000),
    LogGroupName: '/aws-glue/jobs',
    ...r.run.doc,
  });
}
