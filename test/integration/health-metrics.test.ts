/**
 * Health, readiness and Prometheus metrics: unsigned GETs of /health, /ready and /metrics, counted
 * per API and operation, with the task queue's depth and task attempts' durations.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetMLTransformsCommand, StartMLLabelingSetGenerationTaskRunCommand, type GlueClient } from '@aws-sdk/client-glue';
import { createTransform, scriptedPath, startGlueServer, stopGlueServer, waitForRun, type GlueServer } from '../support/glue-client.js';
import { ON_QUEUE, type TestServer } from '../support/server.js';

let server: TestServer;
let glue: GlueClient;

before(async () => {
  ({ server, glue } = await startGlueServer({ scriptedTasks: true, env: { DOPPEL_POLL_MS: '25' } }));
});
after(() => stopGlueServer({ server, glue }));

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.endpoint}${path}`, { headers });

/** The value of one series of a Prometheus text exposition (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.indexOf('}'));
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('health, readiness and metrics', () => {
  it('/health answers while the server runs, /ready once the metadata store answers and a task process is ready', async () => {
    const health = await get('/health');
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await until('readiness', async () => {
      const r = await get('/ready');
      return r.status === 200 ? ((await r.json()) as { status: string; checks: Record<string, string> }) : undefined;
    });
    assert.deepEqual(ready, { status: 'ready', checks: { metadataStore: 'ok', ...ON_QUEUE, taskProcesses: 'ok' } });
  });

  it('counts Glue requests by operation and status, with their latencies', async () => {
    await glue.send(new GetMLTransformsCommand({}));
    await glue.send(new GetMLTransformsCommand({}));
    const res = await get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.ok((sample(text, 'doppel_http_requests_total', { api: 'glue', operation: 'GetMLTransforms', status: '200' }) ?? 0) >= 2, text);
    assert.ok((sample(text, 'doppel_http_request_duration_seconds_count', { api: 'glue', operation: 'GetMLTransforms' }) ?? 0) >= 2);
    assert.ok((sample(text, 'doppel_http_requests_total', { api: 'health', operation: 'health', status: '200' }) ?? 0) >= 1);
    // Node's own: the event loop's lag is what a busy API process would show first.
    assert.match(text, /^doppel_nodejs_eventloop_lag_seconds /m);
    // No account, key or transform id is a label.
    assert.doesNotMatch(text, /123456789012|tfm-/);
  });

  it('shows a running task run in the queue gauge and its attempt in the duration histogram once done', async () => {
    const { transformId } = await createTransform(glue);
    const { TaskRunId } = await glue.send(
      new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath({ sleep: 1500 }) }),
    );
    await until('the run in the queue gauge', async () => {
      const text = await (await get('/metrics')).text();
      return sample(text, 'doppel_task_runs_active', { status: 'RUNNING', task_type: 'LABELING_SET_GENERATION' }) === 1 ? true : undefined;
    });
    await waitForRun(glue, transformId, TaskRunId!);
    const text = await until('the attempt in the histogram', async () => {
      const t = await (await get('/metrics')).text();
      return (sample(t, 'doppel_task_attempt_duration_seconds_count', { task_type: 'LABELING_SET_GENERATION', outcome: 'done' }) ?? 0) >= 1 ? t : undefined;
    });
    assert.ok((sample(text, 'doppel_task_attempt_duration_seconds_sum', { task_type: 'LABELING_SET_GENERATION', outcome: 'done' }) ?? 0) >= 1.4);
    assert.equal(sample(text, 'doppel_task_runs_active', { status: 'RUNNING', task_type: 'LABELING_SET_GENERATION' }), undefined);
  });

  it('leaves signed requests for /metrics to the S3 endpoint (a bucket of that name)', async () => {
    const r = await get('/metrics', { authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00' });
    assert.notEqual(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /xml/);
  });
});

describe('DOPPEL_LOG_FORMAT=json', () => {
  let jsonServer: GlueServer | undefined;
  after(() => stopGlueServer(jsonServer ?? {}));

  it('writes one JSON object per log line, a task run\'s lines carrying its ids as fields', async () => {
    jsonServer = await startGlueServer({ scriptedTasks: true, env: { DOPPEL_LOG_FORMAT: 'json', DOPPEL_POLL_MS: '25' } });
    const { transformId } = await createTransform(jsonServer.glue);
    const { TaskRunId } = await jsonServer.glue.send(
      new StartMLLabelingSetGenerationTaskRunCommand({ TransformId: transformId, OutputS3Path: scriptedPath({ sleep: 200 }) }),
    );
    await waitForRun(jsonServer.glue, transformId, TaskRunId!);
    const lines = await until('the run\'s last log line', async () => {
      const found = jsonServer!.server.output().split('\n').filter((l) => l.startsWith('{'));
      return found.some((l) => l.includes('SUCCEEDED')) ? found : undefined;
    });
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const e of entries) {
      assert.equal(typeof e['msg'], 'string');
      assert.ok(!Number.isNaN(Date.parse(String(e['time']))), String(e['time']));
      assert.ok(['info', 'warn', 'error'].includes(String(e['level'])));
    }
    const ofRun = entries.filter((e) => e['taskRunId'] === TaskRunId);
    assert.ok(ofRun.some((e) => /started in task process/.test(String(e['msg'])) && typeof e['pid'] === 'number'), JSON.stringify(entries));
    const done = ofRun.find((e) => /SUCCEEDED/.test(String(e['msg'])));
    assert.deepEqual(
      { transformId: done?.['transformId'], taskType: done?.['taskType'], level: done?.['level'] },
      { transformId, taskType: 'LABELING_SET_GENERATION', level: 'info' },
    );
  });
});
