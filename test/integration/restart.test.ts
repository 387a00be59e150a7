/**
 * Crash safety: everything stored survives a SIGKILL, and no task run stays RUNNING after a
 * restart or after its task process dies (interrupted runs start again when their kind allows it
 * and their MaxRetries is not used up, otherwise they end FAILED with a reason).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  GetDatabaseCommand,
  GetMLTaskRunsCommand,
  GetTableCommand,
  GetTagsCommand,
  StartImportLabelsTaskRunCommand,
  StartMLLabelingSetGenerationTaskRunCommand,
} from '@aws-sdk/client-glue';
import {
  createTransform,
  getTransform,
  glueClient,
  scriptedPath,
  startGlueServer,
  stopGlueServer,
  transformArn,
  waitForRun,
} from '../support/glue-client.js';
import { rawGlueCall } from '../support/raw-glue.js';
import { startServer, taskProcessOf, untilLogged, type TestServer } from '../support/server.js';

describe('restart after a crash', () => {
  const servers: TestServer[] = [];
  after(async () => {
    for (const s of servers) await s.kill();
    await servers[0]?.cleanup();
  });

  it('keeps every record and leaves no run RUNNING', async () => {
    // On a shared (PostgreSQL) store the dead server's runs are recovered once their lease expires,
    // not at the restart: a short lease keeps that within the waits below.
    const env = { DOPPEL_LEASE_MS: '2000', DOPPEL_WORKERS: '3' };
    const first = await startServer({ scriptedTasks: true, env });
    servers.push(first);
    let client = glueClient(first);

    const fx = await createTransform(client, { Tags: { team: 'data', env: 'test' }, MaxRetries: 1 });
    const noRetries = await createTransform(client);
    const imported = await client.send(
      new StartImportLabelsTaskRunCommand({
        TransformId: fx.transformId,
        InputS3Path: scriptedPath({ labels: 12 }, 'labels'),
      }),
    );
    await waitForRun(client, fx.transformId, imported.TaskRunId!);
    // Three runs RUNNING when the server dies: one its MaxRetries lets start again, one of a kind
    // that cannot, one whose MaxRetries (0) is used up by its first attempt.
    const resumable = await client.send(
      new StartMLLabelingSetGenerationTaskRunCommand({
        TransformId: fx.transformId,
        OutputS3Path: scriptedPath({ sleep: 1500 }, 'resumable'),
      }),
    );
    const fragile = await client.send(
      new StartMLLabelingSetGenerationTaskRunCommand({
        TransformId: fx.transformId,
        OutputS3Path: scriptedPath({ outcome: 'hang', resumable: 0 }, 'fragile'),
      }),
    );
    const exhausted = await client.send(
      new StartMLLabelingSetGenerationTaskRunCommand({
        TransformId: noRetries.transformId,
        OutputS3Path: scriptedPath({ sleep: 1500 }, 'exhausted'),
      }),
    );
    await waitForRun(client, fx.transformId, resumable.TaskRunId!, ['RUNNING']);
    await waitForRun(client, fx.transformId, fragile.TaskRunId!, ['RUNNING']);
    await waitForRun(client, noRetries.transformId, exhausted.TaskRunId!, ['RUNNING']);

    await first.kill();
    const second = await startServer({ scriptedTasks: true, dataDir: first.dataDir, env });
    servers.push(second);
    client = glueClient(second);

    const t = await getTransform(client, fx.transformId);
    assert.equal(t.Name, fx.name);
    assert.equal(t.Status, 'READY');
    assert.equal(t.LabelCount, 12);
    const tags = await client.send(new GetTagsCommand({ ResourceArn: transformArn(fx.transformId) }));
    assert.deepEqual(tags.Tags, { team: 'data', env: 'test' });
    const db = await client.send(new GetDatabaseCommand({ Name: fx.database }));
    assert.equal(db.Database?.Name, fx.database);
    const table = await client.send(new GetTableCommand({ DatabaseName: fx.database, Name: fx.table }));
    assert.equal(table.Table?.Name, fx.table);

    const resumed = await waitForRun(client, fx.transformId, resumable.TaskRunId!);
    assert.equal(resumed.Status, 'SUCCEEDED', 'the resumable run is picked up again and finishes');
    // Running time only: the attempt cut short counts until the dead server last renewed its lease.
    assert.ok(resumed.ExecutionTime! >= 1 && resumed.ExecutionTime! <= 30, `ExecutionTime ${resumed.ExecutionTime}`);
    const extras = async (transformId: string, taskRunId: string) =>
      (await rawGlueCall(second, 'GetMLTaskRun', { TransformId: transformId, TaskRunId: taskRunId })).body;
    assert.deepEqual([(await extras(fx.transformId, resumable.TaskRunId!))['Attempt'], (await extras(fx.transformId, resumable.TaskRunId!))['InterruptionCount']], [2, 1]);
    const died = 'Task run failed: the doppel node running it \\(\\S+\\) died or stopped renewing its lease';
    const failed = await waitForRun(client, fx.transformId, fragile.TaskRunId!);
    assert.equal(failed.Status, 'FAILED');
    assert.match(failed.ErrorString ?? '', new RegExp(`^${died}, and runs of this kind cannot be resumed; start it again\\.$`));
    assert.ok(failed.CompletedOn instanceof Date);
    const usedUp = await waitForRun(client, noRetries.transformId, exhausted.TaskRunId!);
    assert.equal(usedUp.Status, 'FAILED');
    assert.match(usedUp.ErrorString ?? '', new RegExp(`^${died}\\. That was attempt 1, and MaxRetries \\(0\\) is used up\\.$`));
    assert.deepEqual([(await extras(noRetries.transformId, exhausted.TaskRunId!))['Attempt'], (await extras(noRetries.transformId, exhausted.TaskRunId!))['InterruptionCount']], [1, 0]);

    const done = await client.send(new GetMLTaskRunsCommand({ TransformId: fx.transformId }));
    const statuses = Object.fromEntries((done.TaskRuns ?? []).map((r) => [r.TaskRunId, r.Status]));
    assert.deepEqual(statuses, {
      [imported.TaskRunId!]: 'SUCCEEDED',
      [resumable.TaskRunId!]: 'SUCCEEDED',
      [fragile.TaskRunId!]: 'FAILED',
    });
  });
});


describe('a task process that dies mid-run', () => {
  it('interrupts its run: started again while the transform\'s MaxRetries allows, then FAILED saying why', async () => {
    const { server, glue } = await startGlueServer({ scriptedTasks: true });
    try {
      const { transformId } = await createTransform(glue, { MaxRetries: 1 });
      const started = Date.now();
      const first = await glue.send(
        new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath({ sleep: 1500 }) }),
      );
      const killAttempt = async (taskRunId: string, attempt: number) => {
        await waitForRun(glue, transformId, taskRunId, ['RUNNING']);
        process.kill(await taskProcessOf(server, taskRunId, attempt), 'SIGKILL');
      };
      const extras = async (taskRunId: string) =>
        (await rawGlueCall(server, 'GetMLTaskRun', { TransformId: transformId, TaskRunId: taskRunId })).body;

      await killAttempt(first.TaskRunId!, 1);
      const resumed = await waitForRun(glue, transformId, first.TaskRunId!);
      assert.equal(resumed.Status, 'SUCCEEDED', resumed.ErrorString);
      assert.deepEqual([(await extras(first.TaskRunId!))['Attempt'], (await extras(first.TaskRunId!))['InterruptionCount']], [2, 1]);
      const wall = (Date.now() - started) / 1000;
      assert.ok(resumed.ExecutionTime! >= 1 && resumed.ExecutionTime! <= wall + 1, `ExecutionTime ${resumed.ExecutionTime} of ${wall} s`);
      await untilLogged(server, new RegExp(`task run ${first.TaskRunId} \\(\\w+\\) interrupted: its task process \\(pid \\d+\\) was killed by SIGKILL.*; resumed`));

      // Interrupted again with the one retry used up: FAILED, naming the process, the signal and the budget.
      const second = await glue.send(
        new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath({ outcome: 'hang' }) }),
      );
      await killAttempt(second.TaskRunId!, 1);
      await killAttempt(second.TaskRunId!, 2);
      const failed = await waitForRun(glue, transformId, second.TaskRunId!);
      assert.equal(failed.Status, 'FAILED');
      assert.match(
        failed.ErrorString ?? '',
        /^Task run failed: its task process \(pid \d+\) was killed by SIGKILL, most often the system running out of memory .*\. That was attempt 2, and MaxRetries \(1\) is used up\.$/,
      );
      assert.deepEqual([(await extras(second.TaskRunId!))['Attempt'], (await extras(second.TaskRunId!))['InterruptionCount']], [2, 1]);
      assert.ok(failed.ExecutionTime! <= (Date.now() - started) / 1000 + 1, `ExecutionTime ${failed.ExecutionTime}`);

      // One budget: an attempt that died used the retry that a failed attempt would otherwise get.
      const third = await glue.send(
        new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath({ sleep: 1500, failAttempts: 2 }) }),
      );
      await killAttempt(third.TaskRunId!, 1);
      const failedOnItsOwn = await waitForRun(glue, transformId, third.TaskRunId!);
      assert.deepEqual([failedOnItsOwn.Status, failedOnItsOwn.ErrorString], ['FAILED', 'scripted failure of attempt 2']);
      assert.deepEqual([(await extras(third.TaskRunId!))['Attempt'], (await extras(third.TaskRunId!))['InterruptionCount']], [2, 1]);

      // With no retries at all (MaxRetries 0, the default) the first death fails the run.
      const { transformId: noRetries } = await createTransform(glue);
      const fourth = await glue.send(
        new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: noRetries, OutputS3Path: scriptedPath({ outcome: 'hang' }) }),
      );
      await waitForRun(glue, noRetries, fourth.TaskRunId!, ['RUNNING']);
      process.kill(await taskProcessOf(server, fourth.TaskRunId!, 1), 'SIGKILL');
      const failedAtOnce = await waitForRun(glue, noRetries, fourth.TaskRunId!);
      assert.equal(failedAtOnce.Status, 'FAILED');
      assert.match(failedAtOnce.ErrorString ?? '', /^Task run failed: its task process \(pid \d+\) was killed by SIGKILL.*\. That was attempt 1, and MaxRetries \(0\) is used up\.$/);

      // Fresh task processes took the dead ones' places.
      const after = await glue.send(
        new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath() }),
      );
      assert.equal((await waitForRun(glue, transformId, after.TaskRunId!)).Status, 'SUCCEEDED');
    } finally {
      await stopGlueServer({ server, glue });
    }
  });
});
