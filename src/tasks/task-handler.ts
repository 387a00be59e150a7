import type { AccountObjectStore } from '../storage/account-object-store.js';
import type { CrawlerRecord } from '../storage/crawler-store.js';
import type { TaskRunRecord, TransformRecord, TransformTaskType } from '../storage/records.js';
import type { TaskOutcome } from '../storage/task-queue-store.js';

export interface TaskContext {
  run: TaskRunRecord;
  transform: TransformRecord;
  /** The object store as the run's account sees it: the run reads and writes only its own buckets. */
  objects: AccountObjectStore;
  /**
   * Reports how far the run has come: the stage it is in and, when known, the share of the whole
   * run done (0 to 1). Cheap to call often: it is stored at most twice a second.
   */
  progress(stage: string, fraction?: number): void;
}

/** What a CRAWL run is given: its crawler's definition instead of a transform. */
export interface CrawlContext extends Omit<TaskContext, 'transform'> {
  crawler: CrawlerRecord;
}

/** What a successful handler hands back: effects committed together with SUCCEEDED. */
export type TaskResult = Pick<TaskOutcome, 'transformPatch' | 'properties' | 'labelChange' | 'catalogChange'>;

/**
 * One kind of task run, executed in a task process (see task-process.ts). `execute` throws to fail
 * the run (the message becomes ErrorString). A run is cancelled or timed out by killing its process,
 * so a handler need not watch for that; in exchange its effects must be all-or-nothing: committed
 * only with the terminal status (TaskResult) or written where nothing reads them before then, so
 * that a run cut short at any point can simply run again.
 */
export interface TaskHandler {
  execute(ctx: TaskContext): Promise<TaskResult>;
}

/** A crawl, with the same contract as TaskHandler. */
export interface CrawlHandler {
  execute(ctx: CrawlContext): Promise<TaskResult>;
}

export type TaskHandlers = Readonly<Record<TransformTaskType, TaskHandler>> & { readonly CRAWL: CrawlHandler };

/** A failure whose message is meant for the user as is (becomes the run's ErrorString). */
export class TaskFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaskFailure';
  }
}
