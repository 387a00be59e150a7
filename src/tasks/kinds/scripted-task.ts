import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskRunRecord } from '../../storage/records.js';
import { TaskFailure, type CrawlContext, type CrawlHandler, type TaskContext, type TaskHandler, type TaskResult } from '../task-handler.js';

/**
 * A test-only task kind (enabled with DOPPEL_SCRIPTED_TASKS=1) that lets tests drive the task-run
 * state machine without data. It reads directives from the query string of the run's S3 path (a
 * FIND_MATCHES run's --output-path; a crawl's first S3 target path), e.g. `s3://scripted/x?sleep=300&outcome=fail&message=boom`:
 *   sleep=MS            how long the run takes (default 50), reporting progress as it goes
 *   burn=MS             first keeps the task process's CPU busy for MS ms (its event loop blocked)
 *   outcome=succeed|fail|hang
 *   message=TEXT        ErrorString for outcome=fail
 *   failAttempts=N      fail the first N attempts (then follow `outcome`), to exercise MaxRetries
 *   labels=N            IMPORT_LABELS: adds N labels (sets N with ReplaceAllLabels); READY iff > 0
 *   write=BUCKET/KEY    after the sleep, puts an object holding the run's id there (the run's own write)
 *   resumable=0         an interrupted run fails instead of being resumed (see scriptedRunResumable)
 */
export const scriptedTask: TaskHandler & CrawlHandler = {
  async execute(ctx: TaskContext | CrawlContext): Promise<TaskResult> {
    const d = directives(ctx.run, 'crawler' in ctx ? crawlPathOf(ctx) : undefined);
    const outcome = d.get('outcome') ?? 'succeed';
    const stage = `scripted run: ${outcome}`;
    ctx.progress(stage, 0);
    const burnUntil = Date.now() + Number(d.get('burn') ?? 0);
    while (Date.now() < burnUntil) {
      // Busy on purpose: a CPU-bound handler that never yields.
    }
    if (outcome === 'hang') await sleep(2 ** 31 - 1);
    const total = Number(d.get('sleep') ?? 50);
    const steps = Math.max(1, Math.ceil(total / 100));
    for (let i = 1; i <= steps; i++) {
      await sleep(total / steps);
      ctx.progress(stage, i / steps);
    }
    const write = d.get('write');
    if (write !== null) {
      const slash = write.indexOf('/');
      const body = new TextEncoder().encode(ctx.run.id);
      await ctx.objects.putObject(write.slice(0, slash), write.slice(slash + 1), (async function* () { yield body; })());
    }
    if (outcome === 'fail') throw new TaskFailure(d.get('message') ?? 'scripted failure');
    if (ctx.run.attempt <= Number(d.get('failAttempts') ?? 0)) {
      throw new TaskFailure(`scripted failure of attempt ${ctx.run.attempt}`);
    }

    const labels = d.get('labels');
    if ('transform' in ctx && ctx.run.taskType === 'IMPORT_LABELS' && labels !== null) {
      const replace = ctx.run.properties['ImportLabelsTaskRunProperties'] as { Replace?: boolean };
      const count = Number(labels) + (replace?.Replace ? 0 : ctx.transform.labelCount);
      return {
        transformPatch: { labelCount: count, status: count > 0 ? 'READY' : 'NOT_READY' },
      };
    }
    return {};
  },
};

/** A scripted run may be resumed after an interruption unless its path says `resumable=0`. */
export function scriptedRunResumable(run: TaskRunRecord): boolean {
  return directives(run).get('resumable') !== '0';
}

const crawlPathOf = (ctx: CrawlContext) =>
  ((ctx.crawler.doc['Targets'] as { S3Targets?: Array<{ Path?: string }> } | undefined)?.S3Targets ?? [])[0]?.Path ?? '';

function directives(run: TaskRunRecord, crawlPath?: string): URLSearchParams {
  const p = run.properties;
  const path =
    crawlPath ??
    (p['ImportLabelsTaskRunProperties'] as { InputS3Path?: string } | undefined)?.InputS3Path ??
    (p['ExportLabelsTaskRunProperties'] as { OutputS3Path?: string } | undefined)?.OutputS3Path ??
    (p['LabelingSetGenerationTaskRunProperties'] as { OutputS3Path?: string } | undefined)
      ?.OutputS3Path ??
    (run.args as { outputPath?: string }).outputPath ??
    '';
  const q = path.indexOf('?');
  return new URLSearchParams(q >= 0 ? path.slice(q + 1) : '');
}
