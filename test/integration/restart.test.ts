/**
 * Crash safety: everything stored survives a SIGKILL, and no task run stays RUNNING after a
 * restart (interrupted runs are resumed when their kind allows it, otherwise FAILED with a reason).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
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
  transformArn,
  waitForRun,
} from '../support/glue-client.js';
import { startServer, type TestServer } from '../support/server.js';

describe('restart after a crash', () => {
  const servers: TestServer[] = [];
  after(async () => {
    for (const s of servers) await s.kill();
    servers[0]?.cleanup();
  });

  it('keeps every record and leaves no run RUNNING', async () => {
    const first = await startServer({ scriptedTasks: true });
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
    const second = await startServer({ scriptedTasks: true, dataDir: first.dataDir });
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

  it('refuses a second server on a data dir that is in use', async () => {
    const s = await startServer({ scriptedTasks: true });
    servers.push(s);
    await assert.rejects(startServer({ dataDir: s.dataDir }), /in use by another doppel server/);
    await s.stop();
    // Once stopped, the directory is free again.
    const again = await startServer({ dataDir: s.dataDir });
    servers.push(again);
    await again.stop();
    s.cleanup();
    await sleep(10);
  });
});
