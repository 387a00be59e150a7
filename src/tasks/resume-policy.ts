import type { TaskRunRecord } from '../storage/records.js';
import { scriptedRunResumable } from './kinds/scripted-task.js';

/**
 * May a run whose attempt was cut short (its task process died, or the server did) simply start
 * again? Every task kind commits its effects only with the terminal status (see TaskHandler), so a
 * repeat is always safe; the scripted test kind can say no, to exercise the other path.
 */
export function resumePolicy(scriptedTasks: boolean): (run: TaskRunRecord) => boolean {
  return scriptedTasks ? scriptedRunResumable : () => true;
}
