import type { MetadataStore } from '../storage/metadata-store.js';
import type { TaskRunRecord, TransformRecord } from '../storage/records.js';

/**
 * The MaxRetries that bounds a run's attempts: for a job run's find-matches run and its parts, the
 * job's, as it was when the job run started (`args.maxRetries`); for the transform's own task runs,
 * the transform's. A crawl has none (Glue's crawlers have no MaxRetries): it is never retried. A
 * failed attempt and one whose task process or node died draw on this one budget, through the run's
 * shared `attempt` count.
 */
export function maxRetriesOf(run: Pick<TaskRunRecord, 'args'>, transform: TransformRecord | undefined): number {
  return ofJob(run) ?? Number(transform?.doc['MaxRetries'] ?? 0);
}

/** The MaxRetries of a run, reading its transform from the store only when it needs it (0 for a crawl, or when its transform is gone). */
export async function loadMaxRetries(store: MetadataStore, run: TaskRunRecord): Promise<number> {
  if (run.taskType === 'CRAWL') return 0;
  return ofJob(run) ?? maxRetriesOf(run, await store.getTransform(run, run.transformId));
}

/** The job's MaxRetries a job run's runs carry (args.maxRetries); undefined for a transform's own runs. */
function ofJob(run: Pick<TaskRunRecord, 'args'>): number | undefined {
  const maxRetries = run.args['maxRetries'];
  return typeof maxRetries === 'number' ? maxRetries : undefined;
}

/** What a run started on behalf of `run` (a find-matches run's part) carries in its args to retry within the same budget. */
export function retryArgsOf(run: Pick<TaskRunRecord, 'args'>): { maxRetries?: number } {
  const maxRetries = ofJob(run);
  return maxRetries === undefined ? {} : { maxRetries };
}

/** Whether the run may start another attempt: its attempts so far do not exceed MaxRetries. */
export function mayRetry(run: Pick<TaskRunRecord, 'attempt'>, maxRetries: number): boolean {
  return run.attempt <= maxRetries;
}
