/**
 * Waits for a task run or a job run the way a speed benchmark needs it: a fixed ~100 ms poll (so the
 * wall time from the start call to the terminal state is known to about that), and the run's
 * `Progress` (doppel's extension member `{ Stage, Percent, UpdatedOn }` of GetMLTaskRun, read raw
 * because the SDK drops it) recorded at every change of stage.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GetJobRunCommand, type GlueClient } from '@aws-sdk/client-glue';
import { findMatchesTaskRunId, rawGlueCall, rawNumber } from './aws.js';

const POLL_MS = 100;

/** When a stage was started: both clocks, so server timestamps can be placed on the stage's time line. */
export interface StageClock {
  perf: number;
  epochMs: number;
}

export const stageClock = (): StageClock => ({ perf: performance.now(), epochMs: Date.now() });

/** Seconds since the stage started. */
const elapsed = (clock: StageClock): number => (performance.now() - clock.perf) / 1000;

/** One change of the run's reported stage. */
export interface ProgressTransition {
  /** Seconds after the stage's start call at which the server stored it (its UpdatedOn), else when it was first seen. */
  at: number;
  /** Seconds after the start call at which the poll saw it. */
  seenAt: number;
  stage: string;
  percent: number | null;
}

/** Records the transitions of a run's `Progress` as polls see it. */
export class ProgressLog {
  readonly transitions: ProgressTransition[] = [];
  /** Whether the server reported Progress at all (it is absent on servers that predate it). */
  reported = false;

  constructor(private readonly clock: StageClock) {}

  /** Takes a raw task run (GetMLTaskRun's answer). */
  observe(run: Record<string, unknown>): void {
    const p = run['Progress'] as Record<string, unknown> | undefined;
    if (p === undefined || typeof p['Stage'] !== 'string') return;
    this.reported = true;
    const stage = p['Stage'];
    const last = this.transitions.at(-1);
    if (last?.stage === stage) return;
    const seenAt = elapsed(this.clock);
    const updatedOn = rawNumber(p['UpdatedOn']);
    const storedAt = updatedOn === null ? null : updatedOn - this.clock.epochMs / 1000;
    // A server timestamp is used when it fits between the previous transition and now.
    const at = storedAt !== null && storedAt >= (last?.at ?? 0) && storedAt <= seenAt ? storedAt : seenAt;
    this.transitions.push({ at, seenAt, stage, percent: rawNumber(p['Percent']) });
  }
}

/** The phases a run's stage texts are grouped into (by their first words). */
export const PHASES = ['start', 'read', 'prepare', 'train', 'block', 'score', 'cluster', 'write', 'other'] as const;
export type Phase = (typeof PHASES)[number];

const PHASE_PATTERNS: ReadonlyArray<[Exclude<Phase, 'start' | 'other'>, RegExp]> = [
  ['read', /^reading\b/i],
  ['prepare', /^(profiling|preparing)\b/i],
  ['train', /^training\b/i],
  ['block', /^(blocking|indexing blocking|finding neighbours|collecting candidate)/i],
  ['score', /^scoring\b/i],
  ['cluster', /^(clustering|grouping)\b/i],
  ['write', /^writing\b/i],
];

/** The phase of a stage text; `other` for a stage no pattern knows. */
export function phaseOf(stage: string): Phase {
  for (const [phase, pattern] of PHASE_PATTERNS) if (pattern.test(stage.trim())) return phase;
  return 'other';
}

/**
 * Seconds per phase of a run whose stage transitions are `transitions` and which was seen ending
 * `endSeconds` after its start call: each stage lasts until the next one; `start` is the time before
 * the first reported stage (the start call, the queue, loading the task). Null without transitions.
 */
export function phaseSeconds(transitions: readonly ProgressTransition[], endSeconds: number): Partial<Record<Phase, number>> | null {
  if (transitions.length === 0) return null;
  const out: Partial<Record<Phase, number>> = { start: transitions[0]!.at };
  transitions.forEach((t, i) => {
    const until = i + 1 < transitions.length ? transitions[i + 1]!.at : endSeconds;
    const phase = phaseOf(t.stage);
    out[phase] = (out[phase] ?? 0) + Math.max(0, until - t.at);
  });
  return out;
}

/** A run seen from its start call to its terminal state. */
export interface WatchedRun {
  /** Wall seconds from the start call to the poll that saw the terminal state. */
  seconds: number;
  status: string;
  errorString: string | null;
  taskRunId: string | null;
  progress: ProgressTransition[];
  progressReported: boolean;
  /** The task run's last raw answer (extension members included), when one was read. */
  taskRun: Record<string, unknown> | null;
}

const TASK_TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMEOUT', 'STOPPED']);
const JOB_TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED', 'TIMEOUT', 'ERROR', 'EXPIRED']);

/** Polls a task run (raw GetMLTaskRun) every POLL_MS until it ends; a run that does not succeed is returned, not thrown. */
export async function watchTaskRun(
  endpoint: string,
  transformId: string,
  taskRunId: string,
  clock: StageClock,
  timeoutMs: number,
): Promise<WatchedRun> {
  const progress = new ProgressLog(clock);
  for (;;) {
    const run = await rawGlueCall(endpoint, 'GetMLTaskRun', { TransformId: transformId, TaskRunId: taskRunId });
    progress.observe(run);
    const status = String(run['Status']);
    if (TASK_TERMINAL.has(status)) {
      return {
        seconds: elapsed(clock),
        status,
        errorString: typeof run['ErrorString'] === 'string' ? run['ErrorString'] : null,
        taskRunId,
        progress: progress.transitions,
        progressReported: progress.reported,
        taskRun: run,
      };
    }
    if (elapsed(clock) * 1000 > timeoutMs) {
      throw new Error(`task run ${taskRunId} still ${status} after ${Math.round(timeoutMs / 1000)} s`);
    }
    await sleep(POLL_MS);
  }
}

/**
 * Polls a job run (GetJobRun) every POLL_MS until it ends, and its FIND_MATCHES task run (found by
 * JobRunId, read raw) for Progress; a run that does not succeed is returned, not thrown.
 */
export async function watchJobRun(
  glue: GlueClient,
  endpoint: string,
  transformId: string,
  jobName: string,
  runId: string,
  clock: StageClock,
  timeoutMs: number,
): Promise<WatchedRun> {
  const progress = new ProgressLog(clock);
  let taskRunId: string | null = null;
  let taskRun: Record<string, unknown> | null = null;
  for (;;) {
    const out = await glue.send(new GetJobRunCommand({ JobName: jobName, RunId: runId }));
    const state = out.JobRun?.JobRunState ?? 'UNKNOWN';
    const seconds = elapsed(clock);
    taskRunId ??= await findMatchesTaskRunId(endpoint, transformId, runId);
    if (taskRunId !== null) {
      taskRun = await rawGlueCall(endpoint, 'GetMLTaskRun', { TransformId: transformId, TaskRunId: taskRunId });
      progress.observe(taskRun);
    }
    if (JOB_TERMINAL.has(state)) {
      return {
        seconds,
        status: state,
        errorString: out.JobRun?.ErrorMessage ?? null,
        taskRunId,
        progress: progress.transitions,
        progressReported: progress.reported,
        taskRun,
      };
    }
    if (seconds * 1000 > timeoutMs) {
      throw new Error(`job run ${runId} of ${jobName} still ${state} after ${Math.round(timeoutMs / 1000)} s`);
    }
    await sleep(POLL_MS);
  }
}
