import type { LogFields } from '../core/log.js';
import { crawlerQueueKey } from '../storage/crawler-store.js';
import type { TaskRunRecord } from '../storage/records.js';

/** The ids a log line about a task run carries (core/log.ts): a crawl's crawler, else the run's transform. */
export function runFields(run: TaskRunRecord): LogFields {
  const owner = run.taskType === 'CRAWL'
    ? { crawlerName: run.transformId.slice(crawlerQueueKey('').length) }
    : { transformId: run.transformId };
  return { taskRunId: run.id, taskType: run.taskType, ...owner };
}
