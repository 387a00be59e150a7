import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { configFrom, DEFAULTS } from '../config.js';
import { FIND_MATCHES_COMMAND } from '../jobs/find-matches-args.js';
import { startDoppel } from '../server.js';
import { GlueCallError, GlueCaller } from './glue-caller.js';
import { ProgressDisplay, type RunProgress } from './progress-display.js';

export const FIND_MATCHES_USAGE = `  doppel find-matches --transform-id ID --output-path s3://bucket/prefix/
                      [--output-format csv|json|parquet] [--compute-match-confidence-scores]
                      [--remove-duplicates] [--input-database D --input-table T] [--push-down-predicate P]
                      [--explain] [--golden-records]
                      [--existing-path s3://... (--incremental-path s3://... |
                       --incremental-database D --incremental-table T) [--conflicts-path s3://...]]
                      [--keep-incremental-state true|false]
                      [--endpoint URL | --data-dir D] [--region R] [--job-name NAME] [--no-wait]
`;

export const FIND_MATCHES_HELP = `find-matches runs a FindMatches job exactly as a Glue client would (CreateJob once, StartJobRun,
GetJobRun until it ends) against the server at --endpoint [DOPPEL_ENDPOINT, AWS_ENDPOINT_URL;
default http://127.0.0.1:${DEFAULTS.port}], signed with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
(default test / test). While it waits it shows the run's progress on stderr: a bar with the percent,
stage and time left on a terminal, a line per stage (and every 10 s) otherwise. With --data-dir it
starts a doppel node on that data dir itself for the run (beside any server or worker already on
it, as nodes share a data dir) and stops it afterwards. The job's arguments keep their Glue names;
the true/false ones are flags here, but --keep-incremental-state takes true or false
(--no-incremental-state is --keep-incremental-state false). --job-name names the job it creates
once (default doppel-find-matches); --no-wait prints the job run's id once the run is started and
does not wait for it.
`;

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMEOUT', 'STOPPED', 'ERROR', 'EXPIRED']);

/** How often the run is looked at while the CLI waits. */
const POLL_MS = 500;

/**
 * The FIND_MATCHES task run behind a job run: the one of the transform whose properties name the
 * job run (GetMLTaskRuns lists newest first, so it is normally on the first page).
 */
async function findMatchesTaskRunOf(glue: GlueCaller, transformId: string, jobRunId: string): Promise<string | undefined> {
  type Run = { TaskRunId?: string; Properties?: { FindMatchesTaskRunProperties?: { JobRunId?: string } } };
  let token: unknown;
  do {
    const page = await glue.call('GetMLTaskRuns', {
      TransformId: transformId,
      Filter: { TaskRunType: 'FIND_MATCHES' },
      ...(token !== undefined ? { NextToken: token } : {}),
    });
    const found = ((page['TaskRuns'] as Run[] | undefined) ?? []).find(
      (r) => r.Properties?.FindMatchesTaskRunProperties?.JobRunId === jobRunId,
    );
    if (found?.TaskRunId) return found.TaskRunId;
    token = page['NextToken'];
  } while (token !== undefined);
  return undefined;
}

/** doppel's `Progress` member of a task run (the raw response: SDKs would drop it). */
async function progressOf(glue: GlueCaller, transformId: string, taskRunId: string): Promise<RunProgress | undefined> {
  const run = await glue.call('GetMLTaskRun', { TransformId: transformId, TaskRunId: taskRunId });
  const p = run['Progress'] as { Stage?: unknown; Percent?: unknown } | undefined;
  return typeof p?.Stage === 'string' && typeof p.Percent === 'number' ? { stage: p.Stage, percent: p.Percent } : undefined;
}

/** `doppel find-matches ...`: returns the process exit code (0 when the run SUCCEEDED). */
export async function findMatchesCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'transform-id': { type: 'string' },
      'output-path': { type: 'string' },
      'output-format': { type: 'string' },
      'compute-match-confidence-scores': { type: 'boolean' },
      'remove-duplicates': { type: 'boolean' },
      'input-database': { type: 'string' },
      'input-table': { type: 'string' },
      'push-down-predicate': { type: 'string' },
      explain: { type: 'boolean' },
      'golden-records': { type: 'boolean' },
      'keep-incremental-state': { type: 'string' },
      'no-incremental-state': { type: 'boolean' },
      'existing-path': { type: 'string' },
      'incremental-path': { type: 'string' },
      'incremental-database': { type: 'string' },
      'incremental-table': { type: 'string' },
      'conflicts-path': { type: 'string' },
      endpoint: { type: 'string' },
      'data-dir': { type: 'string' },
      region: { type: 'string' },
      'job-name': { type: 'string' },
      'no-wait': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`Usage:\n${FIND_MATCHES_USAGE}\n${FIND_MATCHES_HELP}`);
    return 0;
  }
  if (!values['transform-id'] || !values['output-path']) {
    process.stderr.write(`--transform-id and --output-path are required\n\nUsage:\n${FIND_MATCHES_USAGE}\n${FIND_MATCHES_HELP}`);
    return 2;
  }
  if (values.endpoint && values['data-dir']) {
    process.stderr.write('give either --endpoint (a running server) or --data-dir (run one here), not both\n');
    return 2;
  }
  const keepIncrementalState = values['keep-incremental-state'];
  if (keepIncrementalState !== undefined && keepIncrementalState !== 'true' && keepIncrementalState !== 'false') {
    process.stderr.write(`--keep-incremental-state must be true or false, got ${JSON.stringify(keepIncrementalState)}\n`);
    return 2;
  }
  if (keepIncrementalState !== undefined && values['no-incremental-state']) {
    process.stderr.write('give either --keep-incremental-state or --no-incremental-state, not both\n');
    return 2;
  }
  const env = process.env;
  const log = (m: string) => process.stderr.write(`${m}\n`);

  let embedded: Awaited<ReturnType<typeof startDoppel>> | undefined;
  let endpoint = values.endpoint;
  if (values['data-dir']) {
    const config = configFrom({ port: '0', host: '127.0.0.1', dataDir: values['data-dir'] }, env);
    embedded = await startDoppel(config, env, (m) => log(`[doppel] ${m}`));
    endpoint = embedded.url;
  }
  try {
    const glue = GlueCaller.fromEnvironment(endpoint, values.region);
    const jobName = values['job-name'] ?? 'doppel-find-matches';
    try {
      await glue.call('CreateJob', {
        Name: jobName,
        Role: `arn:aws:iam::123456789012:role/doppel`,
        Command: { Name: FIND_MATCHES_COMMAND },
        Description: 'Created by `doppel find-matches`.',
        ExecutionProperty: { MaxConcurrentRuns: 1000 },
      });
    } catch (e) {
      if (!(e instanceof GlueCallError && e.type === 'AlreadyExistsException')) throw e;
    }
    const args: Record<string, string> = {
      '--transform-id': values['transform-id'],
      '--output-path': values['output-path'],
      '--output-format': values['output-format'] ?? 'csv',
      '--compute-match-confidence-scores': String(values['compute-match-confidence-scores'] === true),
      '--remove-duplicates': String(values['remove-duplicates'] === true),
    };
    if (values.explain) args['--explain'] = 'true';
    if (values['golden-records']) args['--golden-records'] = 'true';
    if (keepIncrementalState !== undefined) args['--keep-incremental-state'] = keepIncrementalState;
    if (values['no-incremental-state']) args['--keep-incremental-state'] = 'false';
    for (const name of ['input-database', 'input-table', 'push-down-predicate', 'existing-path', 'incremental-path', 'incremental-database', 'incremental-table', 'conflicts-path'] as const) {
      if (values[name] !== undefined) args[`--${name}`] = values[name];
    }
    const { JobRunId } = (await glue.call('StartJobRun', { JobName: jobName, Arguments: args })) as { JobRunId: string };
    log(`job ${jobName} run ${JobRunId} started`);
    if (values['no-wait']) {
      process.stdout.write(`${JobRunId}\n`);
      return 0;
    }
    const display = new ProgressDisplay(process.stderr);
    let taskRunId: string | undefined;
    let last = '';
    for (;;) {
      const { JobRun } = (await glue.call('GetJobRun', { JobName: jobName, RunId: JobRunId })) as {
        JobRun: { JobRunState: string; ErrorMessage?: string; ExecutionTime?: number };
      };
      if (JobRun.JobRunState !== last) {
        last = JobRun.JobRunState;
        display.message(`  ${last}`);
      }
      if (TERMINAL.has(JobRun.JobRunState)) {
        if (JobRun.JobRunState === 'SUCCEEDED') {
          process.stdout.write(`${values['output-path']}\n`);
          return 0;
        }
        display.message(`run ${JobRunId} ${JobRun.JobRunState}: ${JobRun.ErrorMessage ?? '(no message)'}`);
        return 1;
      }
      if (JobRun.JobRunState === 'RUNNING') {
        taskRunId ??= await findMatchesTaskRunOf(glue, values['transform-id'], JobRunId);
        const progress = taskRunId && (await progressOf(glue, values['transform-id'], taskRunId));
        if (progress) display.update(progress);
      }
      await sleep(POLL_MS);
    }
  } finally {
    await embedded?.close();
  }
}
