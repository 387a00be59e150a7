import type { LogFields } from '../core/log.js';
import type { TaskRunRecord } from '../storage/records.js';

/** The ids a log line about a task run carries (core/log.ts). */
export function runFields(run: TaskRunRecord): LogFields {
  return { taskRunId: run.id, taskType: run.taskType, transformId: run.transformId };
}
