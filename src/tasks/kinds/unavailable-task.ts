import type { TaskType } from '../../storage/records.js';
import { TaskFailure, type TaskHandler } from '../task-handler.js';

/**
 * The handler for task kinds whose data-plane work this build does not have yet: the run fails
 * with a message that says so, instead of pretending to succeed.
 */
export function unavailableTask(taskType: TaskType): TaskHandler {
  return {
    resumable: () => false,
    execute: async () => {
      throw new TaskFailure(
        `${taskType} task runs need the data plane (S3 object store and table readers), ` +
          'which this doppel build does not include yet.',
      );
    },
  };
}
