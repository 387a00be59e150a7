/**
 * Crash safety: everything stored survives a SIGKILL, and no task run stays RUNNING after a
 * restart or after its task process dies (interrupted runs are resumed when their kind allows it
 * and DOPPEL_MAX_INTERRUPTIONS is not used up, otherwise FAILED with a reason).
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
    const env = { DOPPEL_LEASE_MS: '2000' };
    const first = await startServer({ scriptedTasks: true, env });
    servers.push(first);
    let client = glueClient(first);

    const fx = await createTransform(client, { Tags: { team: 'data', env: 'test' } });
    const imported = await client.send(
      new StartImportLabelsTaskRunCommand({
        TransformId: fx.transformId,
        InputS3Path: scriptedPath({ labels: 12 }, 'labels'),
      }),
    );
    await waitForRun(client, fx.transformId, imported.TaskRunId!);
    // One run that can be resumed and one that cannot, both RUNNING when the server dies.
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
    await waitForRun(client, fx.transformId, resumable.TaskRunId!, ['RUNNING']);
    await waitForRun(client, fx.transformId, fragile.TaskRunId!, ['RUNNING']);

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
    const failed = await waitForRun(client, fx.transformId, fragile.TaskRunId!);
    assert.equal(failed.Status, 'FAILED');
    assert.match(failed.ErrorString ?? '', /interrupted/i);
    assert.ok(failed.CompletedOn instanceof Date);

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
  it('interrupts its run: resumed while DOPPEL_MAX_INTERRUPTIONS allows, then FAILED saying why', async () => {
    const { server, glue } = await startGlueServer({ scriptedTasks: true, env: { DOPPEL_MAX_INTERRUPTIONS: '1' } });
    try {
      const { transformId } = await createTransform(glue);
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

      // Interrupted again with the one resume used up: FAILED, naming the process, the signal and the limit.
      const second = await glue.send(
        new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath({ outcome: 'hang' }) }),
      );
      await killAttempt(second.TaskRunId!, 1);
      await killAttempt(second.TaskRunId!, 2);
      const failed = await waitForRun(glue, transformId, second.TaskRunId!);
      assert.equal(failed.Status, 'FAILED');
      assert.match(
        failed.ErrorString ?? '',
        /^Task run failed: its task process \(pid \d+\) was killed by SIGKILL, most often the system running out of memory .*interrupted 2 time\(s\) and is resumed at most 1 time\(s\) \(DOPPEL_MAX_INTERRUPTIONS\)\.$/,
      );
      assert.deepEqual([(await extras(second.TaskRunId!))['Attempt'], (await extras(second.TaskRunId!))['InterruptionCount']], [2, 1]);
      assert.ok(failed.ExecutionTime! <= (Date.now() - started) / 1000 + 1, `ExecutionTime ${failed.ExecutionTime}`);

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
