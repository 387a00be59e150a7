/** A transform's MaxRetries: a failed attempt goes back to the queue that many times. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StartMLLabelingSetGenerationTaskRunCommand, type GlueClient } from '@aws-sdk/client-glue';
import { createTransform, scriptedPath, startGlueServer, stopGlueServer, waitForRun } from '../support/glue-client.js';
import type { TestServer } from '../support/server.js';

describe('MaxRetries', () => {
  let server: TestServer;
  let glue: GlueClient;
  before(async () => {
    ({ server, glue } = await startGlueServer({ scriptedTasks: true }));
  });
  after(() => stopGlueServer({ server, glue }));

  async function runOnce(maxRetries: number, failAttempts: number) {
    const { transformId } = await createTransform(glue, { MaxRetries: maxRetries });
    const { TaskRunId } = await glue.send(
      new StartMLLabelingSetGenerationTaskRunCommand({
        TransformId: transformId,
        OutputS3Path: scriptedPath({ failAttempts, sleep: 10 }),
      }),
    );
    return waitForRun(glue, transformId, TaskRunId!);
  }

  it('retries a failed attempt when MaxRetries allows it', async () => {
    assert.equal((await runOnce(2, 2)).Status, 'SUCCEEDED');
  });

  it('fails with the last error once the retries are used up', async () => {
    const run = await runOnce(1, 2);
    assert.equal(run.Status, 'FAILED');
    assert.equal(run.ErrorString, 'scripted failure of attempt 2');
  });

  it('does not retry by default', async () => {
    const run = await runOnce(0, 1);
    assert.equal(run.Status, 'FAILED');
    assert.equal(run.ErrorString, 'scripted failure of attempt 1');
  });
});
