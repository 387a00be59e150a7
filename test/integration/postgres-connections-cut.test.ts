/**
 * Task runs executing while every connection doppel holds to PostgreSQL is ended with
 * pg_terminate_backend, again and again (what a restart, a failover or a proxy dropping connections
 * does to them): their reads, lease renewals and final commits are tried again while their leases
 * hold, so every run SUCCEEDS in its first attempt although its transform's MaxRetries is 0.
 * Needs DOPPEL_TEST_DATABASE_URL and DOPPEL_TEST_REDIS_URL (.ci/run starts both); skipped otherwise.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { GetMLTaskRunCommand, GetMLTransformCommand, StartImportLabelsTaskRunCommand, type GlueClient } from '@aws-sdk/client-glue';
import { createTransform, glueClient, scriptedPath } from '../support/glue-client.js';
import { rawGlueCall } from '../support/raw-glue.js';
import { startServer, stopAndRemove, TEST_DATABASE_URL, TEST_REDIS_URL, withTestPostgres, type TestServer } from '../support/server.js';

const NO_POSTGRES =
  TEST_DATABASE_URL === undefined || TEST_REDIS_URL === undefined
    ? 'needs DOPPEL_TEST_DATABASE_URL and DOPPEL_TEST_REDIS_URL (.ci/run starts both)'
    : false;

/**
 * How often doppel's connections are all terminated: several times while each run executes. Between
 * cuts the store answers for a while, as it does between a restart's or a failover's blips; cuts
 * every few tens of milliseconds on a loaded machine (CI runs test files side by side) leave no
 * connection alive long enough to commit, which is a store that is down, not one that blips, and
 * an attempt whose lease passes meanwhile rightly fails.
 */
const CUT_EVERY_MS = 400;
/** The runs' lease: many cuts long, so a run's calls are tried again across several cuts. */
const LEASE_MS = 10_000;
const TRANSFORMS = 4;
const RUNS_PER_TRANSFORM = 2;

describe('PostgreSQL connections terminated while task runs execute', { skip: NO_POSTGRES, timeout: 180_000 }, () => {
  let server: TestServer;
  let glue: GlueClient;

  before(async () => {
    server = await startServer({ scriptedTasks: true, env: { DOPPEL_LEASE_MS: String(LEASE_MS) } });
    glue = glueClient(server);
  });

  after(async () => {
    glue?.destroy();
    await stopAndRemove(server);
  });

  it('every run SUCCEEDS in its first attempt (MaxRetries 0), its outcome committed once', async (t) => {
    const transformIds: string[] = [];
    for (let i = 0; i < TRANSFORMS; i++) transformIds.push((await createTransform(glue, { MaxRetries: 0 })).transformId);
    // Imports of one transform run one after the other: the runs take turns in the two task
    // processes for several seconds, each renewing its lease and committing while connections are cut.
    const runs: Array<{ transformId: string; taskRunId: string }> = [];
    for (const transformId of transformIds) {
      for (let r = 0; r < RUNS_PER_TRANSFORM; r++) {
        const out = await glue.send(new StartImportLabelsTaskRunCommand({ TransformId: transformId, InputS3Path: scriptedPath({ labels: 1, sleep: 1000 }) }));
        runs.push({ transformId, taskRunId: out.TaskRunId! });
      }
    }

    // The cuts begin once the task processes are ready: one still opening its store would exit, and
    // be started again only later.
    while ((await fetch(`${server.endpoint}/ready`)).status !== 200) await sleep(50);
    const database = new URL(server.databaseUrl!).pathname.slice(1);
    const ids = runs.map((r) => r.taskRunId);
    const doppelConnections = `FROM pg_stat_activity WHERE datname = $1 AND application_name = 'doppel'`;
    /**
     * Locks the rows of the runs running now and terminates the connections of the calls that wait
     * on them, until one of those is a call other than a progress write (which is not tried again,
     * the next one saying more): a lease renewal or the commit that ends a run. Returns how many
     * connections it terminated and how many of those were such calls (none within 3 s: 0).
     */
    const cutCallsOfRuns = async (c: pg.Client): Promise<{ terminated: number; calls: number }> => {
      await c.query('BEGIN');
      try {
        const locked = await c.query(`SELECT id FROM task_runs WHERE id = ANY($1::text[]) AND status = 'RUNNING' FOR UPDATE`, [ids]);
        let terminated = 0;
        if (locked.rows.length === 0) return { terminated, calls: 0 };
        for (let waited = 0; waited < 3_000; waited += 20) {
          // pg_stat_activity is read once per transaction unless its snapshot is cleared.
          await c.query('SELECT pg_stat_clear_snapshot()');
          const cut = await c.query<{ query: string }>(
            `SELECT query, pg_terminate_backend(pid) ${doppelConnections} AND pg_backend_pid() = ANY(pg_blocking_pids(pid))`,
            [database],
          );
          terminated += cut.rows.length;
          const calls = cut.rows.filter((r) => !r.query.includes('SET progress =')).length;
          if (calls > 0) return { terminated, calls };
          await sleep(20);
        }
        return { terminated, calls: 0 };
      } finally {
        await c.query('COMMIT');
      }
    };
    let terminated = 0;
    // Calls of the runs cut while the store worked on them. Cutting idle pooled connections alone
    // would reach a run's call only by chance.
    let cutInCall = 0;
    // The test's own connection is not doppel's (application_name): it watches the runs throughout.
    await withTestPostgres(async (c) => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const cut = await c.query<{ n: string }>(`SELECT count(pg_terminate_backend(pid)) AS n ${doppelConnections}`, [database]);
        terminated += Number(cut.rows[0]!.n);
        const inCalls = await cutCallsOfRuns(c);
        cutInCall += inCalls.calls;
        terminated += inCalls.terminated;
        const active = await c.query<{ n: string }>(
          `SELECT count(*) AS n FROM task_runs WHERE id = ANY($1::text[]) AND status IN ('STARTING', 'RUNNING', 'STOPPING')`,
          [ids],
        );
        if (Number(active.rows[0]!.n) === 0) return;
        assert.ok(Date.now() < deadline, `the runs ended within 2 minutes:\n${server.output().slice(-6000)}`);
        await sleep(CUT_EVERY_MS);
      }
    }, server.databaseUrl);
    t.diagnostic(`${terminated} connections terminated while ${runs.length} runs executed`);
    assert.ok(terminated > runs.length, 'connections were terminated while the runs executed');

    for (const { transformId, taskRunId } of runs) {
      const run = await glue.send(new GetMLTaskRunCommand({ TransformId: transformId, TaskRunId: taskRunId }));
      assert.deepEqual([run.Status, run.ErrorString], ['SUCCEEDED', undefined], taskRunId);
      const wire = (await rawGlueCall(server, 'GetMLTaskRun', { TransformId: transformId, TaskRunId: taskRunId })).body;
      assert.deepEqual([wire['Attempt'], wire['InterruptionCount']], [1, 0], `${taskRunId} ran once`);
    }
    // Each import adds its label to those the transform had: a commit applied twice, or lost, would show here.
    for (const transformId of transformIds) {
      assert.equal((await glue.send(new GetMLTransformCommand({ TransformId: transformId }))).LabelCount, RUNS_PER_TRANSFORM, transformId);
    }
    assert.equal(server.process.exitCode, null, 'the server is still running');
    const triedAgain = server.output().split('failed, the metadata store being unreachable').length - 1;
    t.diagnostic(`${cutInCall} calls of the runs cut while the store worked on them; ${triedAgain} calls tried again`);
    assert.ok(cutInCall > 0, 'a call of a run was cut while the store worked on it');
    assert.ok(triedAgain >= cutInCall, 'each call cut was tried again');
  });
});
