import { AccountObjectStore } from '../storage/account-object-store.js';
import type { MetadataStore } from '../storage/metadata-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { TaskRunRecord } from '../storage/records.js';
import type { TaskOutcome } from '../storage/task-queue-store.js';
import { ProgressReporter } from './progress-reporter.js';
import type { TaskHandlers } from './task-handler.js';
import type { Log } from '../core/log.js';
import { runFields } from './run-log-fields.js';
import { maxRetriesOf, mayRetry } from './retry-budget.js';

export interface AttemptDeps {
  store: MetadataStore;
  /** The whole object store; a run sees it as its account does. */
  objects: ObjectStore;
  handlers: TaskHandlers;
  log: Log;
  /** Called just before the attempt commits how it ended. */
  committing?: () => void;
}

/**
 * Executes the current attempt of a claimed run and commits how it ended, with the lease owner's
 * token: SUCCEEDED with the handler's effects, or FAILED (back to the queue instead while the
 * run's MaxRetries allows another attempt, see retry-budget.ts). Stopping a run is not done here: the supervisor
 * kills the process and commits STOPPED or TIMEOUT itself.
 */
export async function runAttempt(deps: AttemptDeps, run: TaskRunRecord, owner: string): Promise<void> {
  const { store } = deps;
  const transform = run.taskType === 'CRAWL' ? undefined : await store.getTransform(run, run.transformId);
  const crawler = run.taskType === 'CRAWL' ? await store.crawlers.getCrawler(run, run.properties['CrawlerName'] as string) : undefined;
  if (!transform && !crawler) return; // deleted meanwhile: its runs went with it
  const name = `task run ${run.id} (${run.taskType})`;
  const fields = runFields(run);
  const progress = new ProgressReporter(
    (point) => {
      store.tasks.reportProgress(run.id, owner, point, Date.now()).catch((e: unknown) => {
        deps.log(`${name}: progress not stored: ${(e as Error).message}`, { level: 'warn', ...fields });
      });
    },
    (point) => deps.log(`${name} ${point.percent}%: ${point.stage}`, fields),
  );
  let outcome: TaskOutcome;
  try {
    const common = {
      run,
      objects: new AccountObjectStore(deps.objects, run.accountId),
      progress: (stage: string, fraction?: number) => progress.report(stage, fraction),
    };
    const result =
      run.taskType === 'CRAWL'
        ? await deps.handlers.CRAWL.execute({ ...common, crawler: crawler! })
        : await deps.handlers[run.taskType].execute({ ...common, transform: transform! });
    outcome = { status: 'SUCCEEDED', ...result };
  } catch (e) {
    outcome = { status: 'FAILED', errorString: errorStringOf(e) };
  } finally {
    progress.close();
  }
  deps.committing?.();
  if (outcome.status === 'FAILED' && mayRetry(run, maxRetriesOf(run, transform)) && (await store.tasks.retry(run.id, owner, Date.now()))) {
    deps.log(`${name} failed (${outcome.errorString}); retrying`, { level: 'warn', ...fields });
    return;
  }
  if (await store.tasks.finish(run.id, owner, outcome, Date.now())) {
    deps.log(`${name} ${outcome.status}${outcome.errorString ? `: ${outcome.errorString}` : ''}`, { ...(outcome.status === 'SUCCEEDED' ? {} : { level: 'warn' as const }), ...fields });
  }
}

function errorStringOf(e: unknown): string {
  if (e instanceof Error && e.name === 'TaskFailure') return e.message;
  const message = e instanceof Error ? e.message : String(e);
  return `Internal error while running the task: ${message}`;
}
