/**
 * Several doppel processes on one data dir: a `doppel serve --no-worker` API node and `doppel worker`
 * processes executing the task runs it queues, with real processes, real SIGKILLs and
 * @aws-sdk/client-glue. Task runs are scripted (DOPPEL_SCRIPTED_TASKS): what is tested is who runs
 * them, how often, and what happens when a worker dies.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  BatchStopJobRunCommand,
  CancelMLTaskRunCommand,
  CreateDatabaseCommand,
  GetJobRunCommand,
  GetMLTaskRunCommand,
  GetMLTaskRunsCommand,
  StartImportLabelsTaskRunCommand,
  StartJobRunCommand,
  StartMLLabelingSetGenerationTaskRunCommand,
  type GlueClient,
} from '@aws-sdk/client-glue';
import {
  assertRecent,
  createFindMatchesJob,
  createOpenCsvTransform,
  createTransform,
  glueClient,
  scriptedPath,
  teachOnce,
  uniqueName,
  waitForJobRun,
  waitForRun,
  waitForTransform,
} from '../support/glue-client.js';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { runCli } from '../support/cli.js';
import { loadDataset } from '../support/datasets.js';
import { rawGlueCall } from '../support/raw-glue.js';
import { s3Client } from '../support/s3-tools.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import {
  ON_QUEUE,
  startServer,
  startWorker,
  stopAndRemove,
  taskProcessOf,
  TEST_DATABASE_URL,
  untilLogged,
  type StartOptions,
  type TestServer,
  type TestWorker,
} from '../support/server.js';

/**
 * One task process per node, and leases far longer than any wait below: a run taken over quickly
 * was recovered because its node was seen to be dead, not because its lease ran out.
 */
const NODE_OPTIONS: StartOptions = { scriptedTasks: true, env: { DOPPEL_WORKERS: '1', DOPPEL_LEASE_MS: '60000' } };
const POLL_MS = 500;

/** Whether the process runs: a killed process whose parent died too may stay a zombie (state Z) until something reaps it. */
const isAlive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** The worker whose log says it started the run (the log reaches the test through a pipe, maybe after the run's status). */
async function runnerOf(workers: TestWorker[], taskRunId: string): Promise<TestWorker> {
  const started = new RegExp(`task run ${taskRunId} \\(\\w+\\) started in task process \\d+(?! \\(attempt)`);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const runner = workers.find((w) => started.test(w.output()));
    if (runner) return runner;
    assert.ok(Date.now() < deadline, `no worker logged that it started ${taskRunId}`);
    await sleep(20);
  }
}

/**
 * How many times the workers' logs say the run was started, and ended SUCCEEDED: counted once a
 * SUCCEEDED line has arrived and the pipes had a moment more for any other line.
 */
async function executions(workers: TestWorker[], taskRunId: string): Promise<{ started: number; succeeded: number }> {
  const count = (pattern: RegExp) => workers.reduce((n, w) => n + [...w.output().matchAll(pattern)].length, 0);
  const succeeded = new RegExp(`task run ${taskRunId} \\(\\w+\\) SUCCEEDED`, 'g');
  const deadline = Date.now() + 10_000;
  while (count(succeeded) === 0 && Date.now() < deadline) await sleep(20);
  await sleep(200);
  return {
    started: count(new RegExp(`task run ${taskRunId} \\(\\w+\\) started in task process`, 'g')),
    succeeded: count(succeeded),
  };
}

/** A suite's teardown: its SDK clients, its workers, then the API node and its data dir. */
async function stopCluster(api: TestServer | undefined, workers: readonly TestWorker[], clients: ReadonlyArray<{ destroy(): void } | undefined>): Promise<void> {
  for (const client of clients) client?.destroy();
  await Promise.all(workers.map((w) => w.stop()));
  await stopAndRemove(api);
}

async function readyTransform(glue: GlueClient, maxRetries = 0): Promise<string> {
  const { transformId } = await createTransform(glue, { MaxRetries: maxRetries });
  const { TaskRunId } = await glue.send(
    new StartImportLabelsTaskRunCommand({ TransformId: transformId, InputS3Path: scriptedPath({ labels: 4 }) }),
  );
  await waitForRun(glue, transformId, TaskRunId!, undefined, 30_000);
  await waitForTransform(glue, transformId, (t) => t.Status === 'READY');
  return transformId;
}

/** A findmatches job; its MaxRetries (not its transform's) bounds the attempts of its runs. */
async function findMatchesJob(glue: GlueClient, transformId: string, outputPath: string, maxRetries = 0): Promise<string> {
  const name = uniqueName('job');
  await createFindMatchesJob(glue, { name, transformId, defaultArguments: { '--output-path': outputPath }, MaxRetries: maxRetries });
  return name;
}

describe('doppel serve --no-worker with doppel worker processes on one data dir', () => {
  let api: TestServer;
  let glue: GlueClient;
  const workers: TestWorker[] = [];
  const extras = async (transformId: string, taskRunId: string) =>
    (await rawGlueCall(api, 'GetMLTaskRun', { TransformId: transformId, TaskRunId: taskRunId })).body;

  before(async () => {
    api = await startServer({ ...NODE_OPTIONS, args: ['--no-worker'] });
    glue = glueClient(api);
  });

  after(() => stopCluster(api, workers, [glue]));

  it('queues without running; workers started later pick the runs up, each run executed once, by both workers', async (t) => {
    const transforms = [await createTransform(glue), await createTransform(glue)];
    const runs: Array<{ transformId: string; id: string }> = [];
    for (const { transformId } of transforms) {
      for (let i = 0; i < 3; i++) {
        const { TaskRunId } = await glue.send(
          new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath({ sleep: 2000 }, `q${i}`) }),
        );
        runs.push({ transformId, id: TaskRunId! });
      }
    }
    await sleep(2 * POLL_MS);
    for (const run of runs) {
      const { Status } = await glue.send(new GetMLTaskRunCommand({ TransformId: run.transformId, TaskRunId: run.id }));
      assert.equal(Status, 'STARTING', 'an API-only node never runs a task');
    }
    // Six runs of 2 s: one worker alone would need 12 s, far longer than the other takes to start.
    workers.push(await startWorker({ ...NODE_OPTIONS, dataDir: api.dataDir }), await startWorker({ ...NODE_OPTIONS, dataDir: api.dataDir }));
    for (const run of runs) {
      const done = await waitForRun(glue, run.transformId, run.id, undefined, 30_000);
      assert.equal(done.Status, 'SUCCEEDED', done.ErrorString);
      assert.deepEqual(await executions(workers, run.id), { started: 1, succeeded: 1 }, `run ${run.id} executed exactly once`);
      assert.equal((await extras(run.transformId, run.id))['Attempt'], 1);
    }
    const shares = workers.map((w) => runs.filter((r) => new RegExp(`task run ${r.id} \\(\\w+\\) started`).test(w.output())).length);
    t.diagnostic(`runs per worker: ${shares.join(', ')}`);
    assert.ok(shares.every((n) => n > 0), `both workers ran some of the runs (${shares.join(', ')})`);
    assert.doesNotMatch(api.output(), /started in task process/);
  });

  it('a run started on the API node is RUNNING in an idle worker well within the poll interval (workers look for new runs every 50 ms)', async (t) => {
    const { transformId } = await createTransform(glue);
    const latencies: number[] = [];
    for (let i = 0; i < 6; i++) {
      const started = performance.now();
      const { TaskRunId } = await glue.send(
        new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath({ sleep: 50 }, `l${i}`) }),
      );
      for (;;) {
        const { Status } = await glue.send(new GetMLTaskRunCommand({ TransformId: transformId, TaskRunId }));
        if (Status !== 'STARTING') break;
        await sleep(5);
      }
      latencies.push(performance.now() - started);
      await waitForRun(glue, transformId, TaskRunId!);
    }
    latencies.sort((a, b) => a - b);
    t.diagnostic(`StartMLLabelingSetGenerationTaskRun to RUNNING: median ${latencies[3]!.toFixed(0)} ms, max ${latencies[5]!.toFixed(0)} ms`);
    // The poll alone would take POLL_MS / 2 on average.
    assert.ok(latencies[3]! < POLL_MS / 2.5, `median ${latencies[3]} ms`);
    assert.ok(latencies[5]! < POLL_MS + 1000, `max ${latencies[5]} ms`);
  });

  it('SIGKILL of a worker and its task processes: the other worker takes the run over at once (MaxRetries 1 allows it) and finishes it once', async (t) => {
    const { transformId } = await createTransform(glue, { MaxRetries: 1 });
    const { TaskRunId } = await glue.send(
      new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath({ sleep: 3000 }, 'victim') }),
    );
    await waitForRun(glue, transformId, TaskRunId!, ['RUNNING']);
    const victim = await runnerOf(workers, TaskRunId!);
    const survivor = workers.find((w) => w !== victim)!;
    const taskProcess = await taskProcessOf(victim, TaskRunId!);
    const killedAt = Date.now();
    await victim.killGroup();
    workers.splice(workers.indexOf(victim), 1);
    assert.ok(!isAlive(taskProcess) || (await sleep(500), !isAlive(taskProcess)), 'its task process is gone');

    await untilLogged(survivor, new RegExp(`task run ${TaskRunId} \\(\\w+\\) started in task process \\d+ \\(attempt 2\\)`), 10_000);
    const takeoverMs = Date.now() - killedAt;
    t.diagnostic(`attempt 2 started in the other worker ${takeoverMs} ms after the SIGKILL`);
    assert.ok(takeoverMs < 10_000, `taken over ${takeoverMs} ms after the kill, long before the 60 s lease expires`);
    const done = await waitForRun(glue, transformId, TaskRunId!, undefined, 30_000);
    assert.equal(done.Status, 'SUCCEEDED', done.ErrorString);
    const wire = await extras(transformId, TaskRunId!);
    assert.equal(wire['Attempt'], 2);
    assert.equal(wire['InterruptionCount'], 1, 'the dead worker counts as an interruption, and its attempt as one of MaxRetries');
    assert.deepEqual(await executions([victim, survivor], TaskRunId!), { started: 2, succeeded: 1 }, 'started twice, finished once');
    assert.match(survivor.output(), new RegExp(`recovered 1 task run\\(s\\) of dead node\\(s\\) ${victim.nodeId}`));
    workers.push(await startWorker({ ...NODE_OPTIONS, dataDir: api.dataDir }));
  });

  /** Starts a scripted run that hangs, kills the whole process group of the worker running it, and waits for the run to end. */
  async function endedByWorkerDeath(transformId: string, outputPath: string) {
    const { TaskRunId } = await glue.send(new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: outputPath }));
    await waitForRun(glue, transformId, TaskRunId!, ['RUNNING']);
    const victim = await runnerOf(workers, TaskRunId!);
    await victim.killGroup();
    workers.splice(workers.indexOf(victim), 1);
    return { TaskRunId, victim, failed: await waitForRun(glue, transformId, TaskRunId!, undefined, 10_000) };
  }

  it('a run whose MaxRetries is used up fails when its worker dies, its ErrorString naming the dead node and MaxRetries', async () => {
    const { transformId } = await createTransform(glue);
    const { TaskRunId, victim, failed } = await endedByWorkerDeath(transformId, scriptedPath({ outcome: 'hang' }, 'no-retries'));
    assert.equal(failed.Status, 'FAILED');
    assert.equal(
      failed.ErrorString,
      `Task run failed: the doppel node running it (${victim.nodeId}) died or stopped renewing its lease. That was attempt 1, and MaxRetries (0) is used up.`,
    );
    const wire = await extras(transformId, TaskRunId!);
    assert.deepEqual([wire['Attempt'], wire['InterruptionCount']], [1, 0], 'failed, not started again');
    workers.push(await startWorker({ ...NODE_OPTIONS, dataDir: api.dataDir }));
  });

  it('a run that cannot be resumed fails when its worker dies, its ErrorString naming the dead node', async () => {
    const { transformId } = await createTransform(glue, { MaxRetries: 1 });
    const { victim, failed } = await endedByWorkerDeath(transformId, scriptedPath({ outcome: 'hang', resumable: 0 }, 'fragile'));
    assert.equal(failed.Status, 'FAILED');
    assert.match(
      failed.ErrorString ?? '',
      new RegExp(`^Task run failed: the doppel node running it \\(${victim.nodeId}\\) died or stopped renewing its lease, and runs of this kind cannot be resumed`),
    );
    assert.ok(failed.CompletedOn instanceof Date);
    workers.push(await startWorker({ ...NODE_OPTIONS, dataDir: api.dataDir }));
  });

  it("SIGKILL of the worker process alone, mid job run: its orphaned task process exits, then the job run is taken over (its job's MaxRetries 1 allows it, its transform's is 0) and ends once", async (t) => {
    const transformId = await readyTransform(glue, 0);
    const job = await findMatchesJob(glue, transformId, 's3://out/takeover/?sleep=3000', 1);
    const { JobRunId } = await glue.send(new StartJobRunCommand({ JobName: job }));
    const { TaskRuns } = await glue.send(new GetMLTaskRunsCommand({ TransformId: transformId, Filter: { TaskRunType: 'FIND_MATCHES' } }));
    const taskRunId = TaskRuns?.find((r) => r.Properties?.FindMatchesTaskRunProperties?.JobRunId === JobRunId)?.TaskRunId;
    assert.ok(taskRunId, 'the job run has its FIND_MATCHES task run');
    await waitForRun(glue, transformId, taskRunId, ['RUNNING']);
    const victim = await runnerOf(workers, taskRunId);
    const survivor = workers.find((w) => w !== victim)!;
    const orphan = await taskProcessOf(victim, taskRunId);
    await victim.kill();
    const killedAt = Date.now();
    workers.splice(workers.indexOf(victim), 1);
    const orphanDeadline = Date.now() + 5_000;
    while (isAlive(orphan)) {
      assert.ok(Date.now() < orphanDeadline, `task process ${orphan} outlived its worker by 5 s`);
      await sleep(20);
    }
    t.diagnostic(`the orphaned task process exited ${Date.now() - killedAt} ms after its worker`);
    const run = await waitForJobRun(glue, job, JobRunId!, 30_000);
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    assert.deepEqual(await executions([victim, survivor], taskRunId), { started: 2, succeeded: 1 });
    assert.match(survivor.output(), new RegExp(`task run ${taskRunId} \\(FIND_MATCHES\\) started in task process \\d+ \\(attempt 2\\)`));
    workers.push(await startWorker({ ...NODE_OPTIONS, dataDir: api.dataDir }));
  });

  it('SIGTERM stops a worker cleanly: its run goes back to the queue uncounted (no attempt, even with MaxRetries 0) and the other worker starts it over', async () => {
    const { transformId } = await createTransform(glue);
    const { TaskRunId } = await glue.send(
      new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath({ sleep: 3000 }, 'handed-back') }),
    );
    await waitForRun(glue, transformId, TaskRunId!, ['RUNNING']);
    const leaving = await runnerOf(workers, TaskRunId!);
    const other = workers.find((w) => w !== leaving)!;
    assert.equal(await leaving.stop(), 0);
    workers.splice(workers.indexOf(leaving), 1);
    await untilLogged(other, new RegExp(`task run ${TaskRunId} \\(\\w+\\) started in task process \\d+$`, 'm'), 5_000);
    const done = await waitForRun(glue, transformId, TaskRunId!, undefined, 30_000);
    assert.equal(done.Status, 'SUCCEEDED', done.ErrorString);
    const wire = await extras(transformId, TaskRunId!);
    assert.deepEqual([wire['Attempt'], wire['InterruptionCount']], [1, 0], 'a hand-back is not an interruption');
    workers.push(await startWorker({ ...NODE_OPTIONS, dataDir: api.dataDir }));
  });

  it('CancelMLTaskRun on the API node stops a run in a worker: STOPPING, then STOPPED within a second', async (t) => {
    const { transformId } = await createTransform(glue);
    const { TaskRunId } = await glue.send(
      new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath({ outcome: 'hang' }, 'cancel') }),
    );
    await waitForRun(glue, transformId, TaskRunId!, ['RUNNING']);
    const runner = await runnerOf(workers, TaskRunId!);
    const taskProcess = await taskProcessOf(runner, TaskRunId!);
    const cancelAt = Date.now();
    const cancelled = await glue.send(new CancelMLTaskRunCommand({ TransformId: transformId, TaskRunId }));
    assert.equal(cancelled.Status, 'STOPPING');
    const stopped = await waitForRun(glue, transformId, TaskRunId!);
    const ms = Date.now() - cancelAt;
    t.diagnostic(`STOPPED ${ms} ms after CancelMLTaskRun`);
    assert.equal(stopped.Status, 'STOPPED');
    assert.ok(ms <= 1000, `STOPPED ${ms} ms after CancelMLTaskRun`);
    assert.ok(!isAlive(taskProcess), 'the run\'s task process was killed');
  });

  it('BatchStopJobRun on the API node stops a job run in a worker within a second', async (t) => {
    const transformId = await readyTransform(glue);
    const job = await findMatchesJob(glue, transformId, 's3://out/stop/?outcome=hang');
    const { JobRunId } = await glue.send(new StartJobRunCommand({ JobName: job }));
    const deadline = Date.now() + 15_000;
    while ((await glue.send(new GetJobRunCommand({ JobName: job, RunId: JobRunId }))).JobRun?.JobRunState !== 'RUNNING') {
      assert.ok(Date.now() < deadline, 'the job run never ran');
      await sleep(25);
    }
    const stopAt = Date.now();
    const out = await glue.send(new BatchStopJobRunCommand({ JobName: job, JobRunIds: [JobRunId!] }));
    assert.deepEqual(out.SuccessfulSubmissions, [{ JobName: job, JobRunId }]);
    const stopped = await waitForJobRun(glue, job, JobRunId!, 5_000);
    const ms = Date.now() - stopAt;
    t.diagnostic(`STOPPED ${ms} ms after BatchStopJobRun`);
    assert.equal(stopped.JobRunState, 'STOPPED');
    assert.ok(ms <= 1500, `STOPPED ${ms} ms after BatchStopJobRun`);
  });

  it('a plain doppel serve started on the same data dir shares it: it never takes a live worker\'s run', async () => {
    const { transformId } = await createTransform(glue);
    const { TaskRunId } = await glue.send(
      new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath({ outcome: 'hang' }, 'kept') }),
    );
    await waitForRun(glue, transformId, TaskRunId!, ['RUNNING']);
    const runner = await runnerOf(workers, TaskRunId!);
    const second = await startServer({ ...NODE_OPTIONS, dataDir: api.dataDir });
    try {
      await untilLogged(second, /sharing data dir .* with 3 other doppel node\(s\)/);
      await sleep(3 * POLL_MS);
      const wire = await extras(transformId, TaskRunId!);
      assert.equal(wire['Status'], 'RUNNING');
      assert.equal(wire['Attempt'], 1);
      assert.doesNotMatch(second.output(), /recovered|started in task process/);
      assert.doesNotMatch(runner.output(), new RegExp(`task run ${TaskRunId}.*(interrupted|lost)`));
    } finally {
      await second.stop();
    }
    await glue.send(new CancelMLTaskRunCommand({ TransformId: transformId, TaskRunId }));
    assert.equal((await waitForRun(glue, transformId, TaskRunId!)).Status, 'STOPPED');
  });
});

describe('a worker on an external S3-compatible store (s3rver), with its health port', () => {
  let s3rver: S3rver | undefined;
  let api: TestServer | undefined;
  let worker: TestWorker | undefined;
  let glue: GlueClient;
  let external: S3Client;
  let healthUrl: string;

  before(async () => {
    s3rver = await startS3rver();
    const options: StartOptions = {
      env: {
        DOPPEL_WORKERS: '1',
        DOPPEL_S3_ENDPOINT: s3rver.endpoint,
        DOPPEL_S3_ACCESS_KEY_ID: s3rver.accessKeyId,
        DOPPEL_S3_SECRET_ACCESS_KEY: s3rver.secretAccessKey,
      },
    };
    api = await startServer({ ...options, args: ['--no-worker'] });
    worker = await startWorker({ ...options, dataDir: api.dataDir, args: ['--port', '0'] });
    await untilLogged(worker, /health: +http:\/\/\S+\/health/);
    healthUrl = /health: +(http:\/\/\S+)\/health/.exec(worker.output())![1]!;
    glue = glueClient(api);
    external = s3Client(s3rver, { credentials: { accessKeyId: s3rver.accessKeyId, secretAccessKey: s3rver.secretAccessKey } });
    await external.send(new CreateBucketCommand({ Bucket: 'doppel-test' }));
  });

  after(async () => {
    glue?.destroy();
    external?.destroy();
    await worker?.stop();
    await stopAndRemove(api);
    await s3rver?.stop();
  });

  it('runs a real labeling-set generation queued on the API node, reading and writing the external store, its output written once', async () => {
    const fx = await createTransform(glue);
    const people = ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra', 'Barbara Liskov', 'Donald Knuth', 'Frances Allen', 'John McCarthy'];
    const rows = people.flatMap((name, i) => [
      `p${i}a,${name},${name.split(' ')[0]!.toLowerCase()}@example.com,${30 + i}`,
      `p${i}b,${name.toUpperCase()},${name.split(' ')[0]!.toLowerCase()}@example.org,${30 + i}`,
      `p${i}c,${name.split(' ').reverse().join(' ')},${name.split(' ')[1]!.toLowerCase()}@example.net,${40 + i}`,
    ]);
    await external.send(
      new PutObjectCommand({ Bucket: 'doppel-test', Key: `${fx.database}/${fx.table}/people.csv`, Body: ['id,name,email,age', ...rows].join('\n') + '\n' }),
    );
    const { TaskRunId } = await glue.send(
      new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: fx.transformId, OutputS3Path: 's3://doppel-test/labeling/round-1/' }),
    );
    const done = await waitForRun(glue, fx.transformId, TaskRunId!, undefined, 60_000);
    assert.equal(done.Status, 'SUCCEEDED', done.ErrorString);
    assert.deepEqual(await executions([worker!], TaskRunId!), { started: 1, succeeded: 1 });
    const listed = await external.send(new ListObjectsV2Command({ Bucket: 'doppel-test', Prefix: 'labeling/round-1/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    assert.equal(keys.filter((k) => k.endsWith('/_SUCCESS')).length, 1, `one _SUCCESS marker: ${keys.join(', ')}`);
    assert.ok(keys.some((k) => /part-\d+/.test(k)), `a part file: ${keys.join(', ')}`);
  });

  it('answers /health, /ready and /metrics on its port, counting its attempts, and refuses API requests', async () => {
    const health = await fetch(`${healthUrl}/health`);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${healthUrl}/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', checks: { metadataStore: 'ok', ...ON_QUEUE, taskProcesses: 'ok' } });
    const metrics = await (await fetch(`${healthUrl}/metrics`)).text();
    assert.match(metrics, /^doppel_task_attempt_duration_seconds_count\{task_type="LABELING_SET_GENERATION",outcome="done"\} 1$/m);
    const glueRequest = await fetch(healthUrl, { method: 'POST', headers: { 'x-amz-target': 'AWSGlue.GetMLTransforms' }, body: '{}' });
    assert.equal(glueRequest.status, 400);
    assert.match(((await glueRequest.json()) as { Message: string }).Message, /doppel worker/);
    const apiReady = await fetch(`${api!.endpoint}/ready`);
    assert.deepEqual(await apiReady.json(), { status: 'ready', checks: { metadataStore: 'ok', ...ON_QUEUE } }, 'an API-only node has no task processes to check');
  });
});

describe('a real find-matches job whose worker is SIGKILLed mid-run', { timeout: 300_000 }, () => {
  const BUCKET = 'takeover';
  let api: TestServer;
  let glue: GlueClient;
  let s3: S3Client;
  const workers: TestWorker[] = [];
  let job: string;
  let transformId: string;
  const options: StartOptions = { env: { DOPPEL_WORKERS: '1', DOPPEL_LEASE_MS: '60000' } };

  /** The output under `prefix`: its keys, and the content of its part files. */
  async function outputAt(prefix: string): Promise<{ keys: string[]; parts: string }> {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!.slice(prefix.length)).sort();
    let parts = '';
    for (const key of keys.filter((k) => k !== '_SUCCESS')) {
      parts += await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: prefix + key }))).Body!.transformToString('utf8');
    }
    return { keys, parts };
  }

  before(async () => {
    const ds = loadDataset('restaurant');
    api = await startServer({ ...options, args: ['--no-worker'] });
    workers.push(await startWorker({ ...options, dataDir: api.dataDir }), await startWorker({ ...options, dataDir: api.dataDir }));
    glue = glueClient(api);
    s3 = s3Client(api);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'data/records.csv', Body: readFileSync(ds.recordsCsvPath) }));
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'eats' } }));
    transformId = await createOpenCsvTransform(glue, {
      database: 'eats',
      table: 'restaurants',
      columns: ds.header,
      location: `s3://${BUCKET}/data/`,
      name: uniqueName('restaurants'),
    });
    await teachOnce(glue, { transformId, s3, bucket: BUCKET, labelingPrefix: 'labeling/', labelsKey: 'labels.csv', truth: ds.truth });
    await waitForTransform(glue, transformId, (t) => t.Status === 'READY');
    // The job's MaxRetries lets a run whose worker died start again.
    job = await findMatchesJob(glue, transformId, `s3://${BUCKET}/unused/`, 1);
  });

  after(() => stopCluster(api, workers, [glue, s3]));

  it('is taken over by the other worker and writes the output of an undisturbed run, once', async () => {
    const undisturbed = await glue.send(new StartJobRunCommand({ JobName: job, Arguments: { '--output-path': `s3://${BUCKET}/undisturbed/` } }));
    assert.equal((await waitForJobRun(glue, job, undisturbed.JobRunId!)).JobRunState, 'SUCCEEDED');
    const expected = await outputAt('undisturbed/');
    assert.ok(expected.keys.includes('_SUCCESS') && expected.parts.length > 0);

    const { JobRunId } = await glue.send(new StartJobRunCommand({ JobName: job, Arguments: { '--output-path': `s3://${BUCKET}/taken-over/` } }));
    const { TaskRuns } = await glue.send(new GetMLTaskRunsCommand({ TransformId: transformId, Filter: { TaskRunType: 'FIND_MATCHES' } }));
    const taskRunId = TaskRuns?.find((r) => r.Properties?.FindMatchesTaskRunProperties?.JobRunId === JobRunId)?.TaskRunId;
    assert.ok(taskRunId, 'the job run has its FIND_MATCHES task run');
    assert.equal((await waitForRun(glue, transformId, taskRunId, ['RUNNING', 'SUCCEEDED'], 60_000)).Status, 'RUNNING', 'killed while it runs');
    const victim = await runnerOf(workers, taskRunId);
    await victim.killGroup();
    workers.splice(workers.indexOf(victim), 1);
    const run = await waitForJobRun(glue, job, JobRunId!);
    assert.equal(run.JobRunState, 'SUCCEEDED', run.ErrorMessage);
    assert.deepEqual(await executions([victim, ...workers], taskRunId), { started: 2, succeeded: 1 });
    assert.deepEqual(await outputAt('taken-over/'), expected, 'the same files and records as the undisturbed run, each once');
  });
});

describe('a worker paused past its lease', () => {
  // Short leases: the other worker ends the paused worker's run soon after the pause.
  const SHORT_LEASE: StartOptions = { scriptedTasks: true, env: { DOPPEL_WORKERS: '1', DOPPEL_LEASE_MS: '1500' } };
  let api: TestServer;
  let glue: GlueClient;
  let s3: S3Client;
  const workers: TestWorker[] = [];

  before(async () => {
    api = await startServer({ ...SHORT_LEASE, args: ['--no-worker'] });
    glue = glueClient(api);
    s3 = s3Client(api);
    await s3.send(new CreateBucketCommand({ Bucket: 'paused' }));
    workers.push(await startWorker({ ...SHORT_LEASE, dataDir: api.dataDir }), await startWorker({ ...SHORT_LEASE, dataDir: api.dataDir }));
  });

  after(() => stopCluster(api, workers, [glue, s3]));

  it('writes nothing once another node has ended its run, and its attempt is stopped', async () => {
    const transformId = await readyTransform(glue);
    const job = await findMatchesJob(glue, transformId, scriptedPath({ sleep: 2000, write: 'paused/late' }));
    const { JobRunId } = await glue.send(new StartJobRunCommand({ JobName: job }));
    const { TaskRuns } = await glue.send(new GetMLTaskRunsCommand({ TransformId: transformId, Filter: { TaskRunType: 'FIND_MATCHES' } }));
    const taskRunId = TaskRuns?.find((r) => r.Properties?.FindMatchesTaskRunProperties?.JobRunId === JobRunId)?.TaskRunId;
    assert.ok(taskRunId);
    assert.equal((await waitForRun(glue, transformId, taskRunId, ['RUNNING'], 30_000)).Status, 'RUNNING');
    const paused = await runnerOf(workers, taskRunId);
    // The worker and its task process stop where they are, the way a VM pause or a long GC stops them.
    process.kill(-paused.process.pid!, 'SIGSTOP');
    try {
      const failed = await waitForJobRun(glue, job, JobRunId!);
      assert.equal(failed.JobRunState, 'FAILED');
      assert.match(failed.ErrorMessage!, /died or stopped renewing its lease/);
    } finally {
      process.kill(-paused.process.pid!, 'SIGCONT');
    }
    // The rest of its run's sleep, then the write, if it comes at all.
    await sleep(4000);
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'paused', Key: 'late' })), (e: Error) => e.name === 'NotFound', 'the ended run wrote its output');
    await untilLogged(paused, new RegExp(`task run ${taskRunId} was ended elsewhere while this node held it: stopping the attempt`));
    assert.equal((await glue.send(new GetJobRunCommand({ JobName: job, RunId: JobRunId! }))).JobRun?.JobRunState, 'FAILED');
  });
});

describe('workers whose clocks are off by more than the lease (nodes on PostgreSQL)', {
  skip: TEST_DATABASE_URL === undefined ? 'nodes on several machines share PostgreSQL: needs DOPPEL_TEST_DATABASE_URL' : false,
}, () => {
  const LEASE_MS = 2000;
  const SKEW_MS = 3 * LEASE_MS;
  const TIMEOUT_UNIT_MS = 1000;
  const OPTIONS: StartOptions = {
    scriptedTasks: true,
    env: { DOPPEL_WORKERS: '1', DOPPEL_LEASE_MS: String(LEASE_MS), DOPPEL_TIMEOUT_UNIT_MS: String(TIMEOUT_UNIT_MS) },
  };
  /** The options of a node whose machine's clock is `skewMs` off (see support/skewed-clock.ts). */
  const skewedOptions = (skewMs: number, dataDir: string) => ({
    ...OPTIONS,
    dataDir,
    env: { ...OPTIONS.env, NODE_OPTIONS: `--import ${new URL('../support/skewed-clock.js', import.meta.url).href}`, DOPPEL_TEST_CLOCK_SKEW_MS: String(skewMs) },
  });
  const skewed = (skewMs: number, dataDir: string) => startWorker(skewedOptions(skewMs, dataDir));
  let api: TestServer;
  let glue: GlueClient;
  const workers: TestWorker[] = [];

  before(async () => {
    api = await startServer({ ...OPTIONS, args: ['--no-worker'] });
    glue = glueClient(api);
  });

  after(() => stopCluster(api, workers, [glue]));

  it("leases follow the database's clock: a worker running late keeps its run, and one running early does not take it", async () => {
    const { transformId } = await createTransform(glue);
    const late = await skewed(-SKEW_MS, api.dataDir);
    workers.push(late);
    const { TaskRunId } = await glue.send(
      new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath({ sleep: 4 * LEASE_MS }) }),
    );
    await waitForRun(glue, transformId, TaskRunId!, ['RUNNING'], 30_000);
    // By its own clock, every lease the late worker renews has expired: the early one sweeps the
    // queue at once when it starts, and every DOPPEL_POLL_MS after.
    workers.push(await skewed(SKEW_MS, api.dataDir));
    const end = await waitForRun(glue, transformId, TaskRunId!, undefined, 60_000);
    assert.deepEqual([end.Status, end.ErrorString], ['SUCCEEDED', undefined]);
    const wire = (await rawGlueCall(api, 'GetMLTaskRun', { TransformId: transformId, TaskRunId: TaskRunId! })).body;
    assert.deepEqual([wire['Attempt'], wire['InterruptionCount']], [1, 0], 'one attempt, never interrupted');
    assert.deepEqual(await executions(workers, TaskRunId!), { started: 1, succeeded: 1 });
    assert.equal((await runnerOf(workers, TaskRunId!)).nodeId, late.nodeId);
  });

  it("deadlines and execution times follow the database's clock: a run started on an API node running early and executed by a worker running late times out after its Timeout", async () => {
    // The late worker alone executes the run.
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    const early = await startServer({ ...skewedOptions(SKEW_MS, api.dataDir), args: ['--no-worker'] });
    const earlyGlue = glueClient(early);
    try {
      workers.push(await skewed(-SKEW_MS, api.dataDir));
      const timeoutMinutes = 3;
      const { transformId } = await createTransform(earlyGlue, { Timeout: timeoutMinutes });
      const sent = Date.now();
      const { TaskRunId } = await earlyGlue.send(
        new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath({ sleep: 60_000 }) }),
      );
      await waitForRun(earlyGlue, transformId, TaskRunId!, ['RUNNING'], 30_000);
      const running = await earlyGlue.send(new GetMLTaskRunCommand({ TransformId: transformId, TaskRunId }));
      const elapsed = Date.now() - sent;
      // Reckoned on the early node's clock against the queue's, it would read a skew more.
      assert.ok(running.ExecutionTime! <= Math.ceil(elapsed / 1000), `ExecutionTime ${running.ExecutionTime} s while running, ${elapsed} ms after the start`);
      const end = await waitForRun(glue, transformId, TaskRunId!, undefined, 60_000);
      const took = Date.now() - sent;
      assert.equal(end.Status, 'TIMEOUT');
      // Counted on either node's clock, the run would end a skew later (or at once).
      const timeoutMs = timeoutMinutes * TIMEOUT_UNIT_MS;
      assert.ok(took >= timeoutMs && took < timeoutMs + SKEW_MS / 2, `timed out ${took} ms after it was started, its Timeout being ${timeoutMs} ms`);
      assertRecent(end.StartedOn!, sent, sent + took, "StartedOn, on the database's clock");
    } finally {
      earlyGlue.destroy();
      await early.stop();
    }
  });
});

describe('doppel serve and doppel worker options', () => {
  it('both take the store options (--data-dir, --database-url), described once in the help', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'doppel-options-'));
    try {
      for (const command of ['serve', 'worker']) {
        const refused = await runCli([command, '--port', '0', '--data-dir', dataDir, '--database-url', 'mysql://u@h/d']);
        assert.equal(refused.status, 1, `${command} ends at once`);
        assert.match(refused.stderr, /DOPPEL_DATABASE_URL \(--database-url\) must be a postgres:\/\//, `${command} read --database-url`);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    const help = await runCli(['help']);
    assert.equal(help.status, 0);
    assert.equal(help.stdout.match(/^ {2}--data-dir D /gm)?.length, 1, help.stdout);
    assert.equal(help.stdout.match(/^ {2}--database-url URL /gm)?.length, 1, help.stdout);
    assert.match(help.stdout, /options of serve and worker[^\n]*\n {2}--data-dir D .*\[DOPPEL_DATA_DIR\]/);
  });

  it('a worker refuses the options only serve has', async () => {
    for (const flag of ['--no-auth', '--no-worker', '--allow-unauthenticated-network']) {
      const refused = await runCli(['worker', flag]);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, new RegExp(`Unknown option '${flag}'`));
    }
  });
});
