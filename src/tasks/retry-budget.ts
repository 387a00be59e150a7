import type { MetadataStore } from '../storage/metadata-store.js';
import type { TaskRunRecord, TransformRecord } from '../storage/records.js';

/**
 * The MaxRetries that bounds a run's attempts: its transform's, for the transform's own task runs,
 * a job run's find-matches run and that run's parts alike. A crawl has none (Glue's crawlers have no
 * MaxRetries): it is never retried. A failed attempt and one whose task process or node died draw
 * on this one budget, through the run's shared `attempt` count.
 */
export function maxRetriesOf(transform: TransformRecord | undefined): number {
  return Number(transform?.doc['MaxRetries'] ?? 0);
}

/** The MaxRetries of a run read from the store (0 for a crawl, or when its transform is gone). */
export async function loadMaxRetries(store: MetadataStore, run: TaskRunRecord): Promise<number> {
  return run.taskType === 'CRAWL' ? 0 : maxRetriesOf(await store.getTransform(run, run.transformId));
}

/** Whether the run may start another attempt: its attempts so far do not exceed MaxRetries. */
export function mayRetry(run: Pick<TaskRunRecord, 'attempt'>, maxRetries: number): boolean {
  return run.attempt <= maxRetries;
}
