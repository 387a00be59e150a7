/**
 * PostgreSQL restarted (`pg_ctl restart -m fast`: every connection cut) while clients create
 * transforms, start task runs and list: the server stays up, what clients see meanwhile are errors
 * the SDKs retry (5xx), and afterwards nothing acknowledged is missing, nothing is duplicated, every
 * run succeeded (its attempt waited for the database while its lease held), and new work runs. The
 * test restarts a PostgreSQL server of its own.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  CreateDatabaseCommand,
  CreateMLTransformCommand,
  CreateTableCommand,
  GetMLTransformCommand,
  GetMLTransformsCommand,
  ListMLTransformsCommand,
  StartImportLabelsTaskRunCommand,
  type GlueClient,
} from '@aws-sdk/client-glue';
import { glueClient, scriptedPath, TERMINAL, waitForRun } from '../support/glue-client.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { startServer, TEST_REDIS_URL, type TestServer } from '../support/server.js';

const CLIENTS = 6;

interface Failure {
  operation: string;
  name: string;
  status: number | undefined;
}

describe('PostgreSQL restarted under load', { timeout: 300_000 }, () => {
  let postgres: TestPostgres | undefined;
  let skipReason: string | undefined;
  let server: TestServer;
  let glue: GlueClient;

  before(async () => {
    if (TEST_REDIS_URL === undefined) {
      skipReason = 'nodes on PostgreSQL need Redis: DOPPEL_TEST_REDIS_URL is not set (.ci/run starts one)';
      return;
    }
    try {
      postgres = await startPostgres();
    } catch (e) {
      skipReason = (e as Error).message;
      return;
    }
    server = await startServer({ scriptedTasks: true, env: { DOPPEL_DATABASE_URL: postgres.url, DOPPEL_LEASE_MS: '3000' } });
    glue = glueClient(server);
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'load' } }));
    await glue.send(
      new CreateTableCommand({
        DatabaseName: 'load',
        TableInput: { Name: 'people', StorageDescriptor: { Columns: [{ Name: 'id', Type: 'string' }], Location: 's3://scripted/people/' } },
      }),
    );
  });

  after(async () => {
    glue?.destroy();
    await server?.stop();
    await server?.cleanup();
    await postgres?.stop();
  });

  it('answers retryable errors while it is down and keeps everything it acknowledged', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const created = new Map<string, string>(); // name → TransformId, for every acknowledged create
      const attempted = new Set<string>();
    const runs: Array<{ transformId: string; taskRunId: string }> = [];
    const failures: Failure[] = [];
    let calls = 0;
    let stop = false;
    const record = (operation: string, e: unknown) => {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
      failures.push({ operation, name: err.name ?? String(e), status: err.$metadata?.httpStatusCode });
    };
    const client = async (c: number) => {
      for (let i = 0; !stop; i++) {
        calls++;
        const step = i % 3;
        if (step === 0) {
          const name = `load-${c}-${i}`;
          attempted.add(name);
          try {
            const out = await glue.send(
              new CreateMLTransformCommand({
                Name: name,
                Role: 'arn:aws:iam::123456789012:role/GlueRole',
                InputRecordTables: [{ DatabaseName: 'load', TableName: 'people' }],
                Parameters: { TransformType: 'FIND_MATCHES', FindMatchesParameters: { PrimaryKeyColumnName: 'id' } },
                // Glue's default: an attempt the restart failed would fail its run.
                MaxRetries: 0,
              }),
            );
            created.set(name, out.TransformId!);
          } catch (e) {
            record('CreateMLTransform', e);
          }
        } else if (step === 1 && created.size > 0) {
          const ids = [...created.values()];
          const transformId = ids[(c * 7 + i) % ids.length]!;
          try {
            const out = await glue.send(
              new StartImportLabelsTaskRunCommand({ TransformId: transformId, InputS3Path: scriptedPath({ labels: 2, sleep: 100 }) }),
            );
            runs.push({ transformId, taskRunId: out.TaskRunId! });
          } catch (e) {
            // The transform's runs are limited (DOPPEL_MAX_CONCURRENT_RUNS): that answer is no fault.
            if ((e as { name?: string }).name !== 'ConcurrentRunsExceededException') record('StartImportLabelsTaskRun', e);
          }
        } else {
          try {
            if (i % 2 === 0) await glue.send(new GetMLTransformsCommand({ MaxResults: 20 }));
            else await glue.send(new ListMLTransformsCommand({}));
          } catch (e) {
            record('List', e);
          }
        }
        await sleep(5);
      }
    };
    const load = Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    await sleep(1500);
    const before = { calls, created: created.size, failures: failures.length };
    await postgres!.restart();
    await sleep(2500);
    stop = true;
    await load;
    t.diagnostic(
      `${calls} calls, ${created.size} transforms and ${runs.length} runs acknowledged, ${failures.length} errors ` +
        `(${before.failures} before the restart): ${[...new Set(failures.map((f) => `${f.operation} ${f.name} ${f.status}`))].join('; ')}`,
    );
    assert.ok(before.created > 0 && created.size > before.created, 'transforms were created before and after the restart');
    assert.equal(server.process.exitCode, null, `the server is still running:\n${server.output().slice(-3000)}`);
    for (const f of failures) {
      assert.ok(f.status !== undefined && f.status >= 500, `${f.operation}: ${f.name} (${f.status}) is not an error clients retry`);
    }

    // Nothing acknowledged is missing, nothing is there twice, nothing is there that nobody asked for.
    for (const [name, id] of created) {
      const out = await glue.send(new GetMLTransformCommand({ TransformId: id }));
      assert.equal(out.Name, name);
    }
    const listed: string[] = [];
    let next: string | undefined;
    do {
      const page = await glue.send(new GetMLTransformsCommand({ NextToken: next }));
      listed.push(...(page.Transforms ?? []).map((x) => x.Name!));
      next = page.NextToken;
    } while (next);
    assert.equal(new Set(listed).size, listed.length, 'no transform twice');
    for (const name of listed) assert.ok(attempted.has(name), `${name} was created by a client`);
    for (const name of created.keys()) assert.ok(listed.includes(name), `${name} is listed`);

    // Every acknowledged run ends, and succeeds: none hangs in the queue or under a dead lease, and
    // none failed for the restart.
    for (const r of runs) {
      const end = await waitForRun(glue, r.transformId, r.taskRunId, TERMINAL, 60_000);
      assert.equal(end.Status, 'SUCCEEDED', `${r.taskRunId}: ${end.ErrorString}`);
    }

    // And new work runs.
    const [firstId] = created.values();
    const again = await glue.send(new StartImportLabelsTaskRunCommand({ TransformId: firstId!, InputS3Path: scriptedPath({ labels: 2 }) }));
    assert.equal((await waitForRun(glue, firstId!, again.TaskRunId!, TERMINAL, 30_000)).Status, 'SUCCEEDED');
  });
});
