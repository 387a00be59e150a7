import type { TaskRunRecord, TaskType, TransformRecord } from '../storage/records.js';
import type { TaskOutcome } from '../storage/task-queue-store.js';

export interface TaskContext {
  run: TaskRunRecord;
  transform: TransformRecord;
  /** Aborted when the run is cancelled, times out, or its lease is lost. */
  signal: AbortSignal;
  /** Records a human-readable progress message on the run (best effort). */
  progress(message: string): Promise<void>;
}

/** What a successful handler hands back: effects committed together with SUCCEEDED. */
export type TaskResult = Pick<TaskOutcome, 'transformPatch' | 'properties' | 'labelChange'>;

/**
 * One kind of task run. `execute` throws to fail the run (the message becomes ErrorString) and
 * must stop promptly once `signal` is aborted.
 */
export interface TaskHandler {
  /**
   * May a run interrupted by a crash or restart simply be started again? True for handlers whose
   * effects are all-or-nothing (they commit only with the terminal status), so a repeat is safe.
   */
  resumable(run: TaskRunRecord): boolean;
  execute(ctx: TaskContext): Promise<TaskResult>;
}

export type TaskHandlers = Readonly<Record<TaskType, TaskHandler>>;

/** A failure whose message is meant for the user as is (becomes the run's ErrorString). */
export class TaskFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaskFailure';
  }
}
