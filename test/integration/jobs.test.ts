/**
 * The Glue Jobs API with @aws-sdk/client-glue: job definitions (ListJobs, BatchGetJobs too), runs of `findmatches` jobs as
 * FIND_MATCHES task runs, argument merging and checking, pagination, BatchStopJobRun. Task runs are
 * scripted (DOPPEL_SCRIPTED_TASKS), so this suite needs no matcher; test/integration/find-matches.test.ts
 * runs the real thing.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  BatchGetJobsCommand,
  BatchStopJobRunCommand,
  CancelMLTaskRunCommand,
  CreateJobCommand,
  DeleteJobCommand,
  DeleteMLTransformCommand,
  GetJobCommand,
  GetJobRunCommand,
  GetJobRunsCommand,
  GetJobsCommand,
  GetMLTaskRunsCommand,
  ListJobsCommand,
  StartImportLabelsTaskRunCommand,
  StartJobRunCommand,
  StartMLLabelingSetGenerationTaskRunCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateJobCommand,
  paginateGetJobs,
  paginateListJobs,
  type GetJobRunCommandOutput,
  type GlueClient,
  type JobRunState,
} from '@aws-sdk/client-glue';
import {
  collectPages,
  createTransform,
  expectGlueError,
  glueClient,
  scriptedPath,
  startGlueServer,
  stopGlueServer,
  uniqueName,
  waitForRun,
  waitForTransform,
} from '../support/glue-client.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawGlueRequest } from '../support/raw-glue.js';
import { CLI_PATH, DEFAULT_ACCOUNT_ID, startServer, TEST_REGION, type TestServer } from '../support/server.js';

const ROLE = 'arn:aws:iam::123456789012:role/GlueRole';
const jobArn = (name: string) => `arn:aws:glue:${TEST_REGION}:${DEFAULT_ACCOUNT_ID}:job/${name}`;
/** Milliseconds per minute of Timeout: a job with Timeout 1 times out before a scripted run (50 ms) ends. */
const TIMEOUT_UNIT_MS = 20;
/** The suite's server, also when it is restarted on the same data dir. */
const SERVER_OPTIONS = { scriptedTasks: true, env: { DOPPEL_WORKERS: '1', DOPPEL_TIMEOUT_UNIT_MS: String(TIMEOUT_UNIT_MS) } };
const FINAL: readonly JobRunState[] = ['SUCCEEDED', 'FAILED', 'TIMEOUT', 'STOPPED'];

async function waitForJobRun(
  client: GlueClient,
  jobName: string,
  runId: string,
  states: readonly JobRunState[] = FINAL,
  timeoutMs = 15_000,
): Promise<NonNullable<GetJobRunCommandOutput['JobRun']>> {
  const deadline = Date.now() + timeoutMs;
  let last: GetJobRunCommandOutput['JobRun'];
  while (Date.now() < deadline) {
    last = (await client.send(new GetJobRunCommand({ JobName: jobName, RunId: runId }))).JobRun;
    if (last?.JobRunState && states.includes(last.JobRunState)) return last;
    await sleep(25);
  }
  assert.fail(`job run ${runId} did not reach ${states.join('|')} (last: ${last?.JobRunState})`);
}

/** `input` as JSON text with a 15,000-deep array as its member DeepUnknown. */
function withDeepUnknown(input: Record<string, unknown>): string {
  const depth = 15_000;
  return JSON.stringify({ ...input, DeepUnknown: '@deep@' }).replace('"@deep@"', '['.repeat(depth) + ']'.repeat(depth));
}

async function readyTransform(client: GlueClient, maxRetries = 0): Promise<string> {
  const { transformId } = await createTransform(client, { MaxRetries: maxRetries });
  const { TaskRunId } = await client.send(
    new StartImportLabelsTaskRunCommand({ TransformId: transformId, InputS3Path: scriptedPath({ labels: 4 }) }),
  );
  await waitForRun(client, transformId, TaskRunId!);
  await waitForTransform(client, transformId, (t) => t.Status === 'READY');
  return transformId;
}

async function createFindMatchesJob(
  client: GlueClient,
  defaults: Record<string, string>,
  extra: { MaxConcurrentRuns?: number; NonOverridableArguments?: Record<string, string>; MaxRetries?: number } = {},
): Promise<string> {
  const name = uniqueName('job');
  await client.send(
    new CreateJobCommand({
      Name: name,
      Role: ROLE,
      Command: { Name: 'findmatches' },
      DefaultArguments: defaults,
      ...(extra.NonOverridableArguments ? { NonOverridableArguments: extra.NonOverridableArguments } : {}),
      ...(extra.MaxConcurrentRuns ? { ExecutionProperty: { MaxConcurrentRuns: extra.MaxConcurrentRuns } } : {}),
      ...(extra.MaxRetries !== undefined ? { MaxRetries: extra.MaxRetries } : {}),
    }),
  );
  return name;
}

describe('Glue Jobs API', () => {
  let server: TestServer;
  let client: GlueClient;
  let transformId: string;

  before(async () => {
    ({ server, glue: client } = await startGlueServer(SERVER_OPTIONS));
    transformId = await readyTransform(client);
  });

  after(() => stopGlueServer({ server, glue: client }));

  /**
   * Runs `body` while a hanging task run holds the server's only worker (DOPPEL_WORKERS=1), so that
   * the job runs it starts stay STARTING; the hanging run is cancelled afterwards.
   */
  async function whileTheWorkerIsBusy(body: () => Promise<void>): Promise<void> {
    const { TaskRunId: blocker } = await client.send(
      new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath({ outcome: 'hang' }) }),
    );
    await waitForRun(client, transformId, blocker!, ['RUNNING']);
    try {
      await body();
    } finally {
      await client.send(new CancelMLTaskRunCommand({ TransformId: transformId, TaskRunId: blocker! }));
      await waitForRun(client, transformId, blocker!);
    }
  }

  it('CreateJob / GetJob: stores the definition with Glue defaults; duplicates and unknown names are errors', async () => {
    const name = uniqueName('job');
    const before = Date.now();
    const out = await client.send(
      new CreateJobCommand({
        Name: name,
        Role: ROLE,
        Command: { Name: 'findmatches' },
        DefaultArguments: { '--transform-id': transformId },
        Description: 'dedupe',
        Tags: { team: 'x' },
      }),
    );
    assert.equal(out.Name, name);
    const { Job } = await client.send(new GetJobCommand({ JobName: name }));
    assert.equal(Job?.Name, name);
    assert.equal(Job?.Role, ROLE);
    assert.deepEqual(Job?.Command, { Name: 'findmatches' });
    assert.deepEqual(Job?.DefaultArguments, { '--transform-id': transformId });
    assert.equal(Job?.Description, 'dedupe');
    assert.equal(Job?.MaxRetries, 0);
    assert.equal(Job?.Timeout, 2880);
    assert.deepEqual(Job?.ExecutionProperty, { MaxConcurrentRuns: 1 });
    assert.ok(Job?.CreatedOn instanceof Date && Job.CreatedOn.getTime() >= before - 2000);
    assert.ok(Job?.LastModifiedOn instanceof Date);
    assert.equal((Job as Record<string, unknown>)['Tags'], undefined);

    await expectGlueError(client.send(new CreateJobCommand({ Name: name, Role: ROLE, Command: { Name: 'findmatches' } })), {
      name: 'AlreadyExistsException',
      message: `${name} already exists.`,
    });
    await expectGlueError(client.send(new GetJobCommand({ JobName: 'no-such-job' })), {
      name: 'EntityNotFoundException',
      message: 'Job with name: no-such-job not found.',
    });
    await expectGlueError(client.send(new CreateJobCommand({ Name: uniqueName('job'), Role: ROLE } as never)), {
      name: 'ValidationException',
    });
  });

  it('unknown members (even deeply nested ones) are accepted and not stored', async () => {
    const name = uniqueName('job');
    const created = await rawGlueRequest(server, 'CreateJob', withDeepUnknown({ Name: name, Role: ROLE, Command: { Name: 'findmatches', Extra: 'x' } }));
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const got = await rawGlueRequest(server, 'GetJob', JSON.stringify({ JobName: name }));
    const job = got.body['Job'] as Record<string, unknown>;
    assert.equal(job['DeepUnknown'], undefined);
    assert.deepEqual(job['Command'], { Name: 'findmatches' });
    const updated = await rawGlueRequest(server, 'UpdateJob', JSON.stringify({ JobName: name, JobUpdate: { Role: ROLE } }).replace('}}', `,"DeepUnknown":${'['.repeat(15_000)}${']'.repeat(15_000)}}}`));
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    const started = await rawGlueRequest(server, 'StartJobRun', withDeepUnknown({ JobName: name }));
    assert.equal(started.status, 200, JSON.stringify(started.body));
  });

  it('UpdateJob replaces the definition; DeleteJob removes it (and is quiet about unknown jobs)', async () => {
    const name = await createFindMatchesJob(client, { '--transform-id': 'a' });
    const { Job: first } = await client.send(new GetJobCommand({ JobName: name }));
    await sleep(20);
    const out = await client.send(
      new UpdateJobCommand({
        JobName: name,
        JobUpdate: { Role: ROLE, Command: { Name: 'findmatches' }, DefaultArguments: { '--transform-id': 'b' }, Timeout: 60 },
      }),
    );
    assert.equal(out.JobName, name);
    const { Job } = await client.send(new GetJobCommand({ JobName: name }));
    assert.deepEqual(Job?.DefaultArguments, { '--transform-id': 'b' });
    assert.equal(Job?.Timeout, 60);
    assert.equal(Job?.CreatedOn?.getTime(), first?.CreatedOn?.getTime());
    assert.ok(Job!.LastModifiedOn!.getTime() > first!.LastModifiedOn!.getTime());
    await expectGlueError(
      client.send(new UpdateJobCommand({ JobName: 'no-such-job', JobUpdate: { Role: ROLE, Command: { Name: 'findmatches' } } })),
      { name: 'EntityNotFoundException', message: 'Job with name: no-such-job not found.' },
    );

    assert.equal((await client.send(new DeleteJobCommand({ JobName: name }))).JobName, name);
    await expectGlueError(client.send(new GetJobCommand({ JobName: name })), { name: 'EntityNotFoundException' });
    assert.equal((await client.send(new DeleteJobCommand({ JobName: name }))).JobName, name);
  });

  it('GetJobs pages with NextToken (and the JS paginator)', async () => {
    const names: string[] = [];
    for (let i = 0; i < 5; i++) names.push(await createFindMatchesJob(client, {}));
    const all = (await collectPages(paginateGetJobs({ client, pageSize: 2 }, {}))).flatMap((p) => p.Jobs ?? []);
    const seen = all.map((j) => j.Name!);
    assert.equal(new Set(seen).size, seen.length, 'no job twice');
    for (const n of names) assert.ok(seen.includes(n), `${n} listed`);
    assert.deepEqual(seen, [...seen].sort(), 'jobs come sorted by name');
    const first = await client.send(new GetJobsCommand({ MaxResults: 2 }));
    assert.equal(first.Jobs?.length, 2);
    assert.ok(first.NextToken);
    const second = await client.send(new GetJobsCommand({ MaxResults: 2, NextToken: first.NextToken }));
    assert.notEqual(second.Jobs?.[0]?.Name, first.Jobs?.[0]?.Name);
    await expectGlueError(client.send(new GetJobsCommand({ NextToken: 'garbage' })), { name: 'InvalidInputException' });
  });

  it('ListJobs lists job names by name, pages with MaxResults / NextToken and the JS paginator, and filters by Tags', async () => {
    const tag = uniqueName('team');
    const names: string[] = [];
    for (let i = 0; i < 4; i++) names.push(await createFindMatchesJob(client, {}));
    const tagged = await createFindMatchesJob(client, {});
    await client.send(new TagResourceCommand({ ResourceArn: jobArn(tagged), TagsToAdd: { team: tag, env: 'test' } }));

    const listed = (await collectPages(paginateListJobs({ client, pageSize: 2 }, {}))).flatMap((p) => p.JobNames ?? []);
    assert.equal(new Set(listed).size, listed.length, 'no job twice');
    for (const n of [...names, tagged]) assert.ok(listed.includes(n), `${n} listed`);
    assert.deepEqual(listed, [...listed].sort(), 'names come sorted');
    const first = await client.send(new ListJobsCommand({ MaxResults: 2 }));
    assert.equal(first.JobNames?.length, 2);
    const rest = await client.send(new ListJobsCommand({ NextToken: first.NextToken }));
    assert.deepEqual([...first.JobNames!, ...rest.JobNames!], listed, 'a NextToken alone gives the rest');
    assert.equal(rest.NextToken, undefined);

    assert.deepEqual((await client.send(new ListJobsCommand({ Tags: { team: tag } }))).JobNames, [tagged]);
    assert.deepEqual((await client.send(new ListJobsCommand({ Tags: { team: tag, env: 'prod' } }))).JobNames, [], 'every tag must match');
    await client.send(new UntagResourceCommand({ ResourceArn: jobArn(tagged), TagsToRemove: ['team'] }));
    assert.deepEqual((await client.send(new ListJobsCommand({ Tags: { team: tag } }))).JobNames, []);
    await expectGlueError(client.send(new ListJobsCommand({ Tags: { env: 'test' }, NextToken: first.NextToken })), {
      name: 'InvalidInputException',
      message: 'The NextToken does not belong to this request: its filter or sort differs.',
    });
    await expectGlueError(client.send(new ListJobsCommand({ MaxResults: 1001 })), {
      name: 'ValidationException',
      message: /at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000/,
    });
  });

  it('BatchGetJobs returns the named jobs in order, each once, and the names of missing ones in JobsNotFound', async () => {
    const a = await createFindMatchesJob(client, { '--transform-id': 'a' });
    const b = await createFindMatchesJob(client, { '--transform-id': 'b' });
    const missing = uniqueName('nojob');
    const out = await client.send(new BatchGetJobsCommand({ JobNames: [b, missing, a, b] }));
    assert.deepEqual(out.Jobs?.map((j) => [j.Name, j.DefaultArguments?.['--transform-id']]), [[b, 'b'], [a, 'a']]);
    const { Job } = await client.send(new GetJobCommand({ JobName: a }));
    assert.deepEqual(out.Jobs?.[1], Job, 'the same Job GetJob shows');
    assert.deepEqual(out.JobsNotFound, [missing]);
    assert.deepEqual(await client.send(new BatchGetJobsCommand({ JobNames: [] })).then((r) => [r.Jobs, r.JobsNotFound]), [[], []]);
  });

  it('a findmatches run is a FIND_MATCHES task run and goes STARTING → RUNNING → SUCCEEDED', async () => {
    const name = await createFindMatchesJob(client, { '--transform-id': transformId, '--output-path': 's3://out/x/' });
    const before = Date.now();
    const { JobRunId } = await client.send(new StartJobRunCommand({ JobName: name, Arguments: { '--output-format': 'json' } }));
    assert.match(JobRunId!, /^jr_[0-9a-f]{64}$/);
    const run = await waitForJobRun(client, name, JobRunId!);
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    assert.equal(run.Id, JobRunId);
    assert.equal(run.JobName, name);
    assert.equal(run.Attempt, 0);
    assert.deepEqual(run.Arguments, { '--output-format': 'json' });
    assert.ok(run.StartedOn!.getTime() >= before - 2000);
    assert.ok(run.CompletedOn!.getTime() >= run.StartedOn!.getTime());
    assert.equal(typeof run.ExecutionTime, 'number');
    assert.equal(run.ErrorMessage, undefined);

    const { TaskRuns } = await client.send(
      new GetMLTaskRunsCommand({ TransformId: transformId, Filter: { TaskRunType: 'FIND_MATCHES' } }),
    );
    const task = TaskRuns?.find((t) => t.Properties?.FindMatchesTaskRunProperties?.JobRunId === JobRunId);
    assert.ok(task, 'the FIND_MATCHES task run is listed');
    assert.equal(task.Status, 'SUCCEEDED');
    assert.equal(task.Properties?.TaskType, 'FIND_MATCHES');
    assert.equal(task.Properties?.FindMatchesTaskRunProperties?.JobName, name);
    assert.equal(task.Properties?.FindMatchesTaskRunProperties?.JobId, name);
  });

  it('arguments: DefaultArguments, overridden by Arguments, then NonOverridableArguments; bad ones fail the run naming them', async () => {
    const name = await createFindMatchesJob(
      client,
      { '--transform-id': transformId, '--output-path': 's3://out/y/', '--output-format': 'xml' },
      { MaxConcurrentRuns: 10 },
    );
    const bad = await client.send(new StartJobRunCommand({ JobName: name }));
    const badRun = await waitForJobRun(client, name, bad.JobRunId!);
    assert.equal(badRun.JobRunState, 'FAILED');
    assert.match(badRun.ErrorMessage!, /--output-format must be csv, json or parquet, got: xml/);
    assert.ok(badRun.CompletedOn instanceof Date);

    // Glue's own arguments, and any other a job passes to a script, are ignored.
    const good = await client.send(
      new StartJobRunCommand({
        JobName: name,
        Arguments: { '--output-format': 'parquet', '--TempDir': 's3://temp/', '--enable-metrics': 'true', '--job-bookmark-option': 'job-bookmark-disable', '--my-setting': 'x' },
      }),
    );
    assert.equal((await waitForJobRun(client, name, good.JobRunId!)).JobRunState, 'SUCCEEDED');

    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ '--transform-id': '' }, /--transform-id is required/],
      [{ '--output-path': '' }, /--output-path is required/],
      [{ '--output-path': 'https://example.com/out' }, /--output-path must be an S3 URI/],
      [{ '--output-format': 'csv', '--remove-duplicates': 'yes' }, /--remove-duplicates must be true or false/],
      [{ '--output-format': 'csv', '--compute-match-confidence-scores': '1' }, /--compute-match-confidence-scores must be true or false/],
      [{ '--output-format': 'csv', '--input-database': 'db' }, /--input-database and --input-table must be given together/],
      [{ '--output-format': 'csv', '--transform-id': 'tfm-nope' }, /--transform-id: no ML transform tfm-nope/],
      // A misspelling of an argument that is not given: the run surely meant that one.
      [
        { '--output-format': 'csv', '--remove-duplicate': 'true' },
        /^Argument --remove-duplicate is not an argument of findmatches jobs: did you mean --remove-duplicates\? \(An unknown argument this close/,
      ],
      [{ '--output-format': 'csv', '--Golden_Records': 'true' }, /^Argument --Golden_Records is not an argument of findmatches jobs: did you mean --golden-records\?/],
      // Named before the required argument it stands for is missed.
      [{ '--output-path': '', '--outptu-path': 's3://out/y/' }, /^Argument --outptu-path is not an argument of findmatches jobs: did you mean --output-path\?/],
    ];
    for (const [args, message] of cases) {
      const { JobRunId } = await client.send(new StartJobRunCommand({ JobName: name, Arguments: args }));
      const run = await waitForJobRun(client, name, JobRunId!);
      assert.equal(run.JobRunState, 'FAILED', JSON.stringify(args));
      assert.match(run.ErrorMessage!, message);
    }

    const locked = await createFindMatchesJob(
      client,
      { '--transform-id': transformId, '--output-path': 's3://out/z/' },
      { NonOverridableArguments: { '--output-format': 'bogus' } },
    );
    const { JobRunId } = await client.send(new StartJobRunCommand({ JobName: locked, Arguments: { '--output-format': 'csv' } }));
    assert.match((await waitForJobRun(client, locked, JobRunId!)).ErrorMessage!, /got: bogus/);
    // The runs so far wrote to buckets that do not exist: cleaning up after their attempts (long
    // done by now) found nothing to remove, and said nothing.
    assert.doesNotMatch(server.output(), /cleaning up after its attempt/);
  });

  it("the run's Timeout (StartJobRun's, else the job's) bounds it: TIMEOUT", async () => {
    const name = await createFindMatchesJob(client, { '--transform-id': transformId, '--output-path': 's3://out/t/' }, { MaxConcurrentRuns: 5 });
    const { JobRunId } = await client.send(new StartJobRunCommand({ JobName: name, Timeout: 1 }));
    const run = await waitForJobRun(client, name, JobRunId!);
    assert.equal(run.JobRunState, 'TIMEOUT');
    assert.equal(run.Timeout, 1);
    assert.ok(run.ErrorMessage);
  });

  it("a failed attempt of a job run starts again within its job's MaxRetries, whatever its transform's", async () => {
    // The scripted run fails its first attempt.
    const retried = await createFindMatchesJob(client, { '--transform-id': transformId, '--output-path': 's3://out/r/?failAttempts=1' }, { MaxRetries: 1 });
    const first = await client.send(new StartJobRunCommand({ JobName: retried }));
    const ok = await waitForJobRun(client, retried, first.JobRunId!);
    assert.equal(ok.JobRunState, 'SUCCEEDED', ok.ErrorMessage);
    assert.equal(ok.Attempt, 1, 'the second attempt (Glue counts from 0), although the transform has MaxRetries 0');

    const lenient = await readyTransform(client, 2);
    const once = await createFindMatchesJob(client, { '--transform-id': lenient, '--output-path': 's3://out/r/?failAttempts=1' });
    const second = await client.send(new StartJobRunCommand({ JobName: once }));
    const failed = await waitForJobRun(client, once, second.JobRunId!);
    assert.equal(failed.JobRunState, 'FAILED', 'the job has MaxRetries 0, although its transform has 2');
    assert.equal(failed.Attempt, 0);
    assert.match(failed.ErrorMessage ?? '', /scripted failure of attempt 1/);
  });

  it('a job with another command is accepted, but its runs fail: doppel runs only findmatches', async () => {
    const name = uniqueName('job');
    await client.send(new CreateJobCommand({ Name: name, Role: ROLE, Command: { Name: 'glueetl', ScriptLocation: 's3://b/s.py' } }));
    const { JobRunId } = await client.send(new StartJobRunCommand({ JobName: name }));
    const run = await waitForJobRun(client, name, JobRunId!);
    assert.equal(run.JobRunState, 'FAILED');
    assert.match(run.ErrorMessage!, /doppel runs only FindMatches jobs: job .* has Command.Name 'glueetl'/);
  });

  it('StartJobRun with JobRunId retries that run: the new run shows it as PreviousRunId (found by moto\'s tests)', async () => {
    const name = uniqueName('job');
    await client.send(new CreateJobCommand({ Name: name, Role: ROLE, Command: { Name: 'glueetl', ScriptLocation: 's3://b/s.py' } }));
    const { JobRunId: first } = await client.send(new StartJobRunCommand({ JobName: name }));
    await waitForJobRun(client, name, first!);
    const { JobRunId: retry } = await client.send(new StartJobRunCommand({ JobName: name, JobRunId: first }));
    assert.notEqual(retry, first);
    const { JobRun } = await client.send(new GetJobRunCommand({ JobName: name, RunId: retry }));
    assert.equal(JobRun?.PreviousRunId, first);
    const { JobRun: original } = await client.send(new GetJobRunCommand({ JobName: name, RunId: first }));
    assert.equal(original?.PreviousRunId, undefined);
    await expectGlueError(client.send(new StartJobRunCommand({ JobName: name, JobRunId: 'jr_nope' })), {
      name: 'EntityNotFoundException',
      message: `JobRunId: job ${name} has no run jr_nope to retry.`,
    });
  });

  it('a transform that is not READY fails the run', async () => {
    const { transformId: fresh } = await createTransform(client);
    const name = await createFindMatchesJob(client, { '--transform-id': fresh, '--output-path': 's3://out/n/' });
    const { JobRunId } = await client.send(new StartJobRunCommand({ JobName: name }));
    const run = await waitForJobRun(client, name, JobRunId!);
    assert.equal(run.JobRunState, 'FAILED');
    assert.match(run.ErrorMessage!, new RegExp(`Transform ${fresh} is not READY .*teach it with labels first`));
  });

  it('StartJobRun / GetJobRun / GetJobRuns errors, and GetJobRuns pages newest first', async () => {
    await expectGlueError(client.send(new StartJobRunCommand({ JobName: 'no-such-job' })), {
      name: 'EntityNotFoundException',
      message: 'Job with name: no-such-job not found.',
    });
    const name = await createFindMatchesJob(client, { '--transform-id': transformId, '--output-path': 's3://out/p/' }, { MaxConcurrentRuns: 10 });
    await expectGlueError(client.send(new GetJobRunCommand({ JobName: name, RunId: 'jr_nope' })), {
      name: 'EntityNotFoundException',
    });
    await expectGlueError(client.send(new GetJobRunsCommand({ JobName: 'no-such-job' })), { name: 'EntityNotFoundException' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await client.send(new StartJobRunCommand({ JobName: name }))).JobRunId!);
      await sleep(5);
    }
    for (const id of ids) await waitForJobRun(client, name, id);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new GetJobRunsCommand({ JobName: name, MaxResults: 2, NextToken: token }));
      assert.ok((page.JobRuns?.length ?? 0) <= 2);
      seen.push(...(page.JobRuns ?? []).map((r) => r.Id!));
      token = page.NextToken;
    } while (token);
    assert.deepEqual(seen, [...ids].reverse());
  });

  it('BatchStopJobRun stops a run; MaxConcurrentRuns is enforced; DeleteJob stops runs in flight', async () => {
    await whileTheWorkerIsBusy(async () => {
      const name = await createFindMatchesJob(client, { '--transform-id': transformId, '--output-path': 's3://out/s/' });
      const { JobRunId } = await client.send(new StartJobRunCommand({ JobName: name }));
      assert.equal((await client.send(new GetJobRunCommand({ JobName: name, RunId: JobRunId! }))).JobRun?.JobRunState, 'STARTING');
      await expectGlueError(client.send(new StartJobRunCommand({ JobName: name })), {
        name: 'ConcurrentRunsExceededException',
      });

      const out = await client.send(new BatchStopJobRunCommand({ JobName: name, JobRunIds: [JobRunId!, 'jr_unknown'] }));
      assert.deepEqual(out.SuccessfulSubmissions, [{ JobName: name, JobRunId }]);
      assert.equal(out.Errors?.length, 1);
      assert.equal(out.Errors?.[0]?.JobRunId, 'jr_unknown');
      assert.equal(out.Errors?.[0]?.ErrorDetail?.ErrorCode, 'EntityNotFoundException');
      const stopped = await waitForJobRun(client, name, JobRunId!);
      assert.equal(stopped.JobRunState, 'STOPPED');
      assert.ok(stopped.CompletedOn instanceof Date);
      const again = await client.send(new BatchStopJobRunCommand({ JobName: name, JobRunIds: [JobRunId!] }));
      assert.equal(again.Errors?.[0]?.ErrorDetail?.ErrorCode, 'InvalidInputException');

      // Starts sent at once are counted one after another: MaxConcurrentRuns 1 lets exactly one through.
      const racing = await Promise.allSettled(Array.from({ length: 4 }, () => client.send(new StartJobRunCommand({ JobName: name }))));
      const started = racing.flatMap((r) => (r.status === 'fulfilled' ? [r.value.JobRunId!] : []));
      assert.equal(started.length, 1, `${started.length} of 4 concurrent starts accepted`);
      for (const r of racing) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'ConcurrentRunsExceededException');
      await client.send(new BatchStopJobRunCommand({ JobName: name, JobRunIds: started }));
      assert.equal((await waitForJobRun(client, name, started[0]!)).JobRunState, 'STOPPED');

      // So are starts sent at once to two API nodes on one store (one data dir, or one PostgreSQL database).
      const second = await startServer({ ...SERVER_OPTIONS, dataDir: server.dataDir, args: ['--no-worker'] });
      const secondClient = glueClient(second);
      try {
        for (let round = 0; round < 5; round++) {
          const both = await Promise.allSettled(
            [client, secondClient, client, secondClient].map((c) => c.send(new StartJobRunCommand({ JobName: name }))),
          );
          const accepted = both.flatMap((r) => (r.status === 'fulfilled' ? [r.value.JobRunId!] : []));
          assert.equal(accepted.length, 1, `round ${round}: ${accepted.length} of 4 starts on two API nodes accepted`);
          await client.send(new BatchStopJobRunCommand({ JobName: name, JobRunIds: accepted }));
          assert.equal((await waitForJobRun(client, name, accepted[0]!)).JobRunState, 'STOPPED');
        }
      } finally {
        secondClient.destroy();
        await second.stop();
      }

      // DeleteJob stops the job's runs in flight: their task runs end STOPPED.
      const doomed = await createFindMatchesJob(client, { '--transform-id': transformId, '--output-path': 's3://out/del/' });
      const pending = (await client.send(new StartJobRunCommand({ JobName: doomed }))).JobRunId!;
      await client.send(new DeleteJobCommand({ JobName: doomed }));
      const { TaskRuns } = await client.send(new GetMLTaskRunsCommand({ TransformId: transformId, Filter: { TaskRunType: 'FIND_MATCHES' } }));
      const task = TaskRuns?.find((r) => r.Properties?.FindMatchesTaskRunProperties?.JobRunId === pending);
      assert.equal(task?.Status, 'STOPPED');
    });
  });

  it('BatchStopJobRun stops a RUNNING run at once, not when a lease runs out', async (t) => {
    const name = await createFindMatchesJob(client, { '--transform-id': transformId, '--output-path': 's3://out/busy/?outcome=hang' });
    const { JobRunId } = await client.send(new StartJobRunCommand({ JobName: name }));
    await waitForJobRun(client, name, JobRunId!, ['RUNNING']);
    const stopAt = Date.now();
    const out = await client.send(new BatchStopJobRunCommand({ JobName: name, JobRunIds: [JobRunId!] }));
    assert.deepEqual(out.SuccessfulSubmissions, [{ JobName: name, JobRunId }]);
    const stopped = await waitForJobRun(client, name, JobRunId!);
    const ms = Date.now() - stopAt;
    t.diagnostic(`STOPPED ${ms} ms after BatchStopJobRun`);
    assert.equal(stopped.JobRunState, 'STOPPED');
    // The run hangs until killed: stopped by the cancel reaching its worker, not by the 15 s lease
    // (DOPPEL_LEASE_MS) running out. How fast is measured, not asserted (tens of ms when idle).
    assert.ok(ms < 10_000, `STOPPED ${ms} ms after BatchStopJobRun`);
  });

  it('a run whose transform is deleted ends FAILED', async () => {
    const { transformId: doomed } = await createTransform(client);
    const { TaskRunId } = await client.send(
      new StartImportLabelsTaskRunCommand({ TransformId: doomed, InputS3Path: scriptedPath({ labels: 2 }) }),
    );
    await waitForRun(client, doomed, TaskRunId!);
    await whileTheWorkerIsBusy(async () => {
      const name = await createFindMatchesJob(client, { '--transform-id': doomed, '--output-path': 's3://out/d/' });
      const { JobRunId } = await client.send(new StartJobRunCommand({ JobName: name }));
      await client.send(new DeleteMLTransformCommand({ TransformId: doomed }));
      const run = await waitForJobRun(client, name, JobRunId!);
      assert.equal(run.JobRunState, 'FAILED');
      assert.match(run.ErrorMessage!, /no longer exists/);
      assert.equal((await waitForJobRun(client, name, JobRunId!)).JobRunState, 'FAILED', 'stays FAILED');
    });
  });

  it('`doppel find-matches --data-dir` runs doppel on the data dir for the run and reports a failed run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'doppel-cli-'));
    try {
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [CLI_PATH, 'find-matches', '--data-dir', dir, '--transform-id', 'tfm-nope', '--output-path', 's3://some-bucket/out/'],
          { env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' }, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
        child.stdout.resume();
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stderr }));
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /FAILED: Argument --transform-id: no ML transform tfm-nope/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`doppel find-matches` shows the run\'s progress while it waits (plain lines when not on a terminal)', async () => {
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [CLI_PATH, 'find-matches', '--endpoint', server.endpoint, '--transform-id', transformId, '--output-path', 's3://out/cli/?sleep=2500'],
        { env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 's3://out/cli/?sleep=2500\n');
    assert.match(result.stderr, /^ {2}RUNNING\n {2} +\d+% {2}scripted run: succeed\n[\s\S]* {2}SUCCEEDED\n$/m);
  });

  it('jobs and job runs survive a restart (a run state is read from its task run)', async () => {
    const name = await createFindMatchesJob(client, { '--transform-id': transformId, '--output-path': 's3://out/r/' });
    const { JobRunId } = await client.send(new StartJobRunCommand({ JobName: name }));
    const done = await waitForJobRun(client, name, JobRunId!);
    assert.equal(done.JobRunState, 'SUCCEEDED');
    const failed = (await client.send(new StartJobRunCommand({ JobName: name, Arguments: { '--output-format': 'xml' } }))).JobRunId!;
    await waitForJobRun(client, name, failed);

    await server.stop();
    server = await startServer({ ...SERVER_OPTIONS, dataDir: server.dataDir });
    client.destroy();
    client = glueClient(server);
    const { Job } = await client.send(new GetJobCommand({ JobName: name }));
    assert.equal(Job?.Name, name);
    const again = (await client.send(new GetJobRunCommand({ JobName: name, RunId: JobRunId! }))).JobRun!;
    assert.equal(again.JobRunState, 'SUCCEEDED');
    assert.equal(again.CompletedOn?.getTime(), done.CompletedOn?.getTime());
    const runs = (await client.send(new GetJobRunsCommand({ JobName: name }))).JobRuns!;
    assert.deepEqual(runs.map((r) => [r.Id, r.JobRunState]), [[failed, 'FAILED'], [JobRunId, 'SUCCEEDED']]);
  });
});
