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
import { whileLeaseHolds } from './lease-retry.js';

export interface AttemptDeps {
  store: MetadataStore;
  /** The whole object store; a run sees it as its account does. */
  objects: ObjectStore;
  handlers: TaskHandlers;
  log: Log;
  /** Called just before the attempt commits how it ended. */
  committing?: () => void;
  /** When the run's lease ends unless renewed (this machine's clock), moved on by each renewal. */
  leaseUntil: () => number;
}

/**
 * Executes the current attempt of a claimed run and commits how it ended, with the lease owner's
 * token: SUCCEEDED with the handler's effects, or FAILED (back to the queue instead while the
 * run's MaxRetries allows another attempt, see retry-budget.ts). Stopping a run is not done here: the supervisor
 * kills the process and commits STOPPED or TIMEOUT itself.
 */
export async function runAttempt(deps: AttemptDeps, run: TaskRunRecord, owner: string): Promise<void> {
  const { store } = deps;
  const name = `task run ${run.id} (${run.taskType})`;
  const fields = runFields(run);
  // The metadata store unreachable for a moment (PostgreSQL restarting, a connection terminated)
  // delays the attempt while its lease holds, rather than failing it.
  const leased = <T>(step: string, call: () => Promise<T>) =>
    whileLeaseHolds(call, deps.leaseUntil, (e, waitMs) =>
      deps.log(`${name}: ${step} failed, the metadata store being unreachable (${e.message}); trying again in ${waitMs} ms`, { level: 'warn', ...fields }),
    );
  const { transform, crawler } = await leased('reading its transform', async () => ({
    transform: run.taskType === 'CRAWL' ? undefined : await store.getTransform(run, run.transformId),
    crawler: run.taskType === 'CRAWL' ? await store.crawlers.getCrawler(run, run.properties['CrawlerName'] as string) : undefined,
  }));
  if (!transform && !crawler) return; // deleted meanwhile: its runs went with it
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
    // A task that failed for want of the store is executed again from the start, as a retried
    // attempt would be: its effects are committed only with its outcome, and whatever it wrote
    // elsewhere (its output) a new execution writes over.
    const result = await leased('executing the task', () =>
      run.taskType === 'CRAWL'
        ? deps.handlers.CRAWL.execute({ ...common, crawler: crawler! })
        : deps.handlers[run.taskType].execute({ ...common, transform: transform! }),
    );
    outcome = { status: 'SUCCEEDED', ...result };
  } catch (e) {
    outcome = { status: 'FAILED', errorString: errorStringOf(e) };
  } finally {
    progress.close();
  }
  deps.committing?.();
  // Repeating a commit whose first try did commit changes nothing: the run has left this lease.
  const retried =
    outcome.status === 'FAILED' &&
    mayRetry(run, maxRetriesOf(run, transform)) &&
    (await leased('committing', async () => store.tasks.retry(run.id, owner, await store.tasks.clock())));
  if (retried) {
    deps.log(`${name} failed (${outcome.errorString}); retrying`, { level: 'warn', ...fields });
    return;
  }
  if (await leased('committing', async () => store.tasks.finish(run.id, owner, outcome, await store.tasks.clock()))) {
    deps.log(`${name} ${outcome.status}${outcome.errorString ? `: ${outcome.errorString}` : ''}`, { ...(outcome.status === 'SUCCEEDED' ? {} : { level: 'warn' as const }), ...fields });
  }
}

function errorStringOf(e: unknown): string {
  if (e instanceof Error && e.name === 'TaskFailure') return e.message;
  const message = e instanceof Error ? e.message : String(e);
  return `Internal error while running the task: ${message}`;
}
