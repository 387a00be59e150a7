/**
 * The run queue of nodes on PostgreSQL: BullMQ in Redis hands each waiting run to a worker, and the
 * run's row in PostgreSQL stays the fence. Seen from outside: the jobs in Redis, real worker
 * processes, and runs started through @aws-sdk/client-glue. Needs the test PostgreSQL and Redis
 * (.ci/run starts both); skipped otherwise.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { StartMLLabelingSetGenerationTaskRunCommand, type GlueClient } from '@aws-sdk/client-glue';
import { createTransform, glueClient, scriptedPath, waitForRun } from '../support/glue-client.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import {
  startServer,
  startWorker,
  stopAndRemove,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  testQueuePrefix,
  type StartOptions,
  type TestServer,
  type TestWorker,
} from '../support/server.js';

const NO_QUEUE =
  TEST_DATABASE_URL === undefined || TEST_REDIS_URL === undefined
    ? 'needs DOPPEL_TEST_DATABASE_URL and DOPPEL_TEST_REDIS_URL (.ci/run starts both)'
    : false;

const LEASE_MS = 4_000;
const NODE_OPTIONS: StartOptions = { scriptedTasks: true, env: { DOPPEL_WORKERS: '1', DOPPEL_LEASE_MS: String(LEASE_MS) } };

/** How often the nodes' logs say the run was started. */
const startedCount = (nodes: TestWorker[], taskRunId: string) =>
  nodes.reduce((n, w) => n + [...w.output().matchAll(new RegExp(`task run ${taskRunId} \\(\\w+\\) started in task process`, 'g'))].length, 0);

describe('the run queue in Redis (nodes on PostgreSQL)', { skip: NO_QUEUE }, () => {
  let api: TestServer;
  let glue: GlueClient;
  let redis: Redis;
  let queueKey: (suffix: string) => string;
  const workers: TestWorker[] = [];

  before(async () => {
    api = await startServer({ ...NODE_OPTIONS, args: ['--no-worker'] });
    glue = glueClient(api);
    redis = new Redis(TEST_REDIS_URL!);
    const prefix = testQueuePrefix(api.databaseUrl!);
    queueKey = (suffix) => `${prefix}:task-runs:${suffix}`;
  });

  after(async () => {
    glue?.destroy();
    redis?.disconnect();
    await Promise.all(workers.map((w) => w.stop()));
    await stopAndRemove(api);
  });

  const startRun = async (transformId: string, directives: Record<string, string | number>, key: string) =>
    (await glue.send(new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath(directives, key) })))
      .TaskRunId!;

  it('announces each waiting run as one job; runs whose jobs Redis lost are announced again by a worker and run once', async () => {
    const { transformId } = await createTransform(glue);
    const runs = [await startRun(transformId, { sleep: 100 }, 'a'), await startRun(transformId, { sleep: 100 }, 'b')];
    const waiting = await redis.lrange(queueKey('wait'), 0, -1);
    for (const id of runs) assert.ok(waiting.includes(`${id}.1.0`), `the job of ${id} (first attempt) waits in Redis: ${waiting.join(', ')}`);

    // Redis loses every job of the deployment (a restart without persistence, say): the runs stay waiting in PostgreSQL.
    const keys = await redis.keys(queueKey('*'));
    assert.ok(keys.length > 0);
    await redis.del(...keys);
    workers.push(await startWorker({ ...NODE_OPTIONS, dataDir: api.dataDir }));
    for (const id of runs) {
      const run = await waitForRun(glue, transformId, id, undefined, 30_000);
      assert.equal(run.Status, 'SUCCEEDED');
    }
    await sleep(200);
    for (const id of runs) assert.equal(startedCount(workers, id), 1, `${id} was started once`);
  });

  it('a job handed to a second worker while its run executes in the first does not run it again', async () => {
    workers.push(await startWorker({ ...NODE_OPTIONS, dataDir: api.dataDir }));
    const { transformId } = await createTransform(glue);
    const id = await startRun(transformId, { sleep: 3 * LEASE_MS }, 'long');
    await waitForRun(glue, transformId, id, ['RUNNING'], 10_000);
    // The lock is the first worker's heartbeat: without it, BullMQ takes the job for stalled and hands it out again.
    const jobId = `${id}.1.0`;
    assert.equal(await redis.del(queueKey(`${jobId}:lock`)), 1, 'the job was locked to the worker running it');
    const deadline = Date.now() + 3 * LEASE_MS;
    for (;;) {
      const events = await redis.xrange(queueKey('events'), '-', '+');
      if (events.some(([, fields]) => fields.join(' ').includes(`event stalled jobId ${jobId}`))) break;
      assert.ok(Date.now() < deadline, 'BullMQ never found the job stalled');
      await sleep(100);
    }
    const run = await waitForRun(glue, transformId, id, undefined, 6 * LEASE_MS);
    assert.equal(run.Status, 'SUCCEEDED');
    await sleep(200);
    assert.equal(startedCount(workers, id), 1, 'the run was started once, by the worker that claimed it first');
    // The second worker looks at its copy of the job again when the first one's lease would have expired.
    const jobsOfRun = async () =>
      [
        ...(await redis.lrange(queueKey('wait'), 0, -1)),
        ...(await redis.lrange(queueKey('active'), 0, -1)),
        ...(await redis.zrange(queueKey('delayed'), 0, -1)),
      ].filter((j) => j.startsWith(id));
    const gone = Date.now() + 2 * LEASE_MS;
    while ((await jobsOfRun()).length > 0) {
      assert.ok(Date.now() < gone, `its job left the queue within two leases of the run's end: ${(await jobsOfRun()).join(', ')}`);
      await sleep(100);
    }
    assert.equal(startedCount(workers, id), 1, 'and it never started the run');
  });
});

describe('Redis restarted under load (nodes on PostgreSQL)', { skip: NO_QUEUE, timeout: 180_000 }, () => {
  let redis: TestRedis | undefined;
  let skipReason: string | undefined;
  let server: TestServer | undefined;
  let glue: GlueClient;

  before(async () => {
    try {
      redis = await startRedis();
    } catch (e) {
      skipReason = (e as Error).message;
      return;
    }
    server = await startServer({ scriptedTasks: true, env: { DOPPEL_WORKERS: '2', DOPPEL_LEASE_MS: String(LEASE_MS), DOPPEL_REDIS_URL: redis.url } });
    glue = glueClient(server);
  });

  after(async () => {
    glue?.destroy();
    await stopAndRemove(server);
    await redis?.stop();
  });

  it('Redis killed mid-load: the API answers at once, and runs waiting, running and started meanwhile all end SUCCEEDED once Redis is back, each started once', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const runs: Array<{ transformId: string; id: string }> = [];
    const start = async (transformId: string, key: string) => {
      const id = (
        await glue.send(new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath({ sleep: 1500 }, key) }))
      ).TaskRunId!;
      runs.push({ transformId, id });
    };
    const transforms = [];
    for (let i = 0; i < 4; i++) transforms.push((await createTransform(glue)).transformId);
    for (const [i, transformId] of transforms.entries()) for (let j = 0; j < 2; j++) await start(transformId, `before-${i}-${j}`);
    await waitForRun(glue, runs[0]!.transformId, runs[0]!.id, ['RUNNING'], 10_000);
    // Every job goes with the server: the running runs' locks, the waiting runs' jobs.
    await redis!.kill();
    const startedAt = performance.now();
    for (const [i, transformId] of transforms.entries()) await start(transformId, `meanwhile-${i}`);
    const seconds = (performance.now() - startedAt) / 1000;
    t.diagnostic(`4 StartMLLabelingSetGenerationTaskRun calls with Redis down took ${seconds.toFixed(2)} s`);
    assert.ok(seconds < 5, `starting runs does not wait for Redis (${seconds.toFixed(2)} s)`);
    const ready = await fetch(`${server!.endpoint}/ready`);
    assert.equal(ready.status, 503);
    assert.match(((await ready.json()) as { checks: Record<string, string> }).checks['runQueue'] ?? '', /^Redis \(DOPPEL_REDIS_URL\)/);
    await sleep(LEASE_MS);
    await redis!.start();
    for (const run of runs) {
      const done = await waitForRun(glue, run.transformId, run.id, undefined, 60_000);
      assert.equal(done.Status, 'SUCCEEDED', `${run.id}: ${done.ErrorString}`);
    }
    await sleep(200);
    const started = (id: string) => [...server!.output().matchAll(new RegExp(`task run ${id} \\(\\w+\\) started in task process`, 'g'))].length;
    assert.deepEqual(runs.map((r) => started(r.id)), runs.map(() => 1), 'each run was started once');
  });

  it('a node stops on SIGTERM while Redis is down, within seconds', async (t) => {
    if (skipReason) return t.skip(skipReason);
    await redis!.kill();
    const stoppedAt = performance.now();
    assert.equal(await server!.stop(), 0);
    const seconds = (performance.now() - stoppedAt) / 1000;
    t.diagnostic(`stopped ${seconds.toFixed(1)} s after SIGTERM`);
    assert.ok(seconds < 15, `it stopped (${seconds.toFixed(1)} s)`);
  });
});
