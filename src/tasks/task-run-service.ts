import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  concurrentRunsExceeded,
  entityNotFound,
  invalidInput,
  transformNotReady,
} from '../core/errors.js';
import { paginate, type SortKey } from '../core/pagination.js';
import type { RequestContext } from '../core/request-context.js';
import { compact, fromWireTime, obj, str, toWireTime, type Json } from '../core/wire.js';
import { StoreConflict, type MetadataStore } from '../storage/metadata-store.js';
import { startingTaskRun, TERMINAL_TASK_STATUSES, type TaskRunRecord, type TaskType } from '../storage/records.js';
import type { TransformService } from '../transforms/transform-service.js';
import { cancelParts, isPart } from './kinds/find-matches-parts.js';

export interface TaskRunLimits {
  /** Runs in STARTING/RUNNING/STOPPING per transform before Start* answers ConcurrentRunsExceeded. */
  maxActivePerTransform: number;
}

/** What the services tell whoever executes task runs (the supervisor), so that it need not wait for its next look. */
export interface TaskRunEvents {
  /** A run was enqueued. */
  enqueued(): void;
  /** A cancel was recorded for this run while it was running: stop it now. */
  cancelRequested(taskRunId: string): void;
}

/** Record pairs one ExplainMatches request may ask about. */
const MAX_EXPLAINED_PAIRS = 100;
/** How long an ExplainMatches request waits for its task run, and how often it looks. */
const EXPLAIN_WAIT_MS = 10 * 60_000;
const EXPLAIN_POLL_MS = 50;

/** An S3 URI as Glue accepts it: s3://bucket[/key]. */
const S3_URI = /^s3:\/\/[^/\s]+(\/.*)?$/s;

/**
 * Starting, reading and cancelling ML task runs. Starting only enqueues: the run is executed by a
 * task process, whose supervisor `events` tells about new runs and cancels.
 */
export class TaskRunService {
  constructor(
    private readonly store: MetadataStore,
    private readonly transforms: TransformService,
    private readonly limits: TaskRunLimits,
    private readonly events: TaskRunEvents,
  ) {}

  async #start(
    ctx: RequestContext,
    transformId: string,
    taskType: TaskType,
    properties: Json,
    limited: boolean,
    args: Record<string, unknown> = {},
  ): Promise<{ TaskRunId: string }> {
    const now = await this.store.tasks.clock();
    const run = startingTaskRun(ctx, { transformId, id: `tsk-${randomBytes(20).toString('hex')}`, taskType, properties, args }, now);
    try {
      await this.store.tasks.enqueue(run, {
        maxActivePerTransform: limited ? this.limits.maxActivePerTransform : Number.MAX_SAFE_INTEGER,
      });
    } catch (e) {
      if (e instanceof StoreConflict && e.kind === 'concurrency-limit') {
        throw concurrentRunsExceeded(
          `ML Task Runs count ${e.detail['count']} has exceeded the transform limit of ${e.detail['limit']} task runs.`,
        );
      }
      throw e;
    }
    this.events.enqueued();
    return { TaskRunId: run.id };
  }

  async startLabelingSetGeneration(ctx: RequestContext, input: Json): Promise<Json> {
    const t = await this.transforms.require(ctx, str(input, 'TransformId')!);
    const path = s3Path(input, 'OutputS3Path');
    return this.#start(
      ctx,
      t.id,
      'LABELING_SET_GENERATION',
      { LabelingSetGenerationTaskRunProperties: { OutputS3Path: path } },
      true,
    );
  }

  async startImportLabels(ctx: RequestContext, input: Json): Promise<Json> {
    const t = await this.transforms.require(ctx, str(input, 'TransformId')!);
    const path = str(input, 'InputS3Path')!;
    if (!S3_URI.test(path)) throw invalidInput('Invalid label file path.');
    const replace = input['ReplaceAllLabels'] === true;
    return this.#start(
      ctx,
      t.id,
      'IMPORT_LABELS',
      { ImportLabelsTaskRunProperties: { InputS3Path: path, Replace: replace } },
      false,
    );
  }

  async startExportLabels(ctx: RequestContext, input: Json): Promise<Json> {
    const t = await this.transforms.require(ctx, str(input, 'TransformId')!);
    const path = s3Path(input, 'OutputS3Path');
    if (t.labelCount === 0) {
      throw entityNotFound(`No labelset exists for transformId ${t.id} in account id ${ctx.accountId}.`);
    }
    return this.#start(ctx, t.id, 'EXPORT_LABELS', { ExportLabelsTaskRunProperties: { OutputS3Path: path } }, false);
  }

  async startEvaluation(ctx: RequestContext, input: Json): Promise<Json> {
    const t = await this.transforms.require(ctx, str(input, 'TransformId')!);
    if (t.status !== 'READY') {
      throw transformNotReady('This operation can only be applied to a transform that is in a READY state.');
    }
    return this.#start(ctx, t.id, 'EVALUATION', {}, true);
  }

  /**
   * doppel's ExplainMatches: why the model the transform's find-matches runs use scores each given
   * pair of records (by primary key) as it does. The work is a task run (EXPLAIN_MATCHES, executed
   * by a task process like every other); the request waits for it and answers with its
   * explanations, or with its error.
   */
  async explainMatches(ctx: RequestContext, input: Json): Promise<Json> {
    const transformId = input['TransformId'];
    if (typeof transformId !== 'string' || transformId === '') throw invalidInput('TransformId is required.');
    const t = await this.transforms.require(ctx, transformId);
    const given = input['RecordPairs'];
    if (!Array.isArray(given) || given.length === 0 || given.length > MAX_EXPLAINED_PAIRS) {
      throw invalidInput(`RecordPairs must be a list of 1 to ${MAX_EXPLAINED_PAIRS} pairs {"Left": <primary key>, "Right": <primary key>}.`);
    }
    const pairs = given.map((p: unknown, i) => {
      const pair = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
      const left = pair['Left'], right = pair['Right'];
      if (typeof left !== 'string' || left === '' || typeof right !== 'string' || right === '') {
        throw invalidInput(`RecordPairs[${i}] must have Left and Right, the primary keys of two records of the transform's table.`);
      }
      if (left === right) {
        throw invalidInput(`RecordPairs[${i}] names record ${left} twice: a record is not explained against itself, give two different primary keys.`);
      }
      return { left, right };
    });
    if (t.status !== 'READY') {
      throw transformNotReady('This operation can only be applied to a transform that is in a READY state.');
    }
    const { TaskRunId } = await this.#start(ctx, t.id, 'EXPLAIN_MATCHES', {}, true, { pairs });
    const deadline = Date.now() + EXPLAIN_WAIT_MS;
    for (;;) {
      const run = await this.#requireRun(ctx, t.id, TaskRunId);
      if (run.status === 'SUCCEEDED') {
        const props = run.properties['ExplainMatchesTaskRunProperties'] as { Explanations: Json[] };
        return { TransformId: t.id, TaskRunId, Explanations: props.Explanations };
      }
      if (TERMINAL_TASK_STATUSES.has(run.status)) {
        throw invalidInput(`ExplainMatches task run ${TaskRunId} ended ${run.status}: ${run.errorString ?? 'no error given'}`);
      }
      if (Date.now() > deadline) {
        throw invalidInput(`ExplainMatches task run ${TaskRunId} is still ${run.status} after ${EXPLAIN_WAIT_MS / 60_000} minutes; GetMLTaskRun shows its explanations once it has SUCCEEDED.`);
      }
      await sleep(EXPLAIN_POLL_MS);
    }
  }

  async #requireRun(ctx: RequestContext, transformId: string, taskRunId: string): Promise<TaskRunRecord> {
    const run = await this.store.tasks.get(ctx, transformId, taskRunId);
    // A find-matches run's parts are its own work, not runs a Glue client knows of.
    if (!run || isPart(run)) {
      throw entityNotFound(
        `No ML Task Run found for ${taskRunId}: in account ${ctx.accountId} for transform ${transformId}.`,
      );
    }
    return run;
  }

  async get(ctx: RequestContext, input: Json): Promise<Json> {
    const t = await this.transforms.require(ctx, str(input, 'TransformId')!);
    return toWire(await this.#requireRun(ctx, t.id, str(input, 'TaskRunId')!), await this.store.tasks.clock());
  }

  async getMany(ctx: RequestContext, input: Json): Promise<Json> {
    const t = await this.transforms.require(ctx, str(input, 'TransformId')!);
    const filter = obj(input, 'Filter') ?? {};
    const sort = obj(input, 'Sort');
    const before = filter['StartedBefore'] !== undefined ? fromWireTime(filter['StartedBefore']) : undefined;
    const after = filter['StartedAfter'] !== undefined ? fromWireTime(filter['StartedAfter']) : undefined;
    const runs = (await this.store.tasks.list(ctx, t.id)).filter(
      (r) =>
        !isPart(r) &&
        (filter['TaskRunType'] === undefined || r.taskType === filter['TaskRunType']) &&
        (filter['Status'] === undefined || r.status === filter['Status']) &&
        (before === undefined || r.startedOn < before) &&
        (after === undefined || r.startedOn > after),
    );
    const column = sort ? str(sort, 'Column')! : 'STARTED';
    const descending = sort ? str(sort, 'SortDirection') === 'DESCENDING' : true;
    const key: (r: TaskRunRecord) => SortKey =
      column === 'TASK_RUN_TYPE'
        ? (r) => [r.taskType, r.id]
        : column === 'STATUS'
          ? (r) => [r.status, r.id]
          : (r) => [r.startedOn, r.id];
    const { page, nextToken } = paginate(runs, key, descending, {
      nextToken: str(input, 'NextToken'),
      maxResults: input['MaxResults'] as number | undefined,
      defaultPageSize: 100,
      fingerprint: [t.id, filter, sort ?? null],
    });
    const now = await this.store.tasks.clock();
    return compact({ TaskRuns: page.map((r) => toWire(r, now)), NextToken: nextToken });
  }

  async cancel(ctx: RequestContext, input: Json): Promise<Json> {
    const t = await this.transforms.require(ctx, str(input, 'TransformId')!);
    const id = str(input, 'TaskRunId')!;
    await this.#requireRun(ctx, t.id, id);
    const run = await this.store.tasks.requestCancel(ctx, t.id, id, await this.store.tasks.clock());
    if (!run) {
      throw entityNotFound(`No ML Task Run found for ${id}: in account ${ctx.accountId} for transform ${t.id}.`);
    }
    if (run.status === 'STOPPING') this.events.cancelRequested(run.id);
    for (const part of await cancelParts(this.store, ctx, t.id, run.id)) this.events.cancelRequested(part.id);
    return { TransformId: t.id, TaskRunId: run.id, Status: run.status };
  }
}

function s3Path(input: Json, member: string): string {
  const path = str(input, member)!;
  if (!S3_URI.test(path)) {
    throw invalidInput(`${member} must be an S3 URI of the form s3://bucket/prefix, got: ${path}`);
  }
  return path;
}

/**
 * The TaskRun wire shape, with doppel's own members after Glue's (SDKs drop them): `Progress` while
 * the run is RUNNING or STOPPING and its handler has reported some, `Attempt` and `InterruptionCount`.
 * `now` is on the queue's clock, as the run's times are.
 */
export function toWire(r: TaskRunRecord, now: number): Json {
  const terminal = TERMINAL_TASK_STATUSES.has(r.status);
  const runningMs = r.runningSince !== undefined && !terminal ? now - r.runningSince : 0;
  const running = r.status === 'RUNNING' || r.status === 'STOPPING';
  return compact({
    TransformId: r.transformId,
    TaskRunId: r.id,
    Status: r.status,
    Properties: { TaskType: r.taskType, ...r.properties },
    ErrorString: r.errorString,
    StartedOn: toWireTime(r.startedOn),
    LastModifiedOn: toWireTime(r.lastModifiedOn),
    CompletedOn: r.completedOn !== undefined ? toWireTime(r.completedOn) : undefined,
    ExecutionTime: Math.round((r.executionMs + runningMs) / 1000),
    Progress:
      running && r.progress
        ? { Stage: r.progress.stage, Percent: r.progress.percent, UpdatedOn: toWireTime(r.progress.updatedOn) }
        : undefined,
    Attempt: r.attempt,
    InterruptionCount: r.interruptions,
  });
}
